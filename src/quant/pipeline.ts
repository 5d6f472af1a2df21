import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FxpqError } from '../errors.js';
import { evaluate } from '../eval/evaluate.js';
import { evaluateInt } from '../intref/evaluate.js';
import { type FxpFile, toFxpFile } from '../io/fxpjson.js';
import { loadImages } from '../io/dataset.js';
import type { Graph } from '../ir/types.js';
import { importOnnxFile } from '../onnx/import.js';
import { buildQGraph } from './build.js';
import { calibrate } from './calibrate.js';
import { fuseGraph } from './fuse.js';
import type { QGraph } from './qgraph.js';
import { buildReport, type QuantReport } from './report.js';
import { uniformAssignment } from './uniform.js';
import { TOOL_VERSION } from '../version.js';

export interface QuantizeOptions {
  model: string;
  calib: string;
  calibScale?: number;
  uniform: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface QuantizeResult { graph: Graph; q: QGraph; file: FxpFile; report: QuantReport }

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** `--uniform N`: every data structure at N bits, fraction lengths by Ristretto's max rule. */
export function quantizeUniform(o: QuantizeOptions): QuantizeResult {
  if (!Number.isInteger(o.uniform) || o.uniform < 2 || o.uniform > 32) throw new FxpqError(`--uniform must be an integer in 2..32, got ${o.uniform}`);
  const t0 = performance.now();
  const g = importOnnxFile(o.model);
  const cal = loadImages(o.calib, g.input.shape, { scale: o.calibScale });
  const stats = calibrate(g, cal, { onProgress: (d) => o.onProgress?.('calibrate', d, cal.count) });
  const fg = fuseGraph(g);
  const q = buildQGraph(fg, uniformAssignment(fg, stats, o.uniform));
  const floatPred = evaluate(g, cal).predictions;
  const agree = evaluateInt(q, cal, { floatPredictions: floatPred, onProgress: (d) => o.onProgress?.('check', d, cal.count) }).agreement;
  const seconds = (performance.now() - t0) / 1000;
  const options = { method: 'uniform', bits: o.uniform, calib: { file: o.calib, sha256: sha256(o.calib), images: cal.count, scale: o.calibScale ?? null } };
  const file = toFxpFile(q, {
    tool: { name: 'fxpq', version: TOOL_VERSION },
    source: { file: o.model, sha256: g.source.sha256, opset: g.source.opset, producer: g.source.producer },
    options,
  });
  const report = buildReport(q, 'uniform', { images: cal.count, agreement: agree }, seconds, { bits_per_structure: o.uniform });
  return { graph: g, q, file, report };
}
