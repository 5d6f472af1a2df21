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

// ---- Integer layers of the integer reference (int32 accumulators) ----
//
// Used for layers whose exact accumulator range fits int32 (checked by the caller, intref/ops.ts,
// from quant/accumulator.ts): int32 additions and products wrap modulo 2^32, so every accumulator
// comes out exact when its true value lies in [-2^31, 2^31), in whatever order its terms are added.
//
// Tensors are channel-last (NHWC): [image][row][column][channel], a pixel's channels contiguous,
// as int16 (es = 2 bytes; the channel count padded to an even cp, so that a pair of channels is one
// 32-bit word) or int32 (es = 4, cp = c). What a padding channel holds is never used: the weights
// that meet it are zero, and conversion back to float64 skips it.
//
// Indirect convolution (no im2col). A "unit" is a 32-bit word of a pixel: a channel pair (int16)
// or one channel (int32). For every output pixel and kernel tap (ky, kx), an indirection table
// holds the address of the input pixel the tap reads, or of a row of zeros where it reads padding:
// strides, dilations, padding and image boundaries all live in that table. A dense layer is the
// same with one output pixel per image (its input flattened from [c][h][w] is a c-channel image
// read by an h x w kernel).
//
// The weights are packed once per layer into panels of 16 output channels:
//   panel p = [tap t][unit u][channel 16p + l, l = 0..15][the unit's 2 int16 (or 1 int32) weights]
// (zeros for channels >= cout and for the padding channel), so the kernel reads them contiguously.
// A tile of 2 pixels x 16 channels stays in eight i32x4 registers: per unit, four weight vectors
// are loaded and each pixel's unit is splat to all lanes, then i32x4.dot_i16x8_s (two products per
// lane) or i32x4.mul (one) adds into the tile.
//
// Requantization: r = (acc + 2^(s-1)) >> s for s > 0 (the round half up of fixed/format.ts),
// acc << -s otherwise, clamped to [lo, hi]; in int64, or in 32-bit lanes where the caller has
// checked that the offset (or the left shift) keeps every accumulator of the layer in int32.

const PANEL: i32 = 16;

// float64 NCHW integers [n][c][hw] -> NHWC [n][hw][cp] of es-byte integers (channels c..cp-1: 0).
export function toNhwc(n: i32, x: usize, c: i32, hw: i32, cp: i32, es: i32, dst: usize): void {
  if (es == 2) toNhwcT<i16>(n, x, c, hw, cp, dst);
  else toNhwcT<i32>(n, x, c, hw, cp, dst);
}

function toNhwcT<T>(n: i32, x: usize, c: i32, hw: i32, cp: i32, dst: usize): void {
  const es: usize = sizeof<T>();
  const row: usize = <usize>cp * es;
  for (let img: i32 = 0; img < n; img++) {
    const xi: usize = x + (<usize>(img * c * hw) << 3);
    const di: usize = dst + <usize>(img * hw) * row;
    for (let ch: i32 = 0; ch < c; ch++) {
      const src: usize = xi + (<usize>(ch * hw) << 3);
      let d: usize = di + <usize>ch * es;
      for (let q: i32 = 0; q < hw; q++) {
        store<T>(d, <T><i32>load<f64>(src + (<usize>q << 3)));
        d += row;
      }
    }
    for (let ch: i32 = c; ch < cp; ch++) {
      let d: usize = di + <usize>ch * es;
      for (let q: i32 = 0; q < hw; q++) { store<T>(d, 0); d += row; }
    }
  }
}

// NHWC [n][hw][cp] of es-byte integers -> float64 NCHW [n][c][hw].
export function fromNhwc(n: i32, src: usize, c: i32, hw: i32, cp: i32, es: i32, y: usize): void {
  if (es == 2) fromNhwcT<i16>(n, src, c, hw, cp, y);
  else fromNhwcT<i32>(n, src, c, hw, cp, y);
}

function fromNhwcT<T>(n: i32, src: usize, c: i32, hw: i32, cp: i32, y: usize): void {
  const es: usize = sizeof<T>();
  const row: usize = <usize>cp * es;
  for (let img: i32 = 0; img < n; img++) {
    const si: usize = src + <usize>(img * hw) * row;
    const yi: usize = y + (<usize>(img * c * hw) << 3);
    for (let ch: i32 = 0; ch < c; ch++) {
      let s: usize = si + <usize>ch * es;
      const d: usize = yi + (<usize>(ch * hw) << 3);
      for (let q: i32 = 0; q < hw; q++) {
        store<f64>(d + (<usize>q << 3), <f64>load<T>(s));
        s += row;
      }
    }
  }
}

// int16 NHWC (cp = c rounded up to even) -> int32 NHWC (cp = c), `pixels` pixels.
export function widen(pixels: i32, src: usize, c: i32, dst: usize): void {
  const cs: i32 = c + (c & 1);
  for (let p: i32 = 0; p < pixels; p++) {
    const s: usize = src + (<usize>(p * cs) << 1);
    const d: usize = dst + (<usize>(p * c) << 2);
    for (let ch: i32 = 0; ch < c; ch++) store<i32>(d + (<usize>ch << 2), <i32>load<i16>(s + (<usize>ch << 1)));
  }
}

// One chunk of n images of a convolution: x NHWC [n][h][w][cpi] (es 2 with `narrow`, else 4) ->
// y NHWC [n][ho][wo][cpo] of eo-byte integers. wt: packed weights, bias: int32 [mp] (mp = cout
// rounded up to 16). Work space: zero (cpi elements), ind (np * kh * kw u32, np = n * ho * wo
// rounded up to 2), acc (np * mp int32). y is written up to 16 bytes past its end.
export function convInt(
  n: i32, x: usize, cpi: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32,
  wt: usize, bias: usize, cout: i32, mp: i32, zero: usize, ind: usize, acc: usize,
  shift: i32, lo: i32, hi: i32, lanes: i32, y: usize, cpo: i32, eo: i32, narrow: i32,
): void {
  const es: i32 = narrow ? 2 : 4;
  memory.fill(zero, 0, <usize>(cpi * es));
  const pixels: i32 = n * ho * wo;
  const np: i32 = (pixels + 1) & ~1;
  indirection(n, h, w, cpi * es, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, x, zero, np, ind);
  const units: i32 = narrow ? cpi >> 1 : cpi;
  if (narrow) tiles<i16>(np, ind, kh * kw, units, wt, bias, mp, acc);
  else tiles<i32>(np, ind, kh * kw, units, wt, bias, mp, acc);
  if (eo == 2) requantNhwc<i16>(pixels, mp, acc, cout, cpo, shift, lo, hi, lanes, y);
  else requantNhwc<i32>(pixels, mp, acc, cout, cpo, shift, lo, hi, lanes, y);
}

// Indirection table [np / 2][tap][2]: for each pair of output pixels (over the whole chunk, in
// image, row, column order) and each tap, the two input pixel addresses (zero: padding, and the
// pixel past the end that rounds np up to 2).
function indirection(
  n: i32, h: i32, w: i32, rowBytes: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, xin: usize, zero: usize, np: i32, ind: usize,
): void {
  const taps: i32 = kh * kw;
  const hwo: i32 = ho * wo;
  const pixels: i32 = n * hwo;
  for (let p: i32 = 0; p < np; p++) {
    let dst: usize = ind + (<usize>((p >> 1) * taps * 2 + (p & 1)) << 2);
    if (p >= pixels) {
      for (let t: i32 = 0; t < taps; t++) { store<u32>(dst, <u32>zero); dst += 8; }
      continue;
    }
    const img: i32 = p / hwo;
    const q: i32 = p - img * hwo;
    const oy: i32 = q / wo;
    const ox: i32 = q - oy * wo;
    const base: usize = xin + <usize>(img * h * w) * <usize>rowBytes;
    for (let ky: i32 = 0; ky < kh; ky++) {
      const iy: i32 = oy * sh - pt + ky * dh;
      for (let kx: i32 = 0; kx < kw; kx++) {
        const ix: i32 = ox * sw - pl + kx * dw;
        const inside: bool = iy >= 0 && iy < h && ix >= 0 && ix < w;
        store<u32>(dst, inside ? <u32>(base + <usize>(iy * w + ix) * <usize>rowBytes) : <u32>zero);
        dst += 8;
      }
    }
  }
}

// acc[np][mp] = bias + the tile products, for np pixels (even) and mp channels (a multiple of 16).
function tiles<T>(np: i32, ind: usize, taps: i32, units: i32, wt: usize, bias: usize, mp: i32, acc: usize): void {
  const panel: usize = <usize>(taps * units) << 6;
  const rowAcc: usize = <usize>mp << 2;
  for (let pb: i32 = 0; pb < mp; pb += PANEL) {
    const wp0: usize = wt + <usize>(pb / PANEL) * panel;
    const bp: usize = bias + (<usize>pb << 2);
    const b0 = v128.load(bp), b1 = v128.load(bp, 16), b2 = v128.load(bp, 32), b3 = v128.load(bp, 48);
    for (let px: i32 = 0; px < np; px += 2) {
      let s00 = b0, s01 = b1, s02 = b2, s03 = b3, s10 = b0, s11 = b1, s12 = b2, s13 = b3;
      let wp: usize = wp0;
      let ip: usize = ind + (<usize>(px * taps) << 2);
      for (let t: i32 = 0; t < taps; t++) {
        let p0: usize = load<u32>(ip), p1: usize = load<u32>(ip, 4);
        ip += 8;
        const end: usize = wp + (<usize>units << 6);
        while (wp < end) {
          const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
          const x0 = v128.load32_splat(p0);
          p0 += 4;
          s00 = i32x4.add(s00, madd<T>(x0, w0)); s01 = i32x4.add(s01, madd<T>(x0, w1));
          s02 = i32x4.add(s02, madd<T>(x0, w2)); s03 = i32x4.add(s03, madd<T>(x0, w3));
          const x1 = v128.load32_splat(p1);
          p1 += 4;
          s10 = i32x4.add(s10, madd<T>(x1, w0)); s11 = i32x4.add(s11, madd<T>(x1, w1));
          s12 = i32x4.add(s12, madd<T>(x1, w2)); s13 = i32x4.add(s13, madd<T>(x1, w3));
          wp += 64;
        }
      }
      const a: usize = acc + <usize>px * rowAcc + (<usize>pb << 2);
      v128.store(a, s00); v128.store(a, s01, 16); v128.store(a, s02, 32); v128.store(a, s03, 48);
      v128.store(a + rowAcc, s10); v128.store(a + rowAcc, s11, 16); v128.store(a + rowAcc, s12, 32); v128.store(a + rowAcc, s13, 48);
    }
  }
}

// @ts-ignore: decorator
@inline
function madd<T>(x: v128, y: v128): v128 {
  return sizeof<T>() == 2 ? i32x4.dot_i16x8_s(x, y) : i32x4.mul(x, y);
}

// acc [pixels][mp] int32 -> y [pixels][cpo] of T, requantized. In lanes, four channels at a time:
// up to three values past channel cout are written (into the padding channel, the next pixel,
// which is written after, or past the end of y).
function requantNhwc<T>(pixels: i32, mp: i32, acc: usize, cout: i32, cpo: i32, shift: i32, lo: i32, hi: i32, lanes: i32, y: usize): void {
  const es: usize = sizeof<T>();
  const row: usize = <usize>cpo * es;
  if (lanes) {
    const l = i32x4.splat(lo), u = i32x4.splat(hi);
    const half = i32x4.splat(shift > 0 ? 1 << (shift - 1) : 0);
    for (let p: i32 = 0; p < pixels; p++) {
      const a: usize = acc + (<usize>(p * mp) << 2);
      const o: usize = y + <usize>p * row;
      for (let ch: i32 = 0; ch < cout; ch += 4) {
        const v = v128.load(a + (<usize>ch << 2));
        let r = shift > 0 ? i32x4.shr_s(i32x4.add(v, half), shift) : i32x4.shl(v, -shift);
        r = i32x4.min_s(i32x4.max_s(r, l), u);
        if (es == 2) v128.store64_lane(o + (<usize>ch << 1), i16x8.narrow_i32x4_s(r, r), 0);
        else v128.store(o + (<usize>ch << 2), r);
      }
    }
  } else {
    const l: i64 = <i64>lo, u: i64 = <i64>hi;
    const half: i64 = shift > 0 ? <i64>1 << <i64>(shift - 1) : 0;
    for (let p: i32 = 0; p < pixels; p++) {
      const a: usize = acc + (<usize>(p * mp) << 2);
      const o: usize = y + <usize>p * row;
      for (let ch: i32 = 0; ch < cout; ch++) {
        const v: i64 = <i64>load<i32>(a + (<usize>ch << 2));
        let r: i64 = shift > 0 ? (v + half) >> <i64>shift : v << <i64>(-shift);
        r = r < l ? l : r > u ? u : r;
        store<T>(o + <usize>ch * es, <T>r);
      }
    }
  }
}

// Residual add of two tensors of the same layout, count elements of es bytes:
// y = clamp(round_shift((a << sa) + (b << sb), shift), lo, hi), in 32-bit lanes (the caller has
// checked that every sum plus the rounding offset, or shifted left, fits int32).
export function addInt(count: i32, a: usize, b: usize, y: usize, es: i32, sa: i32, sb: i32, shift: i32, lo: i32, hi: i32): void {
  const l = i32x4.splat(lo), u = i32x4.splat(hi);
  const half = i32x4.splat(shift > 0 ? 1 << (shift - 1) : 0);
  let i: i32 = 0;
  if (es == 2) {
    for (; i + 8 <= count; i += 8) {
      const o: usize = <usize>i << 1;
      const va = v128.load(a + o), vb = v128.load(b + o);
      const r0 = addLanes(i32x4.extend_low_i16x8_s(va), i32x4.extend_low_i16x8_s(vb), sa, sb, shift, half, l, u);
      const r1 = addLanes(i32x4.extend_high_i16x8_s(va), i32x4.extend_high_i16x8_s(vb), sa, sb, shift, half, l, u);
      v128.store(y + o, i16x8.narrow_i32x4_s(r0, r1));
    }
    for (; i < count; i++) {
      const o: usize = <usize>i << 1;
      store<i16>(y + o, <i16>addOne(<i32>load<i16>(a + o), <i32>load<i16>(b + o), sa, sb, shift, lo, hi));
    }
  } else {
    for (; i + 4 <= count; i += 4) {
      const o: usize = <usize>i << 2;
      v128.store(y + o, addLanes(v128.load(a + o), v128.load(b + o), sa, sb, shift, half, l, u));
    }
    for (; i < count; i++) {
      const o: usize = <usize>i << 2;
      store<i32>(y + o, addOne(load<i32>(a + o), load<i32>(b + o), sa, sb, shift, lo, hi));
    }
  }
}

// @ts-ignore: decorator
@inline
function addLanes(a: v128, b: v128, sa: i32, sb: i32, shift: i32, half: v128, l: v128, u: v128): v128 {
  const q = i32x4.add(i32x4.shl(a, sa), i32x4.shl(b, sb));
  const r = shift > 0 ? i32x4.shr_s(i32x4.add(q, half), shift) : i32x4.shl(q, -shift);
  return i32x4.min_s(i32x4.max_s(r, l), u);
}

// @ts-ignore: decorator
@inline
function addOne(a: i32, b: i32, sa: i32, sb: i32, shift: i32, lo: i32, hi: i32): i32 {
  const q: i32 = (a << sa) + (b << sb);
  const r: i32 = shift > 0 ? (q + (1 << (shift - 1))) >> shift : q << -shift;
  return r < lo ? lo : r > hi ? hi : r;
}

// Max pooling, NHWC [n][h][w][cp] -> [n][ho][wo][cp], es-byte integers; every window must hold at
// least one input pixel (the caller checks). Sixteen bytes of channels at a time: a row is written
// up to 15 bytes past its end (into the next pixel, written after, or past the end of y).
export function maxpoolInt(
  n: i32, x: usize, cp: i32, es: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, y: usize,
): void {
  const row: usize = <usize>(cp * es);
  for (let img: i32 = 0; img < n; img++) {
    const xi: usize = x + <usize>(img * h * w) * row;
    for (let oy: i32 = 0; oy < ho; oy++) {
      const iy0: i32 = oy * sh - pt;
      let ky0: i32 = 0, ky1: i32 = kh;
      while (ky0 < kh && iy0 + ky0 * dh < 0) ky0++;
      while (ky1 > ky0 && iy0 + (ky1 - 1) * dh >= h) ky1--;
      for (let ox: i32 = 0; ox < wo; ox++) {
        const ix0: i32 = ox * sw - pl;
        let kx0: i32 = 0, kx1: i32 = kw;
        while (kx0 < kw && ix0 + kx0 * dw < 0) kx0++;
        while (kx1 > kx0 && ix0 + (kx1 - 1) * dw >= w) kx1--;
        const o: usize = y + <usize>((img * ho + oy) * wo + ox) * row;
        const first: usize = xi + <usize>((iy0 + ky0 * dh) * w + ix0 + kx0 * dw) * row;
        for (let c: usize = 0; c < row; c += 16) {
          let m = v128.load(first + c);
          for (let ky: i32 = ky0; ky < ky1; ky++) {
            const r: usize = xi + <usize>((iy0 + ky * dh) * w + ix0) * row + c;
            for (let kx: i32 = kx0; kx < kx1; kx++) {
              const v = v128.load(r + <usize>(kx * dw) * row);
              m = es == 2 ? i16x8.max_s(m, v) : i32x4.max_s(m, v);
            }
          }
          v128.store(o + c, m);
        }
      }
    }
  }
}

// Patches of a convolution with few input channels, for running it as a 1 x 1 convolution: pixel
// (img, oy, ox) of dst [n][ho][wo][cpd] holds, at channel t * cin + c, input channel c under tap
// t = ky * kw + kx (0 where the tap reads padding), channels kh * kw * cin .. cpd - 1 zero.
export function patches(
  n: i32, x: usize, cp: i32, es: i32, cin: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, dst: usize, cpd: i32,
): void {
  if (es == 2) patchesT<i16>(n, x, cp, cin, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, dst, cpd);
  else patchesT<i32>(n, x, cp, cin, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, dst, cpd);
}

function patchesT<T>(
  n: i32, x: usize, cp: i32, cin: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, dst: usize, cpd: i32,
): void {
  const es: usize = sizeof<T>();
  const row: usize = <usize>cp * es;
  const drow: usize = <usize>cpd * es;
  const k: i32 = kh * kw * cin;
  for (let img: i32 = 0; img < n; img++) {
    const xi: usize = x + <usize>(img * h * w) * row;
    const di: usize = dst + <usize>(img * ho * wo) * drow;
    // Tap by tap: the output columns whose input column is inside, found once per tap.
    for (let ky: i32 = 0; ky < kh; ky++) {
      for (let kx: i32 = 0; kx < kw; kx++) {
        const col: usize = <usize>((ky * kw + kx) * cin) * es;
        const dx: i32 = kx * dw - pl;
        let oxLo: i32 = 0;
        while (oxLo < wo && oxLo * sw + dx < 0) oxLo++;
        let oxHi: i32 = wo;
        while (oxHi > oxLo && (oxHi - 1) * sw + dx >= w) oxHi--;
        for (let oy: i32 = 0; oy < ho; oy++) {
          const iy: i32 = oy * sh - pt + ky * dh;
          const d: usize = di + <usize>(oy * wo) * drow + col;
          if (iy < 0 || iy >= h) {
            for (let ox: i32 = 0; ox < wo; ox++) zeroUnit<T>(d + <usize>ox * drow, cin);
            continue;
          }
          for (let ox: i32 = 0; ox < oxLo; ox++) zeroUnit<T>(d + <usize>ox * drow, cin);
          const s: usize = xi + <usize>(iy * w + dx) * row;
          const step: usize = <usize>sw * row;
          let src: usize = s + <usize>(oxLo * sw) * row;
          let o: usize = d + <usize>oxLo * drow;
          if (cin == 1) {
            for (let ox: i32 = oxLo; ox < oxHi; ox++) { store<T>(o, load<T>(src)); src += step; o += drow; }
          } else {
            for (let ox: i32 = oxLo; ox < oxHi; ox++) {
              for (let c: i32 = 0; c < cin; c++) store<T>(o + <usize>c * es, load<T>(src + <usize>c * es));
              src += step; o += drow;
            }
          }
          for (let ox: i32 = oxHi; ox < wo; ox++) zeroUnit<T>(d + <usize>ox * drow, cin);
        }
      }
    }
    for (let q: i32 = 0; q < ho * wo; q++) {
      for (let c: i32 = k; c < cpd; c++) store<T>(di + <usize>q * drow + <usize>c * es, 0);
    }
  }
}

// @ts-ignore: decorator
@inline
function zeroUnit<T>(o: usize, cin: i32): void {
  for (let c: i32 = 0; c < cin; c++) store<T>(o + <usize>c * sizeof<T>(), 0);
}
