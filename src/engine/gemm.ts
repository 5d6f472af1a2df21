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
  M: number,
  N: number,
  K: number,
  A: Float64Array,
  aOff: number,
  B: Float64Array,
  bOff: number,
  C: Float64Array,
  cOff: number,
  accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, cOff, cOff + M * N);
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const c0 = cOff + i * N,
      c1 = c0 + N,
      c2 = c1 + N,
      c3 = c2 + N;
    const a0 = aOff + i * K,
      a1 = a0 + K,
      a2 = a1 + K,
      a3 = a2 + K;
    for (let k = 0; k < K; k++) {
      const v0 = A[a0 + k],
        v1 = A[a1 + k],
        v2 = A[a2 + k],
        v3 = A[a3 + k];
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
    const c0 = cOff + i * N,
      a0 = aOff + i * K;
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
  im2col: (
    x: number,
    cinG: number,
    h: number,
    w: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    dh: number,
    dw: number,
    col: number,
  ) => void;
}

/** The integer kernels of wasm/gemm.ts (run in a WebAssembly instance of their own, see IntHeap). */
interface WasmInt {
  memory: WebAssembly.Memory;
  toNhwc: (n: number, x: number, c: number, hw: number, cp: number, es: number, dst: number) => void;
  fromNhwc: (n: number, src: number, c: number, hw: number, cp: number, es: number, y: number) => void;
  widen: (pixels: number, src: number, c: number, dst: number) => void;
  convInt: (
    n: number,
    x: number,
    cpi: number,
    h: number,
    w: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    dh: number,
    dw: number,
    wt: number,
    bias: number,
    cout: number,
    mp: number,
    zero: number,
    ind: number,
    acc: number,
    shift: number,
    lo: number,
    hi: number,
    lanes: number,
    y: number,
    cpo: number,
    eo: number,
    narrow: number,
  ) => void;
  addInt: (
    count: number,
    a: number,
    b: number,
    y: number,
    es: number,
    sa: number,
    sb: number,
    shift: number,
    lo: number,
    hi: number,
  ) => void;
  patches: (
    n: number,
    x: number,
    cp: number,
    es: number,
    cin: number,
    h: number,
    w: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    dh: number,
    dw: number,
    dst: number,
    cpd: number,
  ) => void;
  maxpoolInt: (
    n: number,
    x: number,
    cp: number,
    es: number,
    h: number,
    w: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    dh: number,
    dw: number,
    y: number,
  ) => void;
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
  cinG: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  ho: number;
  wo: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  dh: number;
  dw: number;
}

/**
 * One group of one image of a convolution, entirely in WebAssembly: im2col of the image into
 * linear memory, then out[coutG x HWo] = W[coutG x K] * col[K x HWo]. Returns false when the
 * WebAssembly kernels are unavailable (the caller then uses the JavaScript path, same results).
 */
export function convGroupWasm(
  coutG: number,
  weight: Float64Array,
  wOff: number,
  x: Float64Array,
  xOff: number,
  g: ConvGeometry,
  out: Float64Array,
  oOff: number,
): boolean {
  if (!wasmAvailable()) return false;
  const w = wasm!;
  const K = g.cinG * g.kh * g.kw,
    hwo = g.ho * g.wo,
    xn = g.cinG * g.h * g.w;
  const heap = heapFor(w, 8 * (coutG * K + xn + K * hwo + coutG * hwo));
  const pa = BASE,
    px = pa + 8 * coutG * K,
    pcol = px + 8 * xn,
    pc = pcol + 8 * K * hwo;
  heap.set(weight.subarray(wOff, wOff + coutG * K), pa / 8);
  heap.set(x.subarray(xOff, xOff + xn), px / 8);
  w.im2col(px, g.cinG, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, pcol);
  w.gemm(coutG, hwo, K, pa, pcol, pc, 0);
  out.set(heap.subarray(pc / 8, pc / 8 + coutG * hwo), oOff);
  return true;
}

/** Same contract as gemmJs; runs the WebAssembly kernel when available. */
export function gemm(
  M: number,
  N: number,
  K: number,
  A: Float64Array,
  aOff: number,
  B: Float64Array,
  bOff: number,
  C: Float64Array,
  cOff: number,
  accumulate: boolean,
): void {
  if (!wasmAvailable() || M * N * K < 512) {
    gemmJs(M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
    return;
  }
  const w = wasm!;
  const aBytes = M * K * 8,
    bBytes = K * N * 8,
    cBytes = M * N * 8;
  const heap = heapFor(w, aBytes + bBytes + cBytes);
  const pa = BASE,
    pb = pa + aBytes,
    pc = pb + bBytes;
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
export interface IntRequant {
  shift: number;
  lo: number;
  hi: number;
  lanes: boolean;
}

/**
 * Integer weights of a convolution or dense layer packed for the int32 WebAssembly kernel
 * (wasm/gemm.ts convInt): panels of 16 output channels, [tap][unit][16 channels][unit], where a
 * unit is a pair of input channels in int16 (`narrow`) or one channel in int32; bias aligned to
 * the accumulator, int32, zero-padded to `mp` channels.
 */
export interface PackedInt {
  data: Int16Array | Int32Array;
  bias: Int32Array;
  cout: number;
  mp: number;
  cin: number;
  kh: number;
  kw: number;
  narrow: boolean;
}

const PANEL = 16;

/**
 * Packs weight [cout][cin][kh][kw] (a dense layer reading a [cin][kh][kw] input, or [cout][cin]
 * with kh = kw = 1) and the aligned bias. With `narrow` every weight must fit int16.
 */
export function packIntWeights(weight: Int32Array, bias: Int32Array, cin: number, kh: number, kw: number, narrow: boolean): PackedInt {
  const cout = bias.length,
    taps = kh * kw;
  if (weight.length !== cout * cin * taps) throw new Error(`packIntWeights: ${weight.length} weights for ${cout} x ${cin} x ${kh} x ${kw}`);
  const mp = Math.ceil(cout / PANEL) * PANEL;
  const cp = channelStride(cin, narrow ? 2 : 4);
  const data = narrow ? new Int16Array(mp * taps * cp) : new Int32Array(mp * taps * cp);
  // Element (o, c, t) goes to panel o / 16, tap t, unit c >> 1 (int16; c for int32), lane o % 16.
  for (let o = 0; o < cout; o++) {
    const panel = Math.floor(o / PANEL) * taps * cp * PANEL,
      lane = o % PANEL;
    for (let c = 0; c < cin; c++) {
      for (let t = 0; t < taps; t++) {
        const v = weight[(o * cin + c) * taps + t];
        data[narrow ? panel + ((t * (cp >> 1) + (c >> 1)) * PANEL + lane) * 2 + (c & 1) : panel + (t * cp + c) * PANEL + lane] = v;
      }
    }
  }
  const b = new Int32Array(mp);
  b.set(bias);
  return { data, bias: b, cout, mp, cin, kh, kw, narrow };
}

/** Channels per pixel of a channel-last integer tensor: even for int16 (pairs of channels are one word). */
export const channelStride = (c: number, es: 2 | 4): number => (es === 2 ? c + (c & 1) : c);

/**
 * Linear memory of the integer kernels: a WebAssembly instance of its own (so the float64 GEMM,
 * which the integer reference also calls for layers it cannot run in int32, never writes over its
 * tensors), with a first-fit allocator over its memory. Blocks are 16-byte aligned and carry 16
 * bytes of slack, which the kernels may read and write past a tensor's end.
 */
class IntHeap {
  private free: { at: number; size: number }[] = [];
  private used = new Map<number, number>();
  private top = BASE;
  constructor(readonly k: WasmInt) {}

  alloc(bytes: number): number {
    const size = Math.ceil((bytes + 16) / 16) * 16;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.size < size) continue;
      const at = f.at;
      if (f.size === size) this.free.splice(i, 1);
      else {
        f.at += size;
        f.size -= size;
      }
      this.used.set(at, size);
      return at;
    }
    const at = this.top;
    const have = this.k.memory.buffer.byteLength;
    if (at + size > have) this.k.memory.grow(Math.ceil((at + size - have) / 65536));
    this.top = at + size;
    this.used.set(at, size);
    return at;
  }

  release(at: number): void {
    const size = this.used.get(at);
    if (size === undefined) throw new Error(`IntHeap: ${at} is not allocated`);
    this.used.delete(at);
    // Insert in address order and merge with the neighbours; a block that ends at the top shrinks it.
    let i = 0;
    while (i < this.free.length && this.free[i].at < at) i++;
    this.free.splice(i, 0, { at, size });
    if (i + 1 < this.free.length && at + size === this.free[i + 1].at) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].at + this.free[i - 1].size === at) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
    }
    const last = this.free[this.free.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      this.free.pop();
    }
  }

  /** Bytes held by live blocks (for tests). */
  get inUse(): number {
    let s = 0;
    for (const v of this.used.values()) s += v;
    return s;
  }
  get buffer(): ArrayBuffer {
    return this.k.memory.buffer;
  }
}

let intHeap: IntHeap | null | undefined;
function heap(): IntHeap {
  if (intHeap === undefined) {
    intHeap = null;
    if (wasmAvailable()) {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, 'base64')), {});
      intHeap = new IntHeap(inst.exports as unknown as WasmInt);
    }
  }
  if (!intHeap) throw new Error('the WebAssembly integer kernels are unavailable');
  return intHeap;
}

/** The integer kernels' exports (wasm/gemm.ts), for callers that lay out their own memory. */
export type IntKernels = WasmInt;

let intModule: WebAssembly.Module | undefined;
/**
 * A new instance of the integer kernels with a linear memory of its own (the cycle simulator keeps
 * each engine's packed weights and buffers in one, apart from the integer reference's heap), or
 * null where the WebAssembly kernels are unavailable.
 */
export function newIntKernels(): IntKernels | null {
  if (!wasmAvailable()) return null;
  intModule ??= new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
  return new WebAssembly.Instance(intModule, {}).exports as unknown as WasmInt;
}

/** Bytes the integer kernels hold in their linear memory: resident tensors and cached weights. */
export function intHeapInUse(): number {
  return intHeap ? intHeap.inUse : 0;
}

/**
 * A tensor of integers held in the integer kernels' memory, channel-last: [n][h][w][cp] of es-byte
 * integers (int16 or int32), channels c..cp-1 unused. Free it with `freeResident`.
 */
export interface Resident {
  at: number;
  n: number;
  c: number;
  h: number;
  w: number;
  cp: number;
  es: 2 | 4;
}

function newResident(n: number, c: number, h: number, w: number, es: 2 | 4): Resident {
  const cp = channelStride(c, es);
  return { at: heap().alloc(n * h * w * cp * es), n, c, h, w, cp, es };
}

export function freeResident(t: Resident): void {
  heap().release(t.at);
  t.at = -1;
}

/** Float64 integers [n][c][h][w] into a resident tensor of es-byte integers (each must fit). */
export function toResident(x: Float64Array, n: number, c: number, h: number, w: number, es: 2 | 4): Resident {
  const H = heap();
  const t = newResident(n, c, h, w, es);
  const len = n * c * h * w;
  if (x.length < len) throw new Error(`toResident: ${x.length} values for ${n} x ${c} x ${h} x ${w}`);
  // Through a float64 staging block, a few images at a time so that it stays in cache.
  const per = Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (c * h * w * 8))));
  const stage = H.alloc(per * c * h * w * 8);
  try {
    for (let s = 0; s < n; s += per) {
      const m = Math.min(per, n - s);
      new Float64Array(H.buffer, stage, m * c * h * w).set(x.subarray(s * c * h * w, (s + m) * c * h * w));
      H.k.toNhwc(m, stage, c, h * w, t.cp, es, t.at + s * h * w * t.cp * es);
    }
  } finally {
    H.release(stage);
  }
  return t;
}

/** A resident tensor as float64 integers [n][c][h][w]. */
export function fromResident(t: Resident): Float64Array {
  const H = heap();
  const { n, c, h, w, cp, es } = t;
  const y = new Float64Array(n * c * h * w);
  const per = Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (c * h * w * 8))));
  const stage = H.alloc(per * c * h * w * 8);
  try {
    for (let s = 0; s < n; s += per) {
      const m = Math.min(per, n - s);
      H.k.fromNhwc(m, t.at + s * h * w * cp * es, c, h * w, cp, es, stage);
      y.set(new Float64Array(H.buffer, stage, m * c * h * w), s * c * h * w);
    }
  } finally {
    H.release(stage);
  }
  return y;
}

/**
 * Packed weights kept in the integer kernels' memory between calls (copying a large layer's
 * weights in for every batch would cost a few percent of the arithmetic), least recently used
 * first out beyond WEIGHT_CACHE_BYTES.
 */
const WEIGHT_CACHE_BYTES = 64 * 2 ** 20;
const weightCache = new Map<PackedInt, number>();
let weightBytes = 0;
function residentWeights(H: IntHeap, p: PackedInt): number {
  let at = weightCache.get(p);
  if (at !== undefined) {
    weightCache.delete(p);
    weightCache.set(p, at);
    return at;
  }
  const bytes = p.data.byteLength + p.bias.byteLength;
  while (weightCache.size > 0 && bytes <= WEIGHT_CACHE_BYTES && weightBytes + bytes > WEIGHT_CACHE_BYTES) {
    const [old, oldAt] = weightCache.entries().next().value!;
    weightCache.delete(old);
    weightBytes -= old.data.byteLength + old.bias.byteLength;
    H.release(oldAt);
  }
  at = H.alloc(bytes);
  (p.narrow ? new Int16Array(H.buffer, at, p.data.length) : new Int32Array(H.buffer, at, p.data.length)).set(p.data);
  new Int32Array(H.buffer, at + p.data.byteLength, p.mp).set(p.bias);
  if (bytes <= WEIGHT_CACHE_BYTES) {
    weightCache.set(p, at);
    weightBytes += bytes;
  }
  return at;
}

/** Images per call into WebAssembly: about this many bytes of input, so it stays in cache. */
const CHUNK_BYTES = 256 * 1024;

/**
 * An ungrouped convolution (a dense layer: an h x w kernel over its [c][h][w] input, or 1 x 1) of a
 * resident tensor in int32 WebAssembly, requantized there into a new resident tensor of eo-byte
 * integers. Exact only when every accumulator fits in 32 signed bits, which the caller must have
 * checked, as that the input fits int16 with `narrow` packed weights and the output range fits eo
 * bytes. An int16 input to int32 weights is widened first.
 */
export function convResident(x: Resident, g: Omit<ConvGeometry, 'cinG' | 'h' | 'w'>, wts: PackedInt, rq: IntRequant, eo: 2 | 4): Resident {
  const H = heap();
  const { cin, cout, mp, narrow } = wts;
  if (x.c !== cin || g.kh !== wts.kh || g.kw !== wts.kw)
    throw new Error(`convResident: input of ${x.c} channels, kernel ${g.kh} x ${g.kw}; packed for ${cin}, ${wts.kh} x ${wts.kw}`);
  const es = narrow ? 2 : 4;
  if (x.es === 4 && es === 2) throw new Error('convResident: int32 input to int16 weights');
  const y = newResident(x.n, cout, g.ho, g.wo, eo);
  const taps = g.kh * g.kw,
    n = x.n,
    hw = x.h * x.w,
    hwo = g.ho * g.wo,
    cp = channelStride(cin, es);
  const per = Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (hw * cp * es))));
  const np = per * hwo + 1;
  const blocks: number[] = [];
  let src = x;
  try {
    if (x.es !== es) {
      src = newResident(x.n, x.c, x.h, x.w, 4);
      H.k.widen(x.n * hw, x.at, x.c, src.at);
    }
    const wt = residentWeights(H, wts);
    if (!weightCache.has(wts)) blocks.push(wt);
    const zero = H.alloc(cp * es);
    blocks.push(zero);
    const ind = H.alloc(np * taps * 4);
    blocks.push(ind);
    const acc = H.alloc(np * mp * 4);
    blocks.push(acc);
    for (let s = 0; s < n; s += per) {
      const m = Math.min(per, n - s);
      H.k.convInt(
        m,
        src.at + s * hw * cp * es,
        cp,
        x.h,
        x.w,
        g.kh,
        g.kw,
        g.ho,
        g.wo,
        g.sh,
        g.sw,
        g.pt,
        g.pl,
        g.dh,
        g.dw,
        wt,
        wt + wts.data.byteLength,
        cout,
        mp,
        zero,
        ind,
        acc,
        rq.shift,
        rq.lo,
        rq.hi,
        rq.lanes ? 1 : 0,
        y.at + s * hwo * y.cp * eo,
        y.cp,
        eo,
        narrow ? 1 : 0,
      );
    }
  } catch (e) {
    freeResident(y);
    throw e;
  } finally {
    for (const b of blocks) H.release(b);
    if (src !== x) freeResident(src);
  }
  return y;
}

/**
 * Weight [cout][cin][kh][kw] reordered to [cout][kh * kw * cin] (tap-major), the layout of the
 * patches of `convPatches`.
 */
export function tapMajor(weight: Int32Array, cout: number, cin: number, taps: number): Int32Array {
  const r = new Int32Array(weight.length);
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++) for (let t = 0; t < taps; t++) r[(o * taps + t) * cin + c] = weight[(o * cin + c) * taps + t];
  return r;
}

/**
 * convResident for a convolution with few input channels (where each tap would give the kernel
 * only a word or two to work on): its patches, each pixel's kh x kw x cin window as channels,
 * then one 1 x 1 convolution over them with weights packed from `tapMajor` (cin' = kh * kw * cin).
 */
export function convPatches(x: Resident, g: Omit<ConvGeometry, 'cinG' | 'h' | 'w'>, wts: PackedInt, rq: IntRequant, eo: 2 | 4): Resident {
  const H = heap();
  const k = g.kh * g.kw * x.c;
  if (wts.cin !== k || wts.kh !== 1 || wts.kw !== 1) throw new Error('convPatches: the weights are not packed for patches');
  const es = wts.narrow ? 2 : 4;
  if (x.es !== es && es === 2) throw new Error('convPatches: int32 input to int16 weights');
  const p = newResident(x.n, k, g.ho, g.wo, es);
  try {
    let src = x;
    if (x.es !== es) {
      src = newResident(x.n, x.c, x.h, x.w, 4);
      H.k.widen(x.n * x.h * x.w, x.at, x.c, src.at);
    }
    H.k.patches(x.n, src.at, src.cp, es, x.c, x.h, x.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, p.at, p.cp);
    if (src !== x) freeResident(src);
    return convResident(p, { kh: 1, kw: 1, ho: g.ho, wo: g.wo, sh: 1, sw: 1, pt: 0, pl: 0, dh: 1, dw: 1 }, wts, rq, eo);
  } finally {
    freeResident(p);
  }
}

/**
 * Residual add of two resident tensors of the same shape and element size into a new one:
 * clamp(round_shift((a << sa) + (b << sb), shift), lo, hi) in 32-bit lanes; the caller has checked
 * that every sum, plus the rounding offset or shifted left, fits int32, and the result fits es bytes.
 */
export function addResident(a: Resident, b: Resident, sa: number, sb: number, shift: number, lo: number, hi: number): Resident {
  if (a.n !== b.n || a.c !== b.c || a.h !== b.h || a.w !== b.w || a.es !== b.es)
    throw new Error('addResident: operands differ in shape or element size');
  const y = newResident(a.n, a.c, a.h, a.w, a.es);
  heap().k.addInt(a.n * a.h * a.w * a.cp, a.at, b.at, y.at, a.es, sa, sb, shift, lo, hi);
  return y;
}

/** Max pooling of a resident tensor; every window must hold at least one input pixel. */
export function maxpoolResident(x: Resident, g: Omit<ConvGeometry, 'cinG' | 'h' | 'w'>): Resident {
  const y = newResident(x.n, x.c, g.ho, g.wo, x.es);
  heap().k.maxpoolInt(x.n, x.at, x.cp, x.es, x.h, x.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, y.at);
  return y;
}

/**
 * A whole batch of an ungrouped convolution (a dense layer: h = w = kh = kw = 1) in int32
 * WebAssembly on float64 integers [n][cin][h][w], writing [n][cout][ho][wo] into `y` from `yOff`:
 * convResident between conversions. Same conditions as convResident.
 */
export function convIntWasm(
  n: number,
  x: Float64Array,
  g: Omit<ConvGeometry, 'cinG'>,
  wts: PackedInt,
  rq: IntRequant,
  y: Float64Array,
  yOff: number,
): void {
  const xr = toResident(x, n, wts.cin, g.h, g.w, wts.narrow ? 2 : 4);
  let yr: Resident | undefined;
  try {
    yr = convResident(xr, g, wts, rq, 4);
    y.set(fromResident(yr), yOff);
  } finally {
    freeResident(xr);
    if (yr) freeResident(yr);
  }
}
