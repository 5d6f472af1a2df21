// AssemblyScript source of the engine's WebAssembly SIMD GEMM (compiled by `npm run build:wasm`).
//
// C[M x N] (+)= A[M x K] * B[K x N], row-major float64, pointers in bytes. Each output element is
// accumulated as c = c + a_k * b_k for k = 0..K-1 in order, with one rounding per multiply and per
// add: exactly the operations of the JavaScript kernel in src/engine/gemm.ts, so both give
// bit-identical results (and exact ones on integers below 2^53). A 4 x 4 tile of C stays in eight
// f64x2 registers for the whole K loop; B is walked in panels of NC columns so a panel stays in cache
// while every row block of A passes over it.

const NC: i32 = 64;

export function gemm(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: i32): void {
  const rowA: usize = <usize>K << 3;
  const rowB: usize = <usize>N << 3;
  for (let jc: i32 = 0; jc < N; jc += NC) {
    const jEnd: i32 = min(jc + NC, N);
    let i: i32 = 0;
    for (; i + 4 <= M; i += 4) {
      const a0: usize = a + <usize>i * rowA;
      const a1: usize = a0 + rowA;
      const a2: usize = a1 + rowA;
      const a3: usize = a2 + rowA;
      const c0: usize = c + <usize>i * rowB;
      const c1: usize = c0 + rowB;
      const c2: usize = c1 + rowB;
      const c3: usize = c2 + rowB;
      let j: i32 = jc;
      for (; j + 4 <= jEnd; j += 4) {
        const jb: usize = <usize>j << 3;
        let s00 = f64x2.splat(0.0), s01 = f64x2.splat(0.0);
        let s10 = f64x2.splat(0.0), s11 = f64x2.splat(0.0);
        let s20 = f64x2.splat(0.0), s21 = f64x2.splat(0.0);
        let s30 = f64x2.splat(0.0), s31 = f64x2.splat(0.0);
        if (accumulate) {
          s00 = v128.load(c0 + jb); s01 = v128.load(c0 + jb, 16);
          s10 = v128.load(c1 + jb); s11 = v128.load(c1 + jb, 16);
          s20 = v128.load(c2 + jb); s21 = v128.load(c2 + jb, 16);
          s30 = v128.load(c3 + jb); s31 = v128.load(c3 + jb, 16);
        }
        let pb: usize = b + jb;
        for (let k: i32 = 0; k < K; k++) {
          const ko: usize = <usize>k << 3;
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          const x0 = f64x2.splat(load<f64>(a0 + ko));
          s00 = f64x2.add(s00, f64x2.mul(x0, b0)); s01 = f64x2.add(s01, f64x2.mul(x0, b1));
          const x1 = f64x2.splat(load<f64>(a1 + ko));
          s10 = f64x2.add(s10, f64x2.mul(x1, b0)); s11 = f64x2.add(s11, f64x2.mul(x1, b1));
          const x2 = f64x2.splat(load<f64>(a2 + ko));
          s20 = f64x2.add(s20, f64x2.mul(x2, b0)); s21 = f64x2.add(s21, f64x2.mul(x2, b1));
          const x3 = f64x2.splat(load<f64>(a3 + ko));
          s30 = f64x2.add(s30, f64x2.mul(x3, b0)); s31 = f64x2.add(s31, f64x2.mul(x3, b1));
          pb += rowB;
        }
        v128.store(c0 + jb, s00); v128.store(c0 + jb, s01, 16);
        v128.store(c1 + jb, s10); v128.store(c1 + jb, s11, 16);
        v128.store(c2 + jb, s20); v128.store(c2 + jb, s21, 16);
        v128.store(c3 + jb, s30); v128.store(c3 + jb, s31, 16);
      }
      for (; j < jEnd; j++) {
        const jb: usize = <usize>j << 3;
        scalarDot(a0, b + jb, c0 + jb, K, rowB, accumulate);
        scalarDot(a1, b + jb, c1 + jb, K, rowB, accumulate);
        scalarDot(a2, b + jb, c2 + jb, K, rowB, accumulate);
        scalarDot(a3, b + jb, c3 + jb, K, rowB, accumulate);
      }
    }
    for (; i < M; i++) {
      // Leftover rows: one row of A against four columns of B at a time, still two lanes wide.
      const a0: usize = a + <usize>i * rowA;
      const c0: usize = c + <usize>i * rowB;
      let j: i32 = jc;
      for (; j + 4 <= jEnd; j += 4) {
        const jb: usize = <usize>j << 3;
        let s00 = f64x2.splat(0.0), s01 = f64x2.splat(0.0);
        if (accumulate) { s00 = v128.load(c0 + jb); s01 = v128.load(c0 + jb, 16); }
        let pb: usize = b + jb;
        for (let k: i32 = 0; k < K; k++) {
          const x0 = f64x2.splat(load<f64>(a0 + (<usize>k << 3)));
          s00 = f64x2.add(s00, f64x2.mul(x0, v128.load(pb)));
          s01 = f64x2.add(s01, f64x2.mul(x0, v128.load(pb, 16)));
          pb += rowB;
        }
        v128.store(c0 + jb, s00); v128.store(c0 + jb, s01, 16);
      }
      for (; j < jEnd; j++) {
        const jb: usize = <usize>j << 3;
        scalarDot(a0, b + jb, c0 + jb, K, rowB, accumulate);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function scalarDot(pa: usize, pb: usize, pc: usize, K: i32, rowB: usize, accumulate: i32): void {
  let s: f64 = accumulate ? load<f64>(pc) : 0.0;
  for (let k: i32 = 0; k < K; k++) {
    s += load<f64>(pa + (<usize>k << 3)) * load<f64>(pb);
    pb += rowB;
  }
  store<f64>(pc, s);
}

// im2col for one image and one group: row (c, ky, kx), column (oy, ox), zero where the window
// reads padding. Pointers in bytes; the same layout as the JavaScript im2col in src/engine/kernels.ts.
export function im2col(
  x: usize, cinG: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, col: usize,
): void {
  let dst: usize = col;
  for (let c: i32 = 0; c < cinG; c++) {
    for (let ky: i32 = 0; ky < kh; ky++) {
      for (let kx: i32 = 0; kx < kw; kx++) {
        const dx: i32 = kx * dw - pl;
        let oxLo: i32 = 0;
        while (oxLo < wo && oxLo * sw + dx < 0) oxLo++;
        let oxHi: i32 = wo;
        while (oxHi > oxLo && (oxHi - 1) * sw + dx >= w) oxHi--;
        for (let oy: i32 = 0; oy < ho; oy++) {
          const iy: i32 = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) {
            memory.fill(dst, 0, <usize>wo << 3);
          } else {
            // Element index of input column ox * sw + dx in this row (only formed for valid ox).
            const row: i32 = (c * h + iy) * w + dx;
            if (oxLo > 0) memory.fill(dst, 0, <usize>oxLo << 3);
            if (sw == 1) {
              memory.copy(dst + (<usize>oxLo << 3), x + (<usize>(row + oxLo) << 3), <usize>(oxHi - oxLo) << 3);
            } else {
              for (let ox: i32 = oxLo; ox < oxHi; ox++) {
                store<f64>(dst + (<usize>ox << 3), load<f64>(x + (<usize>(row + ox * sw) << 3)));
              }
            }
            if (oxHi < wo) memory.fill(dst + (<usize>oxHi << 3), 0, <usize>(wo - oxHi) << 3);
          }
          dst += <usize>wo << 3;
        }
      }
    }
  }
}
