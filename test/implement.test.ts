import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { microGraph, type MicroSpec } from '../src/calibration/microbench.js';
import { writeZooFxp } from '../src/calibration/zoo.js';
import { fitPlan, portBits } from '../src/device/fit.js';
import { findPart } from '../src/device/parts.js';
import { generateDesign, synthesisFiles } from '../src/hw/generate.js';
import { buildPlan } from '../src/hw/plan.js';
import { toFxpFile } from '../src/io/fxpjson.js';
import { placeAndRoute } from '../src/pnr/ice40.js';
import { gateSim } from '../src/cosim/gate-sim.js';
import { synthesize } from '../src/synth/yosys.js';
import { fxpqAwait, tempDir } from './helpers/cli.js';

/**
 * `fxpq implement`: real synthesis (Yosys), placement and routing (nextpnr-ice40) and bitstream
 * packing (icepack), all WebAssembly from npm, on designs small enough to place in seconds. The
 * oracles are nextpnr's own utilization report and timing, the estimator's exact DSP and block-RAM
 * figures, the top's port list, and the iCE40 bitstream format's synchronisation word.
 */
const dir = tempDir();
const SPEC: MicroSpec = { kind: 'conv', seed: 1002, wlW: 2, wlIn: 6, signedIn: false, cin: 4, cout: 4, hw: 4, k: 1, macs: 8 };
const q = microGraph(SPEC);
const fxp = join(dir, 'small.fxp.json');
writeFileSync(
  fxp,
  JSON.stringify(
    toFxpFile(q, {
      tool: { name: 'fxpq', version: 'test' },
      source: { file: 'small.onnx', sha256: '', opset: 13, producer: 'test' },
      options: {},
    }),
  ),
);

interface Implemented {
  device: string;
  fits: boolean;
  macs: number;
  lut: number;
  ff: number;
  dsp: number;
  bram: number;
  io: number;
  fmax_mhz: number;
  cycles_per_image: number;
  images_per_second: number;
  bitstream: string;
  estimate: { lc: number; dsp: number; bram: number } | null;
  gate_sim: { images: number; mismatches: number; cycles_match: boolean } | null;
}

/** iCE40 configuration images start the configuration after the synchronisation word 7EAA997E. */
const hasSyncWord = (b: Buffer) => b.indexOf(Buffer.from([0x7e, 0xaa, 0x99, 0x7e])) >= 0;

describe('fxpq implement on iCE40', () => {
  it(
    'places and routes on the UltraPlus 5K at the budget the estimator chooses, with a bitstream; the same seed gives the same bytes',
    {
      timeout: 600_000,
    },
    async () => {
      const runs: Implemented[] = [];
      for (const n of [1, 2]) {
        const out = join(dir, `up5k-${n}`);
        const r = await fxpqAwait('implement', fxp, '--device', 'up5k', '--out', out, '--json');
        expect(r.code, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout) as Implemented;
        runs.push(j);
        expect(j.bitstream).toBe(join(out, 'fxpq_small.bin'));
        expect(existsSync(join(out, 'nextpnr.log'))).toBe(true);
        expect(JSON.parse(readFileSync(join(out, 'implement.json'), 'utf8'))).toEqual(j);
      }
      const [a, b] = runs;
      const part = findPart('up5k');
      const plan = buildPlan(q, { macs: a.macs });
      expect(a.fits).toBe(true);
      expect(fitPlan(plan, part, { standalone: true }).fits).toBe(true);
      // nextpnr's counts: within the part, DSP and block RAM as the estimator says, logic cells near it.
      expect(a.lut).toBeLessThanOrEqual(part.lut);
      expect(a.dsp).toBe(a.estimate!.dsp);
      expect(a.bram).toBe(a.estimate!.bram);
      expect(Math.abs(a.estimate!.lc - a.lut) / a.lut).toBeLessThanOrEqual(0.2);
      expect(a.io).toBe(portBits(plan));
      expect(a.fmax_mhz).toBeGreaterThan(5);
      expect(a.cycles_per_image).toBe(plan.interval);
      expect(a.images_per_second).toBe(Math.round((a.fmax_mhz * 1e6) / plan.interval));
      // The netlist that was placed runs the RTL's test bench in Icarus: same logits, same cycles.
      expect(a.gate_sim).toEqual({ images: 2, mismatches: 0, cycles_match: true });
      const bin = readFileSync(a.bitstream);
      expect(hasSyncWord(bin)).toBe(true);
      // Deterministic: same design and seed, same placement, timing and bitstream.
      expect(b.fmax_mhz).toBe(a.fmax_mhz);
      expect(readFileSync(b.bitstream).equals(bin)).toBe(true);
    },
  );

  it(
    'LeNet-5 on the UltraPlus 5K with its weights in SPRAM, loaded after reset: placed, routed, and the netlist exact with the load',
    { timeout: 600_000 },
    async () => {
      // Its weights need about 4x the UP5K's block RAM as ROMs; the part choice moves them to SPRAM.
      const lenet = writeZooFxp('lenet5', 'mixed', dir);
      const out = join(dir, 'lenet5-up5k');
      const r = await fxpqAwait('implement', lenet, '--device', 'up5k', '--gate-sim', '1', '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as Implemented & {
        spram: number;
        weights: string;
        weight_load_beats: number;
        estimate: { spram: number };
      };
      expect(j.weights).toBe('load');
      // nextpnr's count of SPRAM and EBR blocks is the estimator's.
      expect(j.spram).toBeGreaterThan(0);
      expect(j.spram).toBe(j.estimate.spram);
      expect(j.bram).toBe(j.estimate!.bram);
      expect(j.bram).toBeLessThanOrEqual(30);
      expect(Math.abs(j.estimate!.lc - j.lut) / j.lut).toBeLessThanOrEqual(0.2);
      expect(j.weight_load_beats).toBe(readFileSync(join(out, 'weights_stream.hex'), 'utf8').trim().split('\n').length);
      // The placed netlist, with Yosys's SB_SPRAM256KA model, takes the load and computes the image exactly.
      expect(j.gate_sim).toEqual({ images: 1, mismatches: 0, cycles_match: true });
      expect(hasSyncWord(readFileSync(j.bitstream))).toBe(true);
      // Its multipliers read operand registers that Yosys packs into the SB_MAC16 blocks, so
      // nextpnr times the paths through them: no cross-domain path into or out of the packer's
      // ground-net clock (what the unregistered blocks of the earlier templates gave, which
      // ice40.ts untimedDspPaths reports), and nothing left out of the Fmax. (One cell of this
      // design still has its clock on that net, with no path through it: nextpnr reports none.)
      const log = readFileSync(join(out, 'nextpnr.log'), 'utf8');
      expect(log).toMatch(/ICESTORM_DSP:\s+[1-8]\//);
      expect(log).toMatch(/Critical path report for clock 'clk/);
      expect(log).not.toMatch(/cross-domain path '[^']*' -> '[^']*PACKER_GND_NET/);
      expect(log).not.toMatch(/cross-domain path '[^']*PACKER_GND_NET[^']*' ->/);
      expect((j as unknown as { untimed_dsp_paths: unknown }).untimed_dsp_paths).toBeNull();
    },
  );

  it('places and routes on the HX8K (no DSP blocks: multiplies in logic) at a given budget', { timeout: 300_000 }, async () => {
    const out = join(dir, 'hx8k');
    const r = await fxpqAwait('implement', fxp, '--device', 'hx8k', '--macs', '4', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Implemented;
    expect(j.dsp).toBe(0);
    expect((j as unknown as { untimed_dsp_paths: unknown }).untimed_dsp_paths).toBeNull();
    expect(j.bram).toBeGreaterThan(0);
    // The LP/HX estimator (its own calibration, products in logic) on the same design.
    expect(j.bram).toBe(j.estimate!.bram);
    expect(Math.abs(j.estimate!.lc - j.lut) / j.lut).toBeLessThanOrEqual(0.2);
    expect(j.lut).toBeLessThanOrEqual(7680);
    expect(j.fmax_mhz).toBeGreaterThan(5);
    expect(hasSyncWord(readFileSync(j.bitstream))).toBe(true);
  });

  it('refuses in one line, before synthesis, a design the estimator says does not fit, and writes nothing', async () => {
    // VGG's activations alone need three times the block RAM, with its weights in ROM or in SPRAM.
    const big = writeZooFxp('vgg_bn', 'mixed', dir);
    const out = join(dir, 'vgg-up5k');
    const r = await fxpqAwait('implement', big, '--device', 'up5k', '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not fit up5k/);
    expect(existsSync(out)).toBe(false);
    const e = await fxpqAwait('implement', big, '--device', 'xc7a35t');
    expect(e.stderr).toMatch(/iCE40 parts only/);
  });

  it('gate-level simulation catches a netlist that does not compute the design', { timeout: 300_000 }, async () => {
    const d = generateDesign(q, { model: 'm', source: 'test', macs: 8, top: 'm', images: 2 });
    const files = synthesisFiles(d);
    const s = await synthesize({ files, sources: d.sources, top: 'm', target: 'ice40up', gateVerilog: true });
    const good = await gateSim(d.files, s.gateVerilog!);
    expect(good).toMatchObject({ images: 2, mismatches: 0 });
    expect(good.cycles).toEqual([d.plan.latency, d.plan.latency]);
    // Every LUT of the netlist inverted: the test bench must see wrong logits (or no end at all).
    const inverted = s.gateVerilog!.replace(
      /\.LUT_INIT\(16'h([0-9a-f]{4})\)/gi,
      (_, h: string) => `.LUT_INIT(16'h${(~parseInt(h, 16) & 0xffff).toString(16).padStart(4, '0')})`,
    );
    expect(inverted).not.toBe(s.gateVerilog);
    const bad = await gateSim(d.files, inverted).catch((e: Error) => e);
    expect(bad instanceof Error ? bad.message : `${bad.mismatches} mismatches`).toMatch(/did not finish|[1-9]\d* mismatches/);
  });

  it("turns nextpnr's failure on a design too large for the part into one line", { timeout: 300_000 }, async () => {
    // 17 DSP products on a part with 8: the estimator says so, and so does nextpnr.
    const spec: MicroSpec = { kind: 'dense', seed: 1004, wlW: 10, wlIn: 7, signedIn: false, cin: 1, cout: 16, hw: 4, k: 2, macs: 32 };
    const d = generateDesign(microGraph(spec), { model: 'm', source: 'test', macs: spec.macs, top: 'm' });
    const part = findPart('up5k');
    expect(fitPlan(d.plan, part).fits).toBe(false);
    const files = synthesisFiles(d);
    await expect(placeAndRoute({ files, sources: d.sources, top: 'm', part, freqMhz: 12, seed: 1 })).rejects.toThrow(
      /^nextpnr-ice40 could not place and route the design on up5k: Unable to place cell .*ICESTORM_DSP/,
    );
  });
});
