import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FxpqError } from '../errors.js';
import { type FxFormat } from '../fixed/format.js';
import { runQGraphInt } from '../intref/run.js';
import { type OutputOptions, placeFileAtomic, writeFolderAtomic } from '../io/atomic.js';
import { removeOnInterrupt } from '../util/cleanup.js';
import type { QGraph } from '../quant/qgraph.js';
import { generateDesign } from '../hw/generate.js';
import type { HwPlan, WeightPlacement } from '../hw/plan.js';
import { wordChannel } from '../hw/plan-types.js';
import { buildSim, type SimName } from './simulators.js';

export interface CosimOptions {
  sim: SimName;
  macs?: number;
  weights?: WeightPlacement;
  model: string;
  source: string;
  /** Quantized integer input words, [images x input elements]. */
  inputs: Float64Array;
  images: number;
  /** Random gaps on both handshakes (checks the valid/ready logic). */
  stall?: boolean;
  vcd?: string;
  /** Keep the generated folder here instead of a temporary one. */
  keep?: string;
  cacheDir?: string;
  /** --force and the inputs never to replace, for --keep and --vcd. */
  output?: OutputOptions;
  /** Also return every logit the RTL sent (the test bench writes them with +outs). */
  captureOutputs?: boolean;
  onImage?: (done: number) => void;
}

export interface LayerMismatch {
  layer: string;
  engine: string;
  /** Element (channel, row, column) of the layer output, and the values. */
  element: [number, number, number];
  got: number | null;
  expected: number;
}

export interface CosimResult {
  images: number;
  mismatches: number;
  /** RTL cycles from an image's first input word to its last logit, per image. */
  cycles: number[];
  /** Test-bench cycle (rising edge) of each image's first input word and last logit. */
  spans: { first: number; last: number }[];
  /** The logits as sent, images x outputs (captureOutputs only). */
  outputs: Float64Array | null;
  cycles_per_image: number;
  expected_cycles: number;
  sim: SimName;
  seconds: number;
  buildSeconds: number;
  /** Wall time of the simulator process alone (no generation, no build). */
  runSeconds: number;
  firstMismatch: { image: number; element: number; got: string; expected: string; layer: LayerMismatch | null } | null;
  log: string;
  plan: HwPlan;
}

const MISMATCH = /^FXPQ MISMATCH image=(\d+) element=(\d+) got=(\w+) expected=(\w+)/;
const MISMATCH_ANY = /^FXPQ MISMATCH image=(\d+)/;
const IMAGE = /^FXPQ IMAGE (\d+) cycles=(\d+) first=(\d+) last=(\d+)/;
const DONE = /^FXPQ DONE images=(\d+) mismatches=(\d+)/;

/** Raw bits of one lane as the integer it means in format f. */
function laneValue(word: bigint, lane: number, f: FxFormat): number {
  const raw = Number((word >> BigInt(lane * f.wl)) & ((1n << BigInt(f.wl)) - 1n));
  return f.signed && raw >= 2 ** (f.wl - 1) ? raw - 2 ** f.wl : raw;
}

/**
 * Generates the design and test bench for the given images, runs the simulator and compares
 * every logit with the integer reference (inside the test bench). On a mismatch it reruns the
 * first failing image with buffer dumps and names the first layer whose output differs.
 */
export async function cosim(q: QGraph, o: CosimOptions): Promise<CosimResult> {
  const t0 = performance.now();
  const d = generateDesign(q, { model: o.model, source: o.source, macs: o.macs, weights: o.weights, inputs: o.inputs, images: o.images });
  const dir = o.keep ? resolve(o.keep) : mkdtempSync(join(tmpdir(), 'fxpq-cosim-'));
  const unregister = o.keep ? () => {} : removeOnInterrupt(dir);
  try {
    writeFolderAtomic(dir, d.files, o.keep ? { ...o.output, option: '--keep' } : {});
    const build = await buildSim(o.sim, dir, { trace: Boolean(o.vcd), cacheDir: o.cacheDir });
    const plus: string[] = [];
    if (o.stall) plus.push('+stall');
    if (o.captureOutputs) plus.push('+outs');
    // The simulator writes the waveform next to the design; it reaches the user's path only
    // through the same no-clobber rule as every other output.
    if (o.vcd) plus.push('+vcd=fxpq-wave.vcd');
    const cycles: number[] = [];
    const spans: CosimResult['spans'] = [];
    let mismatches = -1;
    let first: CosimResult['firstMismatch'] = null;
    let firstImage = -1;
    const tRun = performance.now();
    const r = await build.run(plus, (line) => {
      let m = IMAGE.exec(line);
      if (m) {
        cycles.push(Number(m[2]));
        spans.push({ first: Number(m[3]), last: Number(m[4]) });
        o.onImage?.(cycles.length);
        return;
      }
      m = MISMATCH.exec(line);
      if (m && !first) first = { image: Number(m[1]), element: Number(m[2]), got: m[3], expected: m[4], layer: null };
      m = MISMATCH_ANY.exec(line);
      if (m && firstImage < 0) firstImage = Number(m[1]);
      m = DONE.exec(line);
      if (m) mismatches = Number(m[2]);
    });
    const runSeconds = (performance.now() - tRun) / 1000;
    if (o.vcd && existsSync(join(dir, 'fxpq-wave.vcd')))
      placeFileAtomic(join(dir, 'fxpq-wave.vcd'), o.vcd, (h) => /^\s*\$(date|version|timescale|comment|scope)/.test(h), {
        ...o.output,
        option: '--vcd',
      });
    if (mismatches < 0) {
      const why = /FXPQ TIMEOUT.*/.exec(r.stdout)?.[0] ?? (r.stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${r.code}`);
      throw new FxpqError(`${o.sim} simulation did not finish: ${why}`);
    }
    if (mismatches > 0 && r.code === 0) throw new FxpqError(`${o.sim}: the test bench reported ${mismatches} mismatches but exited with 0`);
    if (mismatches > 0 && firstImage >= 0) {
      const dump = await build.run([`+dump=${firstImage}`]);
      void dump;
      const layer = firstLayerMismatch(q, d.plan, o.inputs, firstImage, join(dir, 'tb_dump.txt'));
      if (first) (first as NonNullable<CosimResult['firstMismatch']>).layer = layer;
      else first = { image: firstImage, element: -1, got: '', expected: '', layer };
    }
    let outputs: Float64Array | null = null;
    if (o.captureOutputs) {
      const f = d.plan.output.format;
      const words = readFileSync(join(dir, 'tb_outs.txt'), 'utf8').trim().split('\n');
      outputs = Float64Array.from(words, (h) => (/^[0-9a-f]+$/i.test(h) ? laneValue(BigInt(`0x${h}`), 0, f) : NaN));
    }
    return {
      images: o.images,
      mismatches,
      cycles,
      spans,
      outputs,
      cycles_per_image: cycles.length ? Math.max(...cycles) : 0,
      expected_cycles: d.plan.latency,
      sim: o.sim,
      seconds: (performance.now() - t0) / 1000,
      buildSeconds: build.buildSeconds,
      runSeconds,
      firstMismatch: first,
      log: r.stdout,
      plan: d.plan,
    };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
    unregister();
  }
}

/** Compares the dumped buffer writes of one image with the reference, layer by layer. */
export function firstLayerMismatch(q: QGraph, plan: HwPlan, inputs: Float64Array, image: number, dumpFile: string): LayerMismatch | null {
  if (!existsSync(dumpFile)) return null;
  const n = plan.input.elements;
  const ref = runQGraphInt(q, inputs.slice(image * n, (image + 1) * n), 1, true).values!;
  const written = new Map<number, Map<number, bigint>>();
  for (const line of readFileSync(dumpFile, 'utf8').split('\n')) {
    const [b, a, hex] = line.trim().split(/\s+/);
    if (hex === undefined || /[xz]/i.test(hex)) continue;
    if (!written.has(Number(b))) written.set(Number(b), new Map());
    written.get(Number(b))!.set(Number(a), BigInt(`0x${hex}`));
  }
  for (const e of plan.engines) {
    const buf = plan.buffers[e.output];
    const want = ref.get(buf.tensor);
    if (!want) continue;
    const words = written.get(buf.id) ?? new Map<number, bigint>();
    for (let wi = 0; wi < buf.words; wi++) {
      for (let l = 0; l < buf.lanes; l++) {
        const { c, p } = wordChannel(buf, wi, l);
        const y = Math.floor(p / buf.w),
          x = p % buf.w;
        const expected = want[c * buf.h * buf.w + p];
        const word = words.get(wi);
        const got = word === undefined ? null : laneValue(word, l, buf.format);
        if (got !== expected) return { layer: e.layer, engine: e.id, element: [c, y, x], got, expected };
      }
    }
  }
  return null;
}
