import { engineModule, type EnginePlan } from '../hw/engines/index.js';
import type { BufferPlan, HwPlan } from '../hw/plan.js';
import { counterBits } from '../hw/verilog.js';
import { type BlockFeatures, zeroFeatures } from './feature-kit.js';
import type { Target } from './families.js';

export {
  addFeatures,
  type BlockFeatures,
  clampBits,
  csdDigits,
  dspFor,
  FEATURES,
  type Feature,
  type FeatureVector,
  FF_FEATURES,
  type MemoryShape,
  romColumns,
  zeroFeatures,
} from './feature-kit.js';

/**
 * The resource features of a whole plan: each engine's from its module
 * (src/hw/engines/<kind>/estimate.ts), the controller's and the buffers' here.
 */

/** An engine's structural features, DSP blocks and ROMs. */
export function engineFeatures(plan: HwPlan, e: EnginePlan, target: Target): BlockFeatures {
  const b = engineModule(e).features(e, plan.buffers, target);
  const store = plan.weightStore;
  const region = store?.regions.find((r) => r.engine === e.index);
  if (!store || !region) return b;
  // Its weight pointers (wa, wgb: two registers with their adders) span the whole store, not just
  // its own words.
  const wider = 2 * (store.addrBits - counterBits(region.words));
  // Operand registers behind the store hold whole words: nothing in them is known constant.
  const operand = b.memories.filter((m) => m.weights && m.operandRegister).reduce((s, m) => s + m.width, 0);
  const features = { ...b.features, ctlBits: b.features.ctlBits + wider, ffBits: b.features.ffBits + wider };
  return { ...b, features, memories: b.memories.filter((m) => !m.weights), pipelineFf: (b.pipelineFf ?? 0) + operand };
}

/**
 * The weight store's load logic (templates/top.v.hbs): the beat shift register, load and write
 * addresses, beat counter and write enable, and the store's address multiplexer over its readers
 * and the load. The store itself is mapped by the estimator (estimate.ts storeMapping).
 */
export function storeFeatures(plan: HwPlan): BlockFeatures {
  const f = zeroFeatures();
  const s = plan.weightStore;
  if (!s) return { features: f, dsp: 0, memories: [] };
  const beat = s.beatsPerWord > 1 ? counterBits(s.beatsPerWord) : 0;
  f.ctlBits += s.addrBits + beat;
  f.muxBits += s.addrBits * s.regions.length;
  f.ffBits += s.beatsPerWord * s.beatBits + 2 * s.addrBits + beat + 1;
  return { features: f, dsp: 0, memories: [] };
}

/** Controller, input loader, read-port multiplexers and the output streamer with its arg-max. */
export function topFeatures(plan: HwPlan): BlockFeatures {
  const f = zeroFeatures();
  const outB = plan.buffers[plan.output.buffer];
  f.ctlBits += counterBits(plan.input.elements) + counterBits(plan.engines.length) + 2 * counterBits(plan.output.elements) + outB.addrBits;
  f.cmpBits += plan.output.format.wl;
  f.regBits += plan.output.format.wl + counterBits(plan.output.elements);
  f.ffBits +=
    3 +
    counterBits(plan.engines.length) +
    counterBits(plan.input.elements) +
    2 * counterBits(plan.output.elements) +
    counterBits(plan.output.elements / outB.lanes) +
    counterBits(outB.lanes) +
    outB.addrBits +
    plan.output.format.wl;
  // The streamer's fetch: the held read address (and lane), its valid flag, the address multiplexer.
  f.ffBits += outB.addrBits + (outB.lanes > 1 ? counterBits(outB.lanes) : 0) + 1;
  f.muxBits += outB.addrBits;
  for (const b of plan.buffers) if (b.consumers.length > 1) f.muxBits += b.addrBits * b.consumers.length;
  if (outB.lanes > 1) f.muxBits += outB.lanes * plan.output.format.wl;
  return { features: f, dsp: 0, memories: [] };
}

/** Data bits per word of a buffer that need no storage of their own (requantSharedBits, per lane). */
function sharedBitsOf(plan: HwPlan, b: BufferPlan): number {
  if (b.producer < 0) return 0;
  const e = plan.engines[b.producer];
  return b.lanes * engineModule(e).sharedBits(e);
}

export function bufferMemories(plan: HwPlan): BlockFeatures['memories'] {
  // Bits the producer always writes as zero, or as copies of one signal, need no flip-flops of
  // their own where the buffer is in logic (add 1008 on iCE40, measured when its 512 x 16 output
  // buffer of two s8 lanes sat in flip-flops: 7,168 of 8,192 kept), nor in the write-data
  // registers of iCE40's block RAM emulation (maxpool 1068: 16-bit lanes shifted left by 9 keep 8
  // registers each).
  return plan.buffers.map((b) => ({
    kind: b.kind,
    depth: b.words,
    width: b.wordBits,
    sharedBits: sharedBitsOf(plan, b),
  }));
}
