import chalk from 'chalk';
import { join } from 'node:path';
import { FxpqError } from '../../errors.js';
import { fmtText, toReal } from '../../fixed/format.js';
import { runQGraph } from '../../intref/run.js';
import { checkOutputPath, writeFolderAtomic } from '../../io/atomic.js';
import { loadImages, parseScale } from '../../io/dataset.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { encodeNpy } from '../../io/npy.js';
import { size } from '../../ir/types.js';
import { asciiJson } from '../../util/text.js';

export interface InferArgs {
  model: string;
  data: string;
  index: number;
  scale?: string;
  trace?: string;
  force?: boolean;
  json: boolean;
}

/** One image through the integer reference; --trace writes every layer's integer tensor as .npy. */
export function inferCommand(a: InferArgs): void {
  const guard = { force: a.force, protect: [a.model, a.data], option: '--trace' };
  if (a.trace) checkOutputPath(a.trace, guard);
  const { q } = readFxpFile(a.model);
  const inShape = q.values[q.input].shape;
  const imgs = loadImages(a.data, inShape, { scale: parseScale(a.scale) });
  if (!Number.isInteger(a.index) || a.index < 0 || a.index >= imgs.count)
    throw new FxpqError(`--index ${a.index} is outside 0..${imgs.count - 1}`);
  const per = size(inShape);
  const r = runQGraph(q, imgs.data.subarray(a.index * per, (a.index + 1) * per), 1, true);
  const outF = q.values[q.output].format;
  const logits = Array.from(r.output);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (a.trace) {
    const files: Record<string, Uint8Array | string> = {};
    const index: unknown[] = [];
    const tensors = [q.input, ...q.layers.map((l) => l.output)];
    tensors.forEach((t, k) => {
      const v = q.values[t];
      const layer = q.layers.find((l) => l.output === t);
      // File names are generated; the tensor's own name (untrusted) is only in trace.json.
      const file = `${String(k).padStart(2, '0')}_${layer?.op.kind ?? 'input'}.npy`;
      const dtype = v.format.wl === 32 && !v.format.signed ? 'int64' : 'int32';
      files[file] = encodeNpy(dtype, [1, ...v.shape], r.values!.get(t)!);
      index.push({
        tensor: t,
        layer: layer?.name ?? null,
        kind: layer?.op.kind ?? 'input',
        file,
        shape: [1, ...v.shape],
        format: v.format,
      });
    });
    files['trace.json'] = asciiJson({ model: a.model, data: a.data, index: a.index, top1: best, tensors: index }, 2) + '\n';
    writeFolderAtomic(a.trace, files, guard);
  }
  if (a.json) {
    console.log(asciiJson({ index: a.index, top1: best, logits, format: outF }));
    return;
  }
  console.log(
    `image ${a.index}: class ${chalk.bold(String(best))}; logits (${fmtText(outF)}) ${logits.map((v) => `${v} (${toReal(v, outF)})`).join(', ')}`,
  );
  if (a.trace) console.log(`trace: ${q.layers.length + 1} tensors -> ${join(a.trace, 'trace.json')}`);
}
