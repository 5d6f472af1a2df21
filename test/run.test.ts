import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTool } from '../src/cosim/simulators.js';
import { buildModel, randn, rng } from '../src/onnx/builder.js';
import { chromiumPath, openInChromium } from './helpers/browser.js';
import { fxpq, fxpqAsync, tempDir } from './helpers/cli.js';

describe('fxpq run', () => {
  it('runs the whole flow on the bundled model in under 5 minutes and says where the RTL and the report are', async () => {
    const dir = tempDir('fxpq-run-');
    const out = join(dir, 'out'),
      rtl = join(dir, 'rtl');
    const t0 = performance.now();
    const r = await fxpqAsync('run', '--cache', join(dir, 'cache'), '--out', out, '--rtl-out', rtl);
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(seconds).toBeLessThan(300);
    expect(r.stdout).toContain(`RTL in ${rtl}, report in ${join(out, 'report.html')}`);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.model).toBe('lenet5');
    expect(run.quantize.label).toBe('FxP-QNet (max-drop 1)');
    expect(run.quantize.drop).toBeLessThanOrEqual(1);
    expect(run.simulate).toMatchObject({ images: 1000, mismatches: 0, cycles_per_image: run.hardware.cycles_per_image });
    if (hasTool('verilator'))
      expect(run.cosim).toMatchObject({ sim: 'verilator', images: 100, mismatches: 0, cycles_per_image: run.hardware.cycles_per_image });
    expect(existsSync(join(rtl, 'files.f'))).toBe(true);
    expect(existsSync(join(out, 'model.fxp.json'))).toBe(true);
    // The estimate printed is the one `fxpq estimate` gives for the same model and budget.
    const est = JSON.parse(fxpq('estimate', join(out, 'model.fxp.json'), '--macs', '256', '--json').stdout);
    expect([run.estimate.lut, run.estimate.ff, run.estimate.dsp, run.estimate.bram]).toEqual([est.lut, est.ff, est.dsp, est.bram]);
    if (chromiumPath()) {
      const page = await openInChromium(join(out, 'report.html'), ['acc-memory', 'acc-lut', 'layer-bits']);
      expect(page.errors).toEqual([]);
      expect(page.charts['layer-bits'].labels.length).toBeGreaterThan(0);
    }
  });

  it('runs the whole flow on the MobileNet-style zoo model (depthwise convolutions and a Concat in hardware)', async () => {
    const dir = tempDir('fxpq-run-');
    const out = join(dir, 'out'),
      rtl = join(dir, 'rtl');
    const r = await fxpqAsync(
      'run',
      'models/mobilenet.onnx',
      '--cache',
      join(dir, 'cache'),
      '--out',
      out,
      '--rtl-out',
      rtl,
      '--cosim-images',
      '20',
    );
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.model).toBe('mobilenet');
    expect(run.quantize.drop).toBeLessThanOrEqual(1);
    expect(run.simulate).toMatchObject({ images: 1000, mismatches: 0, cycles_per_image: run.hardware.cycles_per_image });
    if (hasTool('verilator'))
      expect(run.cosim).toMatchObject({ sim: 'verilator', images: 20, mismatches: 0, cycles_per_image: run.hardware.cycles_per_image });
    const plan = JSON.parse(readFileSync(join(rtl, 'plan.json'), 'utf8'));
    const kinds = plan.engines.map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === 'depthwise').length).toBeGreaterThanOrEqual(4);
    expect(kinds).toContain('concat');
  });

  it('says when no RTL simulator is asked for, and needs --calib for inputs unlike the bundled images', async () => {
    const dir = tempDir('fxpq-run-');
    const r = await fxpqAsync(
      'run',
      'models/mlp.onnx',
      '--sim',
      'none',
      '--cache',
      join(dir, 'cache'),
      '--out',
      join(dir, 'out'),
      '--rtl-out',
      join(dir, 'rtl'),
      '--macs',
      '32',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cosim\s+skipped \(--sim none\)/);
    const bad = fxpq('run', 'models/mlp.onnx', '--macs', '0');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const r4 = rng(3);
    writeFileSync(
      join(dir, 'small.onnx'),
      buildModel({
        inputShape: ['N', 1, 4, 4],
        inits: [
          { name: 'w', dims: [2, 1, 3, 3], values: randn(r4, 18) },
          { name: 'fw', dims: [3, 8], values: randn(r4, 24) },
        ],
        nodes: [
          { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
          { op: 'Flatten', inputs: ['c'], outputs: ['f'] },
          { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['y'], attrs: { transB: 1 } },
        ],
      }),
    );
    const other = fxpq('run', join(dir, 'small.onnx'), '--out', join(dir, 'o2'));
    expect(other.code).toBe(1);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(other.stderr).toContain('give --calib');
    expect(existsSync(join(dir, 'o2'))).toBe(false);
  });

  it("with --device: the budget that fits the part, its family's estimate, and one line when nothing fits", async () => {
    const dir = tempDir('fxpq-run-');
    const r = rng(5);
    const model = join(dir, 'small28.onnx');
    writeFileSync(
      model,
      buildModel({
        inputShape: ['N', 1, 28, 28],
        inits: [
          { name: 'w1', dims: [4, 1, 3, 3], values: randn(r, 36, 0.5) },
          { name: 'w2', dims: [8, 4, 3, 3], values: randn(r, 288, 0.3) },
          { name: 'fw', dims: [10, 8], values: randn(r, 80, 0.5) },
        ],
        nodes: [
          { op: 'Conv', inputs: ['x', 'w1'], outputs: ['c1'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
          { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
          { op: 'Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
          { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
          { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['g'] },
          { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
          { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['y'], attrs: { transB: 1 } },
        ],
      }),
    );
    const common = ['--sim', 'none', '--max-drop', '100', '--cache', join(dir, 'cache')];
    const out = join(dir, 'out');
    const ok = await fxpqAsync('run', model, ...common, '--device', 'xc7a35t', '--out', out, '--rtl-out', join(dir, 'rtl'));
    expect(ok.code, ok.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.device).toMatchObject({ name: 'xc7a35t', fits: true, implement: null });
    expect(run.estimate.target).toBe('xc7');
    // The same choice as `fxpq estimate --device` on the model the run wrote.
    const est = JSON.parse(fxpq('estimate', join(out, 'model.fxp.json'), '--device', 'xc7a35t', '--json').stdout);
    expect(run.hardware.macs_budget).toBe(est.macs);
    expect(est.device.fits).toBe(true);
    // On an iCEBreaker's UP5K the run goes on to place and route, and the netlist runs the test bench.
    const up = await fxpqAsync('run', model, ...common, '--device', 'up5k', '--out', join(dir, 'o2'), '--rtl-out', join(dir, 'r2'));
    expect(up.code, up.stderr).toBe(0);
    const upRun = JSON.parse(readFileSync(join(dir, 'o2', 'run.json'), 'utf8'));
    expect(upRun.device).toMatchObject({ name: 'up5k', fits: true });
    expect(upRun.device.implement).toMatchObject({ device: 'up5k', fits: true, gate_sim: { mismatches: 0, cycles_match: true } });
    expect(existsSync(upRun.device.implement.bitstream)).toBe(true);
    // A part too small for it: one line, nothing written.
    const lp = await fxpqAsync('run', model, ...common, '--device', 'lp1k', '--out', join(dir, 'o3'), '--rtl-out', join(dir, 'r3'));
    expect(lp.code).toBe(1);
    expect(lp.stderr.trim().split('\n')).toHaveLength(1);
    expect(lp.stderr).toMatch(/does not fit lp1k /);
    expect(existsSync(join(dir, 'o3'))).toBe(false);
    expect(existsSync(join(dir, 'r3'))).toBe(false);
  });
});
