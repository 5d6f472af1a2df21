import { describe, expect, it } from 'vitest';
import { predictAll } from '../src/eval/predict.js';
import { runQGraph } from '../src/intref/run.js';
import { argmaxRows, runGraph } from '../src/engine/run.js';
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
    const f2 = await predictAll({ kind: 'float', graph: g }, imgs.data, imgs.count, per, { workers: 2, batch: 16, onProgress: (d) => { progress = d; } });
    const i2 = await predictAll({ kind: 'int', q }, imgs.data, imgs.count, per, { workers: 2, batch: 16 });
    expect(Array.from(f2)).toEqual(Array.from(floatRef));
    expect(Array.from(i2)).toEqual(Array.from(intRef));
    expect(progress).toBe(150);
    // The integer predictions are not a copy of the float ones (6 bits changes some images).
    expect(Array.from(i2)).not.toEqual(Array.from(f2));
  });
});
