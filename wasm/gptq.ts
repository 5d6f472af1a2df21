// AssemblyScript source of the error-compensating rounding kernel (src/quant/compensate.ts
// compensatedQuantize), compiled by `npm run build:wasm` into src/quant/gptq-wasm.generated.ts.
//
// One block of `g` weight rows (g even), each `n` inputs in the block's rounding order (r, g x n
// float64, updated in place), with U (float64, its upper triangle packed by rows:
// src/quant/factor.ts upperIndex): for each input i, every row's value is rounded (scale by 2^fl,
// saturate to [lo, hi], round half up: fixed/format.ts `quantize`), and its rounding error e,
// divided by U[i][i], is taken off the row's later inputs in proportion to U's row i.
//
// Same integers as the TypeScript loop, bit for bit: every element of r receives the same
// operations in the same order (for each earlier input i, ascending: a multiply e_i * U[i][j], then
// a subtract; WebAssembly never fuses them). Only when they happen differs. Inputs are taken in
// panels of P: within a panel each error is taken off the panel's later inputs at once (they are
// rounded next); the inputs after the panel receive the panel's P errors together, in order, while
// a tile of 2 rows x 8 inputs stays in registers (one load and one store per element per panel
// instead of per input, and each U element loaded once for two rows).
//
// The TypeScript loop skips a row whose error is exactly 0; the panel update subtracts 0 * U
// instead. That can only turn a zero of r into a zero of the other sign, which rounds to the same
// integer and leaves every later difference unchanged.

const P: i32 = 32;

@inline function rowBase(i: i32, n: i32): i32 { return i * n - ((i * (i + 1)) >> 1); }

// e: scratch of g x P float64 (each row's errors of the current panel).
export function gptqBlock(r: usize, u: usize, n: i32, g: i32, scale: f64, step: f64, lo: f64, hi: f64, out: usize, e: usize): void {
  for (let i0: i32 = 0; i0 < n; i0 += P) {
    const i1: i32 = min(i0 + P, n);
    // Within the panel: round input i of every row, take its error off the panel's later inputs.
    for (let i: i32 = i0; i < i1; i++) {
      const ui: usize = u + (<usize>rowBase(i, n) << 3);
      const d: f64 = load<f64>(ui + (<usize>i << 3));
      for (let k: i32 = 0; k < g; k++) {
        const rk: usize = r + (<usize>(k * n) << 3);
        const x: f64 = load<f64>(rk + (<usize>i << 3));
        const v: f64 = x * scale;
        let q: f64;
        if (v >= hi) q = hi;
        else if (v <= lo) q = lo;
        else {
          const f: f64 = Math.floor(v);
          q = v - f >= 0.5 ? f + 1 : f;
          q = q < lo ? lo : q > hi ? hi : q;
        }
        store<i32>(out + (<usize>(k * n + i) << 2), <i32><i64>q); // wraps like an Int32Array store
        const ev: f64 = (x - q * step) / d;
        store<f64>(e + (<usize>(k * P + i - i0) << 3), ev);
        if (ev == 0) continue;
        for (let j: i32 = i + 1; j < i1; j++) {
          const p: usize = rk + (<usize>j << 3);
          store<f64>(p, load<f64>(p) - ev * load<f64>(ui + (<usize>j << 3)));
        }
      }
    }
    if (i1 >= n) break;
    // After the panel: each element receives the panel's errors in input order.
    const b0: i32 = rowBase(i0, n);
    for (let k: i32 = 0; k < g; k += 2) {
      const r0: usize = r + (<usize>(k * n) << 3), r1: usize = r0 + (<usize>n << 3);
      const e0: usize = e + (<usize>(k * P) << 3), e1: usize = e0 + (<usize>P << 3);
      let j: i32 = i1;
      for (; j + 8 <= n; j += 8) {
        const o: usize = <usize>j << 3;
        let a0 = v128.load(r0 + o), a1 = v128.load(r0 + o + 16), a2 = v128.load(r0 + o + 32), a3 = v128.load(r0 + o + 48);
        let c0 = v128.load(r1 + o), c1 = v128.load(r1 + o + 16), c2 = v128.load(r1 + o + 32), c3 = v128.load(r1 + o + 48);
        let base: i32 = b0;
        for (let i: i32 = i0; i < i1; i++) {
          const p: usize = u + (<usize>base << 3) + o;
          const x0 = f64x2.splat(load<f64>(e0 + (<usize>(i - i0) << 3)));
          const x1 = f64x2.splat(load<f64>(e1 + (<usize>(i - i0) << 3)));
          const u0 = v128.load(p), u1 = v128.load(p + 16), u2 = v128.load(p + 32), u3 = v128.load(p + 48);
          a0 = f64x2.sub(a0, f64x2.mul(x0, u0)); a1 = f64x2.sub(a1, f64x2.mul(x0, u1));
          a2 = f64x2.sub(a2, f64x2.mul(x0, u2)); a3 = f64x2.sub(a3, f64x2.mul(x0, u3));
          c0 = f64x2.sub(c0, f64x2.mul(x1, u0)); c1 = f64x2.sub(c1, f64x2.mul(x1, u1));
          c2 = f64x2.sub(c2, f64x2.mul(x1, u2)); c3 = f64x2.sub(c3, f64x2.mul(x1, u3));
          base += n - i - 1;
        }
        v128.store(r0 + o, a0); v128.store(r0 + o + 16, a1); v128.store(r0 + o + 32, a2); v128.store(r0 + o + 48, a3);
        v128.store(r1 + o, c0); v128.store(r1 + o + 16, c1); v128.store(r1 + o + 32, c2); v128.store(r1 + o + 48, c3);
      }
      for (; j < n; j++) {
        const o: usize = <usize>j << 3;
        let a: f64 = load<f64>(r0 + o), c: f64 = load<f64>(r1 + o);
        let base: i32 = b0;
        for (let i: i32 = i0; i < i1; i++) {
          const w: f64 = load<f64>(u + (<usize>base << 3) + o);
          a = a - load<f64>(e0 + (<usize>(i - i0) << 3)) * w;
          c = c - load<f64>(e1 + (<usize>(i - i0) << 3)) * w;
          base += n - i - 1;
        }
        store<f64>(r0 + o, a);
        store<f64>(r1 + o, c);
      }
    }
  }
}
