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
  const row: usize = <usize>(ho * wo) << 3;
  for (let r: i32 = 0; r < cinG * kh * kw; r++) plainRow<f64>(x, r, cinG, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, col + <usize>r * row);
}

// Row r = (c, ky, kx) of the im2col of one image of T elements: N = ho x wo values, zero where the
// window reads padding. Contiguous runs (stride 1) move 16 bytes at a time.
function plainRow<T>(
  x: usize, r: i32, cinG: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, dst: usize,
): void {
  const sz: usize = sizeof<T>();
  const per: i32 = 16 / <i32>sz;
  const kx: i32 = r % kw;
  const ky: i32 = (r / kw) % kh;
  const c: i32 = r / (kw * kh);
  const dx: i32 = kx * dw - pl;
  let oxLo: i32 = 0;
  while (oxLo < wo && oxLo * sw + dx < 0) oxLo++;
  let oxHi: i32 = wo;
  while (oxHi > oxLo && (oxHi - 1) * sw + dx >= w) oxHi--;
  for (let oy: i32 = 0; oy < ho; oy++) {
    const iy: i32 = oy * sh - pt + ky * dh;
    if (iy < 0 || iy >= h) {
      memory.fill(dst, 0, <usize>wo * sz);
    } else {
      // Element index of input column ox * sw + dx in this row (only formed for valid ox).
      const row: i32 = (c * h + iy) * w + dx;
      if (oxLo > 0) memory.fill(dst, 0, <usize>oxLo * sz);
      if (sw == 1) {
        // Rows are short (tens of values): no call into memory.copy.
        let ox: i32 = oxLo;
        for (; ox + per <= oxHi; ox += per) v128.store(dst + <usize>ox * sz, v128.load(x + <usize>(row + ox) * sz));
        for (; ox < oxHi; ox++) store<T>(dst + <usize>ox * sz, load<T>(x + <usize>(row + ox) * sz));
      } else {
        for (let ox: i32 = oxLo; ox < oxHi; ox++) store<T>(dst + <usize>ox * sz, load<T>(x + <usize>(row + ox * sw) * sz));
      }
      if (oxHi < wo) memory.fill(dst + <usize>oxHi * sz, 0, <usize>(wo - oxHi) * sz);
    }
    dst += <usize>wo * sz;
  }
}

// ---- Integer convolution of the integer reference (int32, for layers whose accumulator fits) ----
//
// For each of n images: the image's integers (held as float64) are converted to int32 (int16 with
// `narrow`, where weights and inputs fit: then wt is int16 [cout x K rounded up to even]), laid out
// by im2col (skipped for a pointwise convolution), multiplied by the int32 weights [cout x K] on
// top of the aligned int32 bias, and requantized: r = (acc + 2^(s-1)) >> s for s > 0 (the round
// half up of fixed/format.ts), acc << -s otherwise, clamped to [lo, hi], stored as float64.
// int32 additions and products wrap modulo 2^32, so every accumulator comes out exact when its true
// value lies in [-2^31, 2^31), which the caller checks (quant/accumulator.ts) before using this
// kernel; the requantizer works in int64.

export function convInt(
  n: i32, x: usize, cin: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32,
  wt: usize, bias: usize, cout: i32, xi: usize, col: usize, acc: usize,
  shift: i32, lo: i32, hi: i32, out: usize, narrow: i32, lanes: i32,
): void {
  const xn: i32 = cin * h * w;
  const K: i32 = cin * kh * kw;
  const N: i32 = ho * wo;
  const pointwise: bool = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && ho == h && wo == w;
  for (let img: i32 = 0; img < n; img++) {
    const xf: usize = x + (<usize>(img * xn) << 3);
    if (narrow) {
      // Weights and inputs fit int16: pairs of taps are multiplied and added by one dot product.
      toInt16(xf, xi, xn);
      // The accumulators are written only after im2col: their space holds its two plain rows.
      im2colPairs(xi, cin, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, col, acc);
      gemmInt<i16>(cout, N, (K + 1) >> 1, wt, col, bias, acc);
    } else {
      for (let i: i32 = 0; i < xn; i++) store<i32>(xi + (<usize>i << 2), <i32>load<f64>(xf + (<usize>i << 3)));
      if (!pointwise) {
        for (let r: i32 = 0; r < K; r++) plainRow<i32>(xi, r, cin, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, col + (<usize>(r * N) << 2));
      }
      gemmInt<i32>(cout, N, K, wt, pointwise ? xi : col, bias, acc);
    }
    const o: usize = out + (<usize>(img * cout * N) << 3);
    if (lanes) requantLanes(acc, cout * N, shift, lo, hi, o);
    else requantInt(acc, cout * N, shift, lo, hi, o);
  }
}

// Integers held as float64 to int16, eight at a time.
function toInt16(xf: usize, xi: usize, n: i32): void {
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const p: usize = xf + (<usize>i << 3);
    const a0 = i32x4.trunc_sat_f64x2_s_zero(v128.load(p));
    const a1 = i32x4.trunc_sat_f64x2_s_zero(v128.load(p, 16));
    const a2 = i32x4.trunc_sat_f64x2_s_zero(v128.load(p, 32));
    const a3 = i32x4.trunc_sat_f64x2_s_zero(v128.load(p, 48));
    const lo = v128.shuffle<i32>(a0, a1, 0, 1, 4, 5);
    const hi = v128.shuffle<i32>(a2, a3, 0, 1, 4, 5);
    v128.store(xi + (<usize>i << 1), i16x8.narrow_i32x4_s(lo, hi));
  }
  for (; i < n; i++) store<i16>(xi + (<usize>i << 1), <i16>(<i32>load<f64>(xf + (<usize>i << 3))));
}

// requantInt four lanes at a time in int32, for layers where the caller has checked that the
// rounding offset (or the left shift) cannot take any accumulator out of int32.
function requantLanes(acc: usize, count: i32, shift: i32, lo: i32, hi: i32, out: usize): void {
  const l = i32x4.splat(lo), u = i32x4.splat(hi);
  const half = i32x4.splat(shift > 0 ? 1 << (shift - 1) : 0);
  let i: i32 = 0;
  for (; i + 4 <= count; i += 4) {
    const q = v128.load(acc + (<usize>i << 2));
    let r = shift > 0 ? i32x4.shr_s(i32x4.add(q, half), shift) : i32x4.shl(q, -shift);
    r = i32x4.min_s(i32x4.max_s(r, l), u);
    const o: usize = out + (<usize>i << 3);
    v128.store(o, f64x2.convert_low_i32x4_s(r));
    v128.store(o, f64x2.convert_low_i32x4_s(v128.shuffle<i32>(r, r, 2, 3, 0, 1)), 16);
  }
  if (i < count) requantInt(acc + (<usize>i << 2), count - i, shift, lo, hi, out + (<usize>i << 3));
}

// C[M x N] = bias[M] (broadcast along rows) + A * B, int32 accumulators, row-major. T = i32: A is
// [M x L] and B [L x N] int32 (L = K taps). T = i16: A is int16 [M x 2L] and B int16 tap pairs
// [L x N x 2] (L = pairs), and each i32x4.dot_i16x8_s adds two products per lane. Either way a row
// of A and of B advances 4 bytes per step. A 4 x 8 tile of C stays in eight i32x4 registers.
function gemmInt<T>(M: i32, N: i32, L: i32, a: usize, b: usize, bias: usize, c: usize): void {
  const rowA: usize = <usize>L << 2;
  const rowB: usize = <usize>N << 2;
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
      const z0 = i32x4.splat(load<i32>(bias + (<usize>i << 2)));
      const z1 = i32x4.splat(load<i32>(bias + (<usize>(i + 1) << 2)));
      const z2 = i32x4.splat(load<i32>(bias + (<usize>(i + 2) << 2)));
      const z3 = i32x4.splat(load<i32>(bias + (<usize>(i + 3) << 2)));
      let j: i32 = jc;
      for (; j + 8 <= jEnd; j += 8) {
        const jb: usize = <usize>j << 2;
        let s00 = z0, s01 = z0, s10 = z1, s11 = z1, s20 = z2, s21 = z2, s30 = z3, s31 = z3;
        let pb: usize = b + jb;
        for (let k: i32 = 0; k < L; k++) {
          const ko: usize = <usize>k << 2;
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          const x0 = i32x4.splat(load<i32>(a0 + ko));
          s00 = i32x4.add(s00, madd<T>(x0, b0)); s01 = i32x4.add(s01, madd<T>(x0, b1));
          const x1 = i32x4.splat(load<i32>(a1 + ko));
          s10 = i32x4.add(s10, madd<T>(x1, b0)); s11 = i32x4.add(s11, madd<T>(x1, b1));
          const x2 = i32x4.splat(load<i32>(a2 + ko));
          s20 = i32x4.add(s20, madd<T>(x2, b0)); s21 = i32x4.add(s21, madd<T>(x2, b1));
          const x3 = i32x4.splat(load<i32>(a3 + ko));
          s30 = i32x4.add(s30, madd<T>(x3, b0)); s31 = i32x4.add(s31, madd<T>(x3, b1));
          pb += rowB;
        }
        v128.store(c0 + jb, s00); v128.store(c0 + jb, s01, 16);
        v128.store(c1 + jb, s10); v128.store(c1 + jb, s11, 16);
        v128.store(c2 + jb, s20); v128.store(c2 + jb, s21, 16);
        v128.store(c3 + jb, s30); v128.store(c3 + jb, s31, 16);
      }
      for (; j < jEnd; j++) {
        const jb: usize = <usize>j << 2;
        dotInt<T>(a0, b + jb, c0 + jb, L, rowB, load<i32>(bias + (<usize>i << 2)));
        dotInt<T>(a1, b + jb, c1 + jb, L, rowB, load<i32>(bias + (<usize>(i + 1) << 2)));
        dotInt<T>(a2, b + jb, c2 + jb, L, rowB, load<i32>(bias + (<usize>(i + 2) << 2)));
        dotInt<T>(a3, b + jb, c3 + jb, L, rowB, load<i32>(bias + (<usize>(i + 3) << 2)));
      }
    }
    for (; i < M; i++) {
      const a0: usize = a + <usize>i * rowA;
      const c0: usize = c + <usize>i * rowB;
      const z: i32 = load<i32>(bias + (<usize>i << 2));
      let j: i32 = jc;
      for (; j + 8 <= jEnd; j += 8) {
        const jb: usize = <usize>j << 2;
        let s0 = i32x4.splat(z), s1 = i32x4.splat(z);
        let pb: usize = b + jb;
        for (let k: i32 = 0; k < L; k++) {
          const x0 = i32x4.splat(load<i32>(a0 + (<usize>k << 2)));
          s0 = i32x4.add(s0, madd<T>(x0, v128.load(pb)));
          s1 = i32x4.add(s1, madd<T>(x0, v128.load(pb, 16)));
          pb += rowB;
        }
        v128.store(c0 + jb, s0); v128.store(c0 + jb, s1, 16);
      }
      for (; j < jEnd; j++) {
        const jb: usize = <usize>j << 2;
        dotInt<T>(a0, b + jb, c0 + jb, L, rowB, z);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function madd<T>(x: v128, y: v128): v128 {
  return sizeof<T>() == 2 ? i32x4.dot_i16x8_s(x, y) : i32x4.mul(x, y);
}

// @ts-ignore: decorator
@inline
function dotInt<T>(pa: usize, pb: usize, pc: usize, L: i32, rowB: usize, z: i32): void {
  let s: i32 = z;
  for (let k: i32 = 0; k < L; k++) {
    const ao: usize = pa + (<usize>k << 2);
    if (sizeof<T>() == 2) s += <i32>load<i16>(ao) * <i32>load<i16>(pb) + <i32>load<i16>(ao, 2) * <i32>load<i16>(pb, 2);
    else s += load<i32>(ao) * load<i32>(pb);
    pb += rowB;
  }
  store<i32>(pc, s);
}

function requantInt(acc: usize, count: i32, shift: i32, lo: i32, hi: i32, out: usize): void {
  const l: i64 = <i64>lo, u: i64 = <i64>hi;
  if (shift > 0) {
    const half: i64 = <i64>1 << <i64>(shift - 1);
    for (let i: i32 = 0; i < count; i++) {
      let r: i64 = (<i64>load<i32>(acc + (<usize>i << 2)) + half) >> <i64>shift;
      r = r < l ? l : r > u ? u : r;
      store<f64>(out + (<usize>i << 3), <f64>r);
    }
  } else {
    const up: i64 = <i64>(-shift);
    for (let i: i32 = 0; i < count; i++) {
      let r: i64 = <i64>load<i32>(acc + (<usize>i << 2)) << up;
      r = r < l ? l : r > u ? u : r;
      store<f64>(out + (<usize>i << 3), <f64>r);
    }
  }
}

// im2col into int16 tap pairs: element (k, j) of the K x N column matrix goes to
// ((k >> 1) * N + j) * 2 + (k & 1), so the two taps of a pair sit side by side for i32x4.dot_i16x8_s;
// an odd K gets a zero row. Each pair of rows is first laid out plainly in `tmp` (2 x N int16,
// bulk copies), then interleaved eight columns at a time.
function im2colPairs(
  x: usize, cinG: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, col: usize, tmp: usize,
): void {
  const N: i32 = ho * wo;
  const K: i32 = cinG * kh * kw;
  const row1: usize = tmp + (<usize>N << 1);
  for (let r: i32 = 0; r < K; r += 2) {
    plainRow<i16>(x, r, cinG, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, tmp);
    if (r + 1 < K) plainRow<i16>(x, r + 1, cinG, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, row1);
    else memory.fill(row1, 0, <usize>N << 1);
    const dst: usize = col + (<usize>((r >> 1) * N) << 2);
    let j: i32 = 0;
    for (; j + 8 <= N; j += 8) {
      const a = v128.load(tmp + (<usize>j << 1));
      const b = v128.load(row1 + (<usize>j << 1));
      v128.store(dst + (<usize>j << 2), v128.shuffle<u8>(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
      v128.store(dst + (<usize>j << 2), v128.shuffle<u8>(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 16);
    }
    for (; j < N; j++) {
      store<i16>(dst + (<usize>j << 2), load<i16>(tmp + (<usize>j << 1)));
      store<i16>(dst + (<usize>j << 2), load<i16>(row1 + (<usize>j << 1)), 2);
    }
  }
}
