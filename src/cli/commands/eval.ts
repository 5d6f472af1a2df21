import chalk from 'chalk';
import { evaluate } from '../../eval/evaluate.js';
import { loadImages, loadLabels, parseScale } from '../../io/dataset.js';
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

export function evalCommand(a: EvalArgs): void {
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
