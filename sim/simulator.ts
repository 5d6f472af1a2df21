import type { HwPlan } from '../src/hw/plan.js';
import { packedIndex } from '../src/hw/plan-types.js';
import { type BufferData, engineModel, type EngineModel } from './engines.js';
import { WasmArena } from './wasm.js';
import { SEND_FETCH_CYCLES } from '../src/hw/cycles.js';
import { alwaysReady, FIRST_DESIGN_CYCLE, FIRST_VALID_CYCLE, type Handshake } from './handshake.js';

/**
 * The accelerator's controller at transaction level (templates/top.v.hbs): LOAD takes one input
 * word per cycle when s_axis_tvalid is high; the cycle after the last one the first engine starts, and
 * each engine starts the cycle after the previous one pulses done (cycles.ts gives each engine's
 * cycles from start to done, pipeline fill and drain included); SEND offers one logit per cycle
 * until m_axis_tready has taken them all, and LOAD resumes the cycle after. Cycle numbers are the test
 * bench's rising edges, so every one predicted here can be compared with RTL simulation.
 */

/** When one image crossed each boundary, in test-bench cycles. */
export interface ImageTiming {
  firstIn: number;
  lastIn: number;
  /** Start and done cycle of every engine. */
  start: number[];
  done: number[];
  firstOut: number;
  lastOut: number;
  /** lastOut - firstIn + 1: what the test bench reports as the image's cycles. */
  cycles: number;
  /** Cycles in LOAD without s_axis_tvalid, and in SEND without m_axis_tready. */
  inputStalls: number;
  outputStalls: number;
}

export interface SimRun {
  /** Integer logits, images x output elements, in CHW order (the order they leave the design). */
  outputs: Float64Array;
  timing: ImageTiming[];
}

export class Simulator {
  readonly models: EngineModel[];
  private readonly bufs: BufferData[];
  /** Output streamer: the buffer element index of the n-th logit. */
  private readonly outOrder: Int32Array;

  /** `wasm: false` keeps every conv/dense layer on the JavaScript float64 kernel (tests compare both). */
  constructor(
    readonly plan: HwPlan,
    opts: { wasm?: boolean } = {},
  ) {
    const arena = opts.wasm === false ? null : WasmArena.create();
    this.models = plan.engines.map((e) => engineModel(plan, e, arena));
    this.bufs = plan.buffers.map((b) => new Float64Array(b.words * b.lanes));
    const ob = plan.buffers[plan.output.buffer];
    this.outOrder = new Int32Array(plan.output.elements);
    let n = 0;
    for (let c = 0; c < ob.c; c++) {
      for (let y = 0; y < ob.h; y++) {
        for (let x = 0; x < ob.w; x++) this.outOrder[n++] = packedIndex(ob, c, y * ob.w + x);
      }
    }
  }

  /**
   * Runs `images` images back to back (inputs: quantized integers, images x input elements) under
   * the given handshake pattern: the logits of `compute` and the cycles of `schedule`.
   */
  run(
    inputs: Float64Array,
    images: number,
    opts: { handshake?: Handshake; onImage?: (done: number, outputs: Float64Array) => void } = {},
  ): SimRun {
    const outputs = this.compute(inputs, images, opts.onImage);
    return { outputs, timing: schedule(this.plan, images, opts.handshake) };
  }

  /**
   * The data path: loads each image into the input buffer word by word, runs the engines in order
   * over the buffers, and reads the logits in the output streamer's order.
   */
  compute(inputs: Float64Array, images: number, onImage?: (done: number, outputs: Float64Array) => void): Float64Array {
    const p = this.plan;
    const ni = p.input.elements,
      no = p.output.elements;
    if (inputs.length < images * ni) throw new RangeError(`the simulator got ${inputs.length} input words for ${images} images of ${ni}`);
    const inBuf = this.bufs[p.input.buffer],
      outBuf = this.bufs[p.output.buffer];
    const outputs = new Float64Array(images * no);
    for (let img = 0; img < images; img++) {
      inBuf.set(inputs.subarray(img * ni, (img + 1) * ni));
      for (const m of this.models) m.run(this.bufs);
      for (let n = 0; n < no; n++) outputs[img * no + n] = outBuf[this.outOrder[n]];
      onImage?.(img + 1, outputs);
    }
    return outputs;
  }
}

/**
 * The controller's schedule of `images` images back to back. It does not depend on the data: the
 * engines' loops have fixed trip counts, so only the handshakes move it.
 */
export function schedule(plan: HwPlan, images: number, handshake: Handshake = alwaysReady): ImageTiming[] {
  const hs = handshake;
  const ni = plan.input.elements,
    no = plan.output.elements;
  const cycles = plan.engines.map((e) => e.cycles);
  const timing: ImageTiming[] = [];
  // The design enters LOAD after reset (WLOAD first when it loads its weights); the source's first
  // word can come then or later.
  let k = FIRST_DESIGN_CYCLE;
  for (let img = 0; img < images; img++) {
    // LOAD: one word per cycle with s_axis_tvalid high.
    let inputStalls = 0,
      firstIn = -1;
    if (img === 0) {
      inputStalls += FIRST_VALID_CYCLE - k;
      k = FIRST_VALID_CYCLE;
      // WLOAD: one weight beat per cycle with s_axis_tvalid high; LOAD follows the cycle after the last.
      for (let n = 0; n < (plan.weightStore?.beats ?? 0); k++) if (hs.inValid(k)) n++;
    }
    for (let n = 0; n < ni; k++) {
      if (!hs.inValid(k)) {
        inputStalls++;
        continue;
      }
      if (n === 0) firstIn = k;
      n++;
    }
    const lastIn = k - 1;
    // RUN: each engine starts the cycle after the previous one's done.
    const start: number[] = [],
      done: number[] = [];
    for (const c of cycles) {
      start.push(k);
      k += c;
      done.push(k - 1);
    }
    // SEND: the streamer's first fetch, then one logit per cycle with m_axis_tready high.
    k += SEND_FETCH_CYCLES;
    let outputStalls = 0,
      firstOut = -1;
    for (let n = 0; n < no; k++) {
      if (!hs.outReady(k)) {
        outputStalls++;
        continue;
      }
      if (n === 0) firstOut = k;
      n++;
    }
    const lastOut = k - 1;
    timing.push({ firstIn, lastIn, start, done, firstOut, lastOut, cycles: lastOut - firstIn + 1, inputStalls, outputStalls });
  }
  return timing;
}
