import { engineModule } from '../hw/engines/index.js';
import type { HwPlan } from '../hw/plan.js';
import CALIBRATION from './calibration.json' with { type: 'json' };
import {
  bufferMemories,
  type BlockFeatures,
  engineFeatures,
  FEATURES,
  storeFeatures,
  type Feature,
  type FeatureVector,
  topFeatures,
  zeroFeatures,
} from './features.js';
import { FAMILIES, type Target } from './families.js';
import { mapMemory, type MemoryMapping, type MemoryRules } from './memory.js';
import type { WeightStore } from '../hw/plan-types.js';

/**
 * The analytical resource estimator: one estimate per hardware block (each engine with its ROMs,
 * each activation buffer, the controller), like FINN's per-layer estimators. DSP blocks and block
 * RAMs are counted by the family's mapping rules; LUTs and flip-flops are the block's structural
 * features (features.ts) times coefficients fitted to Yosys on microbenchmarks
 * (bench/estimator-fit.ts writes src/estimate/calibration.json).
 */
export interface Resources {
  lut: number;
  ff: number;
  dsp: number;
  bram: number;
  lutram: number;
}

export interface Calibration {
  lut: Partial<Record<Feature, number>>;
  ff: Partial<Record<Feature, number>>;
  memory: MemoryRules;
  /** How the coefficients were obtained: samples and the fit's error on them. */
  fit: { samples: number; lutMeanAbsErr: number; ffMeanAbsErr: number; yosys: string };
}

export const calibrations = CALIBRATION as unknown as Partial<Record<Target, Calibration>>;

export interface BlockEstimate extends Resources {
  block: string;
  kind: string;
  layer: string;
}

export interface DesignEstimate {
  target: Target;
  total: Resources;
  blocks: BlockEstimate[];
}

const zero = (): Resources => ({ lut: 0, ff: 0, dsp: 0, bram: 0, lutram: 0 });
const dot = (f: FeatureVector, c: Partial<Record<Feature, number>>) => FEATURES.reduce((s, k) => s + f[k] * (c[k] ?? 0), 0);

/**
 * A block's fitted logic and its memories mapped by rule: what the fit and the estimate both use.
 * `hierarchical`: synthesis keeps the modules apart (the xc7 and ECP5 calibration records), so
 * nothing known about a ROM's contents crosses into the engine that registers its words.
 */
export function blockParts(
  b: BlockFeatures,
  target: Target,
  rules: MemoryRules,
  hierarchical = false,
): { features: FeatureVector; dsp: number; mem: Resources } {
  const mem = zero();
  mem.ff += b.pipelineFf ?? 0;
  for (const m of b.memories) {
    const r = mapMemory(m.kind, m.depth, m.width, FAMILIES[target], rules, m.columns, m.varying, m.sharedBits);
    mem.bram += r.bram;
    mem.lutram += r.lutram;
    mem.lut += r.lut;
    mem.ff += r.ff;
    // Constant bits of the operand register go away and equal ones merge (a ROM in logic); after a
    // block RAM only the constant columns left out of it do.
    if (m.operandRegister)
      mem.ff += hierarchical ? m.width : r.how === 'logic' && m.columns ? m.columns() : m.varying ? m.varying() : m.width;
  }
  return { features: b.features, dsp: b.dsp, mem };
}

/** `o.hierarchical`: as blockParts, for checking against the hierarchical calibration records. */
export function estimatePlan(
  plan: HwPlan,
  target: Target,
  cal: Calibration | undefined = calibrations[target],
  o: { hierarchical?: boolean } = {},
): DesignEstimate {
  if (!cal) throw new Error(`no calibration for ${target}`);
  const blocks: BlockEstimate[] = [];
  const push = (block: string, kind: string, layer: string, b: BlockFeatures) => {
    const m = blockParts(b, target, cal.memory, o.hierarchical);
    blocks.push({
      block,
      kind,
      layer,
      lut: dot(m.features, cal.lut) + m.mem.lut,
      ff: dot(m.features, cal.ff) + m.mem.ff,
      dsp: m.dsp,
      bram: m.mem.bram,
      lutram: m.mem.lutram,
    });
  };
  for (const e of plan.engines) push(e.id, engineModule(e).label(e), e.layer, engineFeatures(plan, e, target));
  const mems = bufferMemories(plan);
  plan.buffers.forEach((b, i) => push(`b${b.id}`, b.kind, b.tensor, { features: zeroFeatures(), dsp: 0, memories: [mems[i]] }));
  push('top', 'control', '', topFeatures(plan));
  if (plan.weightStore) {
    const m = storeMapping(plan.weightStore, target, cal.memory);
    const f = storeFeatures(plan).features;
    blocks.push({
      block: 'wstore',
      kind: 'weights',
      layer: '',
      lut: dot(f, cal.lut) + m.lut,
      ff: dot(f, cal.ff) + m.ff,
      dsp: 0,
      bram: m.bram,
      lutram: m.lutram,
    });
  }
  const total = zero();
  for (const b of blocks) for (const k of Object.keys(total) as (keyof Resources)[]) total[k] += b[k];
  total.lut = Math.round(total.lut);
  total.ff = Math.round(total.ff);
  for (const b of blocks) {
    b.lut = Math.round(b.lut);
    b.ff = Math.round(b.ff);
  }
  return { target, total, blocks };
}

/**
 * Where the weight store goes: as any RAM of its shape (block RAM), or, on a family with SPRAM,
 * into SPRAM blocks side by side and stacked when memory_libmap's cost says they are cheaper
 * (lutram counts them, as the synthesis report does).
 */
export function storeMapping(s: WeightStore, target: Target, rules: MemoryRules): MemoryMapping {
  const fam = FAMILIES[target];
  const ram = mapMemory('ram', s.depth, s.wordBits, fam, rules);
  const sp = fam.spram;
  if (!sp) return ram;
  const units = Math.ceil(s.wordBits / sp.width) * Math.ceil(s.depth / 2 ** sp.abits);
  if (ram.how === 'bram' && ram.bram * sp.bramCost < units * sp.cost) return ram;
  return { how: 'lutram', bram: 0, lutram: units, lut: 0, ff: 0 };
}
