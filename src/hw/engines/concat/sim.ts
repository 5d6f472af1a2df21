import { requantizer } from '../../../fixed/format.js';
import type { EngineModel } from '../../../../sim/engine-model.js';
import { type ConcatEngine, concatTaps } from './plan.js';

/** Input k's elements, aligned and requantized, from output element (earlier inputs' words) x lanes on. */
export function concatModel(e: ConcatEngine): EngineModel {
  const F = e.acc.fl;
  const rq = requantizer(F, e.outFormat, -Infinity, Infinity);
  const scale = e.inFormats.map((f) => 2 ** (F - f.fl));
  const taps = concatTaps(e);
  return {
    engine: e,
    activity: { taps, validTaps: taps, macs: 0, reads: [...e.words], writes: taps, weightReads: 0, biasReads: 0 },
    run(bufs) {
      const y = bufs[e.output];
      let o = 0;
      e.inputs.forEach((b, k) => {
        const x = bufs[b],
          n = e.words[k] * e.lanes,
          s = scale[k];
        for (let i = 0; i < n; i++) y[o++] = rq(x[i] * s);
      });
    },
  };
}
