import { maxInt, minInt, requantizer } from '../src/fixed/format.js';
import { engineTaps } from '../src/hw/cycles.js';
import { WasmArena } from './wasm.js';
import type { AddEngine, BufferPlan, EnginePlan, HwPlan, LinearEngine, PoolEngine, Window } from '../src/hw/plan.js';

/**
 * Transaction-level models of the generated engines. Each executes its engine's loop nest over the
 * packed on-chip buffers (lane l of word a is element a * lanes + l of the buffer's array), in the
 * order the RTL issues taps, with the arithmetic of fixed/format.ts. What does not depend on the
 * image (the tap address of every window position, weights reordered into ROM word order) is
 * computed once per engine.
 */

/** A buffer's contents: lane l of word a at index a * lanes + l. */
export type BufferData = Float64Array;

/** Per-image activity of one engine, the same for every image (the schedule is data-independent). */
export interface EngineActivity {
  /** Taps issued: one per busy cycle between start and the pipeline drain. */
  taps: number;
  /** Taps that fall inside the image (the rest are zero padding). */
  validTaps: number;
  /** Useful multiply-accumulates (padding excluded). */
  macs: number;
  /** Words read from each input buffer (one per tap: the read port is driven every tap). */
  reads: number[];
  /** Words written to the output buffer. */
  writes: number;
  /** Weight and bias ROM words read (conv/dense only). */
  weightReads: number;
  biasReads: number;
}

export interface EngineModel {
  engine: EnginePlan;
  activity: EngineActivity;
  /** Reads the input buffers and writes the output buffer of one image. */
  run(bufs: BufferData[]): void;
}

/**
 * For every output pixel (oy, ox) and kernel position (ky, kx), the input word address of the tap,
 * or -1 when it lies in the padding. Address of channel word cw: cw * h * w + this.
 */
function windowTable(win: Window): Int32Array {
  const t = new Int32Array(win.ho * win.wo * win.kh * win.kw);
  let i = 0;
  for (let oy = 0; oy < win.ho; oy++) {
    for (let ox = 0; ox < win.wo; ox++) {
      const iy0 = oy * win.sh - win.pt, ix0 = ox * win.sw - win.pl;
      for (let ky = 0; ky < win.kh; ky++) {
        const iy = iy0 + ky * win.dh;
        for (let kx = 0; kx < win.kw; kx++, i++) {
          const ix = ix0 + kx * win.dw;
          t[i] = iy < 0 || iy >= win.h || ix < 0 || ix >= win.w ? -1 : iy * win.w + ix;
        }
      }
    }
  }
  return t;
}

function linearModel(e: LinearEngine, inB: BufferPlan, outB: BufferPlan, arena: WasmArena | null): EngineModel {
  const { win, pe, cin, cout } = e;
  const kk = win.kh * win.kw, hw = win.h * win.w, pix = win.ho * win.wo;
  const inLanes = inB.lanes, outLanes = outB.lanes;
  const table = windowTable(win);
  // Every (input channel, kernel position) of each output pixel that lies inside the image, as the
  // packed input element it reads and the offset of the weight row it multiplies; pixel p's taps
  // are entries offs[p] .. offs[p + 1]. The RTL walks these taps in ROM word order, pe x simd
  // products at a time; the sums are exact integers, so visiting them channel-major (all output
  // channels of one input element together) gives the same bits.
  const offs = new Int32Array(pix + 1);
  for (let p = 0; p < pix; p++) {
    let n = 0;
    for (let kp = 0; kp < kk; kp++) if (table[p * kk + kp] >= 0) n++;
    offs[p + 1] = offs[p] + n * cin;
  }
  const valid = offs[pix];
  const elem = new Int32Array(valid), row = new Int32Array(valid);
  let maxTaps = 0;
  for (let p = 0, t = 0; p < pix; p++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let kp = 0; kp < kk; kp++) {
        const a = table[p * kk + kp];
        if (a < 0) continue;
        elem[t] = (Math.floor(ci / inLanes) * hw + a) * inLanes + (ci % inLanes);
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
  // Output word of channel co at pixel p: lane co % lanes of word (co / lanes) * pix + p.
  const outIdx = new Int32Array(cout);
  for (let co = 0; co < cout; co++) outIdx[co] = Math.floor(co / outLanes) * pix * outLanes + (co % outLanes);
  const groups = cout / pe;
  const inId = e.inputs[0], outId = e.output;
  const activity: EngineActivity = {
    // Valid taps in the RTL's terms: a tap is simd lanes of one word at one kernel position.
    taps: engineTaps(e), validTaps: (valid / e.simd) * groups, macs: valid * cout,
    reads: [engineTaps(e)], writes: groups * pix, weightReads: engineTaps(e), biasReads: groups * pix,
  };
  const inElems = inB.words * inB.lanes;

  // When the accumulator's whole range fits in 32 bits, int32 arithmetic is exact: additions and
  // multiplications wrap modulo 2^32, and a final sum inside [-2^31, 2^31) is then the true sum,
  // however the partial sums wrapped. Such layers run in the WebAssembly SIMD kernel.
  const fits = (lo: number, hi: number) => lo >= -(2 ** 31) && hi < 2 ** 31;
  if (arena && fits(e.acc.lo, e.acc.hi) && fits(minInt(e.inFormat), maxInt(e.inFormat))) {
    const place = (src: ArrayLike<number>) => { const at = arena.alloc(src.length); arena.i32().set(src, at >> 2); return at; };
    const pW = place(w), pBias = place(bias), pElem = place(elem), pRow = place(row), pOffs = place(offs);
    const pX = arena.alloc(inElems), pXs = arena.alloc(maxTaps), pRs = arena.alloc(maxTaps), pAcc = arena.alloc(pix * cout);
    return {
      engine: e, activity,
      run(bufs) {
        const heap = arena.i32();
        heap.set(bufs[inId], pX >> 2);
        arena.k.conv(pX, pElem, pRow, pOffs, pix, pW, pBias, cout, pAcc, pXs, pRs);
        const y = bufs[outId];
        for (let p = 0, i = pAcc >> 2; p < pix; p++) {
          const ob = p * outLanes;
          for (let co = 0; co < cout; co++) y[outIdx[co] + ob] = rq(heap[i++]);
        }
      },
    };
  }

  // Otherwise float64, exact below 2^53 (the accumulator bound guarantees it).
  const xs = new Float64Array(maxTaps), rs = new Int32Array(maxTaps);
  return {
    engine: e, activity,
    run(bufs) {
      const x = bufs[inId], y = bufs[outId];
      for (let p = 0; p < pix; p++) {
        // The pixel's nonzero taps (zero activations, most of them after ReLU, add nothing).
        let m = 0;
        for (let t = offs[p], t1 = offs[p + 1]; t < t1; t++) {
          const v = x[elem[t]];
          if (v !== 0) { xs[m] = v; rs[m] = row[t]; m++; }
        }
        const ob = p * outLanes;
        // Eight output channels at a time in locals: one weight load, multiply and add per MAC.
        let co = 0;
        for (; co + 8 <= cout; co += 8) {
          let a0 = bias[co], a1 = bias[co + 1], a2 = bias[co + 2], a3 = bias[co + 3];
          let a4 = bias[co + 4], a5 = bias[co + 5], a6 = bias[co + 6], a7 = bias[co + 7];
          for (let i = 0; i < m; i++) {
            const v = xs[i], j = rs[i] + co;
            a0 += w[j] * v; a1 += w[j + 1] * v; a2 += w[j + 2] * v; a3 += w[j + 3] * v;
            a4 += w[j + 4] * v; a5 += w[j + 5] * v; a6 += w[j + 6] * v; a7 += w[j + 7] * v;
          }
          y[outIdx[co] + ob] = rq(a0); y[outIdx[co + 1] + ob] = rq(a1); y[outIdx[co + 2] + ob] = rq(a2); y[outIdx[co + 3] + ob] = rq(a3);
          y[outIdx[co + 4] + ob] = rq(a4); y[outIdx[co + 5] + ob] = rq(a5); y[outIdx[co + 6] + ob] = rq(a6); y[outIdx[co + 7] + ob] = rq(a7);
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

function poolModel(e: PoolEngine): EngineModel {
  const { win, lanes } = e;
  if (e.mode === 'max' && (e.inFormat.wl !== e.outFormat.wl || e.inFormat.fl !== e.outFormat.fl || e.inFormat.signed !== e.outFormat.signed)) {
    throw new Error(`engine ${e.id}: max pooling passes values through, so its output format must equal its input format`);
  }
  const kk = win.kh * win.kw, hw = win.h * win.w, pix = win.ho * win.wo;
  const table = windowTable(win);
  const groups = e.c / lanes;
  let validPerGroup = 0;
  for (let i = 0; i < table.length; i++) if (table[i] >= 0) validPerGroup++;
  const inId = e.inputs[0], outId = e.output;
  const activity: EngineActivity = {
    taps: engineTaps(e), validTaps: validPerGroup * groups, macs: 0,
    reads: [engineTaps(e)], writes: groups * pix, weightReads: 0, biasReads: 0,
  };
  if (e.mode === 'max') {
    const min = minInt(e.inFormat);
    return {
      engine: e, activity,
      run(bufs) {
        const x = bufs[inId], y = bufs[outId];
        for (let g = 0; g < groups; g++) {
          for (let p = 0; p < pix; p++) {
            for (let l = 0; l < lanes; l++) {
              // The first tap loads the register (the format's minimum when it is padding); later
              // padding taps leave it.
              let m = min;
              for (let kp = 0; kp < kk; kp++) {
                const a = table[p * kk + kp];
                if (a < 0) continue;
                const v = x[(g * hw + a) * lanes + l];
                if (v > m) m = v;
              }
              y[(g * pix + p) * lanes + l] = m;
            }
          }
        }
      },
    };
  }
  // A count with no reciprocal of its own (the full window, or no valid tap at all) takes the full
  // window's, as the RTL's default case does.
  const full = e.recips.find((r) => r.count === kk) ?? e.recips[0];
  const recip = new Float64Array(kk + 1).fill(full.r);
  for (const r of e.recips) recip[r.count] = r.r;
  const variable = e.recips.length > 1;
  const rq = requantizer(e.inFormat.fl + e.recipBits, e.outFormat, -Infinity, Infinity);
  return {
    engine: e, activity,
    run(bufs) {
      const x = bufs[inId], y = bufs[outId];
      for (let g = 0; g < groups; g++) {
        for (let p = 0; p < pix; p++) {
          for (let l = 0; l < lanes; l++) {
            let s = 0, cnt = 0;
            for (let kp = 0; kp < kk; kp++) {
              const a = table[p * kk + kp];
              if (a < 0) continue;
              s += x[(g * hw + a) * lanes + l];
              cnt++;
            }
            y[(g * pix + p) * lanes + l] = rq(s * recip[variable ? cnt : kk]);
          }
        }
      }
    },
  };
}

function addModel(e: AddEngine): EngineModel {
  const F = e.acc.fl;
  const ka = 2 ** (F - e.aFormat.fl), kb = 2 ** (F - e.bFormat.fl);
  const rq = requantizer(F, e.outFormat, e.actLo, e.actHi);
  const n = e.words * e.lanes;
  const [aId, bId] = e.inputs, outId = e.output;
  return {
    engine: e,
    activity: { taps: e.words, validTaps: e.words, macs: 0, reads: [e.words, e.words], writes: e.words, weightReads: 0, biasReads: 0 },
    run(bufs) {
      const a = bufs[aId], b = bufs[bId], y = bufs[outId];
      for (let i = 0; i < n; i++) y[i] = rq(a[i] * ka + b[i] * kb);
    },
  };
}

/** The model of one engine; conv/dense layers place their data in `arena` when one is given. */
export function engineModel(plan: HwPlan, e: EnginePlan, arena: WasmArena | null = null): EngineModel {
  const inB = plan.buffers[e.inputs[0]], outB = plan.buffers[e.output];
  switch (e.kind) {
    case 'linear': return linearModel(e, inB, outB, arena);
    case 'pool': return poolModel(e);
    case 'add': return addModel(e);
  }
}
