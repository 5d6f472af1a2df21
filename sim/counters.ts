import { engineModule } from '../src/hw/engines/index.js';
import type { HwPlan } from '../src/hw/plan.js';
import type { EngineModel } from './engines.js';
import type { ImageTiming } from './simulator.js';

/**
 * Counters that explain every cycle (VTA-style): where each image's cycles went, what each engine
 * did with its multipliers, and the traffic of every buffer and ROM. Per-image figures are means
 * over the simulated images; the engines' work is the same for every image, the handshake stalls
 * are not.
 */
export interface LayerCounters {
  engine: string;
  layer: string;
  kind: string;
  multipliers: number;
  /** Cycles from start to done, and the rest of the image interval. */
  busy_cycles: number;
  idle_cycles: number;
  taps: number;
  /** Taps inside the image; the others read padding as zero. */
  valid_taps: number;
  /** Useful multiply-accumulates (padding excluded). */
  macs: number;
  /** macs / (multipliers x busy cycles): the share of the engine's multiplier slots doing useful work. */
  utilization: number;
  weight_rom_reads: number;
  bias_rom_reads: number;
}

export interface BufferCounters {
  buffer: number;
  tensor: string;
  words: number;
  lanes: number;
  bits: number;
  /** Per image: the loader or the producing engine writes every word once; consumers read one word per tap. */
  writes: number;
  reads: number;
}

export interface Counters {
  images: number;
  /** First input word of the first image to the last logit of the last. */
  total_cycles: number;
  /** First input word to last logit of one image (what the test bench reports). */
  latency_cycles: { mean: number; min: number; max: number };
  /** Cycles between the first input words of consecutive images (the latency when one image is run). */
  interval_cycles: number;
  /** Mean cycles per image that the handshakes held the design: LOAD without s_axis_tvalid, SEND without m_axis_tready. */
  input_stall_cycles: number;
  output_stall_cycles: number;
  load_cycles: number;
  compute_cycles: number;
  send_cycles: number;
  multipliers: number;
  macs_per_image: number;
  /** MACs per image / (all multipliers x interval). */
  utilization: number;
  layers: LayerCounters[];
  buffers: BufferCounters[];
  memory: {
    allocated_bits: number;
    weight_rom_bits: number;
    /** Most activation bits holding live data at one time (a buffer lives from its producer's start to its last reader's done). */
    peak_live_bits: number;
    peak_during: string;
  };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

export function countersOf(plan: HwPlan, models: EngineModel[], timing: ImageTiming[]): Counters {
  const n = timing.length;
  const lat = timing.map((t) => t.cycles);
  const total = n ? timing[n - 1].lastOut - timing[0].firstIn + 1 : 0;
  const interval = n > 1 ? (timing[n - 1].firstIn - timing[0].firstIn) / (n - 1) : mean(lat);
  const compute = plan.engines.reduce((s, e) => s + e.cycles, 0);
  const macs = models.reduce((s, m) => s + m.activity.macs, 0);
  const layers: LayerCounters[] = models.map((m) => {
    const e = m.engine,
      a = m.activity;
    const p = plan.engines[e.index];
    const mult = engineModule(p).budgetMultipliers(p);
    return {
      engine: e.id,
      layer: e.layer,
      kind: e.id.replace(/^l\d+_/, ''),
      multipliers: mult,
      busy_cycles: e.cycles,
      idle_cycles: interval - e.cycles,
      taps: a.taps,
      valid_taps: a.validTaps,
      macs: a.macs,
      utilization: mult ? a.macs / (mult * e.cycles) : 0,
      weight_rom_reads: a.weightReads,
      bias_rom_reads: a.biasReads,
    };
  });
  const buffers: BufferCounters[] = plan.buffers.map((b) => ({
    buffer: b.id,
    tensor: b.tensor,
    words: b.words,
    lanes: b.lanes,
    bits: b.words * b.wordBits,
    writes: 0,
    reads: 0,
  }));
  buffers[plan.input.buffer].writes += plan.input.elements;
  buffers[plan.output.buffer].reads += plan.output.elements;
  for (const m of models) {
    buffers[m.engine.output].writes += m.activity.writes;
    m.engine.inputs.forEach((b, j) => {
      buffers[b].reads += m.activity.reads[j];
    });
  }
  // Live activation bits in each phase: the load (-1), each engine, the send (engines.length).
  const last = plan.engines.length;
  let peak = 0,
    peakAt = -1;
  for (let ph = -1; ph <= last; ph++) {
    let live = 0;
    for (const b of plan.buffers) {
      const from = b.producer,
        to = b.id === plan.output.buffer ? last : Math.max(...b.consumers);
      if (from <= ph && ph <= to) live += b.words * b.wordBits;
    }
    if (live > peak) {
      peak = live;
      peakAt = ph;
    }
  }
  const ni = plan.input.elements,
    no = plan.output.elements;
  return {
    images: n,
    total_cycles: total,
    latency_cycles: { mean: mean(lat), min: Math.min(...lat), max: Math.max(...lat) },
    interval_cycles: interval,
    input_stall_cycles: mean(timing.map((t) => t.inputStalls)),
    output_stall_cycles: mean(timing.map((t) => t.outputStalls)),
    load_cycles: mean(timing.map((t) => t.lastIn - t.firstIn + 1)) || ni,
    compute_cycles: compute,
    send_cycles: mean(timing.map((t) => t.lastOut - t.done[t.done.length - 1])) || no,
    multipliers: plan.macs,
    macs_per_image: macs,
    utilization: plan.macs ? macs / (plan.macs * interval) : 0,
    layers,
    buffers,
    memory: {
      allocated_bits: plan.memoryBits.activations,
      weight_rom_bits: plan.memoryBits.weights,
      peak_live_bits: peak,
      peak_during: peakAt < 0 ? 'load' : peakAt === last ? 'send' : plan.engines[peakAt].id,
    },
  };
}
