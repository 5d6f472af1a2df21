import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseMacs, fitPlan } from '../src/device/fit.js';
import { findPart } from '../src/device/parts.js';
import { buildPlan } from '../src/hw/plan.js';
import { loadImages } from '../src/io/dataset.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { buildQGraph } from '../src/quant/build.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { uniformAssignment } from '../src/quant/uniform.js';
import { DeviceCost } from '../src/search/device-cost.js';
import { fxpqAwait, tempDir } from './helpers/cli.js';

/**
 * The device-aware search (`fxpq quantize --device PART --objective fps|lut`). Its price of a
 * configuration is held to the tools users run on the result: the design it maps a configuration to
 * must be the one `estimate --device` (chooseMacs, a full scan of the budget ladder) picks, and its
 * figures must be the estimator's.
 */
const dir = tempDir();
function network(model: string) {
  const g = importOnnxFile(`models/${model}.onnx`);
  const stats = calibrate(g, loadImages('models/data/calib_x.npy', g.input.shape, { limit: 64 }));
  const fg = fuseGraph(g);
  return { fg, uniform: (bits: number) => uniformAssignment(fg, stats, bits) };
}
const { fg, uniform } = network('lenet5');
const BITS = [16, 12, 10, 8, 6, 5, 4];

describe('pricing a configuration on a part', () => {
  // mlp on the UP5K fits at --macs 4 and 8 but not at 3 or 6 (the weight store's shape changes with
  // the folding): fitting is not monotone in the budget.
  for (const [model, name] of [
    ['lenet5', 'up5k'],
    ['lenet5', 'ecp5-25f'],
    ['lenet5', 'xc7a35t'],
    ['mlp', 'up5k'],
    ['mlp', 'up3k'],
  ]) {
    it(`maps each configuration to the design estimate --device chooses for it (${model} on ${name}), in any order of calls`, () => {
      const { fg, uniform } = network(model);
      const part = findPart(name);
      const o = { objective: 'fps' as const, standalone: Boolean(part.nextpnr), model };
      const forward = new DeviceCost(fg, part, o);
      const backward = new DeviceCost(fg, part, o);
      const costs = BITS.map((b) => forward.cost(uniform(b)));
      // The walk over the ladder starts where the last configuration's ended: the answer must not
      // depend on it.
      expect([...BITS].reverse().map((b) => backward.cost(uniform(b)))).toEqual([...costs].reverse());
      let fitting = 0;
      for (const b of BITS) {
        const q = buildQGraph(fg, uniform(b));
        const ref = chooseMacs(q, part, { standalone: o.standalone });
        const p = forward.point(uniform(b));
        expect(p.fit.fits, `${b} bits`).toBe(ref.fit.fits);
        if (!ref.fit.fits) continue;
        fitting++;
        expect(p.plan.interval, `${b} bits`).toBe(ref.plan.interval);
        expect(p.fit.estimate, `${b} bits`).toEqual(ref.fit.estimate);
      }
      expect(fitting).toBeGreaterThan(0);
    });
  }

  it('prices a faster fitting design below a slower one, and any fitting design below one that fits nowhere', () => {
    const part = findPart('up5k');
    const dc = new DeviceCost(fg, part, { objective: 'fps', standalone: true, model: 'lenet5' });
    const rows = BITS.map((b) => ({ b, cost: dc.cost(uniform(b)), p: dc.point(uniform(b)) }));
    for (const x of rows)
      for (const y of rows) {
        if (x.p.fit.fits && !y.p.fit.fits) expect(x.cost, `${x.b} vs ${y.b} bits`).toBeLessThan(y.cost);
        if (x.p.fit.fits && y.p.fit.fits && x.p.plan.interval < y.p.plan.interval)
          expect(x.cost, `${x.b} vs ${y.b} bits`).toBeLessThan(y.cost);
      }
    // 16 bits everywhere needs 43 pins of the SG48's 39 and more block RAM than it has; 5 bits fits.
    expect(rows[0].p.fit.fits).toBe(false);
    expect(rows.find((r) => r.b === 5)!.p.fit.fits).toBe(true);
  });

  it('under lut, prices the share of the part the design takes at one budget, from the estimator', () => {
    const part = findPart('xc7a35t');
    const dc = new DeviceCost(fg, part, { objective: 'lut', macs: 16, standalone: false, model: 'lenet5' });
    for (const b of [12, 8, 6]) {
      const plan = buildPlan(buildQGraph(fg, uniform(b)), { macs: 16 });
      const f = fitPlan(plan, part);
      expect(f.fits).toBe(true);
      // Hand-summed from the fit rows: LUTs, flip-flops, DSP blocks and block RAMs of the part.
      const share = f.rows.reduce((s, r) => s + r.need / r.have, 0);
      expect(dc.cost(uniform(b))).toBeCloseTo(share, 12);
    }
    expect(dc.cost(uniform(6))).toBeLessThan(dc.cost(uniform(12)));
  });
});

describe('fxpq quantize --device', () => {
  const calib = 'models/data/calib_x.npy';
  it('ranks steps by speed on the part: a design that fits, faster than the memory objective finds, within a point on the test set', async () => {
    const out = join(dir, 'fps');
    const r = await fxpqAwait('quantize', 'models/lenet5.onnx', '--calib', calib, '--device', 'up5k', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      device: {
        fits: boolean;
        objective: string;
        mac_budget: number;
        weights: string;
        interval_cycles: number;
        resources: { resource: string; need: number; have: number }[];
        trace: { within: boolean; validation_drop: number; point: { fits: boolean } }[];
      };
    };
    expect(rep.device.objective).toBe('fps');
    expect(rep.device.fits).toBe(true);
    // The trace shows accuracy against the design at each point the search scored: it starts where
    // nothing fits (16 bits) and ends on the result.
    expect(rep.device.trace[0].point.fits).toBe(false);
    expect(rep.device.trace.some((t) => !t.within)).toBe(true);
    for (const t of rep.device.trace.filter((x) => x.within)) expect(t.validation_drop).toBeLessThanOrEqual(1);

    // The same design, resources and cycles through the estimator's own command on the written model.
    const est = await fxpqAwait('estimate', join(out, 'model.fxp.json'), '--device', 'up5k', '--json');
    expect(est.code, est.stderr).toBe(0);
    const e = JSON.parse(est.stdout) as { macs: number; device: { fits: boolean; resources: { resource: string; need: number }[] } };
    expect(e.device.fits).toBe(true);
    expect(e.macs).toBe(rep.device.mac_budget);
    // estimate prices the core inside a larger design (no pins); every other row must agree.
    for (const row of e.device.resources)
      expect(rep.device.resources.find((x) => x.resource === row.resource)?.need, row.resource).toBe(row.need);
    const sim = await fxpqAwait(
      'simulate',
      join(out, 'model.fxp.json'),
      '--data',
      'models/data/test_x.npy',
      '--limit',
      '2',
      '--macs',
      String(rep.device.mac_budget),
      '--weights',
      rep.device.weights,
      '--json',
    );
    expect(sim.code, sim.stderr).toBe(0);
    expect((JSON.parse(sim.stdout) as { cycles_per_image: number }).cycles_per_image).toBe(rep.device.interval_cycles);

    // Against the memory objective on the same part: faster.
    const mem = join(dir, 'overall');
    const m = await fxpqAwait(
      'quantize',
      'models/lenet5.onnx',
      '--calib',
      calib,
      '--device',
      'up5k',
      '--objective',
      'overall',
      '--out',
      mem,
      '--json',
    );
    expect(m.code, m.stderr).toBe(0);
    const memRep = JSON.parse(readFileSync(join(mem, 'report.json'), 'utf8')) as { device: { interval_cycles: number; fits: boolean } };
    expect(memRep.device.fits).toBe(true);
    expect(rep.device.interval_cycles).toBeLessThan(memRep.device.interval_cycles);

    // Top-1 on the 1,000 bundled test images within a point of the float model's.
    const acc = async (model: string) => {
      const x = await fxpqAwait('eval', model, '--data', 'models/data/test_x.npy', '--labels', 'models/data/test_y.npy');
      expect(x.code, x.stderr).toBe(0);
      return Number(/top-1 ([\d.]+) %/.exec(x.stdout)![1]);
    };
    expect(await acc(join(out, 'model.fxp.json'))).toBeGreaterThanOrEqual((await acc('models/lenet5.onnx')) - 1);
  });

  it('refuses in one line, writing nothing, when the result cannot fit or the objective needs a part', async () => {
    const small = join(dir, 'lp1k');
    const r = await fxpqAwait('quantize', 'models/lenet5.onnx', '--calib', calib, '--device', 'lp1k', '--out', small);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not fit lp1k .*raise --max-drop or pick a larger part/);
    expect(existsSync(small)).toBe(false);
    const none = await fxpqAwait('quantize', 'models/lenet5.onnx', '--calib', calib, '--objective', 'fps', '--out', join(dir, 'x'));
    expect(none.code).not.toBe(0);
    expect(none.stderr.trim()).toMatch(/--objective fps prices designs on a part: name one with --device$/);
    const sweep = await fxpqAwait('sweep', 'models/lenet5.onnx', '--calib', calib, '--objective', 'lut', '--out', join(dir, 's'));
    expect(sweep.code).not.toBe(0);
    expect(sweep.stderr.trim()).toMatch(/^[^\n]*--objective lut prices designs on a part: name one with --device$/);
    const macs = await fxpqAwait('quantize', 'models/lenet5.onnx', '--calib', calib, '--macs', '8', '--out', join(dir, 'y'));
    expect(macs.code).not.toBe(0);
    expect(macs.stderr.trim()).toMatch(/--macs and --weights need --device$/);
  });
});
