import type { EngineModule } from '../../engine-module.js';
import { requantSharedBits } from '../../verilog.js';
import { depthwiseFeatures } from './estimate.js';
import {
  acceptsDepthwise,
  buildDepthwise,
  depthwiseCost,
  type DepthwiseEngine,
  depthwiseGeometry,
  depthwiseSummary,
  depthwiseTaps,
  depthwiseWidths,
} from './plan.js';
import { renderDepthwise } from './render.js';
import { depthwiseModel } from './sim.js';
import { depthwiseMicrobench } from './microbench.js';

export type { DepthwiseEngine } from './plan.js';

/** Depthwise convolution: one multiplier per lane, each lane its own channel and kernel. */
export const depthwiseEngine: EngineModule<DepthwiseEngine> = {
  kind: 'depthwise',
  accepts: acceptsDepthwise,
  lanes: 'tied',
  simd: false,
  fold: { geometry: depthwiseGeometry, cost: depthwiseCost },
  planSizes: (l, q) => {
    if (l.op.kind !== 'conv') return { weights: 0, taps: 0 };
    const out = q.values[l.output].shape;
    return { weights: l.op.weight.data.length + l.op.bias.length, taps: out[1] * out[2] * l.op.weight.shape[2] * l.op.weight.shape[3] };
  },
  build: buildDepthwise,
  taps: depthwiseTaps,
  pipelineDepth: 3,
  summary: depthwiseSummary,
  budgetMultipliers: (e) => e.multipliers,
  romBits: (e) => e.weights.length * e.weightFormat.wl + e.c * e.acc.bits,
  weightWords: (e) => ({ words: depthwiseWidths(e).wDepth, bits: depthwiseWidths(e).wWidth }),
  readPorts: () => ['in'],
  json: (e) => ({ lanes: e.lanes, accumulator: { bits: e.acc.bits, fl: e.acc.fl } }),
  render: renderDepthwise,
  model: (e) => depthwiseModel(e),
  features: depthwiseFeatures,
  sharedBits: (e) => requantSharedBits(depthwiseWidths(e).accW, e.acc.fl, e.outFormat, e.actLo, e.actHi),
  label: () => 'depthwise',
  microbench: depthwiseMicrobench,
};
