import type { EngineModule } from '../../engine-module.js';
import { requantSharedBits } from '../../verilog.js';
import { concatFeatures } from './estimate.js';
import { acceptsConcat, buildConcat, type ConcatEngine, concatSummary, concatTaps, concatWidths } from './plan.js';
import { concatPort, renderConcat } from './render.js';
import { concatModel } from './sim.js';
import { concatMicrobench } from './microbench.js';

export type { ConcatEngine } from './plan.js';

/** Concatenation along channels: the inputs' words copied one after another, each lane requantized. */
export const concatEngine: EngineModule<ConcatEngine> = {
  kind: 'concat',
  accepts: acceptsConcat,
  lanes: 'tied',
  simd: false,
  planSizes: () => ({ weights: 0, taps: 0 }),
  build: buildConcat,
  taps: concatTaps,
  pipelineDepth: 1,
  summary: concatSummary,
  budgetMultipliers: () => 0,
  romBits: () => 0,
  readPorts: (e) => e.inputs.map((_, k) => concatPort(k)),
  json: (e) => ({ lanes: e.lanes, accumulator: { bits: e.acc.bits, fl: e.acc.fl } }),
  render: renderConcat,
  model: (e) => concatModel(e),
  features: (e, buffers) => concatFeatures(e, buffers),
  sharedBits: (e) => requantSharedBits(concatWidths(e).accW, e.acc.fl, e.outFormat),
  label: () => 'concat',
  microbench: concatMicrobench,
};
