import { FAMILIES, type Target } from '../../../estimate/families.js';
import {
  type BlockFeatures,
  clampBits,
  dspFor,
  contentMemo,
  layoutKey,
  romShape,
  windowBits,
  zeroFeatures,
} from '../../../estimate/feature-kit.js';
import type { BufferPlan } from '../../plan-types.js';
import { counterBits, requantRtl } from '../../verilog.js';
import { type DepthwiseEngine, depthwiseWeightAt, depthwiseWidths } from './plan.js';

/**
 * The features of a linear engine with one product per lane (pe = lanes, simd = 1): a multiplier,
 * an accumulator and a requantizer per lane, the window's counters and address registers of a
 * pooling engine, and two ROMs addressed as the linear engine's are.
 */
export function depthwiseFeatures(e: DepthwiseEngine, buffers: readonly BufferPlan[], target: Target): BlockFeatures {
  const fam = FAMILIES[target];
  const f = zeroFeatures();
  f.engines = 1;
  const inB = buffers[e.inputs[0]],
    outB = buffers[e.output];
  const w = depthwiseWidths(e);
  const groups = e.c / e.lanes;
  const a = e.weightFormat.wl,
    b = e.inFormat.wl + (e.inFormat.signed ? 0 : 1);
  const perMul = dspFor(a, b, fam.dsp);
  const dsp = perMul * e.lanes;
  // Each lane's input and weight feed one multiplier: their operand registers sit inside the DSP
  // block where the family packs them, else in the fabric, counted apart (the weights' with the
  // weight ROM).
  const packs = perMul > 0 && fam.dspOperandRegs !== 'none';
  if (perMul === 0) f.mulLut += e.lanes * a * e.inFormat.wl;
  f.ctlBits += windowBits(e.win, inB, outB, groups, false) + 2 * counterBits(w.wDepth);
  const inDsp = perMul > 0 && fam.dspAccumulates;
  if (!inDsp) f.accBits += e.lanes * w.accW;
  const rq = requantRtl(w.accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
  f.rqBits += e.lanes * clampBits(rq);
  f.cmpBits += e.lanes * 2 * rq.width;
  f.regBits += inB.wordBits;
  const memories = [
    {
      ...romShape(w.wDepth, w.wWidth, e.lanes, e.weightFormat.wl, (word, lane) => depthwiseWeightAt(e, word, lane), {
        source: e.weights,
        key: layoutKey(e),
      }),
      weights: true,
      operandRegister: !packs,
    },
    romShape(
      w.bDepth,
      w.bWidth,
      e.lanes,
      w.accW,
      (g, l) => e.alignedBias[g * e.lanes + l],
      contentMemo(`${w.bDepth},${e.lanes}`, e.alignedBias),
    ),
  ];
  // Stage B and C flags, output addresses and group.
  f.ffBits +=
    windowBits(e.win, inB, outB, groups, false, fam.keepsDeadRegisters) +
    2 * counterBits(w.wDepth) +
    10 +
    3 * outB.addrBits +
    counterBits(groups) +
    (inDsp ? 0 : e.lanes * w.accW);
  return { features: f, dsp, memories, pipelineFf: packs ? 0 : e.lanes * e.inFormat.wl };
}
