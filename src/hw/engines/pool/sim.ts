import { minInt, requantizer } from '../../../fixed/format.js';
import { type EngineActivity, type EngineModel, windowTable } from '../../../../sim/engine-model.js';
import { type PoolEngine, poolTaps } from './plan.js';

export function poolModel(e: PoolEngine): EngineModel {
  const { win, lanes } = e;
  if (
    e.mode === 'max' &&
    (e.inFormat.wl !== e.outFormat.wl || e.inFormat.fl !== e.outFormat.fl || e.inFormat.signed !== e.outFormat.signed)
  ) {
    throw new Error(`engine ${e.id}: max pooling passes values through, so its output format must equal its input format`);
  }
  const kk = win.kh * win.kw,
    hw = win.h * win.w,
    pix = win.ho * win.wo;
  const table = windowTable(win);
  const groups = e.c / lanes;
  let validPerGroup = 0;
  for (let i = 0; i < table.length; i++) if (table[i] >= 0) validPerGroup++;
  const inId = e.inputs[0],
    outId = e.output;
  const activity: EngineActivity = {
    taps: poolTaps(e),
    validTaps: validPerGroup * groups,
    macs: 0,
    reads: [poolTaps(e)],
    writes: groups * pix,
    weightReads: 0,
    biasReads: 0,
  };
  if (e.mode === 'max') {
    const min = minInt(e.inFormat);
    return {
      engine: e,
      activity,
      run(bufs) {
        const x = bufs[inId],
          y = bufs[outId];
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
    engine: e,
    activity,
    run(bufs) {
      const x = bufs[inId],
        y = bufs[outId];
      for (let g = 0; g < groups; g++) {
        for (let p = 0; p < pix; p++) {
          for (let l = 0; l < lanes; l++) {
            let s = 0,
              cnt = 0;
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
