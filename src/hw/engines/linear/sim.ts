import { maxInt, minInt, requantBounds, requantizer } from '../../../fixed/format.js';
import { channelStride, packIntWeights } from '../../../engine/gemm.js';
import { type BufferPlan, packedIndex, type Window } from '../../plan-types.js';
import { type EngineActivity, type EngineModel, windowTable } from '../../../../sim/engine-model.js';
import type { WasmArena } from '../../../../sim/wasm.js';
import { type LinearEngine, linearTaps } from './plan.js';

export function linearModel(e: LinearEngine, buffers: readonly BufferPlan[], arena: WasmArena | null): EngineModel {
  const inB = buffers[e.inputs[0]],
    outB = buffers[e.output];
  const { win, pe, cin, cout } = e;
  const kk = win.kh * win.kw,
    pix = win.ho * win.wo;
  const outLanes = outB.lanes;
  const table = windowTable(win);
  let inside = 0;
  for (let i = 0; i < table.length; i++) if (table[i] >= 0) inside++;
  // Every (input channel of its group, kernel position) of an output pixel inside the image.
  const valid = inside * (cin / e.groups);
  const groups = cout / pe;
  const inId = e.inputs[0],
    outId = e.output;
  const activity: EngineActivity = {
    // Valid taps in the RTL's terms: a tap is simd lanes of one word at one kernel position.
    taps: linearTaps(e),
    validTaps: (valid / e.simd) * groups,
    macs: valid * cout,
    reads: [linearTaps(e)],
    writes: groups * pix,
    weightReads: linearTaps(e),
    biasReads: groups * pix,
  };
  // Packed index of channel co at pixel 0; pixel p adds p * lanes.
  const outIdx = new Int32Array(cout);
  for (let co = 0; co < cout; co++) outIdx[co] = packedIndex(outB, co, 0);

  // The RTL walks the taps in ROM word order, pe x simd products at a time; the sums are exact
  // integers, so any order of the same products gives the same bits. Where the accumulator's whole
  // range fits in 32 bits the engine runs on the integer reference's kernel.
  if (e.groups > 1) return { engine: e, activity, kernel: 'float64', run: groupedRun(e, inB, table, outIdx, outLanes) };
  const int = arena ? intLinear(e, inB, table, inside, outIdx, outLanes, arena) : null;
  if (int) return { engine: e, activity, ...int };

  // Otherwise float64, exact below 2^53 (the accumulator bound guarantees it). For every output
  // pixel, its valid taps as the packed input element each reads and the offset of the weight row
  // it multiplies: pixel p's taps are entries offs[p] .. offs[p + 1], visited channel-major (all
  // output channels of one input element together).
  const offs = new Int32Array(pix + 1);
  for (let p = 0; p < pix; p++) {
    let n = 0;
    for (let kp = 0; kp < kk; kp++) if (table[p * kk + kp] >= 0) n++;
    offs[p + 1] = offs[p] + n * cin;
  }
  const elem = new Int32Array(valid),
    row = new Int32Array(valid);
  let maxTaps = 0;
  for (let p = 0, t = 0; p < pix; p++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let kp = 0; kp < kk; kp++) {
        const a = table[p * kk + kp];
        if (a < 0) continue;
        elem[t] = packedIndex(inB, ci, a);
        row[t++] = (ci * kk + kp) * cout;
      }
    }
    maxTaps = Math.max(maxTaps, offs[p + 1] - offs[p]);
  }
  // Weights transposed to [input channel][kernel position][output channel].
  const w = new Float64Array(cin * kk * cout);
  for (let co = 0; co < cout; co++) {
    for (let r = 0; r < cin * kk; r++) w[r * cout + co] = e.weights[co * cin * kk + r];
  }
  const bias = Float64Array.from(e.alignedBias);
  const rq = requantizer(e.acc.fl, e.outFormat, e.actLo, e.actHi);
  const xs = new Float64Array(maxTaps),
    rs = new Int32Array(maxTaps);
  return {
    engine: e,
    activity,
    kernel: 'float64',
    run(bufs) {
      const x = bufs[inId],
        y = bufs[outId];
      for (let p = 0; p < pix; p++) {
        // The pixel's nonzero taps (zero activations, most of them after ReLU, add nothing).
        let m = 0;
        for (let t = offs[p], t1 = offs[p + 1]; t < t1; t++) {
          const v = x[elem[t]];
          if (v !== 0) {
            xs[m] = v;
            rs[m] = row[t];
            m++;
          }
        }
        const ob = p * outLanes;
        // Eight output channels at a time in locals: one weight load, multiply and add per MAC.
        let co = 0;
        for (; co + 8 <= cout; co += 8) {
          let a0 = bias[co],
            a1 = bias[co + 1],
            a2 = bias[co + 2],
            a3 = bias[co + 3];
          let a4 = bias[co + 4],
            a5 = bias[co + 5],
            a6 = bias[co + 6],
            a7 = bias[co + 7];
          for (let i = 0; i < m; i++) {
            const v = xs[i],
              j = rs[i] + co;
            a0 += w[j] * v;
            a1 += w[j + 1] * v;
            a2 += w[j + 2] * v;
            a3 += w[j + 3] * v;
            a4 += w[j + 4] * v;
            a5 += w[j + 5] * v;
            a6 += w[j + 6] * v;
            a7 += w[j + 7] * v;
          }
          y[outIdx[co] + ob] = rq(a0);
          y[outIdx[co + 1] + ob] = rq(a1);
          y[outIdx[co + 2] + ob] = rq(a2);
          y[outIdx[co + 3] + ob] = rq(a3);
          y[outIdx[co + 4] + ob] = rq(a4);
          y[outIdx[co + 5] + ob] = rq(a5);
          y[outIdx[co + 6] + ob] = rq(a6);
          y[outIdx[co + 7] + ob] = rq(a7);
        }
        for (; co < cout; co++) {
          let a = bias[co];
          for (let i = 0; i < m; i++) a += w[rs[i] + co] * xs[i];
          y[outIdx[co] + ob] = rq(a);
        }
      }
    },
  };
}

/** Input channels up to which a convolution runs on its patches, as in the integer reference. */
const PATCH_CHANNELS = 4;
const INT32 = 2 ** 31;

/**
 * A conv/dense engine on the integer reference's int32 WebAssembly kernel (wasm/gemm.ts
 * `convInt`, with its requantization), or null where that is not exact: under the conditions of
 * `intForm` in src/intref/ops.ts, every accumulator (bias included), the input and the clamp
 * bounds within 32 signed bits; int32 additions and products then wrap modulo 2^32 and every final
 * sum is the true one. The kernel's requantization is fixed/format.ts's (round half up, clamp;
 * tested against the BigInt oracle in test/int-kernels.test.ts).
 *
 * Per image, the packed input buffer is gathered into the kernel's channel-last layout: [y][x][c]
 * for the window to walk, or, for a layer with one output pixel (a dense layer) or few input
 * channels, each output pixel's whole window as channels [c][ky][kx] of a 1 x 1 convolution (the
 * weights' own [cout][cin][kh][kw] order; padding taps stay zero). The outputs are scattered back
 * into the output buffer's words.
 */
function intLinear(
  e: LinearEngine,
  inB: BufferPlan,
  table: Int32Array,
  inside: number,
  outIdx: Int32Array,
  outLanes: number,
  arena: WasmArena,
): Pick<EngineModel, 'run' | 'kernel'> | null {
  const { win, cin, cout } = e;
  const fits = (v: number) => v >= -INT32 && v < INT32;
  const int16 = (v: number) => v >= -32768 && v <= 32767;
  const shift = e.acc.fl - e.outFormat.fl;
  const [lo, hi] = requantBounds(e.outFormat, e.actLo, e.actHi);
  const inLo = minInt(e.inFormat),
    inHi = maxInt(e.inFormat);
  if (
    !fits(e.acc.lo) ||
    !fits(e.acc.hi) ||
    !fits(inLo) ||
    !fits(inHi) ||
    !fits(lo) ||
    !fits(hi) ||
    shift < -31 ||
    shift > 62 ||
    !e.alignedBias.every(fits)
  )
    return null;
  const narrow = int16(minInt(e.weightFormat)) && int16(maxInt(e.weightFormat)) && int16(inLo) && int16(inHi);
  // The rounding offset (or the left shift) keeps every accumulator in int32: requantize in lanes.
  const lanes =
    shift > 0 ? shift <= 31 && e.acc.hi + 2 ** (shift - 1) < INT32 : fits(e.acc.lo * 2 ** -shift) && fits(e.acc.hi * 2 ** -shift);
  const es = narrow ? 2 : 4;
  const kk = win.kh * win.kw,
    hw = win.h * win.w,
    pix = win.ho * win.wo;
  const inIndex = (c: number, a: number) => packedIndex(inB, c, a);
  const flat = pix === 1 || (kk > 1 && cin <= PATCH_CHANNELS);
  // Gather: element src[i] of the input buffer goes to element dst[i] of the kernel's input.
  const n = (flat ? inside : hw) * cin;
  const src = new Int32Array(n),
    dst = new Int32Array(n);
  let cpi: number, pixIn: number, g: Window;
  if (flat) {
    cpi = channelStride(cin * kk, es);
    pixIn = pix;
    for (let p = 0, i = 0; p < pix; p++) {
      for (let c = 0; c < cin; c++) {
        for (let kp = 0; kp < kk; kp++) {
          const a = table[p * kk + kp];
          if (a >= 0) {
            src[i] = inIndex(c, a);
            dst[i++] = p * cpi + c * kk + kp;
          }
        }
      }
    }
    g = { h: win.ho, w: win.wo, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, ho: win.ho, wo: win.wo };
  } else {
    cpi = channelStride(cin, es);
    pixIn = hw;
    for (let q = 0, i = 0; q < hw; q++)
      for (let c = 0; c < cin; c++, i++) {
        src[i] = inIndex(c, q);
        dst[i] = q * cpi + c;
      }
    g = win;
  }
  const sequential = dst.every((d, i) => d === i);
  const identity = sequential && src.every((v, i) => v === i);
  const wts = packIntWeights(
    e.weights,
    Int32Array.from(e.alignedBias),
    flat ? cin * kk : cin,
    flat ? 1 : win.kh,
    flat ? 1 : win.kw,
    narrow,
  );
  const taps = g.kh * g.kw,
    mp = wts.mp,
    np = (pix + 1) & ~1;

  const pW = arena.alloc(wts.data.byteLength),
    pB = arena.alloc(mp * 4),
    pX = arena.alloc(pixIn * cpi * es);
  (narrow ? new Int16Array(arena.buffer, pW, wts.data.length) : new Int32Array(arena.buffer, pW, wts.data.length)).set(wts.data);
  new Int32Array(arena.buffer, pB, mp).set(wts.bias);
  // Scratch: the zero row, the indirection table, the accumulators and the requantized outputs.
  const a16 = (b: number) => Math.ceil(b / 16) * 16;
  const oInd = a16(cpi * es),
    oAcc = oInd + a16(np * taps * 4),
    oY = oAcc + np * mp * 4;
  arena.reserve(oY + pix * cout * 4 + 16);

  const k = arena.k,
    inId = e.inputs[0],
    outId = e.output;
  const outIdentity = outIdx.every((v, co) => v === co);
  let mem: ArrayBuffer | null = null;
  let xv: Int16Array | Int32Array = new Int32Array(0),
    yv = new Int32Array(0),
    at = 0;
  const kernel = `${narrow ? 'int16' : 'int32'}${flat ? ' flat' : ''}` as const;
  return {
    kernel,
    run(bufs) {
      const s = arena.scratch();
      if (arena.buffer !== mem || s !== at) {
        mem = arena.buffer;
        at = s;
        xv = narrow ? new Int16Array(mem, pX, pixIn * cpi) : new Int32Array(mem, pX, pixIn * cpi);
        yv = new Int32Array(mem, s + oY, pix * cout);
      }
      const x = bufs[inId],
        y = bufs[outId];
      if (identity) xv.set(x.subarray(0, n));
      else if (sequential) for (let i = 0; i < n; i++) xv[i] = x[src[i]];
      else for (let i = 0; i < n; i++) xv[dst[i]] = x[src[i]];
      k.convInt(
        1,
        pX,
        cpi,
        g.h,
        g.w,
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
        pW,
        pB,
        cout,
        mp,
        s,
        s + oInd,
        s + oAcc,
        shift,
        lo,
        hi,
        lanes ? 1 : 0,
        s + oY,
        cout,
        4,
        narrow ? 1 : 0,
      );
      if (outIdentity) {
        y.set(yv);
        return;
      }
      for (let p = 0, i = 0; p < pix; p++) {
        const ob = p * outLanes;
        for (let co = 0; co < cout; co++) y[outIdx[co] + ob] = yv[i++];
      }
    },
  };
}

/**
 * A grouped convolution on float64 (exact: the accumulator bound keeps every sum below 2^53):
 * output channel co sums over the input channels of its own group only.
 */
function groupedRun(e: LinearEngine, inB: BufferPlan, table: Int32Array, outIdx: Int32Array, outLanes: number): EngineModel['run'] {
  const { win, cin, cout } = e;
  const kk = win.kh * win.kw,
    pix = win.ho * win.wo,
    L = inB.lanes;
  const cinG = cin / e.groups,
    coutG = cout / e.groups;
  const w = Float64Array.from(e.weights),
    bias = Float64Array.from(e.alignedBias);
  const rq = requantizer(e.acc.fl, e.outFormat, e.actLo, e.actHi);
  const inId = e.inputs[0],
    outId = e.output;
  return (bufs) => {
    const x = bufs[inId],
      y = bufs[outId];
    for (let co = 0; co < cout; co++) {
      const c0 = Math.floor(co / coutG) * cinG;
      for (let p = 0; p < pix; p++) {
        let a = bias[co];
        for (let ci = 0; ci < cinG; ci++) {
          const base = packedIndex(inB, c0 + ci, 0),
            row = (co * cinG + ci) * kk;
          for (let kp = 0; kp < kk; kp++) {
            const t = table[p * kk + kp];
            if (t >= 0) a += w[row + kp] * x[base + t * L];
          }
        }
        y[outIdx[co] + p * outLanes] = rq(a);
      }
    }
  };
}
