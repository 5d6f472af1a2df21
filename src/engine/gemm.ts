import { GEMM_WASM_BASE64 } from './gemm-wasm.generated.js';

/**
 * C[M x N] (+)= A[M x K] * B[K x N], all row-major float64, with offsets so callers can work on
 * slices of larger buffers without copying.
 *
 * Exactness: every product and every partial sum is formed in float64. For integer-valued operands
 * the result is exact while sum_k |A[i,k]| * |B[k,j]| (plus whatever C held) stays below 2^53;
 * `checkExactRange` in exact.ts verifies that bound for a whole graph.
 *
 * Four rows of A are processed together so each element of B loaded from memory feeds four
 * multiply-adds; the inner loop runs along contiguous rows of B and C. This is the portable
 * fallback; `gemm` uses the WebAssembly SIMD kernel (wasm/gemm.ts), which performs the same
 * float64 operations in the same order and so returns bit-identical results.
 */
export function gemmJs(
  M: number, N: number, K: number,
  A: Float64Array, aOff: number,
  B: Float64Array, bOff: number,
  C: Float64Array, cOff: number,
  accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, cOff, cOff + M * N);
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    for (let k = 0; k < K; k++) {
      const v0 = A[a0 + k], v1 = A[a1 + k], v2 = A[a2 + k], v3 = A[a3 + k];
      if (v0 === 0 && v1 === 0 && v2 === 0 && v3 === 0) continue;
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) {
        const bv = B[b + j];
        C[c0 + j] += v0 * bv;
        C[c1 + j] += v1 * bv;
        C[c2 + j] += v2 * bv;
        C[c3 + j] += v3 * bv;
      }
    }
  }
  for (; i < M; i++) {
    const c0 = cOff + i * N, a0 = aOff + i * K;
    for (let k = 0; k < K; k++) {
      const v0 = A[a0 + k];
      if (v0 === 0) continue;
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) C[c0 + j] += v0 * B[b + j];
    }
  }
}

interface WasmGemm {
  memory: WebAssembly.Memory;
  gemm: (M: number, N: number, K: number, a: number, b: number, c: number, accumulate: number) => void;
  im2col: (x: number, cinG: number, h: number, w: number, kh: number, kw: number, ho: number, wo: number,
    sh: number, sw: number, pt: number, pl: number, dh: number, dw: number, col: number) => void;
  convInt: (n: number, x: number, cin: number, h: number, w: number, kh: number, kw: number, ho: number, wo: number,
    sh: number, sw: number, pt: number, pl: number, dh: number, dw: number,
    wt: number, bias: number, cout: number, xi: number, col: number, acc: number,
    shift: number, lo: number, hi: number, out: number, narrow: number, lanes: number) => void;
}

let wasm: WasmGemm | null | undefined;
const BASE = 1024; // bytes kept free at the start of linear memory

function loadWasm(): WasmGemm | null {
  if (process.env.FXPQ_NO_WASM === '1') return null;
  try {
    const mod = new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
    const inst = new WebAssembly.Instance(mod, {});
    return inst.exports as unknown as WasmGemm;
  } catch {
    return null; // no SIMD support: the JavaScript kernel gives the same results
  }
}

/** True when the WebAssembly SIMD kernel is in use. */
export function wasmAvailable(): boolean {
  if (wasm === undefined) wasm = loadWasm();
  return wasm !== null;
}

function heapFor(w: WasmGemm, bytes: number): Float64Array {
  const have = w.memory.buffer.byteLength;
  if (BASE + bytes > have) w.memory.grow(Math.ceil((BASE + bytes - have) / 65536));
  return new Float64Array(w.memory.buffer);
}

export interface ConvGeometry {
  cinG: number; h: number; w: number; kh: number; kw: number; ho: number; wo: number;
  sh: number; sw: number; pt: number; pl: number; dh: number; dw: number;
}

/**
 * One group of one image of a convolution, entirely in WebAssembly: im2col of the image into
 * linear memory, then out[coutG x HWo] = W[coutG x K] * col[K x HWo]. Returns false when the
 * WebAssembly kernels are unavailable (the caller then uses the JavaScript path, same results).
 */
export function convGroupWasm(
  coutG: number, weight: Float64Array, wOff: number, x: Float64Array, xOff: number, g: ConvGeometry,
  out: Float64Array, oOff: number,
): boolean {
  if (!wasmAvailable()) return false;
  const w = wasm!;
  const K = g.cinG * g.kh * g.kw, hwo = g.ho * g.wo, xn = g.cinG * g.h * g.w;
  const heap = heapFor(w, 8 * (coutG * K + xn + K * hwo + coutG * hwo));
  const pa = BASE, px = pa + 8 * coutG * K, pcol = px + 8 * xn, pc = pcol + 8 * K * hwo;
  heap.set(weight.subarray(wOff, wOff + coutG * K), pa / 8);
  heap.set(x.subarray(xOff, xOff + xn), px / 8);
  w.im2col(px, g.cinG, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, pcol);
  w.gemm(coutG, hwo, K, pa, pcol, pc, 0);
  out.set(heap.subarray(pc / 8, pc / 8 + coutG * hwo), oOff);
  return true;
}

/** Same contract as gemmJs; runs the WebAssembly kernel when available. */
export function gemm(
  M: number, N: number, K: number,
  A: Float64Array, aOff: number,
  B: Float64Array, bOff: number,
  C: Float64Array, cOff: number,
  accumulate: boolean,
): void {
  if (!wasmAvailable() || M * N * K < 512) {
    gemmJs(M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
    return;
  }
  const w = wasm!;
  const aBytes = M * K * 8, bBytes = K * N * 8, cBytes = M * N * 8;
  const heap = heapFor(w, aBytes + bBytes + cBytes);
  const pa = BASE, pb = pa + aBytes, pc = pb + bBytes;
  heap.set(A.subarray(aOff, aOff + M * K), pa / 8);
  heap.set(B.subarray(bOff, bOff + K * N), pb / 8);
  if (accumulate) heap.set(C.subarray(cOff, cOff + M * N), pc / 8);
  w.gemm(M, N, K, pa, pb, pc, accumulate ? 1 : 0);
  C.set(heap.subarray(pc / 8, pc / 8 + M * N), cOff);
}

/**
 * Requantization of an int32 accumulator: round half up by `shift` bits (left shift if negative),
 * clamp to [lo, hi]. `lanes`: the rounding offset or left shift keeps every accumulator of the
 * layer within int32, so it can run in 32-bit SIMD lanes (otherwise it runs in int64).
 */
export interface IntRequant { shift: number; lo: number; hi: number; lanes: boolean }

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * A whole batch of an ungrouped convolution in int32 WebAssembly (wasm/gemm.ts convInt), requantized
 * there too: integer inputs (as float64), int32 weights [cout x K] and int32 bias already aligned
 * to the accumulator. Exact only when every accumulator fits in 32 signed bits, which the caller
 * must have checked. With `narrow` (every weight and input fits int16) pairs of taps go through
 * one 16-bit dot product. Writes the n images' outputs into `y` from `yOff`. Callers check
 * `wasmAvailable()` first.
 */
export function convIntWasm(
  n: number, x: Float64Array, cin: number, g: Omit<ConvGeometry, 'cinG'>, weight: Int32Array, bias: Int32Array, rq: IntRequant, narrow: boolean,
  y: Float64Array, yOff: number,
): void {
  if (!wasmAvailable()) throw new Error('convIntWasm: the WebAssembly kernels are unavailable');
  const w = wasm!;
  const cout = bias.length;
  const K = cin * g.kh * g.kw, hwo = g.ho * g.wo, xn = cin * g.h * g.w;
  const Kp = K + (K & 1);
  const sizes = narrow
    ? [cout * Kp * 2, cout * 4, n * xn * 8, xn * 2, Kp * hwo * 2, cout * hwo * 4, n * cout * hwo * 8]
    : [cout * K * 4, cout * 4, n * xn * 8, xn * 4, K * hwo * 4, cout * hwo * 4, n * cout * hwo * 8];
  const at: number[] = [];
  let p = BASE;
  for (const sz of sizes.map(align16)) { at.push(p); p += sz; }
  heapFor(w, p - BASE);
  const buf = w.memory.buffer;
  if (narrow) {
    const a = new Int16Array(buf, at[0], cout * Kp);
    for (let o = 0; o < cout; o++) {
      a.set(weight.subarray(o * K, (o + 1) * K), o * Kp);
      if (Kp > K) a[o * Kp + K] = 0;
    }
  } else {
    new Int32Array(buf, at[0], cout * K).set(weight);
  }
  new Int32Array(buf, at[1], cout).set(bias);
  new Float64Array(buf, at[2], n * xn).set(x.subarray(0, n * xn));
  w.convInt(n, at[2], cin, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw,
    at[0], at[1], cout, at[3], at[4], at[5], rq.shift, rq.lo, rq.hi, at[6], narrow ? 1 : 0, rq.lanes ? 1 : 0);
  y.set(new Float64Array(w.memory.buffer, at[6], n * cout * hwo), yOff);
}
