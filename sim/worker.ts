import { workerData } from 'node:worker_threads';
import type { HwPlan } from '../src/hw/plan.js';
import type { QGraph } from '../src/quant/qgraph.js';
import { serve } from '../src/util/worker-pool.js';
import { runChunk, type WorkerChunk } from './simulate.js';
import { Simulator } from './simulator.js';

/** Runs chunks of images for simulateParallel. */
const { q, plan, check } = workerData as { q: QGraph; plan: HwPlan; check: boolean };
const sim = new Simulator(plan);
serve<{ from: number; n: number; x: Float64Array }, WorkerChunk>(
  (m) => {
    const outputs = new Float64Array(m.n * plan.output.elements);
    return { outputs, r: runChunk(sim, q, m.x, m.n, m.from, outputs, check) };
  },
  (c) => [c.outputs.buffer as ArrayBuffer],
);
