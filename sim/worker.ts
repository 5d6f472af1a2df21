import { parentPort, workerData } from 'node:worker_threads';
import type { HwPlan } from '../src/hw/plan.js';
import type { QGraph } from '../src/quant/qgraph.js';
import { runChunk } from './simulate.js';
import { Simulator } from './simulator.js';

/** Runs chunks of images for simulateParallel. */
const { q, plan, check } = workerData as { q: QGraph; plan: HwPlan; check: boolean };
const sim = new Simulator(plan);
parentPort!.on('message', (m: { from: number; n: number; x: Float64Array }) => {
  const outputs = new Float64Array(m.n * plan.output.elements);
  const r = runChunk(sim, q, m.x, m.n, m.from, outputs, check);
  parentPort!.postMessage({ from: m.from, n: m.n, outputs, r }, [outputs.buffer]);
});
