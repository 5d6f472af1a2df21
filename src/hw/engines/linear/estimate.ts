import { FAMILIES, type Target } from '../../../estimate/families.js';
import {
  type BlockFeatures,
  clampBits,
  contentMemo,
  csdDigits,
  dspFor,
  layoutKey,
  romShape,
  windowBits,
  zeroFeatures,
} from '../../../estimate/feature-kit.js';
import type { BufferPlan } from '../../plan-types.js';
import { counterBits, requantRtl } from '../../verilog.js';
import { type LinearEngine, linearWeightAt, linearWidths } from './plan.js';

export function linearFeatures(e: LinearEngine, buffers: readonly BufferPlan[], target: Target): BlockFeatures {
  const rule = FAMILIES[target].dsp;
  const f = zeroFeatures();
  f.engines = 1;
  const inB = buffers[e.inputs[0]],
    outB = buffers[e.output];
  const memories: BlockFeatures['memories'] = [];
  let dsp = 0;
  const w = linearWidths(e);
  const groups = e.cout / e.pe;
  const a = e.weightFormat.wl,
    b = e.inFormat.wl + (e.inFormat.signed ? 0 : 1);
  const perMul = dspFor(a, b, rule);
  const mults = e.pe * e.simd;
  // Operand registers inside the DSP blocks (a weight lane feeds one multiplier; an input lane
  // feeds PE of them).
  const packs = perMul > 0 && FAMILIES[target].dspOperandRegs !== 'none';
  const packsInput = packs && (e.pe === 1 || FAMILIES[target].dspOperandRegs === 'all');
  if (perMul > 0) dsp += perMul * mults;
  // In LUTs an unsigned input's zero sign bit makes no partial products: the multiplier is
  // a x wl, not a x (wl + 1) as on a DSP port (synth_ice40: 4-bit signed times a zero-extended
  // 3-bit input, 49 LUT4 with its accumulator, as for a 3-bit signed input; 53 for a 4-bit one).
  // A weight ROM of one word holds constants, and a multiplier by a constant is a sum of shifted
  // inputs, one per nonzero digit of the constant's canonical signed-digit form, each as wide as
  // the input (iCE40 conv 1083: sixteen 3-bit constants times 6-bit inputs, priced +17 % as
  // general multipliers).
  else if (w.wDepth === 1) for (let i = 0; i < mults; i++) f.csdBits += csdDigits(e.weights[i]) * e.inFormat.wl;
  else f.mulLut += mults * a * e.inFormat.wl;
  const grouped = e.groups > 1 ? { perGroup: e.cout / e.groups / e.pe, words: e.cin / e.groups / inB.lanes } : undefined;
  f.ctlBits += windowBits(e.win, inB, outB, groups, true, false, grouped) + 2 * counterBits(w.wDepth);
  // Yosys's alumacc merges a lane's adder tree (and, on some families, its accumulator) into one
  // $macc, which maccmap builds as rows of full adders in plain logic feeding one final adder on
  // the carry chain: the final adder is cheap where the family has a carry chain, each full-adder
  // row costs a LUT or two per bit, so the two are priced apart.
  if (e.simd > 1) f.addBits += e.pe * w.treeW;
  f.csaBits += e.pe * Math.max(0, e.simd - 2) * w.treeW;
  // Full-adder rows beyond the first two (SIMD 8 and 16): on 6-input LUTs ABC maps these deeper
  // trees at about twice the price per bit (with MUXF7s), measured on the wide-SIMD designs.
  f.csaWideBits += e.pe * Math.max(0, e.simd - 4) * w.treeW;
  // A weight ROM of one word holds constants, and synthesis specialises the multipliers and the
  // tree around them (priced per product bit; the fit finds it on ECP5 only).
  if (w.wDepth === 1) f.constBits += e.pe * e.simd * w.pW;
  // With one product per lane, Yosys packs multiply, accumulate and the accumulator register
  // into the DSP block where the family's DSP mapping does so: no adder or register remains.
  const inDsp = perMul > 0 && e.simd === 1 && FAMILIES[target].dspAccumulates;
  if (!inDsp) f.accBits += e.pe * w.accW;
  const rq = requantRtl(w.accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
  f.rqBits += e.pe * clampBits(rq);
  f.cmpBits += e.pe * 2 * rq.width;
  // Pipeline registers of the input word and sub-word selection.
  f.regBits += e.simd * e.inFormat.wl + (inB.lanes > e.simd ? inB.wordBits : 0);
  f.muxBits += inB.lanes > e.simd ? e.simd * e.inFormat.wl * (inB.lanes / e.simd) : 0;
  // ROM words as the renderer packs them: weight word (g, tap) holds lane (p, s) = weight of
  // output g*pe+p, input channel cw*simd+s, kernel position; bias word g holds the pe biases.
  const weightAt = (word: number, lane: number) => linearWeightAt(e, word, Math.floor(lane / e.simd), lane % e.simd);
  memories.push(
    {
      ...romShape(w.wDepth, w.wWidth, e.pe * e.simd, e.weightFormat.wl, weightAt, { source: e.weights, key: layoutKey(e) }),
      weights: true,
      operandRegister: !packs,
    },
    romShape(w.bDepth, w.bWidth, e.pe, w.accW, (g, p) => e.alignedBias[g * e.pe + p], contentMemo(`${w.bDepth},${e.pe}`, e.alignedBias)),
  );
  // Registers as templated: window counters and address registers, ROM address, stage B and C
  // flags, output addresses and group, sub-word select, accumulators, write port. The operand
  // registers outside the DSP blocks are counted apart (the weights' with the weight ROM).
  f.ffBits +=
    windowBits(e.win, inB, outB, groups, true, FAMILIES[target].keepsDeadRegisters, grouped) +
    2 * counterBits(w.wDepth) +
    10 +
    3 * outB.addrBits +
    counterBits(groups) +
    (inB.lanes > e.simd ? counterBits(inB.lanes / e.simd) : 0) +
    (inDsp ? 0 : e.pe * w.accW);
  return { features: f, dsp, memories, pipelineFf: packsInput ? 0 : e.simd * e.inFormat.wl };
}
