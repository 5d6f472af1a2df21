import chalk from 'chalk';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { evaluate } from '../../eval/evaluate.js';
import { evaluateInt } from '../../intref/evaluate.js';
import { loadImages, loadLabels, parseScale } from '../../io/dataset.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { size } from '../../ir/types.js';
import { importOnnxFile } from '../../onnx/import.js';
import { Progress } from '../progress.js';

export interface EvalArgs {
  model: string;
  data: string;
  labels?: string;
  limit?: number;
  scale?: string;
  json: boolean;
}

export const isFxp = (path: string): boolean => path.endsWith('.fxp.json') || path.endsWith('.json');

export function evalCommand(a: EvalArgs): void {
  if (isFxp(a.model)) return evalFxp(a);
  const g = importOnnxFile(a.model);
  const imgs = loadImages(a.data, g.input.shape, { scale: parseScale(a.scale), limit: a.limit });
  const labels = a.labels ? loadLabels(a.labels, imgs, size(g.shapes[g.output])) : undefined;
  const bar = new Progress('eval', imgs.count, 'images', !a.json);
  const r = evaluate(g, imgs, labels, { onProgress: (d) => bar.update(d) });
  bar.done();
  if (a.json) {
    console.log(JSON.stringify({ images: r.images, top1: r.top1, seconds: r.seconds }));
    return;
  }
  const rate = r.images / r.seconds;
  const acc = r.top1 === null ? chalk.dim('top-1 n/a (no --labels)') : `top-1 ${chalk.bold(r.top1.toFixed(2) + ' %')}`;
  console.log(`${acc}  ${r.images} images in ${r.seconds.toFixed(2)} s (${rate.toFixed(0)} images/s)`);
}

/** Integer reference evaluation; agreement with the float model when its ONNX file is at hand. */
function evalFxp(a: EvalArgs): void {
  const { q, meta } = readFxpFile(a.model);
  const inShape = q.values[q.input].shape;
  const imgs = loadImages(a.data, inShape, { scale: parseScale(a.scale), limit: a.limit });
  const labels = a.labels ? loadLabels(a.labels, imgs, size(q.values[q.output].shape)) : undefined;
  let floatPredictions: Int32Array | undefined;
  let note = '';
  const src = meta.source.file;
  if (existsSync(src) && createHash('sha256').update(readFileSync(src)).digest('hex') === meta.source.sha256) {
    floatPredictions = evaluate(importOnnxFile(src), imgs).predictions;
  } else {
    note = ` (source model ${src} not found or changed: no agreement)`;
  }
  const bar = new Progress('eval (integer)', imgs.count, 'images', !a.json);
  const r = evaluateInt(q, imgs, { labels, floatPredictions, onProgress: (d) => bar.update(d) });
  bar.done();
  if (a.json) {
    console.log(JSON.stringify({ images: r.images, top1: r.top1, seconds: r.seconds, agreement: r.agreement }));
    return;
  }
  const acc = r.top1 === null ? chalk.dim('top-1 n/a (no --labels)') : `top-1 ${chalk.bold(r.top1.toFixed(2) + ' %')}`;
  const agree = r.agreement === null ? '' : `  agreement with float ${r.agreement.toFixed(2)} %`;
  console.log(`${acc}${agree}  ${r.images} images in ${r.seconds.toFixed(2)} s (${(r.images / r.seconds).toFixed(0)} images/s, integer reference)${note}`);
}
