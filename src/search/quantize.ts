import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FxpqError } from '../errors.js';
import { calibrateAll, outputsAll } from '../eval/predict.js';
import { argmaxRows } from '../engine/run.js';
import { type FxpFile, toFxpFile } from '../io/fxpjson.js';
import { loadImages, loadLabels } from '../io/dataset.js';
import type { Graph } from '../ir/types.js';
import { size } from '../ir/types.js';
import { importOnnxFile } from '../onnx/import.js';
import { type Assignment, buildQGraph } from '../quant/build.js';
import { type FusedGraph, fuseGraph } from '../quant/fuse.js';
import { attachCompensation, crossFittedCompensations, withCompensations } from '../quant/compensate.js';
import type { QGraph } from '../quant/qgraph.js';
import { buildReport, type QuantReport } from '../quant/report.js';
import { uniformAssignment } from '../quant/uniform.js';
import { rng } from '../onnx/builder.js';
import { TOOL_VERSION } from '../version.js';
import { ristrettoSearch, uniformSearch } from './baselines.js';
import { defaultWorkers, makeBackend, shardRanges } from './backend.js';
import { fxpqnetSearch, SCHEDULES, type Schedule } from './fxpqnet.js';
import type { Objective } from './structures.js';
import { DEVICE_OBJECTIVES, DeviceCost, type DeviceObjective, type DevicePoint, isDeviceObjective } from './device-cost.js';
import { fitMessage } from '../device/fit.js';
import type { Part } from '../device/parts.js';
import type { WeightPlacement } from '../hw/plan.js';
import { basename } from 'node:path';

export type Method = 'fxpqnet' | 'uniform' | 'ristretto';
export type Rounding = 'nearest' | 'gptq';

export interface QuantizeModelOptions {
  model: string;
  calib: string;
  calibScale?: number;
  calibLabels?: string;
  method: Method;
  /** Fixed word length for every data structure (`--uniform N`); skips any search. */
  uniformBits?: number;
  maxDrop: number;
  /**
   * FxP-QNet only: the result may be no less faithful (mean KL to the float model on the validation
   * images) than the uniform network of this many bits; 0 turns the bound off. Default 8.
   */
  referenceBits?: number;
  minBits: number;
  startBits: number;
  objective: Objective | DeviceObjective;
  /**
   * A named part: the result must fit it (the design `estimate --device` would choose), and under
   * `--objective fps|lut` the search ranks its steps by what they save on it (device-cost.ts).
   */
  device?: Part;
  /** With a device: a fixed multiplier budget (lut: the budget priced; fps: the largest tried). */
  macs?: number;
  weights?: WeightPlacement;
  /**
   * With a device: refuse a result that does not fit (default). A sweep records the fit of each
   * point instead, and `run` refuses later, at the design it would generate.
   */
  requireFit?: boolean;
  /** Clock in MHz for the device report's images/s. */
  clockMhz?: number;
  seed: number;
  /** Weight rounding: to nearest, or error-compensating (quant/compensate.ts). Default gptq. */
  rounding?: Rounding;
  /** FxP-QNet's schedule after the fast start (fxpqnet.ts). Default sensitivity. */
  schedule?: Schedule;
  /** Search images each sensitivity point is scored on (sensitivity schedule). */
  sensitivityImages?: number;
  /** Worker threads for the search (default: both cores). Results do not depend on it. */
  workers?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface QuantizeModelResult {
  graph: Graph;
  q: QGraph;
  file: FxpFile;
  report: QuantReport;
}

/** The uniform network FxP-QNet results are held to by default: the usual 8-bit deployment. */
export const DEFAULT_REFERENCE_BITS = 8;

/** Search images the sensitivity curves are measured on by default (see fxpqnet.ts). */
export const DEFAULT_SENSITIVITY_IMAGES = 128;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export function checkOptions(o: QuantizeModelOptions): void {
  if (!['fxpqnet', 'uniform', 'ristretto'].includes(o.method))
    throw new FxpqError(`--method must be fxpqnet, uniform or ristretto, got '${o.method}'`);
  if (o.rounding !== undefined && !['nearest', 'gptq'].includes(o.rounding))
    throw new FxpqError(`--rounding must be nearest or gptq, got '${o.rounding}'`);
  if (o.sensitivityImages !== undefined && (!Number.isInteger(o.sensitivityImages) || o.sensitivityImages < 2))
    throw new FxpqError(`--sensitivity-images must be an integer of at least 2, got ${o.sensitivityImages}`);
  if (o.schedule !== undefined && !SCHEDULES.includes(o.schedule))
    throw new FxpqError(`--schedule must be ${SCHEDULES.join(' or ')}, got '${o.schedule}'`);
  if (![...MEMORY_OBJECTIVES, ...DEVICE_OBJECTIVES].includes(o.objective))
    throw new FxpqError(`--objective must be ${[...MEMORY_OBJECTIVES, ...DEVICE_OBJECTIVES].join(', ')}, got '${o.objective}'`);
  if (isDeviceObjective(o.objective) && !o.device)
    throw new FxpqError(`--objective ${o.objective} prices designs on a part: name one with --device`);
  if ((o.macs !== undefined || o.weights !== undefined) && !o.device) throw new FxpqError('--macs and --weights need --device');
  if (o.macs !== undefined && (!Number.isInteger(o.macs) || o.macs < 1))
    throw new FxpqError(`--macs must be a positive integer, got ${o.macs}`);
  if (o.clockMhz !== undefined && !(o.clockMhz > 0 && Number.isFinite(o.clockMhz)))
    throw new FxpqError(`--clock must be a positive number of MHz, got ${o.clockMhz}`);
  if (!(o.maxDrop >= 0) || !Number.isFinite(o.maxDrop))
    throw new FxpqError(`--max-drop must be a non-negative number of percentage points, got ${o.maxDrop}`);
  if (!Number.isInteger(o.startBits) || o.startBits < 2 || o.startBits > 32)
    throw new FxpqError(`--start-bits must be an integer in 2..32, got ${o.startBits}`);
  if (!Number.isInteger(o.minBits) || o.minBits < 1) throw new FxpqError(`--min-bits must be a positive integer, got ${o.minBits}`);
  if (o.minBits > o.startBits) throw new FxpqError(`--min-bits ${o.minBits} is above --start-bits ${o.startBits}`);
  if (o.uniformBits !== undefined && (!Number.isInteger(o.uniformBits) || o.uniformBits < 2 || o.uniformBits > 32))
    throw new FxpqError(`--uniform must be an integer in 2..32, got ${o.uniformBits}`);
  if (o.referenceBits !== undefined) checkReferenceBits(o.referenceBits);
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 64))
    throw new FxpqError(`--workers must be an integer in 1..64, got ${o.workers}`);
  if (!Number.isInteger(o.seed)) throw new FxpqError(`--seed must be an integer, got ${o.seed}`);
}

const MEMORY_OBJECTIVES: readonly Objective[] = ['params', 'overall', 'bops'];

/** The device report's figures of one design. */
function devicePointJson(p: DevicePoint, clockMhz: number) {
  return {
    fits: p.fit.fits,
    mac_budget: p.plan.macBudget,
    multipliers: p.plan.macs,
    weights: p.fit.weights,
    interval_cycles: p.plan.interval,
    images_per_second: Math.round((clockMhz * 1e6) / p.plan.interval),
    resources: p.fit.rows.map((r) => ({ resource: r.resource, need: r.need, have: r.have })),
  };
}

export function checkReferenceBits(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 32 || n === 1)
    throw new FxpqError(`--reference-bits must be 0 (off) or an integer in 2..32, got ${n}`);
}

/**
 * Rows of `all` (one per calibration image: its pixels, or its teacher logits) for the images
 * `idx`, in that order. The teacher's
 * logits come from fxpq's float64 engine, not onnxruntime: onnxruntime's float32 kernels differ by
 * CPU (MLAS picks AVX2 or AVX-512 code at run time), and the search must write the same bytes for
 * the same inputs and seed on any machine (docs/float-engine.md).
 */
function rows(all: Float64Array, idx: number[], width: number): Float64Array {
  const out = new Float64Array(idx.length * width);
  idx.forEach((k, i) => out.set(all.subarray(k * width, (k + 1) * width), i * width));
  return out;
}

/**
 * `fxpq quantize`: calibrates, splits the calibration images into a search part and a held-back
 * validation part (seeded), runs the chosen method, and returns the integer graph, the .fxp.json
 * content and the report.
 */
export async function quantizeModel(o: QuantizeModelOptions): Promise<QuantizeModelResult> {
  checkOptions(o);
  const t0 = performance.now();
  // Wall seconds per stage, for report.json: where a run's time went.
  const timings: Record<string, number> = {};
  let tMark = t0;
  // Resident memory of the process (worker threads included) at the end of each stage, in MiB.
  const memory: Record<string, number> = {};
  const lap = (stage: string) => {
    const t = performance.now();
    timings[stage] = Math.round(t - tMark) / 1000;
    memory[stage] = Math.round(process.memoryUsage().rss / 2 ** 20);
    tMark = t;
  };
  const workers = o.workers ?? defaultWorkers();
  const g = importOnnxFile(o.model);
  const cal = loadImages(o.calib, g.input.shape, { scale: o.calibScale });
  const classes = size(g.shapes[g.output]);
  const labels = o.calibLabels ? loadLabels(o.calibLabels, cal, classes) : undefined;
  if (cal.count < 8 && o.uniformBits === undefined)
    throw new FxpqError(`${o.calib}: ${cal.count} calibration images are too few for a search (need at least 8)`);
  o.onProgress?.('calibrate', 0, cal.count);
  // One pass of the float network over every calibration image on both cores: the range of every
  // tensor (calibration) and the teacher's logits (log-probabilities when the graph ends in Softmax:
  // the same softmax).
  const calib = await calibrateAll(g, cal.data, cal.count, size(g.input.shape), {
    workers,
    onProgress: (d) => o.onProgress?.('calibrate', d, cal.count),
  });
  const stats = calib.stats;
  const soft = g.nodes[g.nodes.length - 1].op.kind === 'softmax';
  const teacherAll = soft ? calib.y.map(Math.log) : calib.y;
  const fg = fuseGraph(g);
  lap('calibrate');

  // Seeded split: half of the images is held back to check the budget (1 point of top-1 must be
  // several images, not one).
  const r = rng(o.seed + 0x9e3779b9);
  const perm = Array.from({ length: cal.count }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const nV = Math.max(2, Math.round(cal.count / 2));
  const vIdx = perm.slice(0, nV).sort((x, y) => x - y),
    sIdx = perm.slice(nV).sort((x, y) => x - y);
  const per = size(g.input.shape);
  const sData = rows(cal.data, sIdx, per),
    vData = rows(cal.data, vIdx, per);
  // Only FxP-QNet searches with the search images; the baselines decide on the validation images.
  const fxpSearch = o.uniformBits === undefined && o.method === 'fxpqnet';
  let crossFg: FusedGraph[] | undefined;
  if ((o.rounding ?? 'gptq') === 'gptq') {
    o.onProgress?.('compensate', 0, 1);
    attachCompensation(fg, sData, sIdx.length);
    // Each search shard is scored with weights compensated on the other shard's images only (the
    // baselines skip the cost: 10 s on vgg_bn).
    if (fxpSearch) {
      crossFg = crossFittedCompensations(fg, sData, shardRanges(sIdx.length)).map((c) => withCompensations(fg, c));
    }
  }
  lap('compensate');
  const sT = rows(teacherAll, sIdx, classes),
    vT = rows(teacherAll, vIdx, classes);
  const pick = (idx: number[]) => (labels ? Int32Array.from(idx, (k) => labels[k]) : undefined);
  const vLabels = pick(vIdx);
  const sLabels = pick(sIdx);
  const floatErrors = (t: Float64Array, n: number, lab?: Int32Array) =>
    lab ? argmaxRows(t, n).reduce((acc, p, i) => acc + (p !== lab[i] ? 1 : 0), 0) : 0;
  const baselineErrors = floatErrors(vT, nV, vLabels);
  const searchBaselineErrors = floatErrors(sT, sIdx.length, sLabels);
  const backend = makeBackend(
    {
      fg,
      crossFg,
      search: { images: sData, teacher: sT, labels: sLabels },
      valid: { images: vData, teacher: vT, labels: vLabels },
    },
    fxpSearch ? workers : 1,
  );

  // On a named part: the price of a configuration there, and the design the result maps to.
  const modelName = basename(o.model).replace(/\.onnx$/i, '');
  const clockMhz = o.clockMhz ?? 100;
  const deviceCost = o.device
    ? new DeviceCost(fg, o.device, {
        objective: isDeviceObjective(o.objective) ? o.objective : 'fps',
        macs: o.macs,
        weights: o.weights,
        standalone: Boolean(o.device.nextpnr),
        model: modelName,
      })
    : null;
  const trace: { what: string; within: boolean; validation_drop: number; point: ReturnType<typeof devicePointJson> }[] = [];
  let assignment!: Assignment;
  const extra: Record<string, unknown> = {};
  let log: string[] = [];
  let searchKl: number | null;
  let validKl: number | null;
  let validErrors: number;
  let referenceKl: number | null = null;
  const referenceBits = o.referenceBits ?? DEFAULT_REFERENCE_BITS;
  let searchErrors: number;
  try {
    if (o.uniformBits !== undefined) {
      assignment = uniformAssignment(fg, stats, o.uniformBits);
      extra.bits_per_structure = o.uniformBits;
    } else if (o.method === 'uniform') {
      const u = await uniformSearch(fg, stats, backend, baselineErrors, o.maxDrop, o.startBits, o.minBits);
      assignment = u.assignment;
      extra.bits_per_structure = u.bits;
    } else if (o.method === 'ristretto') {
      const rr = await ristrettoSearch(fg, stats, backend, baselineErrors, o.maxDrop);
      assignment = rr.assignment;
      extra.ristretto_bits = rr.bits;
    } else {
      const res = await fxpqnetSearch(fg, stats, backend, baselineErrors, {
        maxDrop: o.maxDrop,
        referenceBits: referenceBits || null,
        searchBaselineErrors,
        minBits: o.minBits,
        startBits: o.startBits,
        objective: o.objective,
        price: deviceCost && isDeviceObjective(o.objective) ? (x) => deviceCost.cost(x) : undefined,
        onConfig: deviceCost
          ? (x, v, what, within) =>
              trace.push({
                what,
                within,
                validation_drop: (100 * (v.errors - baselineErrors)) / nV,
                point: devicePointJson(deviceCost.point(x), clockMhz),
              })
          : undefined,
        schedule: o.schedule ?? 'sensitivity',
        sensitivityImages: o.sensitivityImages ?? DEFAULT_SENSITIVITY_IMAGES,
        onStep: (s) => o.onProgress?.('search', s.frozen, s.total),
        onPhase: (p, d, t) => o.onProgress?.(p, d, t),
      });
      assignment = res.assignment;
      referenceKl = res.referenceKl;
      extra.search_steps = res.steps;
      extra.evaluations = res.evaluations;
      log = res.log;
    }
    const [sScore, vScore0] = await backend.evaluate([
      { set: 'search', a: assignment, from: 0, abortAbove: Infinity },
      { set: 'valid', a: assignment, from: 0, abortAbove: Infinity },
    ]);
    searchKl = sScore.kl;
    validKl = vScore0.kl;
    searchErrors = sScore.errors;
    validErrors = vScore0.errors;
    memory.search_workers = Math.round(process.memoryUsage().rss / 2 ** 20);
  } finally {
    await backend.close();
  }
  lap('search');
  let device: Record<string, unknown> | null = null;
  if (deviceCost && o.device) {
    const p = deviceCost.point(assignment);
    if (!p.fit.fits && (o.requireFit ?? true)) {
      const how = o.uniformBits !== undefined ? `at ${o.uniformBits} bits` : `(${o.method}, --max-drop ${o.maxDrop})`;
      throw new FxpqError(`${fitMessage(p.fit, modelName)}: the smallest network found ${how}; raise --max-drop or pick a larger part`);
    }
    device = {
      part: o.device.name,
      vendor: o.device.vendor,
      objective: o.objective,
      clock_mhz: clockMhz,
      ...devicePointJson(p, clockMhz),
      trace,
    };
  }
  const q = buildQGraph(fg, assignment);
  // Agreement with the teacher over all calibration images, with the network as written (the
  // search images were scored with cross-fitted weights).
  const qPred = argmaxRows(await outputsAll({ kind: 'int', q }, cal.data, cal.count, size(g.input.shape), { workers }), cal.count);
  const tPred = argmaxRows(teacherAll, cal.count);
  let agree = 0;
  for (let i = 0; i < cal.count; i++) if (tPred[i] === qPred[i]) agree++;
  lap('agreement');
  const seconds = (performance.now() - t0) / 1000;
  const method = o.uniformBits !== undefined ? 'uniform' : o.method;
  const options = {
    method,
    bits: o.uniformBits ?? null,
    rounding: o.rounding ?? 'gptq',
    max_drop: o.maxDrop,
    reference_bits: fxpSearch ? referenceBits : null,
    schedule: fxpSearch ? (o.schedule ?? 'sensitivity') : null,
    sensitivity_images:
      fxpSearch && (o.schedule ?? 'sensitivity') === 'sensitivity' ? (o.sensitivityImages ?? DEFAULT_SENSITIVITY_IMAGES) : null,
    min_bits: o.minBits,
    start_bits: o.startBits,
    objective: o.objective,
    ...(o.device ? { device: o.device.name, macs: o.macs ?? null, weights: o.weights ?? null, clock_mhz: clockMhz } : {}),
    seed: o.seed,
    calib: { file: o.calib, sha256: sha256(o.calib), images: cal.count, scale: o.calibScale ?? null, labels: o.calibLabels ?? null },
  };
  const file = toFxpFile(q, {
    tool: { name: 'fxpq', version: TOOL_VERSION },
    source: { file: o.model, sha256: g.source.sha256, opset: g.source.opset, producer: g.source.producer },
    options,
  });
  const report = buildReport(q, method, { images: cal.count, agreement: (100 * agree) / cal.count }, seconds, {
    ...extra,
    ...(device ? { device } : {}),
    budget: {
      measure: labels ? 'top-1 accuracy vs labels' : 'top-1 agreement with the float model',
      max_drop: o.maxDrop,
      search_images: sIdx.length,
      validation_images: nV,
      validation_indices: vIdx,
      validation_drop: (100 * (validErrors - baselineErrors)) / nV,
      search_drop: (100 * (searchErrors - searchBaselineErrors)) / sIdx.length,
      search_kl: searchKl,
      validation_kl: validKl,
      // Only FxP-QNet is held to the reference network's fidelity.
      reference: fxpSearch && referenceBits ? { bits: referenceBits, validation_kl: referenceKl } : null,
    },
    options,
    timings,
    rss_mib: memory,
    rounding: {
      weights: o.rounding ?? 'gptq',
      // Layers whose weights the search moved back to nearest rounding (lower KL that way).
      nearest_layers:
        (o.rounding ?? 'gptq') === 'gptq' ? fg.layers.filter((l) => l.comp && assignment.layers[l.name]?.nearest).map((l) => l.name) : [],
    },
    log,
  });
  return { graph: g, q, file, report };
}
