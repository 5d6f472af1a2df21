import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The package's entry point as built (package.json "main"), as another program imports it.
import * as fxpq from '../dist/src/index.js';
import { tempDir } from './helpers/cli.js';

const dir = tempDir();

describe('library API', () => {
  it('runs the pipeline from the entry point: quantize, .fxp.json, integer reference, plan, Verilog, cycle simulator, estimate', async () => {
    const r = await fxpq.quantizeModel({
      model: 'models/mlp.onnx',
      calib: 'models/data/calib_x.npy',
      method: 'uniform',
      uniformBits: 8,
      maxDrop: 1,
      minBits: 2,
      startBits: 16,
      objective: 'params',
      seed: 0,
    });
    expect(r.report.compression.params).toBeCloseTo(4, 5);
    // Through the file format, as a program that saved it would read it back.
    const file = join(dir, 'mlp.fxp.json');
    writeFileSync(file, JSON.stringify(r.file));
    const { q } = fxpq.readFxpFile(file);

    const n = 24;
    const imgs = fxpq.loadImages('models/data/test_x.npy', r.graph.input.shape, { limit: n });
    const ref = fxpq.runQGraph(q, imgs.data, n).output;
    const float = fxpq.runGraph(r.graph, imgs.data, n).output;
    const agree = fxpq.argmaxRows(ref, n).filter((p, i) => p === fxpq.argmaxRows(float, n)[i]).length;
    expect(agree).toBeGreaterThanOrEqual(n - 2);

    const plan = fxpq.buildPlan(q, { macs: 64, model: 'mlp' });
    const sim = fxpq.simulate(q, plan, fxpq.quantizeInput(imgs.data, q.values[q.input].format), n);
    expect(sim.mismatches).toBe(0);
    expect(Array.from(sim.outputs)).toEqual(Array.from(ref));
    expect(sim.timing).toHaveLength(n);

    const design = fxpq.generateDesign(q, { model: 'mlp', source: 'mlp.onnx', macs: 64 });
    expect(design.sources.length).toBeGreaterThan(1);
    expect(design.files[`${design.top}.v`]).toMatch(new RegExp(`module ${design.top}\\b`));

    const est = fxpq.estimatePlan(plan, 'xc7');
    expect(est.total.lut).toBeGreaterThan(100);
    // Co-simulation needs Icarus or Verilator (test/run.test.ts runs it); here only its export.
    expect(typeof fxpq.cosim).toBe('function');
  });
});
