import { type BlockFeatures, clampBits, zeroFeatures } from '../../../estimate/feature-kit.js';
import type { BufferPlan } from '../../plan-types.js';
import { counterBits, requantRtl } from '../../verilog.js';
import { type ConcatEngine, concatWidths } from './plan.js';

/**
 * A residual add's block with a multiplexer of the aligned inputs in place of the adder: the word,
 * input and output counters with their comparators, then per lane the input select and a
 * requantizer.
 */
export function concatFeatures(e: ConcatEngine, buffers: readonly BufferPlan[]): BlockFeatures {
  const f = zeroFeatures();
  f.engines = 1;
  const outB = buffers[e.output];
  const { accW } = concatWidths(e);
  const iW = Math.max(...e.inputs.map((b) => buffers[b].addrBits)),
    kW = counterBits(e.inputs.length);
  f.ctlBits += 2 * iW + kW + outB.addrBits;
  f.ffBits += iW + 2 * kW + 2 * outB.addrBits + 3;
  f.muxBits += e.lanes * accW * (e.inputs.length - 1);
  const rq = requantRtl(accW, e.acc.fl, e.outFormat);
  f.rqBits += e.lanes * clampBits(rq);
  f.cmpBits += e.lanes * 2 * rq.width;
  return { features: f, dsp: 0, memories: [] };
}
