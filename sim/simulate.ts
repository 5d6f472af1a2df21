import { runQGraphInt } from '../src/intref/run.js';
import type { QGraph } from '../src/quant/qgraph.js';
import type { HwPlan } from '../src/hw/plan.js';
import { runOnWorkers } from '../src/util/worker-pool.js';
import { workerScript } from '../src/util/worker-script.js';
import { type Counters, countersOf } from './counters.js';
import { engineModel, type EngineModel } from './engines.js';
import { alwaysReady, type Handshake } from './handshake.js';
import { type ImageTiming, schedule, Simulator } from './simulator.js';

export interface SimulateOptions {
  handshake?: Handshake;
  /** Compare every image's logits with the integer reference as the run goes (default true). */
  check?: boolean;
  onImage?: (done: number) => void;
}

export interface SimMismatch {
  image: number;
  element: number;
  got: number;
  expected: number;
}

export interface SimulateResult {
  outputs: Float64Array;
  timing: ImageTiming[];
  counters: Counters;
  /** Logits that differ from the integer reference (-1 when not checked), and the first one. */
  mismatches: number;
  firstMismatch: SimMismatch | null;
  /** Seconds in the simulator's data path and in the reference check (summed over workers). */
  seconds: { simulate: number; reference: number };
}

/** Images per chunk: large enough for the reference's GEMMs, small enough to report progress. */
const CHUNK = 32;

export interface ChunkResult {
  mismatches: number;
  first: SimMismatch | null;
  simulate: number;
  reference: number;
}
/** A worker's answer for one chunk (sim/worker.ts). */
export interface WorkerChunk {
  outputs: Float64Array;
  r: ChunkResult;
}

/**
 * Simulates images [from, from + n) (their inputs in `x`) into `out` and, when asked, compares them
 * with the integer reference (src/intref), the oracle the RTL is also held to.
 */
export function runChunk(
  sim: Simulator,
  q: QGraph,
  x: Float64Array,
  n: number,
  from: number,
  out: Float64Array,
  check: boolean,
): ChunkResult {
  const t0 = performance.now();
  out.set(sim.compute(x, n));
  const t1 = performance.now();
  let mismatches = 0,
    first: SimMismatch | null = null;
  if (check) {
    const no = sim.plan.output.elements;
    const ref = runQGraphInt(q, x, n).output;
    for (let i = 0; i < ref.length; i++) {
      if (out[i] !== ref[i]) {
        mismatches++;
        first ??= { image: from + Math.floor(i / no), element: i % no, got: out[i], expected: ref[i] };
      }
    }
  }
  return { mismatches, first, simulate: (t1 - t0) / 1000, reference: (performance.now() - t1) / 1000 };
}

function result(
  plan: HwPlan,
  outputs: Float64Array,
  images: number,
  o: SimulateOptions,
  chunks: ChunkResult[],
  models?: EngineModel[],
): SimulateResult {
  const timing = schedule(plan, images, o.handshake ?? alwaysReady);
  const check = o.check ?? true;
  let first: SimMismatch | null = null;
  for (const c of chunks) if (c.first && (!first || c.first.image < first.image)) first = c.first;
  return {
    outputs,
    timing,
    counters: countersOf(plan, models ?? plan.engines.map((e) => engineModel(plan, e)), timing),
    mismatches: check ? chunks.reduce((s, c) => s + c.mismatches, 0) : -1,
    firstMismatch: first,
    seconds: { simulate: chunks.reduce((s, c) => s + c.simulate, 0), reference: chunks.reduce((s, c) => s + c.reference, 0) },
  };
}

/** Runs the plan's accelerator on quantized input images in this thread. */
export function simulate(q: QGraph, plan: HwPlan, inputs: Float64Array, images: number, o: SimulateOptions = {}): SimulateResult {
  const sim = new Simulator(plan);
  const ni = plan.input.elements,
    no = plan.output.elements;
  const outputs = new Float64Array(images * no);
  const chunks: ChunkResult[] = [];
  for (let s = 0; s < images; s += CHUNK) {
    const n = Math.min(CHUNK, images - s);
    chunks.push(runChunk(sim, q, inputs.subarray(s * ni, (s + n) * ni), n, s, outputs.subarray(s * no, (s + n) * no), o.check ?? true));
    o.onImage?.(s + n);
  }
  return result(plan, outputs, images, o, chunks, sim.models);
}

/**
 * The same on `workers` threads: images are independent in the data path (each starts from the
 * loaded input), and the schedule does not depend on the data, so chunks can run anywhere and
 * the result is the same as `simulate`'s.
 */
export async function simulateParallel(
  q: QGraph,
  plan: HwPlan,
  inputs: Float64Array,
  images: number,
  o: SimulateOptions & { workers?: number } = {},
): Promise<SimulateResult> {
  const nChunks = Math.ceil(images / CHUNK);
  const workers = Math.max(1, Math.min(o.workers ?? 2, nChunks));
  if (workers === 1) return simulate(q, plan, inputs, images, o);
  const ni = plan.input.elements,
    no = plan.output.elements;
  const outputs = new Float64Array(images * no);
  const check = o.check ?? true;
  const rows = (k: number) => Math.min(CHUNK, images - k * CHUNK);
  let done = 0;
  const chunks = await runOnWorkers<{ from: number; n: number; x: Float64Array<ArrayBuffer> }, WorkerChunk>(
    workerScript(import.meta.url, 'worker'),
    workers,
    nChunks,
    (k) => {
      const s = k * CHUNK,
        n = rows(k);
      return { from: s, n, x: inputs.slice(s * ni, (s + n) * ni) };
    },
    {
      workerData: () => ({ q, plan, check }),
      transfer: (j) => [j.x.buffer],
      onResult: (k, m) => {
        outputs.set(m.outputs, k * CHUNK * no);
        o.onImage?.((done += rows(k)));
      },
    },
  );
  return result(
    plan,
    outputs,
    images,
    o,
    chunks.map((c) => c.r),
  );
}
