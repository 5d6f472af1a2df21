import type { EngineModule } from '../../engine-module.js';
import { requantSharedBits } from '../../verilog.js';
import { linearFeatures } from './estimate.js';
import {
  acceptsLinear,
  buildLinear,
  linearCost,
  type LinearEngine,
  linearGeometry,
  linearLaneDivides,
  linearSummary,
  linearTaps,
  linearWidths,
} from './plan.js';
import { renderLinear } from './render.js';
import { linearModel } from './sim.js';
import { linearMicrobench } from './microbench.js';

export type { LinearEngine } from './plan.js';

/** Conv (grouped or not) and Dense: a pe x simd array of multipliers with adder trees and accumulators. */
export const linearEngine: EngineModule<LinearEngine> = {
  kind: 'linear',
  accepts: acceptsLinear,
  lanes: 'free',
  laneDivides: linearLaneDivides,
  simd: true,
  fold: { geometry: linearGeometry, cost: linearCost },
  planSizes: (l, q) => {
    if (l.op.kind !== 'conv' && l.op.kind !== 'dense') return { weights: 0, taps: 0 };
    const out = q.values[l.output].shape;
    const taps = l.op.kind === 'conv' ? out[1] * out[2] * l.op.weight.shape[2] * l.op.weight.shape[3] : 0;
    return { weights: l.op.weight.data.length + l.op.bias.length, taps };
  },
  build: buildLinear,
  taps: linearTaps,
  pipelineDepth: 3,
  summary: linearSummary,
  budgetMultipliers: (e) => e.multipliers,
  romBits: (e) => e.weights.length * e.weightFormat.wl + e.cout * e.acc.bits,
  weightWords: (e) => ({ words: linearWidths(e).wDepth, bits: linearWidths(e).wWidth }),
  readPorts: () => ['in'],
  json: (e) => ({ lanes: e.pe, accumulator: { bits: e.acc.bits, fl: e.acc.fl } }),
  render: renderLinear,
  model: linearModel,
  features: linearFeatures,
  sharedBits: (e) => requantSharedBits(linearWidths(e).accW, e.acc.fl, e.outFormat, e.actLo, e.actHi),
  label: (e) => e.id.replace(/^l\d+_/, ''),
  microbench: linearMicrobench,
};
