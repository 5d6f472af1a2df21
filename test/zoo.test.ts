import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/eval/evaluate.js';
import { runGraph } from '../src/engine/run.js';
import { loadImages, loadLabels } from '../src/io/dataset.js';
import { graphStats } from '../src/ir/stats.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { fxpq } from './helpers/cli.js';
import { maxAbsDiff, runOrt } from './helpers/ort.js';

/** Written by models/train_zoo.py from PyTorch: an oracle independent of our importer. */
interface ZooEntry {
  name: string;
  file: string;
  params: number;
  params_bn_folded?: number;
  macs: number;
  float_top1_test_1000: number;
  ops: string[];
  has_batchnorm_nodes: boolean;
}
const zoo: ZooEntry[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
const X = 'models/data/test_x.npy';
const Y = 'models/data/test_y.npy';

describe('model zoo', () => {
  it('has the five required kinds of model, each file at most 5 MB, one with BatchNormalization nodes', () => {
    expect(zoo.map((z) => z.name).sort()).toEqual(['lenet5', 'mlp', 'mobilenet', 'resnet8', 'vgg_bn']);
    for (const z of zoo) {
      expect(existsSync(`models/${z.file}`)).toBe(true);
      expect(readFileSync(`models/${z.file}`).length).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    expect(zoo.some((z) => z.has_batchnorm_nodes && z.ops.includes('BatchNormalization'))).toBe(true);
    expect(zoo.find((z) => z.name === 'resnet8')!.ops).toEqual(expect.arrayContaining(['Add', 'GlobalAveragePool']));
    expect(zoo.find((z) => z.name === 'mlp')!.ops).toContain('Gemm');
    expect(zoo.find((z) => z.name === 'mobilenet')!.ops).toEqual(expect.arrayContaining(['Concat', 'Conv', 'GlobalAveragePool']));
    // MobileNet-style: depthwise convolutions (one group per channel) and one concatenation.
    const mb = importOnnxFile('models/mobilenet.onnx');
    expect(
      mb.nodes.filter((n) => n.op.kind === 'conv' && n.op.group > 1 && n.op.group === n.op.weight.shape[0]).length,
    ).toBeGreaterThanOrEqual(4);
    expect(mb.nodes.filter((n) => n.op.kind === 'concat')).toHaveLength(1);
  });

  for (const z of zoo) {
    describe(z.name, () => {
      const g = importOnnxFile(`models/${z.file}`);

      it('logits agree with onnxruntime-node within 1e-4 on 200 test images', async () => {
        const imgs = loadImages(X, g.input.shape, { limit: 200 });
        const ours = runGraph(g, imgs.data, imgs.count).output;
        const ref = await runOrt(readFileSync(`models/${z.file}`), Float32Array.from(imgs.data), [imgs.count, ...g.input.shape]);
        expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-4);
      });

      it('parameter and MAC counts equal what PyTorch reports', () => {
        const st = graphStats(g);
        expect(st.params).toBe(z.params_bn_folded ?? z.params);
        expect(st.macs).toBe(z.macs);
      });

      it("top-1 on the 1,000 test images equals PyTorch's within one image", () => {
        const imgs = loadImages(X, g.input.shape);
        const r = evaluate(g, imgs, loadLabels(Y, imgs, 10));
        expect(Math.abs(r.top1! - z.float_top1_test_1000)).toBeLessThanOrEqual(0.1);
      });
    });
  }

  it('fxpq info and fxpq eval --json on a zoo model', () => {
    const info = fxpq('info', 'models/resnet8.onnx', '--json');
    expect(info.code).toBe(0);
    const z = zoo.find((e) => e.name === 'resnet8')!;
    expect(JSON.parse(info.stdout)).toMatchObject({ params: z.params_bn_folded ?? z.params, macs: z.macs });
    const ev = fxpq(
      'eval',
      'models/resnet8.onnx',
      '--data',
      'models/data/test_x_u8.npy',
      '--scale',
      '1/255',
      '--labels',
      Y,
      '--limit',
      '300',
      '--json',
    );
    expect(ev.code).toBe(0);
    const out = JSON.parse(ev.stdout);
    expect(Object.keys(out).sort()).toEqual(['float_engine', 'images', 'seconds', 'ties', 'top1']);
    expect(out.images).toBe(300);
    // Float logits practically never share their largest value.
    expect(out.ties).toBe(0);
    expect(out.top1).toBeGreaterThan(80);
    const human = fxpq('info', 'models/resnet8.onnx');
    expect(human.stdout).toMatch(/GlobalAveragePool|gap/);
    expect(human.stdout).toMatch(/total: [\d,]+ parameters, [\d,]+ MACs per image/);
  });
});
