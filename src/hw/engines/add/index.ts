import type { EngineModule } from '../../engine-module.js';
import { requantSharedBits } from '../../verilog.js';
import { addEngineFeatures } from './estimate.js';
import { acceptsAdd, type AddEngine, addSummary, addTaps, addWidths, buildAdd } from './plan.js';
import { renderAdd } from './render.js';
import { addModel } from './sim.js';
import { addMicrobench } from './microbench.js';

export type { AddEngine } from './plan.js';

/** Residual add of two buffers of one shape and lane count, one word of each per cycle. */
export const addEngine: EngineModule<AddEngine> = {
  kind: 'add',
  accepts: acceptsAdd,
  lanes: 'tied',
  simd: false,
  planSizes: () => ({ weights: 0, taps: 0 }),
  build: buildAdd,
  taps: addTaps,
  pipelineDepth: 1,
  summary: addSummary,
  budgetMultipliers: () => 0,
  romBits: () => 0,
  readPorts: () => ['a', 'b'],
  json: (e) => ({ lanes: e.lanes, accumulator: { bits: e.acc.bits, fl: e.acc.fl } }),
  render: renderAdd,
  model: (e) => addModel(e),
  features: (e, buffers) => addEngineFeatures(e, buffers),
  sharedBits: (e) => requantSharedBits(addWidths(e).accW, e.acc.fl, e.outFormat, e.actLo, e.actHi),
  label: (e) => e.id.replace(/^l\d+_/, ''),
  microbench: addMicrobench,
};
