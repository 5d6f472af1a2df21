import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy, encodeNpy } from '../src/io/npy.js';
import type { SweepResult } from '../src/sweep/sweep.js';
import { chromiumPath, openInChromium } from './helpers/browser.js';
import { fxpq, fxpqAsync, tempDir } from './helpers/cli.js';

const dir = tempDir('fxpq-sweep-');
const calib = join(dir, 'calib.npy');
const cache = join(dir, 'cache');
const test = ['--test', 'models/data/test_x.npy', '--test-labels', 'models/data/test_y.npy', '--test-limit', '300'];
const small = ['--uniform-bits', '8,4', '--max-drops', '1', '--no-ristretto', '--macs', '16,64'];
let first: SweepResult;
let firstStdout = '';

beforeAll(async () => {
  const a = readNpy('models/data/calib_x.npy');
  writeFileSync(calib, encodeNpy('float32', [128, 1, 28, 28], a.data.subarray(0, 128 * 784)));
  const r = await fxpqAsync('sweep', 'models/mlp.onnx', '--calib', calib, ...test, ...small, '--cache', cache, '--out', join(dir, 'a'));
  expect(r.code, r.stderr).toBe(0);
  firstStdout = r.stdout;
  first = JSON.parse(readFileSync(join(dir, 'a', 'sweep.json'), 'utf8'));
});

describe('fxpq sweep', () => {
  it('covers every configuration at every MAC budget, and prints where the report is', () => {
    expect(first.configs.map((c) => c.id)).toEqual(['uniform8', 'uniform4', 'fxpqnet-1']);
    expect(first.points.map((p) => `${p.config}@${p.macs_budget}`)).toEqual([
      'uniform8@16',
      'uniform8@64',
      'uniform4@16',
      'uniform4@64',
      'fxpqnet-1@16',
      'fxpqnet-1@64',
    ]);
    expect(first.configs.every((c) => !c.cached)).toBe(true);
    expect(firstStdout).toContain(join(dir, 'a', 'report.html'));
    expect(first.test_images).toBe(300);
  });

  it('reports the same accuracy, resources and cycles as the single-purpose commands', () => {
    const fx = first.configs.find((c) => c.id === 'fxpqnet-1')!;
    const model = join(dir, 'a', 'models', 'fxpqnet-1.fxp.json');
    const ev = JSON.parse(
      fxpq('eval', model, '--data', 'models/data/test_x.npy', '--labels', 'models/data/test_y.npy', '--limit', '300', '--json').stdout,
    );
    expect(fx.top1).toBe(ev.top1);
    const fl = JSON.parse(
      fxpq('eval', 'models/mlp.onnx', '--data', 'models/data/test_x.npy', '--labels', 'models/data/test_y.npy', '--limit', '300', '--json')
        .stdout,
    );
    expect(first.float.top1).toBe(fl.top1);
    expect(fx.drop).toBeCloseTo(fl.top1 - ev.top1, 9);
    for (const p of first.points.filter((q) => q.config === 'fxpqnet-1')) {
      const est = JSON.parse(fxpq('estimate', model, '--macs', String(p.macs_budget), '--json').stdout);
      expect([p.lut, p.ff, p.dsp, p.bram, p.lutram]).toEqual([est.lut, est.ff, est.dsp, est.bram, est.lutram]);
      // The cycle simulator is checked against the RTL elsewhere; here it checks the sweep's cycles.
      const sim = JSON.parse(
        fxpq('simulate', model, '--data', 'models/data/test_x.npy', '--limit', '2', '--macs', String(p.macs_budget), '--json').stdout,
      );
      expect(p.cycles_per_image).toBe(sim.cycles_per_image);
      expect(p.images_per_second).toBeCloseTo(100e6 / sim.interval_cycles, 6);
    }
  });

  it('marks the Pareto front of accuracy against LUTs and picks the smallest model within the drop', () => {
    const pts = first.points;
    for (const p of pts) {
      const dominated = pts.some(
        (q) => q !== p && q.lut <= p.lut && q.accuracy >= p.accuracy && (q.lut < p.lut || q.accuracy > p.accuracy),
      );
      expect(p.pareto_lut, `${p.config}@${p.macs_budget}`).toBe(!dominated);
    }
    // The cheapest point is always on the front.
    const cheapest = pts.reduce((a, b) => (b.lut < a.lut ? b : a));
    expect(cheapest.pareto_lut).toBe(true);
    const within = first.configs.filter((c) => c.drop <= 1);
    const best = within.reduce((a, b) => (b.bits.params < a.bits.params ? b : a));
    expect(first.chosen).toBe(best.id);
    // 4-bit uniform loses far more than a point on this MLP, so it cannot be the choice.
    expect(first.configs.find((c) => c.id === 'uniform4')!.drop).toBeGreaterThan(1);
  });

  it('re-runs from the cache with the same results', async () => {
    const r = await fxpqAsync('sweep', 'models/mlp.onnx', '--calib', calib, ...test, ...small, '--cache', cache, '--out', join(dir, 'b'));
    expect(r.code, r.stderr).toBe(0);
    const second: SweepResult = JSON.parse(readFileSync(join(dir, 'b', 'sweep.json'), 'utf8'));
    expect(second.configs.every((c) => c.cached)).toBe(true);
    expect(r.stdout).toContain('3 from the cache');
    expect(second.points).toEqual(first.points);
    expect(readFileSync(join(dir, 'b', 'models', 'fxpqnet-1.fxp.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'a', 'models', 'fxpqnet-1.fxp.json'), 'utf8'),
    );
    // A changed option recomputes only what depends on it: one more configuration.
    const r3 = await fxpqAsync(
      'sweep',
      'models/mlp.onnx',
      '--calib',
      calib,
      ...test,
      '--uniform-bits',
      '8,4,6',
      '--max-drops',
      '1',
      '--no-ristretto',
      '--macs',
      '16',
      '--cache',
      cache,
      '--out',
      join(dir, 'c'),
      '--device',
      'up5k',
      '--json',
    );
    const third: SweepResult = JSON.parse(r3.stdout);
    expect(third.configs.map((c) => c.cached)).toEqual([true, true, false, true]);
    // --device: the part's family prices the designs, and each point says whether it fits, as
    // `fxpq estimate --device` does for the same model and budget.
    expect([third.device, third.target]).toEqual(['up5k', 'ice40up']);
    for (const p of third.points) {
      const e = fxpq(
        'estimate',
        join(dir, 'c', 'models', `${p.config}.fxp.json`),
        '--device',
        'up5k',
        '--macs',
        String(p.macs_budget),
        '--json',
      );
      const est = JSON.parse(e.stdout) as { lut: number; device: { fits: boolean } };
      expect([p.fits, p.lut], p.config).toEqual([est.device.fits, est.lut]);
    }
    expect(first.points.every((p) => p.fits === null)).toBe(true);
  });

  it.runIf(chromiumPath() !== null)(
    "writes an HTML report whose plots hold the sweep's points and open without console errors",
    async () => {
      const page = await openInChromium(join(dir, 'a', 'report.html'), ['acc-memory', 'acc-lut', 'layer-bits']);
      expect(page.errors).toEqual([]);
      type P = { x: number; y: number; config: string; macs?: number };
      const mem = page.charts['acc-memory'];
      const memPts = mem.datasets.flatMap((d) => d.data as P[]).filter((p) => p.config !== 'float');
      expect(memPts.map((p) => [p.config, p.x, p.y]).sort()).toEqual(
        first.configs.map((c) => [c.id, c.bits.params / 8192, c.accuracy]).sort(),
      );
      expect(mem.datasets.find((d) => d.label === 'float32')!.data).toEqual([
        expect.objectContaining({ x: first.float.params_kib, y: first.float.accuracy }),
      ]);
      const lut = page.charts['acc-lut'];
      const scatter = lut.datasets.filter((d) => d.label !== 'Pareto front').flatMap((d) => d.data as P[]);
      expect(scatter.map((p) => [p.config, p.macs, p.x, p.y]).sort()).toEqual(
        first.points.map((p) => [p.config, p.macs_budget, p.lut, p.accuracy]).sort(),
      );
      const front = lut.datasets.find((d) => d.label === 'Pareto front')!.data as P[];
      expect(front.map((p) => [p.config, p.macs]).sort()).toEqual(
        first.points
          .filter((p) => p.pareto_lut)
          .map((p) => [p.config, p.macs_budget])
          .sort(),
      );
      const bits = page.charts['layer-bits'];
      const chosen = first.configs.find((c) => c.id === first.chosen)!;
      const layers = chosen.layers.filter((l) => l.kind !== 'flatten');
      expect(bits.labels).toEqual(layers.map((l) => l.name));
      expect(bits.datasets.find((d) => d.label === 'weights')!.data).toEqual(layers.map((l) => l.weights?.wl ?? null));
      expect(bits.datasets.find((d) => d.label === 'output')!.data).toEqual(layers.map((l) => l.output?.wl ?? null));
    },
  );

  it('rejects bad input with one line and a non-zero exit', () => {
    const base = ['sweep', 'models/mlp.onnx', '--calib', calib, '--no-cache', '--out', join(dir, 'bad')];
    for (const [args, msg] of [
      [['--macs', '0'], '--macs: 0 is not a positive integer'],
      [['--uniform-bits', '1'], '--uniform-bits: 1 is not an integer in 2..32'],
      [['--max-drops', 'x'], "--max-drops: 'x' is not a number"],
      [['--target', 'stratix'], 'stratix'],
      [['--test-labels', 'models/data/test_y.npy'], '--test-labels needs --test'],
      [['--clock', '-5'], '--clock must be a positive number'],
      [['--reference-bits', '-8'], '--reference-bits must be 0 (off) or an integer in 2..32, got -8'],
    ] as [string[], string][]) {
      const r = fxpq(...base, ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(msg);
    }
  });
});
