import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toReal } from '../src/fixed/format.js';
import { runGraph } from '../src/engine/run.js';
import { runQGraph } from '../src/intref/run.js';
import { loadImages } from '../src/io/dataset.js';
import { readFxpFile } from '../src/io/fxpjson.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { fxpqAsync, tempDir } from './helpers/cli.js';

const zoo: { name: string; file: string }[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
const dir = tempDir();
const X = 'models/data/test_x.npy',
  Y = 'models/data/test_y.npy';

/** Heavy work runs in CLI subprocesses, as a user runs it (and so vitest's worker stays responsive). */
async function evalJson(model: string): Promise<{ top1: number; ties: number }> {
  const r = await fxpqAsync('eval', model, '--data', X, '--labels', Y, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}
const top1 = async (model: string) => (await evalJson(model)).top1;
async function quantize(model: string, bits: number): Promise<string> {
  const out = join(dir, `${model.replace(/\W/g, '_')}-${bits}`);
  const r = await fxpqAsync('quantize', model, '--calib', 'models/data/calib_x.npy', '--uniform', String(bits), '--out', out, '--json');
  expect(r.code, r.stderr).toBe(0);
  return join(out, 'model.fxp.json');
}

describe('uniform quantization of the zoo, measured by the integer reference on held-out test images', () => {
  for (const z of zoo) {
    it(`${z.name}: 16 bits within 0.1 pp of float, 8 bits within 1 pp`, async () => {
      const onnx = `models/${z.file}`;
      const [q16, q8] = await Promise.all([quantize(onnx, 16), quantize(onnx, 8)]);
      const [fl, t16, t8] = await Promise.all([top1(onnx), top1(q16), top1(q8)]);
      expect(Math.abs(fl - t16)).toBeLessThanOrEqual(0.1);
      expect(fl - t8).toBeLessThanOrEqual(1);
      // The integers mean what their formats say: at 16 bits the real-valued logits track the float model.
      const g = importOnnxFile(onnx);
      const { q } = readFxpFile(q16);
      const few = loadImages(X, g.input.shape, { limit: 20 });
      const yq = runQGraph(q, few.data, 20).output;
      const yf = runGraph(g, few.data, 20).output;
      const outF = q.values[q.output].format;
      let maxErr = 0,
        maxAbs = 0;
      for (let i = 0; i < yq.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(toReal(yq[i], outF) - yf[i]));
        maxAbs = Math.max(maxAbs, Math.abs(yf[i]));
      }
      expect(maxErr / maxAbs).toBeLessThan(0.02);
      if (z.name !== 'lenet5') return;
      // Its 8-bit logits step by 0.25, so some images tie: eval's count equals the rows whose two
      // largest integer logits, sorted here, are equal.
      const all = loadImages(X, g.input.shape);
      const y8 = runQGraph(readFxpFile(q8).q, all.data, all.count).output;
      let ties = 0;
      for (let b = 0; b < all.count; b++) {
        const row = Array.from(y8.subarray(b * 10, b * 10 + 10)).sort((u, v) => v - u);
        if (row[0] === row[1]) ties++;
      }
      expect(ties).toBeGreaterThan(0);
      expect((await evalJson(q8)).ties).toBe(ties);
    });
  }
});
