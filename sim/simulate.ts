import { runQGraphInt } from '../src/intref/run.js';
import type { QGraph } from '../src/quant/qgraph.js';
import type { HwPlan } from '../src/hw/plan.js';
import { type Counters, countersOf } from './counters.js';
import { alwaysReady, type Handshake } from './handshake.js';
import { type ImageTiming, Simulator } from './simulator.js';

export interface SimulateOptions {
  handshake?: Handshake;
  /** Compare every image's logits with the integer reference as the run goes (default true). */
  check?: boolean;
  onImage?: (done: number) => void;
}

export interface SimMismatch { image: number; element: number; got: number; expected: number }

export interface SimulateResult {
  outputs: Float64Array;
  timing: ImageTiming[];
  counters: Counters;
  /** Logits that differ from the integer reference (-1 when not checked), and the first one. */
  mismatches: number;
  firstMismatch: SimMismatch | null;
  /** Seconds in the simulator itself and in the reference check. */
  seconds: { simulate: number; reference: number };
}

/** Images per reference batch: large enough for the reference's GEMMs, small enough to report progress. */
const CHUNK = 64;

/**
 * Runs the plan's accelerator on quantized input images and checks its logits against the
 * integer reference (src/intref), the oracle the RTL is also held to.
 */
export function simulate(q: QGraph, plan: HwPlan, inputs: Float64Array, images: number, o: SimulateOptions = {}): SimulateResult {
  const sim = new Simulator(plan);
  const ni = plan.input.elements, no = plan.output.elements;
  const check = o.check ?? true;
  let mismatches = check ? 0 : -1, first: SimMismatch | null = null;
  let tRef = 0;
  const t0 = performance.now();
  const hs = o.handshake ?? alwaysReady;
  // One run over all images (the handshake pattern continues across them); the reference is
  // compared chunk by chunk as images complete.
  let checked = 0;
  const compare = (upto: number, out: Float64Array) => {
    const t1 = performance.now();
    const ref = runQGraphInt(q, inputs.subarray(checked * ni, upto * ni), upto - checked).output;
    for (let i = 0; i < ref.length; i++) {
      const j = checked * no + i;
      if (out[j] !== ref[i]) {
        mismatches++;
        first ??= { image: Math.floor(j / no), element: j % no, got: out[j], expected: ref[i] };
      }
    }
    checked = upto;
    tRef += performance.now() - t1;
  };
  const r = sim.run(inputs, images, {
    handshake: hs,
    onImage: (done, out) => {
      if (check && (done - checked === CHUNK || done === images)) compare(done, out);
      o.onImage?.(done);
    },
  });
  const total = (performance.now() - t0) / 1000;
  return {
    outputs: r.outputs, timing: r.timing, counters: countersOf(plan, sim.models, r.timing), mismatches, firstMismatch: first,
    seconds: { simulate: total - tRef / 1000, reference: tRef / 1000 },
  };
}
