import { loadImages, loadLabels } from '../io/dataset.js';
import type { FxpFile } from '../io/fxpjson.js';
import { evaluateInt } from '../intref/evaluate.js';
import { size } from '../ir/types.js';
import type { QuantReport } from '../quant/report.js';
import { quantizeModel, type Rounding } from '../search/quantize.js';
import type { Objective } from '../search/structures.js';
import type { DeviceObjective } from '../search/device-cost.js';
import { findPart } from '../device/parts.js';
import type { QuantConfig } from './configs.js';

export interface TestSet {
  data: string;
  scale?: number;
  labels?: string;
  limit?: number;
}

/** Everything one quantization of a sweep depends on; plain data, so it can cross to a worker. */
export interface QuantJob {
  model: string;
  calib: string;
  calibScale?: number;
  calibLabels?: string;
  test: TestSet | null;
  /** The float model's top-1 classes on the test images (for agreement). */
  floatPredictions: number[] | null;
  config: QuantConfig;
  seed: number;
  minBits: number;
  startBits: number;
  objective: Objective | DeviceObjective;
  /** The part a device objective prices designs on (its name: jobs cross to workers as plain data). */
  device?: string;
  /** With `device`: quantizeModel's macs. */
  macs?: number;
  rounding?: Rounding;
  /** FxP-QNet's reference word length (quantizeModel's referenceBits; 0 = off). */
  referenceBits?: number;
  /** Threads the search may use inside this job (1 when the sweep runs jobs side by side). */
  workers: number;
}

export interface QuantJobResult {
  file: FxpFile;
  report: QuantReport;
  test: { images: number; top1: number | null; agreement: number | null } | null;
  seconds: number;
}

/** A running job's part-way progress, as a sweep worker reports it. */
export interface JobProgress {
  stage: string;
  done: number;
  total: number;
}

/** Quantizes with one configuration, then measures the integer reference on the test images. */
export async function runQuantJob(j: QuantJob, onProgress?: (stage: string, done: number, total: number) => void): Promise<QuantJobResult> {
  const t0 = performance.now();
  const c = j.config;
  const res = await quantizeModel({
    model: j.model,
    calib: j.calib,
    calibScale: j.calibScale,
    calibLabels: j.calibLabels,
    method: c.method,
    uniformBits: c.uniformBits,
    maxDrop: c.maxDrop,
    minBits: j.minBits,
    startBits: j.startBits,
    objective: j.objective,
    device: j.device === undefined ? undefined : findPart(j.device),
    macs: j.macs,
    requireFit: false,
    rounding: j.rounding,
    referenceBits: j.referenceBits,
    seed: j.seed,
    workers: j.workers,
    onProgress,
  });
  let test: QuantJobResult['test'] = null;
  if (j.test) {
    const shape = res.q.values[res.q.input].shape;
    const imgs = loadImages(j.test.data, shape, { scale: j.test.scale, limit: j.test.limit });
    const labels = j.test.labels ? loadLabels(j.test.labels, imgs, size(res.q.values[res.q.output].shape)) : undefined;
    const r = evaluateInt(res.q, imgs, { labels, floatPredictions: j.floatPredictions ? Int32Array.from(j.floatPredictions) : undefined });
    test = { images: r.images, top1: r.top1, agreement: r.agreement };
  }
  return { file: res.file, report: res.report, test, seconds: (performance.now() - t0) / 1000 };
}
