import { DEFAULT_REFERENCE_BITS, type Rounding } from '../search/quantize.js';
import { basename } from 'node:path';
import { FxpqError } from '../errors.js';
import { calibrations, estimatePlan } from '../estimate/estimate.js';
import { evaluate } from '../eval/evaluate.js';
import { fitAtBudget, placementOf } from '../device/fit.js';
import type { Part } from '../device/parts.js';
import { buildPlan, type WeightPlacement } from '../hw/plan.js';
import { loadImages, loadLabels } from '../io/dataset.js';
import { type FxpFile, parseFxp } from '../io/fxpjson.js';
import { size } from '../ir/types.js';
import { importOnnxFile } from '../onnx/import.js';
import type { Objective } from '../search/structures.js';
import { type DeviceObjective, isDeviceObjective } from '../search/device-cost.js';
import type { Target } from '../synth/yosys.js';
import { runOnWorkers } from '../util/worker-pool.js';
import { workerScript } from '../util/worker-script.js';
import { TOOL_VERSION } from '../version.js';
import { ResultCache, codeFingerprint, contentKey, fileHash } from './cache.js';
import type { QuantConfig } from './configs.js';
import { type JobProgress, type QuantJob, type QuantJobResult, type TestSet } from './job.js';
import { paretoFront } from './pareto.js';

export interface SweepOptions {
  model: string;
  calib: string;
  calibScale?: number;
  calibLabels?: string;
  test?: TestSet;
  configs: QuantConfig[];
  macs: number[];
  target: Target;
  /** A part: each point says whether its design fits it (the estimator's decision). */
  device?: Part;
  clockMhz: number;
  seed: number;
  minBits: number;
  startBits: number;
  /** With a device objective: the budget the searches price (lut) or the largest they try (fps). */
  searchMacs?: number;
  /** fps and lut (FxP-QNet configurations only) price designs on `device`, which must be given. */
  objective: Objective | DeviceObjective;
  rounding?: Rounding;
  /** FxP-QNet's reference word length (quantizeModel's referenceBits; 0 = off; default 8). */
  referenceBits?: number;
  /** Threads: independent configurations run side by side. */
  workers: number;
  cacheDir: string | null;
  /** The chosen configuration is the smallest (params) whose drop is at most this. */
  chooseDrop: number;
  onProgress?: (done: number, total: number, what: string) => void;
}

type Fmt = { wl: number; fl: number; signed: boolean } | null;
export interface SweepLayer {
  name: string;
  kind: string;
  weights: Fmt;
  bias: Fmt;
  input: Fmt;
  output: Fmt;
  params: number;
}

export interface SweepConfigResult {
  id: string;
  label: string;
  method: string;
  max_drop: number | null;
  uniform_bits: number | null;
  /** Top-1 (%) on the test images with labels, else null. */
  top1: number | null;
  /** Top-1 agreement (%) with the float model on the test images (calibration images without a test set). */
  agreement: number | null;
  /** The accuracy the sweep compares: top1 when labelled, else agreement. */
  accuracy: number;
  /** Percentage points lost against the float model on the same measure. */
  drop: number;
  compression: { params: number; overall: number };
  bits: { params: number; activations: number };
  layers: SweepLayer[];
  quantize_seconds: number;
  cached: boolean;
  pareto_memory: boolean;
}

export interface SweepPoint {
  config: string;
  label: string;
  method: string;
  macs_budget: number;
  multipliers: number;
  accuracy: number;
  top1: number | null;
  drop: number;
  params_compression: number;
  overall_compression: number;
  params_kib: number;
  lut: number;
  ff: number;
  dsp: number;
  bram: number;
  lutram: number;
  cycles_per_image: number;
  interval_cycles: number;
  images_per_second: number;
  pareto_lut: boolean;
  /** Whether the design fits SweepResult.device (null without a part). */
  fits: boolean | null;
  /** Where its weights are: ROMs, or loaded after reset (a part with SPRAM, when only that fits). */
  weights: WeightPlacement;
}

export interface SweepResult {
  tool: string;
  model: string;
  target: Target;
  /** The part of --device, or null. */
  device: string | null;
  clock_mhz: number;
  accuracy_measure:
    | 'top-1 vs test labels'
    | 'top-1 agreement with the float model on the test images'
    | 'top-1 agreement with the float model on the calibration images';
  float: { top1: number | null; accuracy: number; params_kib: number };
  test_images: number;
  calib_images: number;
  configs: SweepConfigResult[];
  points: SweepPoint[];
  /** Budgets the plan could not fit, per configuration. */
  skipped: { config: string; macs_budget: number; reason: string }[];
  chosen: string | null;
  choose_drop: number;
  seconds: { total: number; computed: number; cached: number };
}

export function checkSweepOptions(o: SweepOptions): void {
  if (!calibrations[o.target]) throw new FxpqError(`the estimator has no calibration for ${o.target} yet; use --target xc7`);
  if (o.macs.length === 0) throw new FxpqError('--macs needs at least one budget');
  for (const m of o.macs) if (!Number.isInteger(m) || m < 1) throw new FxpqError(`--macs: ${m} is not a positive integer`);
  if (!(o.clockMhz > 0) || !Number.isFinite(o.clockMhz)) throw new FxpqError(`--clock must be a positive number of MHz, got ${o.clockMhz}`);
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 64)
    throw new FxpqError(`--workers must be an integer in 1..64, got ${o.workers}`);
  if (!(o.chooseDrop >= 0)) throw new FxpqError(`--choose-drop must be a non-negative number, got ${o.chooseDrop}`);
}

/**
 * Runs every configuration (quantization + integer-reference accuracy, cached by content hash and
 * spread over worker threads), then plans and estimates each at every MAC budget (milliseconds),
 * and marks the Pareto fronts and the chosen configuration.
 */
export interface SweepRun {
  result: SweepResult;
  /** The quantized model of each configuration, in configuration order. */
  files: FxpFile[];
}

export async function runSweep(o: SweepOptions): Promise<SweepRun> {
  checkSweepOptions(o);
  const t0 = performance.now();
  const g = importOnnxFile(o.model);
  const classes = size(g.shapes[g.output]);
  const calibImages = loadImages(o.calib, g.input.shape, { scale: o.calibScale });
  const calibCount = calibImages.count;

  // The float model on the test images, once: accuracy reference and agreement targets.
  let floatTop1: number | null = null;
  let floatPred: number[] | null = null;
  let testImages = 0;
  if (o.test) {
    const imgs = loadImages(o.test.data, g.input.shape, { scale: o.test.scale, limit: o.test.limit });
    const labels = o.test.labels ? loadLabels(o.test.labels, imgs, classes) : undefined;
    const r = evaluate(g, imgs, labels);
    floatTop1 = r.top1;
    floatPred = Array.from(r.predictions);
    testImages = imgs.count;
  }
  // Checked here so a bad labels file fails before any job starts.
  if (o.calibLabels) loadLabels(o.calibLabels, calibImages, classes);

  const cache = new ResultCache(o.cacheDir);
  // A device objective steers FxP-QNet's searches; the fixed-format configurations do not search.
  const deviceObjective = isDeviceObjective(o.objective);
  if (deviceObjective && !o.device) throw new FxpqError(`--objective ${o.objective} prices designs on a part: name one with --device`);
  const searchDevice = deviceObjective ? o.device!.name : undefined;
  const searches = (c: QuantConfig) => c.method === 'fxpqnet' && c.uniformBits === undefined;
  const inputs = {
    tool: TOOL_VERSION,
    code: codeFingerprint(),
    model: fileHash(o.model),
    calib: fileHash(o.calib),
    calibScale: o.calibScale ?? null,
    calibLabels: o.calibLabels ? fileHash(o.calibLabels) : null,
    test: o.test
      ? {
          data: fileHash(o.test.data),
          labels: o.test.labels ? fileHash(o.test.labels) : null,
          scale: o.test.scale ?? null,
          limit: o.test.limit ?? null,
        }
      : null,
    seed: o.seed,
    minBits: o.minBits,
    startBits: o.startBits,
    objective: o.objective,
    ...(searchDevice ? { searchDevice, searchMacs: o.searchMacs ?? null } : {}),
    rounding: o.rounding ?? 'gptq',
    referenceBits: o.referenceBits ?? DEFAULT_REFERENCE_BITS,
  };
  const keys = o.configs.map((c) =>
    contentKey({ ...inputs, config: { method: c.method, uniformBits: c.uniformBits ?? null, maxDrop: c.maxDrop } }),
  );
  const results: (QuantJobResult | null)[] = keys.map((k) => cache.get<QuantJobResult>(k));
  const cached = results.map((r) => r !== null);
  // A cache hit may come from a run that named the same files by other paths.
  for (const r of results) {
    if (!r) continue;
    const f = r.file as { source?: { file?: string }; options?: { calib?: { file?: string } } };
    if (f.source) f.source.file = o.model;
    if (f.options?.calib) f.options.calib.file = o.calib;
  }
  const todo = o.configs.map((_, i) => i).filter((i) => !results[i]);
  // Longest first (searches before fixed formats) so both threads finish together.
  const cost = (c: QuantConfig) => (c.method === 'fxpqnet' ? 3 : c.method === 'ristretto' || c.uniformBits === undefined ? 2 : 1);
  todo.sort((a, b) => cost(o.configs[b]) - cost(o.configs[a]) || a - b);
  const jobs: QuantJob[] = todo.map((i) => ({
    model: o.model,
    calib: o.calib,
    calibScale: o.calibScale,
    calibLabels: o.calibLabels,
    test: o.test ?? null,
    floatPredictions: floatPred,
    config: o.configs[i],
    seed: o.seed,
    minBits: o.minBits,
    startBits: o.startBits,
    objective: deviceObjective && !searches(o.configs[i]) ? 'overall' : o.objective,
    device: searchDevice && searches(o.configs[i]) ? searchDevice : undefined,
    macs: searchDevice && searches(o.configs[i]) ? o.searchMacs : undefined,
    rounding: o.rounding,
    referenceBits: o.referenceBits,
    // A lone search may use every thread itself; side by side, one each.
    workers: todo.length === 1 ? o.workers : 1,
  }));
  let finished = o.configs.length - todo.length;
  o.onProgress?.(finished, o.configs.length, 'configurations');
  // Part-way progress of running jobs (the search reports data structures settled), so the bar
  // and its ETA move during long searches, not only when a configuration finishes.
  const partial = new Map<number, number>();
  const SEARCH_PHASES: Record<string, [number, number]> = {
    search: [0, 1],
    sensitivity: [0, 0.5],
    bisection: [0.5, 0.15],
    refinement: [0.65, 0.3],
  };
  const report = (what: string) => o.onProgress?.(finished + [...partial.values()].reduce((a, b) => a + b, 0), o.configs.length, what);
  // Each job whole on one thread; results come back in job order, and every job is a pure
  // function of its inputs, so the sweep's output does not depend on the thread count.
  await runOnWorkers<QuantJob, QuantJobResult, JobProgress>(
    workerScript(import.meta.url, 'worker'),
    o.workers,
    jobs.length,
    (j) => jobs[j],
    {
      onResult: (j, r) => {
        const i = todo[j];
        results[i] = r;
        cache.put(keys[i], r);
        partial.delete(j);
        finished++;
        report(o.configs[i].label);
      },
      onProgress: (j, { stage, done, total }) => {
        // The greedy schedule reports data structures settled; the sensitivity schedule its phases,
        // weighted by their usual share of a search's time.
        const phase = SEARCH_PHASES[stage];
        if (!phase || total <= 0) return;
        partial.set(j, Math.min(0.95, phase[0] + phase[1] * (done / total)));
        report(o.configs[todo[j]].label);
      },
      jobError: (j, message) => new FxpqError(`configuration '${jobs[j].config.label}': ${message}`),
    },
  );

  const accuracyOf = (r: QuantJobResult): number => {
    if (r.test) return r.test.top1 ?? r.test.agreement!;
    return r.report.calibration.agreement ?? 0;
  };
  const floatAccuracy = floatTop1 ?? 100;
  const configs: SweepConfigResult[] = o.configs.map((c, i) => {
    const r = results[i]!;
    const acc = accuracyOf(r);
    return {
      id: c.id,
      label: c.label,
      method: c.method,
      max_drop: c.method === 'uniform' && c.uniformBits !== undefined ? null : c.maxDrop,
      uniform_bits: c.uniformBits ?? null,
      top1: r.test?.top1 ?? null,
      agreement: r.test ? r.test.agreement : r.report.calibration.agreement,
      accuracy: acc,
      drop: floatAccuracy - acc,
      compression: r.report.compression,
      bits: { params: r.report.bits.params_quantized, activations: r.report.bits.activations_quantized },
      layers: r.report.layers.map((l) => ({
        name: l.name,
        kind: l.kind,
        weights: l.weights,
        bias: l.bias,
        input: l.input,
        output: l.output,
        params: l.params,
      })),
      quantize_seconds: r.seconds,
      cached: cached[i],
      pareto_memory: false,
    };
  });
  const memFront = paretoFront(configs.map((c) => ({ cost: c.bits.params, value: c.accuracy })));
  configs.forEach((c, i) => {
    c.pareto_memory = memFront[i];
  });

  const name = basename(o.model).replace(/\.onnx$/i, '');
  const points: SweepPoint[] = [];
  const skipped: SweepResult['skipped'] = [];
  o.configs.forEach((c, i) => {
    const q = parseFxp(results[i]!.file).q;
    for (const macs of o.macs) {
      let plan, fit;
      try {
        // On a part, the weight placement that fits at this budget (ROMs first).
        if (o.device) ({ plan, fit } = fitAtBudget(q, o.device, { macs, model: name }));
        else plan = buildPlan(q, { macs, model: name });
      } catch (e) {
        if (!(e instanceof FxpqError)) throw e;
        skipped.push({ config: c.id, macs_budget: macs, reason: e.message });
        continue;
      }
      const est = estimatePlan(plan, o.target).total;
      const cfg = configs[i];
      points.push({
        config: c.id,
        label: c.label,
        method: c.method,
        macs_budget: macs,
        multipliers: plan.macs,
        accuracy: cfg.accuracy,
        top1: cfg.top1,
        drop: cfg.drop,
        params_compression: cfg.compression.params,
        overall_compression: cfg.compression.overall,
        params_kib: cfg.bits.params / 8192,
        lut: est.lut,
        ff: est.ff,
        dsp: est.dsp,
        bram: est.bram,
        lutram: est.lutram,
        cycles_per_image: plan.latency,
        interval_cycles: plan.interval,
        images_per_second: (o.clockMhz * 1e6) / plan.interval,
        pareto_lut: false,
        fits: fit ? fit.fits : null,
        weights: placementOf(plan),
      });
    }
  });
  const lutFront = paretoFront(points.map((p) => ({ cost: p.lut, value: p.accuracy })));
  points.forEach((p, i) => {
    p.pareto_lut = lutFront[i];
  });

  let chosen: SweepConfigResult | null = null;
  for (const c of configs) if (c.drop <= o.chooseDrop + 1e-9 && (!chosen || c.bits.params < chosen.bits.params)) chosen = c;
  const secs = (performance.now() - t0) / 1000;
  const computed = todo.reduce((s, i) => s + results[i]!.seconds, 0);
  const paramsFloat = results[0]!.report.bits.params_float;
  const result: SweepResult = {
    tool: `fxpq ${TOOL_VERSION}`,
    model: name,
    target: o.target,
    device: o.device?.name ?? null,
    clock_mhz: o.clockMhz,
    accuracy_measure: o.test
      ? o.test.labels
        ? 'top-1 vs test labels'
        : 'top-1 agreement with the float model on the test images'
      : 'top-1 agreement with the float model on the calibration images',
    float: { top1: floatTop1, accuracy: floatAccuracy, params_kib: paramsFloat / 8192 },
    test_images: testImages,
    calib_images: calibCount,
    configs,
    points,
    skipped,
    chosen: chosen?.id ?? null,
    choose_drop: o.chooseDrop,
    seconds: { total: secs, computed, cached: configs.filter((c) => c.cached).reduce((s, c) => s + c.quantize_seconds, 0) },
  };
  return { result, files: results.map((r) => r!.file) };
}
