import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { microGraph, type MicroSpec } from '../src/calibration/microbench.js';
import { writeZooFxp, zooQGraph } from '../src/calibration/zoo.js';
import { chooseMacs, fitPlan, macsLadder } from '../src/device/fit.js';
import { findPart, PARTS } from '../src/device/parts.js';
import { FxpqError } from '../src/errors.js';
import { generateDesign } from '../src/hw/generate.js';
import { untimedDspPaths } from '../src/pnr/ice40.js';
import { buildPlan, minimumMacs } from '../src/hw/plan.js';
import { fxpq, tempDir } from './helpers/cli.js';

/**
 * Parts as data and the estimator's fit decision. The decision is held to nextpnr-ice40: every
 * design that bench/pnr-collect.ts placed and routed (or that nextpnr refused) on the UltraPlus
 * 5K is planned again here and must get the same answer from the estimator.
 */
const dir = tempDir();

describe('the part table', () => {
  it('names each part once and finds it by either name, case-insensitively', () => {
    expect(new Set(PARTS.map((p) => p.name)).size).toBe(PARTS.length);
    expect(findPart('UP5K').vendor).toBe('iCE40UP5K-SG48');
    expect(findPart('xc7a35t-1cpg236c').name).toBe('xc7a35t');
    expect(() => findPart('up6k')).toThrow(FxpqError);
    expect(() => findPart('up6k')).toThrow(/one of up5k, .*xc7a35t/);
  });
  it('has the datasheet figures of the boards users start with', () => {
    // iCEBreaker (iCE40UP5K-SG48): 5,280 LCs, 30 EBR, 8 DSP, 4 SPRAM (FPGA-DS-02008, table 1.1).
    expect(findPart('up5k')).toMatchObject({ lut: 5280, ff: 5280, bram: 30, dsp: 8, spram: 4, bramKbit: 4 });
    // Arty A7-35T: 20,800 LUTs, 41,600 FFs, 90 DSP48E1, 50 RAMB36 (DS180, table 3).
    expect(findPart('xc7a35t')).toMatchObject({ lut: 20_800, ff: 41_600, dsp: 90, bram: 50, bramKbit: 36 });
    for (const p of PARTS) {
      expect(p.lut, p.name).toBeGreaterThan(0);
      expect(p.io, p.name).toBeGreaterThan(0);
      expect(p.family === 'ice40up' || p.spram === 0, p.name).toBe(true);
      // Only the iCE40 parts have a place-and-route tool on npm.
      expect(p.nextpnr === null || p.family.startsWith('ice40'), p.name).toBe(true);
    }
  });
});

describe('choosing --macs for a part', () => {
  it('puts the weights in SPRAM, loaded after reset, when only that fits the UltraPlus; ROMs where they fit', () => {
    const fxp = writeZooFxp('lenet5', 'mixed', dir);
    const out = join(dir, 'lenet5-up5k-load');
    const r = fxpq('generate', fxp, '--device', 'up5k', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { weights: { placement: string; beats: number } };
    expect(plan.weights.placement).toBe('load');
    expect(readFileSync(join(out, 'weights_stream.hex'), 'utf8').trim().split('\n')).toHaveLength(plan.weights.beats);
    const e = fxpq('estimate', fxp, '--device', 'up5k', '--json');
    const j = JSON.parse(e.stdout) as {
      lutram: number;
      bram: number;
      device: { fits: boolean; resources: { resource: string; need: number; have: number }[] };
    };
    expect(j.device.fits).toBe(true);
    expect(j.device.resources.find((x) => x.resource === 'SPRAM')).toMatchObject({ need: j.lutram, have: 4 });
    expect(j.lutram).toBeGreaterThan(0);
    // A design whose ROMs fit keeps them: nothing to load.
    const q = microGraph({ kind: 'conv', seed: 1002, wlW: 2, wlIn: 6, signedIn: false, cin: 4, cout: 4, hw: 4, k: 1, macs: 8 });
    expect(chooseMacs(q, findPart('up5k')).fit.weights).toBe('rom');
    // Parts without SPRAM are not offered the store unless it is asked for.
    expect(chooseMacs(zooQGraph('lenet5', 'mixed'), findPart('hx8k')).fit.weights).toBe('rom');
  });
  it('tries about two budgets per octave from the smallest the plan accepts', () => {
    expect(macsLadder(1, 16)).toEqual([1, 2, 3, 4, 6, 8, 12, 16]);
    expect(macsLadder(5, 16)).toEqual([5, 6, 8, 12, 16]);
  });
  it('picks a budget that fits, and no larger budget on the ladder is both faster and fitting', () => {
    const q = microGraph({ kind: 'conv', seed: 1002, wlW: 2, wlIn: 6, signedIn: false, cin: 4, cout: 4, hw: 4, k: 1, macs: 8 });
    for (const part of [findPart('up5k'), findPart('up3k'), findPart('xc7a35t')]) {
      const { plan, fit } = chooseMacs(q, part);
      expect(fit.fits, part.name).toBe(true);
      for (const b of macsLadder(minimumMacs(q), 4096)) {
        const p2 = buildPlan(q, { macs: b });
        if (p2.interval < plan.interval) expect(fitPlan(p2, part).fits, `${part.name} --macs ${b}`).toBe(false);
      }
    }
  });
  it('refuses in one line, naming what does not fit and by how much, and writes nothing', () => {
    const fxp = writeZooFxp('lenet5', 'mixed', dir);
    const out = join(dir, 'lenet5-up5k');
    // With its weights in ROM (the bitstream), LeNet-5 needs far more than the UP5K's block RAM.
    const r = fxpq('generate', fxp, '--device', 'up5k', '--weights', 'rom', '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not fit up5k .*of 30 block RAMs \(4 kbit\) \(\d+\.\dx\)/);
    expect(existsSync(out)).toBe(false);
    // The model's name comes from the .fxp.json: its control characters reach the terminal escaped.
    const hostile = JSON.parse(readFileSync(fxp, 'utf8'));
    hostile.source.file = 'evil\u001b[2J\nname.onnx';
    const evil = join(dir, 'evil.fxp.json');
    writeFileSync(evil, JSON.stringify(hostile));
    const h = fxpq('generate', evil, '--device', 'up5k', '--weights', 'rom', '--out', join(dir, 'evil-out'));
    expect(h.code).not.toBe(0);
    expect(h.stderr).toContain('evil\\x1b[2J\\x0aname at --macs');
    expect(h.stderr.trim().split('\n')).toHaveLength(1);
    // The same design fits an Artix-7 35T, and the estimate says so.
    const e = fxpq('estimate', fxp, '--device', 'xc7a35t', '--json');
    expect(e.code, e.stderr).toBe(0);
    const j = JSON.parse(e.stdout) as { target: string; device: { fits: boolean; resources: { need: number; have: number }[] } };
    expect(j.target).toBe('xc7');
    expect(j.device.fits).toBe(true);
    for (const row of j.device.resources) expect(row.need).toBeLessThanOrEqual(row.have);
  });
});

describe("the estimator's fit decision agrees with nextpnr-ice40", () => {
  const data = join(import.meta.dirname, '..', 'src', 'calibration', 'data');
  const files = readdirSync(data).filter((f) => /^pnr-.*\.jsonl$/.test(f));
  it('has place-and-route records to check against', () => {
    expect(files).toContain('pnr-up5k.jsonl');
  });
  for (const f of files) {
    const part = findPart(f.replace(/^pnr-|\.jsonl$/g, ''));
    const recs = readFileSync(join(data, f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { spec: MicroSpec; fits: boolean; pnr?: { lc: number; dsp: number; ram: number } });
    it(`on every design placed and routed (or refused) on ${part.name}: never a false "fits"`, () => {
      const wrong: string[] = [];
      const cautious: string[] = [];
      let fitting = 0;
      for (const r of recs) {
        const d = generateDesign(microGraph(r.spec), { model: 'm', source: 'microbench', macs: r.spec.macs, top: 'm' });
        const fit = fitPlan(d.plan, part, { standalone: true });
        const lc = fit.rows[0];
        if (fit.fits && !r.fits) wrong.push(`${r.spec.seed}: estimator fits, nextpnr refused`);
        // The estimator may refuse what nextpnr placed only where its placeable share of the logic
        // cells decides: between that share and the whole part.
        if (!fit.fits && r.fits) {
          cautious.push(String(r.spec.seed));
          if (!(fit.rows.slice(1).every((x) => x.need <= x.have) && lc.need > lc.have && lc.need <= part.lut))
            wrong.push(`${r.spec.seed}: estimator refused it outside the logic-cell margin, nextpnr placed it`);
        }
        if (r.pnr) {
          fitting++;
          // DSP blocks and block RAMs are the estimator's exact figures.
          expect(fit.rows.find((x) => x.resource === 'DSP blocks')!.need, `${r.spec.seed} DSP`).toBe(r.pnr.dsp);
          expect(fit.rows.find((x) => x.resource.startsWith('block RAMs'))!.need, `${r.spec.seed} BRAM`).toBe(r.pnr.ram);
          expect(Math.abs(lc.need - r.pnr.lc) / r.pnr.lc, `${r.spec.seed} logic cells ${lc.need} vs ${r.pnr.lc}`).toBeLessThanOrEqual(0.2);
        }
      }
      expect(wrong).toEqual([]);
      expect(cautious.length, cautious.join(', ')).toBeLessThanOrEqual(2);
      expect(fitting).toBeGreaterThan(5);
      expect(recs.length - fitting).toBeGreaterThan(5);
    });
  }
});

describe("reading nextpnr-ice40's timing report", () => {
  it('finds the worst paths into and out of unregistered DSP blocks, which its Fmax leaves out, in the routed report', () => {
    // Shaped as nextpnr-ice40 0.8 prints them (implement.test.ts checks a real log has them); the
    // placement-time report comes first and must be ignored.
    const section = (from: string, to: string, steps: [string, number, number][]) => [
      `Info: Critical path report for cross-domain path 'posedge ${from}' -> 'posedge ${to}':`,
      'Info:       type curr  total name',
      ...steps.flatMap(([t, c, tot]) => [
        `Info: ${t.padStart(10)} ${c.toFixed(2)} ${tot.toFixed(2)} Source x`,
        'Info:                          Sink y',
      ]),
      'Info: 1.00 ns logic, 2.00 ns routing',
      '',
    ];
    const clk = 'clk$SB_IO_IN_$glb_clk',
      gnd = '$PACKER_GND_NET_$glb_clk';
    const log = [
      ...section(clk, gnd, [['clk-to-q', 1.0, 1.0]]),
      ...section(gnd, clk, [['clk-to-q', 0.1, 0.1]]),
      'Info: Routing..',
      ...section(clk, gnd, [
        ['clk-to-q', 1.82, 1.82],
        ['routing', 2.41, 4.23],
        ['logic', 1.23, 5.46],
        ['setup', 0.1, 20.28],
      ]),
      ...section(gnd, clk, [
        ['clk-to-q', 0.1, 0.1],
        ['setup', 0.82, 13.26],
      ]),
    ].join('\n');
    expect(untimedDspPaths(log)).toEqual({ intoNs: 20.28, outOfNs: 13.26 });
    expect(untimedDspPaths(log.replaceAll('PACKER_GND_NET', 'other'))).toBeNull();
  });
});
