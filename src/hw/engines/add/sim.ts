import { requantizer } from '../../../fixed/format.js';
import type { EngineModel } from '../../../../sim/engine-model.js';
import type { AddEngine } from './plan.js';

export function addModel(e: AddEngine): EngineModel {
  const F = e.acc.fl;
  const ka = 2 ** (F - e.aFormat.fl),
    kb = 2 ** (F - e.bFormat.fl);
  const rq = requantizer(F, e.outFormat, e.actLo, e.actHi);
  const n = e.words * e.lanes;
  const [aId, bId] = e.inputs,
    outId = e.output;
  return {
    engine: e,
    activity: { taps: e.words, validTaps: e.words, macs: 0, reads: [e.words, e.words], writes: e.words, weightReads: 0, biasReads: 0 },
    run(bufs) {
      const a = bufs[aId],
        b = bufs[bId],
        y = bufs[outId];
      for (let i = 0; i < n; i++) y[i] = rq(a[i] * ka + b[i] * kb);
    },
  };
}
