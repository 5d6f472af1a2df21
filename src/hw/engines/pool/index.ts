import type { EngineModule } from '../../engine-module.js';
import { poolFeatures } from './estimate.js';
import { acceptsPool, buildPool, type PoolEngine, poolSummary, poolTaps } from './plan.js';
import { renderPool } from './render.js';
import { poolModel } from './sim.js';
import { poolMicrobench } from './microbench.js';

export type { PoolEngine } from './plan.js';

/** Max, average and global average pooling over every lane of a word at once. */
export const poolEngine: EngineModule<PoolEngine> = {
  kind: 'pool',
  accepts: acceptsPool,
  lanes: 'tied',
  simd: false,
  planSizes: (l, q) => {
    const out = q.values[l.output].shape,
      inS = q.values[l.inputs[0]].shape;
    const taps =
      l.op.kind === 'maxpool' || l.op.kind === 'avgpool'
        ? out[1] * out[2] * l.op.kernel[0] * l.op.kernel[1]
        : inS.slice(1).reduce((a, b) => a * b, 1);
    return { weights: 0, taps };
  },
  build: buildPool,
  taps: poolTaps,
  pipelineDepth: 2,
  summary: poolSummary,
  // The average's reciprocal multipliers are not what --macs budgets (conv/dense MACs).
  budgetMultipliers: () => 0,
  romBits: () => 0,
  readPorts: () => ['in'],
  json: (e) => ({ lanes: e.lanes }),
  render: renderPool,
  model: (e) => poolModel(e),
  features: poolFeatures,
  // Pooling writes its lanes through a requantizer (average) or passes them (max): none are shared.
  sharedBits: () => 0,
  label: (e) => `${e.mode}pool`,
  microbench: poolMicrobench,
};
