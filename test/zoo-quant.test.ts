import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toReal } from '../src/fixed/format.js';
import { evaluate } from '../src/eval/evaluate.js';
import { runGraph } from '../src/engine/run.js';
import { evaluateInt } from '../src/intref/evaluate.js';
import { runQGraph } from '../src/intref/run.js';
import { loadImages, loadLabels } from '../src/io/dataset.js';
import { quantizeModel } from '../src/search/quantize.js';

const uniform = (model: string, bits: number) => quantizeModel({ model, calib: 'models/data/calib_x.npy', method: 'uniform', uniformBits: bits, maxDrop: 1, minBits: 2, startBits: 16, objective: 'params', seed: 0 });

const zoo: { name: string; file: string }[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));

describe('uniform quantization of the zoo, measured by the integer reference on held-out test images', () => {
  for (const z of zoo) {
    it(`${z.name}: 16 bits within 0.1 pp of float, 8 bits within 1 pp`, async () => {
      const q16 = await uniform(`models/${z.file}`, 16);
      const q8 = await uniform(`models/${z.file}`, 8);
      const test = loadImages('models/data/test_x.npy', q16.graph.input.shape);
      const labels = loadLabels('models/data/test_y.npy', test, 10);
      const fl = evaluate(q16.graph, test, labels).top1!;
      const t16 = evaluateInt(q16.q, test, { labels }).top1!;
      const t8 = evaluateInt(q8.q, test, { labels }).top1!;
      expect(Math.abs(fl - t16)).toBeLessThanOrEqual(0.1);
      expect(fl - t8).toBeLessThanOrEqual(1);
      // The integers mean what their formats say: at 16 bits the real-valued logits track the float model.
      const few = loadImages('models/data/test_x.npy', q16.graph.input.shape, { limit: 20 });
      const yq = runQGraph(q16.q, few.data, 20).output;
      const yf = runGraph(q16.graph, few.data, 20).output;
      const outF = q16.q.values[q16.q.output].format;
      let maxErr = 0, maxAbs = 0;
      for (let i = 0; i < yq.length; i++) { maxErr = Math.max(maxErr, Math.abs(toReal(yq[i], outF) - yf[i])); maxAbs = Math.max(maxAbs, Math.abs(yf[i])); }
      expect(maxErr / maxAbs).toBeLessThan(0.02);
    });
  }
});
