import { describe, expect, it } from 'vitest';
import { predictAll } from '../src/eval/predict.js';
import { runQGraph } from '../src/intref/run.js';
import { argmaxRows, runGraph, tiedRows } from '../src/engine/run.js';
import { loadImages } from '../src/io/dataset.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { buildQGraph } from '../src/quant/build.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { uniformAssignment } from '../src/quant/uniform.js';

describe('parallel prediction', () => {
  it('two worker threads give the same predictions as one pass in this thread, float and integer', async () => {
    const g = importOnnxFile('models/lenet5.onnx');
    const imgs = loadImages('models/data/test_x.npy', g.input.shape, { limit: 150 });
    const fg = fuseGraph(g);
    const q = buildQGraph(fg, uniformAssignment(fg, calibrate(g, loadImages('models/data/calib_x.npy', g.input.shape, { limit: 64 })), 6));
    const per = 784;
    const floatRef = argmaxRows(runGraph(g, imgs.data, imgs.count).output, imgs.count);
    const intRef = argmaxRows(runQGraph(q, imgs.data, imgs.count).output, imgs.count);
    let progress = 0;
    const f2 = await predictAll({ kind: 'float', graph: g }, imgs.data, imgs.count, per, {
      workers: 2,
      batch: 16,
      onProgress: (d) => {
        progress = d;
      },
    });
    const i2 = await predictAll({ kind: 'int', q }, imgs.data, imgs.count, per, { workers: 2, batch: 16 });
    expect(Array.from(f2.pred)).toEqual(Array.from(floatRef));
    expect(Array.from(i2.pred)).toEqual(Array.from(intRef));
    expect(progress).toBe(150);
    // The integer predictions are not a copy of the float ones (6 bits changes some images).
    expect(Array.from(i2.pred)).not.toEqual(Array.from(f2.pred));
    // Ties, counted here by sorting each row of integer logits: 6-bit logits tie on some images.
    const y = runQGraph(q, imgs.data, imgs.count).output;
    const sortedTies = Array.from({ length: imgs.count }, (_, b) => {
      const row = Array.from(y.subarray(b * 10, b * 10 + 10)).sort((u, v) => v - u);
      return row[0] === row[1] ? 1 : 0;
    });
    expect(Array.from(i2.tied)).toEqual(sortedTies);
    expect(sortedTies.reduce((u: number, v) => u + v, 0)).toBeGreaterThan(0);
  });

  it("an error while taking a worker's answer rejects instead of hanging", async () => {
    const g = importOnnxFile('models/lenet5.onnx');
    const imgs = loadImages('models/data/test_x.npy', g.input.shape, { limit: 40 });
    const run = predictAll({ kind: 'float', graph: g }, imgs.data, imgs.count, 784, {
      workers: 2,
      batch: 16,
      onProgress: () => {
        throw new Error('progress failed');
      },
    });
    await expect(run).rejects.toThrow('progress failed');
  }, 20000);

  it('a tie is the largest value shared, and argmax then takes the first such class', () => {
    const y = Float64Array.from([1, 3, 3, /**/ 2, 1, 0, /**/ 5, 5, 5, /**/ 0, 2, 2.5, /**/ -1, -1, -2]);
    expect(Array.from(tiedRows(y, 5))).toEqual([1, 0, 1, 0, 1]);
    expect(Array.from(argmaxRows(y, 5))).toEqual([1, 0, 0, 2, 0]);
  });
});
