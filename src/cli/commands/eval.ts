import chalk from 'chalk';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { type FloatEngine, predictOrt, resolveFloatEngine } from '../../engine/ort.js';
import { type Predictor, predictAll } from '../../eval/predict.js';
import { type Images, loadImages, loadLabels, parseScale } from '../../io/dataset.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { size } from '../../ir/types.js';
import { importOnnxFile } from '../../onnx/import.js';
import { defaultWorkers } from '../../search/backend.js';
import { FxpqError } from '../../errors.js';
import { Progress } from '../progress.js';
import { checkAlloc } from '../../util/limits.js';
import { asciiJson, terminalText } from '../../util/text.js';

export interface EvalArgs {
  model: string;
  data: string;
  labels?: string;
  limit?: number;
  scale?: string;
  workers?: number;
  /** Float model runner: onnxruntime when installed (auto), or fxpq's own float64 engine. */
  floatEngine?: FloatEngine;
  json: boolean;
}

export const isFxp = (path: string): boolean => path.endsWith('.fxp.json') || path.endsWith('.json');

/** Percent of predictions equal to `ref`. */
const share = (pred: Int32Array, ref?: Int32Array): number | null => {
  if (!ref) return null;
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === ref[i]) ok++;
  return (100 * ok) / pred.length;
};

async function predict(
  p: Predictor,
  imgs: Images,
  label: string,
  a: EvalArgs,
  onnx?: { bytes: Uint8Array; engine: 'fxpq' | 'onnxruntime' },
): Promise<{ pred: Int32Array; ties: number; seconds: number }> {
  const bar = new Progress(label, imgs.count, 'images', !a.json);
  const t0 = performance.now();
  const o = { workers: a.workers ?? defaultWorkers(), onProgress: (d: number) => bar.update(d) };
  const r =
    onnx?.engine === 'onnxruntime'
      ? await predictOrt(onnx.bytes, imgs.data, imgs.count, imgs.shape, { threads: o.workers, onProgress: o.onProgress })
      : await predictAll(p, imgs.data, imgs.count, size(imgs.shape), o);
  bar.done();
  return { pred: r.pred, ties: r.tied.reduce((acc, t) => acc + t, 0), seconds: (performance.now() - t0) / 1000 };
}

/**
 * Images whose largest output is shared by two or more classes: the first is taken, so class
 * order, not the network, decides them. Shown only when there are any.
 */
const tiesText = (ties: number, n: number) =>
  ties ? chalk.yellow(`  ${ties} tied (${((100 * ties) / n).toFixed(2)} %, first class taken)`) : '';

/** Float engine for .onnx; the integer reference (plus agreement with the float model) for .fxp.json. */
export async function evalCommand(a: EvalArgs): Promise<void> {
  if (a.workers !== undefined && (!Number.isInteger(a.workers) || a.workers < 1))
    throw new FxpqError('--workers must be a positive integer');
  if (isFxp(a.model)) return evalFxp(a);
  const g = importOnnxFile(a.model);
  const engine = await resolveFloatEngine(a.floatEngine ?? 'auto');
  const imgs = loadImages(a.data, g.input.shape, { scale: parseScale(a.scale), limit: a.limit });
  const labels = a.labels ? loadLabels(a.labels, imgs, size(g.shapes[g.output])) : undefined;
  const r = await predict({ kind: 'float', graph: g }, imgs, 'eval', a, { bytes: readFileSync(a.model), engine });
  const top1 = share(r.pred, labels);
  if (a.json) {
    console.log(asciiJson({ images: imgs.count, top1, ties: r.ties, seconds: r.seconds, float_engine: engine }));
    return;
  }
  const acc = top1 === null ? chalk.dim('top-1 n/a (no --labels)') : `top-1 ${chalk.bold(top1.toFixed(2) + ' %')}`;
  console.log(
    `${acc}${tiesText(r.ties, imgs.count)}  ${imgs.count} images in ${r.seconds.toFixed(2)} s (${(imgs.count / r.seconds).toFixed(0)} images/s, ${engine})`,
  );
}

/**
 * The float model a .fxp.json names, for the agreement figure. The path comes from an untrusted
 * file, so it is only read when it is an existing regular .onnx file within the memory limit (not
 * /dev/zero, a FIFO or a terminal); its contents must then hash to the recorded sha256.
 */
function sourceModel(src: string): Buffer | null {
  if (typeof src !== 'string' || !/\.onnx$/i.test(src)) return null;
  try {
    const st = statSync(src);
    if (!st.isFile()) return null;
    checkAlloc(st.size, 1, 'the source model named in the .fxp.json');
    return readFileSync(src);
  } catch {
    return null;
  }
}

async function evalFxp(a: EvalArgs): Promise<void> {
  const { q, meta } = readFxpFile(a.model);
  const inShape = q.values[q.input].shape;
  const imgs = loadImages(a.data, inShape, { scale: parseScale(a.scale), limit: a.limit });
  const labels = a.labels ? loadLabels(a.labels, imgs, size(q.values[q.output].shape)) : undefined;
  let floatPred: Int32Array | undefined;
  let floatEngine: 'fxpq' | 'onnxruntime' | null = null;
  let note = '';
  const src = meta.source.file;
  const bytes = sourceModel(src);
  if (bytes && createHash('sha256').update(bytes).digest('hex') === meta.source.sha256) {
    floatEngine = await resolveFloatEngine(a.floatEngine ?? 'auto');
    floatPred = (await predict({ kind: 'float', graph: importOnnxFile(src) }, imgs, 'eval (float)', a, { bytes, engine: floatEngine }))
      .pred;
  } else {
    note = ` (source model ${terminalText(String(src), 80)} not found or changed: no agreement)`;
  }
  const r = await predict({ kind: 'int', q }, imgs, 'eval (integer)', a);
  const top1 = share(r.pred, labels),
    agreement = share(r.pred, floatPred);
  if (a.json) {
    console.log(asciiJson({ images: imgs.count, top1, ties: r.ties, seconds: r.seconds, agreement, float_engine: floatEngine }));
    return;
  }
  const acc = top1 === null ? chalk.dim('top-1 n/a (no --labels)') : `top-1 ${chalk.bold(top1.toFixed(2) + ' %')}`;
  const agree = agreement === null ? '' : `  agreement with float ${agreement.toFixed(2)} %`;
  console.log(
    `${acc}${agree}${tiesText(r.ties, imgs.count)}  ${imgs.count} images in ${r.seconds.toFixed(2)} s (${(imgs.count / r.seconds).toFixed(0)} images/s, integer reference)${note}`,
  );
}
