import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { predictOrt, resolveFloatEngine } from '../src/engine/ort.js';
import { predictAll } from '../src/eval/predict.js';
import { loadImages } from '../src/io/dataset.js';
import { size } from '../src/ir/types.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { fxpq } from './helpers/cli.js';

/**
 * The two float engines of `fxpq eval`: onnxruntime-node (float32, used when installed) and fxpq's
 * own float64 engine (the exact fallback). Each is the other's oracle here: on the bundled test
 * images they must pick the same class for every image, apart from images whose two largest float64
 * logits are within float32's rounding of each other.
 */
describe('float engines agree', () => {
  it.each(['lenet5', 'vgg_bn', 'resnet8'])('%s: onnxruntime and the float64 engine predict the same class on 1,000 images', async (m) => {
    const file = `models/${m}.onnx`;
    const g = importOnnxFile(file);
    const imgs = loadImages('models/data/test_x.npy', g.input.shape);
    const own = await predictAll({ kind: 'float', graph: g }, imgs.data, imgs.count, size(g.input.shape));
    const ort = await predictOrt(readFileSync(file), imgs.data, imgs.count, g.input.shape, { batch: 100 });
    const differ = [...own.pred.keys()].filter((i) => own.pred[i] !== ort.pred[i]);
    expect(differ).toEqual([]);
  });

  it('auto picks onnxruntime where it is installed (the test machine has it)', async () => {
    expect(await resolveFloatEngine('auto')).toBe('onnxruntime');
    expect(await resolveFloatEngine('fxpq')).toBe('fxpq');
  });

  it('fxpq eval reports the engine and gives the same top-1 with either', () => {
    const run = (e: string) =>
      JSON.parse(
        fxpq(
          'eval',
          'models/lenet5.onnx',
          '--data',
          'models/data/test_x.npy',
          '--labels',
          'models/data/test_y.npy',
          '--float-engine',
          e,
          '--json',
        ).stdout,
      );
    const a = run('fxpq'),
      b = run('onnxruntime'),
      c = run('auto');
    expect([a.float_engine, b.float_engine, c.float_engine]).toEqual(['fxpq', 'onnxruntime', 'onnxruntime']);
    expect(b.top1).toBe(a.top1);
    expect(c.top1).toBe(a.top1);
  });
});
