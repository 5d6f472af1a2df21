import { type BlockFeatures, clampBits, zeroFeatures } from '../../../estimate/feature-kit.js';
import type { BufferPlan } from '../../plan-types.js';
import { requantRtl } from '../../verilog.js';
import { type AddEngine, addWidths } from './plan.js';

export function addEngineFeatures(e: AddEngine, buffers: readonly BufferPlan[]): BlockFeatures {
  const f = zeroFeatures();
  f.engines = 1;
  const outB = buffers[e.output];
  const w = addWidths(e);
  f.ctlBits += 2 * outB.addrBits;
  f.ffBits += 2 * outB.addrBits + 3;
  f.addBits += e.lanes * w.accW;
  const rq = requantRtl(w.accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
  f.rqBits += e.lanes * clampBits(rq);
  f.cmpBits += e.lanes * 2 * rq.width;
  return { features: f, dsp: 0, memories: [] };
}
