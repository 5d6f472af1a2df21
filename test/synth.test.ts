import { describe, expect, it } from 'vitest';
import { fxpqAsync, tempDir } from './helpers/cli.js';
import { ZOO, writeZooFxp, zooQGraph } from '../src/calibration/zoo.js';
import { randomGraph } from './helpers/random-graph.js';
import { generateDesign, synthesisFiles } from '../src/hw/generate.js';
import { synthesize } from '../src/synth/yosys.js';
import { estimatePlan } from '../src/estimate/estimate.js';
import { microGraph, microSpecs } from '../src/calibration/microbench.js';

/**
 * Real synthesis of the generated RTL with Yosys (WebAssembly). Whole networks take minutes each
 * (mapping the weight ROMs' initial contents dominates: 1.5-4 minutes per model and target), so
 * CI synthesizes the two smallest zoo models at the mixed configuration (2-8-bit weights) for xc7
 * and a small network for iCE40 and ECP5; bench/synth-zoo.ts runs every model, configuration and
 * target, with the results in docs/hardware-results.md.
 */
const dir = tempDir();
const MACS = 64;

async function synth(name: string, target: string) {
  const fxp = writeZooFxp(name, 'mixed', dir);
  const r = await fxpqAsync('synth', fxp, '--target', target, '--macs', String(MACS), '--json');
  expect(r.code, r.stderr).toBe(0);
  const synthRes = JSON.parse(r.stdout) as { lut: number; ff: number; dsp: number; bram: number; lutram: number; macs: number };
  const e = await fxpqAsync('estimate', fxp, '--target', target, '--macs', String(MACS), '--json');
  expect(e.code, e.stderr).toBe(0);
  return { ...synthRes, estimate: JSON.parse(e.stdout) as { lut: number; ff: number; dsp: number; bram: number; lutram: number } };
}

describe('the generated RTL synthesizes with Yosys', () => {
  for (const z of ZOO.filter((m) => m.name === 'mlp' || m.name === 'lenet5')) {
    it(`${z.name} mixed: synth_xilinx`, { timeout: 900_000 }, async () => {
      const s = await synth(z.name, 'xc7');
      expect(s.lut).toBeGreaterThan(0);
      expect(s.ff).toBeGreaterThan(0);
      // Weight ROMs and activation buffers land in block RAM, not in LUTs.
      expect(s.bram).toBeGreaterThan(0);
      // The analytical estimate of the same design: DSP, block and distributed RAM exact (deep
      // ROMs follow memory_libmap's own cost model), LUTs and flip-flops within 15 %.
      expect(s.estimate.dsp, 'DSP').toBe(s.dsp);
      expect(s.estimate.lutram, 'LUTRAM').toBe(s.lutram);
      expect(s.estimate.bram, 'BRAM').toBe(s.bram);
      expect(Math.abs(s.estimate.lut - s.lut) / s.lut, `LUT ${s.estimate.lut} vs ${s.lut}`).toBeLessThanOrEqual(0.15);
      expect(Math.abs(s.estimate.ff - s.ff) / s.ff, `FF ${s.estimate.ff} vs ${s.ff}`).toBeLessThanOrEqual(0.15);
    });
  }
  it(
    'a small network (conv + residual add): synth_ice40 -dsp and synth_ecp5, with the estimator checks',
    { timeout: 300_000 },
    async () => {
      const q = randomGraph('add', 11, { groups: false });
      const d = generateDesign(q, { model: 'small', source: 'test', macs: 8, images: 1 });
      const files = synthesisFiles(d);
      for (const target of ['ice40up', 'ecp5'] as const) {
        const s = await synthesize({ files, sources: d.sources, top: d.top, target });
        expect(s.lut, target).toBeGreaterThan(0);
        expect(s.ff, target).toBeGreaterThan(0);
        {
          // The estimator on both families: DSP, block and distributed RAM exact (memory_libmap's
          // cost model, mul2dsp's slicing), LUT and FF within 15 %.
          const e = estimatePlan(d.plan, target).total;
          expect(e.dsp, 'DSP').toBe(s.dsp);
          expect(e.bram, 'BRAM').toBe(s.bram);
          expect(e.lutram, 'LUTRAM').toBe(s.lutram);
          expect(Math.abs(e.lut - s.lut) / s.lut, `LUT ${e.lut} vs ${s.lut}`).toBeLessThanOrEqual(0.15);
          expect(Math.abs(e.ff - s.ff) / s.ff, `FF ${e.ff} vs ${s.ff}`).toBeLessThanOrEqual(0.15);
        }
      }
    },
  );
  it(
    'a weight store loaded after reset: SPRAM on the UltraPlus, block RAM elsewhere, as the estimator maps it',
    { timeout: 300_000 },
    async () => {
      const q = zooQGraph('lenet5', 'mixed');
      const d = generateDesign(q, { model: 'lenet5', source: 'zoo', macs: 8, weights: 'load', top: 'm', images: 1 });
      const s = d.plan.weightStore!;
      for (const target of ['ice40up', 'xc7', 'ecp5'] as const) {
        const y = await synthesize({ files: synthesisFiles(d), sources: d.sources, top: 'm', target });
        const e = estimatePlan(d.plan, target).total;
        expect(e.bram, `${target} BRAM`).toBe(y.bram);
        expect(e.lutram, `${target} LUTRAM/SPRAM`).toBe(y.lutram);
        expect(e.dsp, `${target} DSP`).toBe(y.dsp);
        expect(Math.abs(e.lut - y.lut) / y.lut, `${target} LUT ${e.lut} vs ${y.lut}`).toBeLessThanOrEqual(0.15);
        expect(Math.abs(e.ff - y.ff) / y.ff, `${target} FF ${e.ff} vs ${y.ff}`).toBeLessThanOrEqual(0.15);
        // SPRAM is 16 bits x 16K: the store's words side by side.
        if (target === 'ice40up') expect(y.cells.SB_SPRAM256KA).toBe((s.wordBits / 16) * Math.ceil(s.depth / 16384));
      }
    },
  );
  it(
    'global average pooling by an even reciprocal (36 taps: 114 / 2^12) takes one multiplier per lane on every family',
    { timeout: 300_000 },
    async () => {
      // Microbenchmark gap 1088: a 1x1 conv (one multiplier) feeding a 6x6 global average pool of
      // two channels in one lane, whose 13-bit window sum is multiplied by 114. Written as an
      // unsigned product of sign- and zero-extended vectors, Yosys kept the extension for this
      // reciprocal and built 3 MULT18X18D / SB_MAC16 where 2 suffice.
      const spec = microSpecs(120).find((x) => x.seed === 1088)!;
      expect(spec.kind).toBe('gap');
      const d = generateDesign(microGraph(spec), { model: 'm', source: 'microbench', macs: spec.macs, top: 'm' });
      const pool = d.plan.engines.find((e) => e.kind === 'pool')!;
      expect(pool.kind === 'pool' && pool.recips.map((r) => r.r)).toEqual([114]);
      for (const target of ['ecp5', 'ice40up', 'xc7'] as const) {
        const s = await synthesize({ files: d.files, sources: d.sources, top: 'm', target });
        expect(s.dsp, target).toBe(2);
        expect(estimatePlan(d.plan, target).total.dsp, target).toBe(s.dsp);
      }
    },
  );
});
