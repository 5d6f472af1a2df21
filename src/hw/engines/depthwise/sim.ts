import { requantizer } from '../../../fixed/format.js';
import { type EngineActivity, type EngineModel, windowTable } from '../../../../sim/engine-model.js';
import { type DepthwiseEngine, depthwiseTaps } from './plan.js';

/**
 * Every lane's window over its own channel, in the RTL's tap order, on float64 (exact: the
 * accumulator bound keeps every sum below 2^53). Padding taps add nothing.
 */
export function depthwiseModel(e: DepthwiseEngine): EngineModel {
  const { win, lanes, c } = e;
  const kk = win.kh * win.kw,
    hw = win.h * win.w,
    pix = win.ho * win.wo;
  const table = windowTable(win);
  const groups = c / lanes;
  let validPerGroup = 0;
  for (let i = 0; i < table.length; i++) if (table[i] >= 0) validPerGroup++;
  const taps = depthwiseTaps(e);
  const activity: EngineActivity = {
    taps,
    validTaps: validPerGroup * groups,
    macs: validPerGroup * c,
    reads: [taps],
    writes: groups * pix,
    weightReads: taps,
    biasReads: groups * pix,
  };
  const w = Float64Array.from(e.weights);
  const bias = Float64Array.from(e.alignedBias);
  const rq = requantizer(e.acc.fl, e.outFormat, e.actLo, e.actHi);
  const inId = e.inputs[0],
    outId = e.output;
  return {
    engine: e,
    activity,
    kernel: 'float64',
    run(bufs) {
      const x = bufs[inId],
        y = bufs[outId];
      for (let g = 0; g < groups; g++) {
        for (let p = 0; p < pix; p++) {
          for (let l = 0; l < lanes; l++) {
            const ch = g * lanes + l;
            let a = bias[ch];
            for (let kp = 0; kp < kk; kp++) {
              const t = table[p * kk + kp];
              if (t >= 0) a += w[ch * kk + kp] * x[(g * hw + t) * lanes + l];
            }
            y[(g * pix + p) * lanes + l] = rq(a);
          }
        }
      }
    },
  };
}
