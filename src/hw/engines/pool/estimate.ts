import { FAMILIES, type Target } from '../../../estimate/families.js';
import { type BlockFeatures, clampBits, dspFor, windowBits, zeroFeatures } from '../../../estimate/feature-kit.js';
import type { BufferPlan } from '../../plan-types.js';
import { counterBits, requantRtl } from '../../verilog.js';
import { type PoolEngine, poolWidths } from './plan.js';

export function poolFeatures(e: PoolEngine, buffers: readonly BufferPlan[], target: Target): BlockFeatures {
  const rule = FAMILIES[target].dsp;
  const f = zeroFeatures();
  f.engines = 1;
  const inB = buffers[e.inputs[0]],
    outB = buffers[e.output];
  let dsp = 0;
  const groups = e.c / e.lanes;
  f.ctlBits += windowBits(e.win, inB, outB, groups, false);
  f.ffBits += windowBits(e.win, inB, outB, groups, false, FAMILIES[target].keepsDeadRegisters) + 6 + 2 * outB.addrBits;
  if (e.mode === 'max') {
    f.ffBits += e.lanes * e.inFormat.wl;
    f.cmpBits += e.lanes * e.inFormat.wl;
    f.regBits += e.lanes * e.inFormat.wl;
  } else {
    const w = poolWidths(e);
    // One reciprocal for every window is a constant: a power of two becomes a shift, any other
    // constant a multiply as wide as its significant bits.
    const r = e.recips[0].r;
    const b = w.countVaries ? w.rW + 1 : (r & (r - 1)) === 0 ? 0 : Math.floor(Math.log2(r)) + 2;
    const perMul = b > 0 ? dspFor(w.sumW, b, rule) : 0;
    if (perMul > 0) dsp += perMul * e.lanes;
    else if (b > 0) f.mulLut += e.lanes * w.sumW * b;
    const sumInDsp = perMul > 0 && FAMILIES[target].dspPacksPoolSum;
    f.accBits += e.lanes * w.sumW;
    f.ffBits += (sumInDsp ? 0 : e.lanes * w.sumW) + (w.countVaries ? counterBits(e.win.kh * e.win.kw + 1) : 0);
    const rq = requantRtl(w.accW, e.inFormat.fl + e.recipBits, e.outFormat);
    f.rqBits += e.lanes * clampBits(rq);
    f.cmpBits += e.lanes * 2 * rq.width;
    if (w.countVaries) f.ctlBits += 2 * counterBits(e.win.kh * e.win.kw + 1) + w.rW * e.recips.length;
  }
  return { features: f, dsp, memories: [] };
}
