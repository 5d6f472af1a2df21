// AssemblyScript source of the error-compensating rounding kernel (src/quant/compensate.ts
// compensatedQuantize), compiled by `npm run build:wasm` into src/quant/gptq-wasm.generated.ts.
//
// One block of `g` weight rows, each `n` inputs in the block's rounding order (r, g x n float64,
// updated in place), with U (float64, its upper triangle packed by rows: src/quant/factor.ts
// upperIndex): for each input i, every row's
// value is rounded (scale by 2^fl, saturate to [lo, hi], round half up: fixed/format.ts
// `quantize`), and its rounding error, divided by U[i][i], is taken off the row's later inputs in
// proportion to U's row i. The same IEEE operations in the same order as the TypeScript loop (a
// multiply, then a subtract, per element; WebAssembly never fuses them), two elements per
// instruction: the same integers, bit for bit.

export function gptqBlock(r: usize, u: usize, n: i32, g: i32, scale: f64, step: f64, lo: f64, hi: f64, out: usize): void {
  for (let i: i32 = 0; i < n; i++) {
    // Row i of the packed U, indexed by column: element (i, j) at ui + 8 j.
    const ui: usize = u + (<usize>(i * n - ((i * (i + 1)) >> 1)) << 3);
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
      const e: f64 = (x - q * step) / d;
      if (e == 0) continue;
      const ev = f64x2.splat(e);
      let j: i32 = i + 1;
      for (; j + 2 <= n; j += 2) {
        const p: usize = rk + (<usize>j << 3);
        v128.store(p, f64x2.sub(v128.load(p), f64x2.mul(ev, v128.load(ui + (<usize>j << 3)))));
      }
      for (; j < n; j++) {
        const p: usize = rk + (<usize>j << 3);
        store<f64>(p, load<f64>(p) - e * load<f64>(ui + (<usize>j << 3)));
      }
    }
  }
}
