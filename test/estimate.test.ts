import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibrations, estimatePlan } from '../src/estimate/estimate.js';
import { csdDigits, dspFor, engineFeatures, romColumns } from '../src/estimate/features.js';
import { microGraph, microSets } from '../src/calibration/microbench.js';
import { synthesizedHierarchically } from '../src/calibration/micro-kit.js';
import { engineModules } from '../src/hw/engines/index.js';
import { bramTiles, libmapRom, FAMILIES } from '../src/estimate/families.js';
import { fitNonNegative, fitNonNegativeLp } from '../src/calibration/fit.js';
import { mapMemory, muxTreeLuts } from '../src/estimate/memory.js';
import { buildPlan } from '../src/hw/plan.js';
import { requantSharedBits, requantTopBitZero } from '../src/hw/verilog.js';
import { fxpq, tempDir } from './helpers/cli.js';
import { writeZooFxp, zooQGraph } from '../src/calibration/zoo.js';
import { loadZooYosys } from '../src/calibration/zoo-yosys.js';

describe('coefficient fit', () => {
  it('the L4 fit weighs the worst relative error more than least squares (hand-solved)', () => {
    // One coefficient c for three designs of size 1, 1, 2 (x = 1 each), relative errors.
    // Least squares: c = sum(1/y) / sum(1/y^2) = 2.5 / 2.25. L4: d/dc [2 (c-1)^4 + (1 - c/2)^4] = 0
    // gives 4^(1/3) (c - 1) = 1 - c/2, c = (1 + 4^(1/3)) / (1/2 + 4^(1/3)).
    const xs = [[1], [1], [1]],
      ys = [1, 1, 2];
    expect(fitNonNegative(xs, ys, undefined, ys)[0]).toBeCloseTo(2.5 / 2.25, 6);
    const k = Math.cbrt(4);
    expect(fitNonNegativeLp(xs, ys, ys, 4)[0]).toBeCloseTo((1 + k) / (0.5 + k), 3);
    expect(fitNonNegativeLp(xs, ys, ys, 2)[0]).toBeCloseTo(2.5 / 2.25, 6);
  });
});

describe('resource estimator rules', () => {
  it("a LUT multiplier of an unsigned input counts the input's own bits, not its zero sign bit (hand-worked)", () => {
    // Microbenchmark conv 1029: 4-bit weights, 3-bit unsigned inputs, two multipliers, one in a
    // DSP48E1 on xc7 and one in LUTs. The one in LUTs is 4 x 3 partial products, not 4 x 4.
    const plan = buildPlan(
      microGraph({ kind: 'conv', seed: 1029, wlW: 4, wlIn: 3, signedIn: false, cin: 8, cout: 8, hw: 4, k: 1, macs: 2 }),
      { macs: 2 },
    );
    const mul = plan.engines.map((e) => engineFeatures(plan, e, 'xc7').features.mulLut);
    expect(mul.reduce((a, b) => a + b, 0)).toBe(4 * 3);
  });

  it('a multiplier by a constant has one term per canonical signed digit (hand-worked)', () => {
    // 3 = 4 - 1, 7 = 8 - 1, 15 = 16 - 1, 11 = 16 - 4 - 1, 23 = 32 - 8 - 1, 5 = 4 + 1.
    expect([0, 1, 2, 3, 4, 5, 7, 11, 15, 23].map(csdDigits)).toEqual([0, 1, 1, 2, 1, 2, 2, 3, 2, 3]);
    expect([-1, -3, -4, -6].map(csdDigits)).toEqual([1, 2, 1, 2]);
  });

  it('a logic ROM column on 4-input LUTs is a multiplexer tree that folds a small top part (hand-worked)', () => {
    // 16 words: one table. 32: two tables and a multiplexer. 64: four tables, three multiplexers.
    expect([muxTreeLuts(1, 4), muxTreeLuts(16, 4), muxTreeLuts(32, 4), muxTreeLuts(64, 4)]).toEqual([0, 1, 3, 7]);
    // 18 and 20 words: the 2 or 4 words above 16 are a function of two address bits, which the
    // multiplexer's LUT takes on its spare inputs: one table and one multiplexer.
    expect([muxTreeLuts(18, 4), muxTreeLuts(20, 4)]).toEqual([2, 2]);
    // 21 words: the top part needs three address bits, so a table of its own.
    expect(muxTreeLuts(21, 4)).toBe(3);
    // 36 = 32 + 4: three for the 32, the 4 folded, one multiplexer. 48 = 32 + 16: 3 + 1 + 1.
    expect([muxTreeLuts(36, 4), muxTreeLuts(48, 4)]).toEqual([4, 5]);
    // 100 = 64 + 36: 7 + 4 + 1.
    expect(muxTreeLuts(100, 4)).toBe(12);
  });

  it('a requantizer output bit is a structural zero only where Yosys removes its flip-flops (hand-worked)', () => {
    const s8 = { wl: 8, fl: 2, signed: true },
      u8 = { wl: 8, fl: 2, signed: false };
    // Measured with synth_ice40 on a 16 x 8 register file fed by the requantizer: a 17-bit
    // accumulator shifted right by 11 into s8 with a ReLU keeps 112 flip-flops (t is 18 bits, its
    // bits 7 and up copy the sign, and y[7] = sign ? 0 : sign); a 10-bit one shifted by 1 keeps
    // all 128 (y[7] is zero only through the upper clamp).
    expect(requantTopBitZero(17, 13, s8, 0, Infinity)).toBe(true);
    expect(requantTopBitZero(10, 3, s8, 0, Infinity)).toBe(false);
    // No ReLU: negative values set the top bit.
    expect(requantTopBitZero(17, 13, s8)).toBe(false);
    // Unsigned output: the upper clamp value 255 has its top bit set.
    expect(requantTopBitZero(17, 13, u8, 0, Infinity)).toBe(false);
    // A left shift: 5-bit accumulator, fraction 1, into s8.2 (shift by -1): t is 6 bits of value,
    // so y[7] copies the sign.
    expect(requantTopBitZero(5, 1, s8, 0, Infinity)).toBe(true);
    expect(requantTopBitZero(8, 1, s8, 0, Infinity)).toBe(false);
  });

  it('after a left shift the low output bits are one signal (hand-worked, read from a netlist)', () => {
    // maxpool 1068's convolution: a 17-bit accumulator at fraction 4 into u16.13 with a ReLU is
    // shifted left by 9, so t's 9 low bits are zero and y[8:0] all equal the upper clamp's select:
    // 8 of the 16 bits are shared. synth_ice40 keeps 8 write-data registers per 16-bit lane of its
    // RAM (64 for 8 lanes).
    const u16 = { wl: 16, fl: 13, signed: false };
    expect(requantSharedBits(17, 4, u16, 0, Infinity)).toBe(8);
    // A right shift shares nothing but a structural-zero top bit (add 1008: 1 of 8).
    expect(requantSharedBits(17, 13, { wl: 8, fl: 2, signed: true }, 0, Infinity)).toBe(1);
    expect(requantSharedBits(10, 3, { wl: 8, fl: 2, signed: true }, 0, Infinity)).toBe(0);
    // No shift: nothing shared.
    expect(requantSharedBits(20, 13, u16, 0, Infinity)).toBe(0);
    // Left shift by 1: one low bit, already one signal.
    expect(requantSharedBits(17, 12, u16, 0, Infinity)).toBe(0);
  });

  it('DSP blocks per multiply follow the family limits (hand-worked)', () => {
    const xc7 = FAMILIES.xc7.dsp,
      ice = FAMILIES.ice40up.dsp,
      ecp5 = FAMILIES.ecp5.dsp;
    // DSP48E1 is 25 x 18; products narrower than 9 bits stay in LUTs.
    expect(dspFor(8, 9, xc7)).toBe(1);
    expect(dspFor(4, 4, xc7)).toBe(0);
    expect(dspFor(2, 7, xc7)).toBe(1);
    expect(dspFor(24, 18, xc7)).toBe(1);
    // 30 x 20: A cut into an 18-bit slice (17 bits and a zero sign bit) and the 13-bit rest;
    // 18 x 20 and 13 x 20 each fit a DSP48E1 with the 20-bit operand on the 25-bit port.
    expect(dspFor(30, 20, xc7)).toBe(2);
    // 40 x 30: the 40 is cut into an 18-bit slice and the 23-bit rest; each times 30 puts the 30
    // on A, cut again into 18 and 13: two DSPs each, four in all.
    expect(dspFor(40, 30, xc7)).toBe(4);
    // SB_MAC16 is 16 x 16 from 11 product bits; MULT18X18D takes every multiply.
    expect(dspFor(5, 5, ice)).toBe(0);
    expect(dspFor(6, 6, ice)).toBe(1);
    // 17 x 8: a 16 x 8 slice in a SB_MAC16, the 1 x 8 rest in LUTs (as Yosys did for a 16-bit
    // unsigned input, 17 bits signed, times 8-bit weights).
    expect(dspFor(17, 8, ice)).toBe(1);
    // 20 x 8: 16 x 8 and 4 x 8 (12 product bits): two; 18 x 8: the 2 x 8 rest is under 11 bits.
    expect(dspFor(20, 8, ice)).toBe(2);
    expect(dspFor(18, 8, ice)).toBe(1);
    expect(dspFor(3, 3, ecp5)).toBe(1);
  });

  it('block RAM tiling picks the cheapest shape (hand-worked)', () => {
    const b = FAMILIES.xc7.bram;
    expect(bramTiles(512, 36, b)).toBe(0.5); // one RAMB18 in 512 x 36
    expect(bramTiles(1024, 36, b)).toBe(1); // one RAMB36 in 1K x 36
    expect(bramTiles(4096, 8, b)).toBe(1); // 4K x 9 RAMB36
    expect(bramTiles(300, 72, b)).toBe(1); // 512 x 72 RAMB36
    expect(bramTiles(256, 16, FAMILIES.ice40up.bram)).toBe(1);
    expect(bramTiles(1024, 16, FAMILIES.ice40up.bram)).toBe(4);
  });

  for (const target of ['xc7', 'ice40up', 'ecp5'] as const) {
    const file = `src/calibration/data/${target}-memories.json`;
    it.runIf(existsSync(file) && calibrations[target])(
      `${target}: memory mapping reproduces Yosys on the measured grid of RAM and ROM shapes`,
      () => {
        const grid = JSON.parse(readFileSync(file, 'utf8')).shapes as {
          kind: 'ram' | 'rom';
          depth: number;
          width: number;
          bram: number;
          lutram: number;
          lut: number;
          ff: number;
        }[];
        const cal = calibrations[target]!;
        const wrong = grid.filter((s) => {
          const m = mapMemory(s.kind, s.depth, s.width, FAMILIES[target], cal.memory);
          return m.bram !== s.bram || m.lutram !== s.lutram;
        });
        // Block RAM counts are exact on every shape that Yosys puts in block RAM.
        expect(wrong.filter((s) => s.bram > 0).map((s) => `${s.kind} ${s.depth}x${s.width}`)).toEqual([]);
        expect(wrong.map((s) => `${s.kind} ${s.depth}x${s.width}`)).toEqual([]);
        // The logic memory_libmap adds around a RAM in block RAM (read-during-write bypass on iCE40
        // and ECP5): flip-flops within one of Yosys on every such shape, LUTs within 25 % on most.
        const rams = grid.filter((s) => s.kind === 'ram' && s.bram > 0);
        const est = rams.map((s) => mapMemory('ram', s.depth, s.width, FAMILIES[target], cal.memory));
        expect(rams.filter((s, i) => Math.abs(est[i].ff - s.ff) > 1).map((s) => `${s.depth}x${s.width}`)).toEqual([]);
        expect(rams.filter((s, i) => Math.abs(est[i].lut - s.lut) > Math.max(3, 0.25 * s.lut)).length).toBeLessThanOrEqual(
          Math.ceil(rams.length * 0.1),
        );
      },
    );
  }

  it('iCE40 and ECP5: the flip-flops around a RAM in block RAM grow with data and address width (2w + a + 2)', () => {
    // Two registers per data bit and one per address bit, plus two: what Yosys built around every
    // measured RAM in block RAM on both families, e.g. 137 flip-flops for 128 x 64 and 43 for
    // 512 x 16 on ECP5 (src/calibration/data/ecp5-memories.json); a per-data-bit ratio (the earlier
    // rule) gave 164 and 41, and 328 for a 128-bit buffer that has 265.
    for (const t of ['ice40up', 'ecp5'] as const) {
      expect(mapMemory('ram', 128, 64, FAMILIES[t], calibrations[t]!.memory).ff).toBe(2 * 64 + 7 + 2);
    }
    expect(mapMemory('ram', 512, 16, FAMILIES.ecp5, calibrations.ecp5!.memory).ff).toBe(43);
  });

  it("xc7 ROMs of any depth: Yosys memory_libmap's cost model gives the measured block RAMs, read multiplexer LUTs and select registers", () => {
    // Non-power-of-two depths as in the zoo's weight ROMs (bench/estimator-memories.ts --depths).
    const deep = JSON.parse(readFileSync('src/calibration/data/xc7-memories-deep.json', 'utf8')).shapes as {
      kind: 'rom';
      depth: number;
      width: number;
      bram: number;
      lutram: number;
      lut: number;
      ff: number;
    }[];
    expect(deep.length).toBe(18);
    for (const s of deep) {
      const m = mapMemory(s.kind, s.depth, s.width, FAMILIES.xc7, calibrations.xc7!.memory);
      expect([m.bram, m.lutram, m.ff], `${s.depth}x${s.width}`).toEqual([s.bram, s.lutram, s.ff]);
      expect(Math.abs(m.lut - s.lut), `${s.depth}x${s.width} LUT`).toBeLessThanOrEqual(Math.max(2, 0.05 * s.lut));
    }
    // Hand-worked cases of the rule: 1152 x 64 is three 512 x 72 RAMB36 regions and a 3:1 mux per bit.
    expect(libmapRom(1152, 64, FAMILIES.xc7.libmapRom!)).toEqual({ units: 3, regions: 3, distributed: false });
    // 3136 x 16: one region of 4K x 9 twice (cost 516) beats 4K x 4 four times (518).
    expect(libmapRom(3136, 16, FAMILIES.xc7.libmapRom!)).toEqual({ units: 2, regions: 1, distributed: false });
    // 1024 x 8 costs 128 in logic, less than a RAMB18 (131): logic.
    expect(libmapRom(1024, 8, FAMILIES.xc7.libmapRom!)).toBeNull();
  });

  it("iCE40 and ECP5 RAMs: memory_libmap's cost model (hand-worked, as Yosys mapped them)", () => {
    const ice = FAMILIES.ice40up,
      ecp = FAMILIES.ecp5;
    const ri = calibrations.ice40up!.memory,
      re = calibrations.ecp5!.memory;
    // 16 x 4 RAM: one EBR (64) does not beat 64 bits of logic.
    expect(mapMemory('ram', 16, 4, ice, ri).how).toBe('logic');
    // ECP5 128 x 9 RAM: 8 regions x 3 DPR16X4 (96) plus a 7-step read mux per bit (31.5) is just
    // under one DP16KD (128); 100 x 16: 7 x 4 (112) plus 48 is not.
    expect(mapMemory('ram', 128, 9, ecp, re)).toMatchObject({ how: 'lutram', lutram: 24, bram: 0 });
    expect(mapMemory('ram', 100, 16, ecp, re)).toMatchObject({ how: 'bram', bram: 1, lutram: 0 });
  });

  it("xc7 RAMs: memory_libmap's cost model with the LUT RAM library (hand-worked, as Yosys mapped them)", () => {
    const x = FAMILIES.xc7,
      r = calibrations.xc7!.memory;
    // 72 x 48 (a microbenchmark's activation buffer): three 32-word regions of eight RAM32M
    // (24 x 1 + 7 x 3 x 48 / 6 = 192, read mux 0.5 x 2 x 48, decoder 0.5 x 3, read port 2: 243.5)
    // beat a RAMB36 in 512 x 72 mode (257 + 2): 24 LUT RAMs, as Yosys built.
    expect(mapMemory('ram', 72, 48, x, r)).toMatchObject({ how: 'lutram', lutram: 24, bram: 0 });
    // 256 x 12: four RAM64M regions cost 16 + 112 + 18 + 2 + 2 = 150, a RAMB18 131: block RAM.
    expect(mapMemory('ram', 256, 12, x, r)).toMatchObject({ how: 'bram', bram: 0.5, lutram: 0 });
    // 128 x 1: one RAM128X1D (8 + 2) beats two RAM64M regions (12.2).
    expect(mapMemory('ram', 128, 1, x, r)).toMatchObject({ how: 'lutram', lutram: 1 });
  });

  it('ROM corner cases as Yosys mapped them: one block RAM region has no read multiplexer (ECP5), three LUT6 banks take four (xc7)', () => {
    // synth_ecp5 put microbenchmark 1003's 72 x 192 weight ROM in 6 DP16KD with no LUT around it;
    // synth_xilinx built microbenchmark 1085's 144 x 24 ROM from 96 LUT6, 48 MUXF7 and 24 MUXF8.
    expect(mapMemory('rom', 72, 192, FAMILIES.ecp5, calibrations.ecp5!.memory)).toMatchObject({ how: 'bram', bram: 6, lut: 0 });
    expect(mapMemory('rom', 144, 24, FAMILIES.xc7, calibrations.xc7!.memory)).toMatchObject({ how: 'logic', bram: 0, lut: 96 });
  });

  it('every zoo design against its recorded Yosys synthesis: DSP, BRAM and LUTRAM exact, LUT and FF within 15 % (30 designs, 3 families)', () => {
    // Figures measured by bench/synth-zoo.ts (flattened synth_xilinx / synth_ice40 -dsp / synth_ecp5).
    const rec = loadZooYosys();
    expect(rec.designs).toHaveLength(30);
    for (const y of rec.designs) {
      const e = estimatePlan(buildPlan(zooQGraph(y.model, y.config), { macs: rec.macs }), y.target).total;
      const at = `${y.model} ${y.config} ${y.target}`;
      expect({ dsp: e.dsp, bram: e.bram, lutram: e.lutram }, at).toEqual({ dsp: y.dsp, bram: y.bram, lutram: y.lutram });
      expect(Math.abs(e.lut - y.lut) / y.lut, `${at} LUT ${e.lut} vs ${y.lut}`).toBeLessThanOrEqual(0.15);
      expect(Math.abs(e.ff - y.ff) / y.ff, `${at} FF ${e.ff} vs ${y.ff}`).toBeLessThanOrEqual(0.15);
    }
  });

  it('grouped convolution, depthwise convolution and concat microbenchmarks against their recorded Yosys synthesis: DSP and BRAM exact, LUT and FF within 15 % (listed exceptions)', () => {
    // Recorded by bench/estimator-collect.ts --set depthwise / grouped / concat (seeds 3000.., 4000.., 5000..)
    // and part of the fit since the refit that added them (held out, with the other engines'
    // coefficients, 105 of the 108 met every bound).
    const exceptions: Record<string, string> = {
      // The 1x1 grouped design with two products per lane from four-lane words: LUT -15.4 % on
      // ECP5 (its grouped engine 353 against Yosys's 467, its top 78 against 168), while xc7
      // prices the same engine 50 % high: no feature explains both, so it stays listed.
      'ecp5 4011 lut': 'general',
    };
    let checked = 0;
    for (const t of ['xc7', 'ecp5', 'ice40up'] as const) {
      const recs = readFileSync(`src/calibration/data/${t}.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.total && (r.spec.kind === 'depthwise' || r.spec.kind === 'concat' || (r.spec.group ?? 1) > 1));
      expect(recs.length, t).toBe(36);
      for (const r of recs) {
        const e = estimatePlan(buildPlan(microGraph(r.spec), { macs: r.spec.macs }), t, undefined, {
            hierarchical: synthesizedHierarchically(t),
          }).total,
          y = r.total;
        const at = (k: string) => `${t} ${r.spec.seed} ${k}`;
        for (const k of ['dsp', 'bram', 'lutram'] as const) if (!exceptions[at(k)]) expect(e[k], at(k)).toBe(y[k]);
        for (const k of ['lut', 'ff'] as const)
          if (!exceptions[at(k)]) expect(Math.abs(e[k] - y[k]) / y[k], `${at(k)} ${e[k]} vs ${y[k]}`).toBeLessThanOrEqual(0.15);
        checked++;
      }
    }
    expect(checked).toBe(108);
  });

  it('iCE40 LP/HX (no DSP blocks, every product in logic): within 15 % of Yosys on all 60 recorded designs, 12 of them held out of the fit', () => {
    // bench/estimator-collect.ts --target ice40hx (synth_ice40 without -dsp), fitted with --fit-count 48.
    const recs = readFileSync('src/calibration/data/ice40hx.jsonl', 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.total);
    expect(recs.length).toBe(60);
    for (const r of recs) {
      const e = estimatePlan(buildPlan(microGraph(r.spec), { macs: r.spec.macs }), 'ice40hx').total,
        y = r.total;
      expect([e.dsp, y.dsp], `${r.spec.seed} DSP`).toEqual([0, 0]);
      expect(e.bram, `${r.spec.seed} BRAM`).toBe(y.bram);
      for (const k of ['lut', 'ff'] as const)
        expect(Math.abs(e[k] - y[k]) / y[k], `${r.spec.seed} ${k} ${e[k]} vs ${y[k]}`).toBeLessThanOrEqual(0.15);
    }
  });

  it('per-block figures add up to the total, and more multipliers never cost fewer DSPs', () => {
    const q = zooQGraph('lenet5', 'mixed');
    const a = estimatePlan(buildPlan(q, { macs: 16 }), 'xc7'),
      b = estimatePlan(buildPlan(q, { macs: 256 }), 'xc7');
    for (const e of [a, b]) {
      expect(e.blocks.reduce((s, x) => s + x.dsp, 0)).toBe(e.total.dsp);
      expect(e.blocks.reduce((s, x) => s + x.bram, 0)).toBe(e.total.bram);
    }
    expect(b.total.dsp).toBeGreaterThanOrEqual(a.total.dsp);
  });
});

describe('microbenchmarks', () => {
  it('every engine has calibration designs, and each of its spec sets builds designs in which that engine does the measured layer', () => {
    const sets = microSets();
    const owner = new Map<string, string>();
    for (const m of engineModules()) {
      expect(m.microbench.kinds.length, m.kind).toBeGreaterThan(0);
      for (const k of m.microbench.kinds) {
        expect(owner.get(k), `kind ${k} claimed twice`).toBeUndefined();
        owner.set(k, m.kind);
      }
      for (const name of Object.keys(m.microbench.sets ?? {})) {
        const specs = sets[name](6);
        expect(specs).toHaveLength(6);
        for (const s of specs) {
          const plan = buildPlan(microGraph(s), { macs: s.macs });
          const measured = plan.engines.filter((e) => e.kind === m.kind);
          expect(measured.length, `${name} seed ${s.seed}`).toBeGreaterThan(0);
          // The measured layer is the one that writes y or feeds it (concat's gap reads it).
          expect(
            measured.some((e) => e.layer === 'y' || e.layer === 'c'),
            `${name} seed ${s.seed}`,
          ).toBe(true);
        }
      }
    }
    // Both mixed sets only use kinds that some engine builds.
    for (const s of [...sets.spread(18), ...sets.simd(6)]) expect(owner.has(s.kind), s.kind).toBe(true);
    expect(() => microGraph({ ...sets.spread(1)[0], kind: 'lstm' })).toThrow(/no engine measures/);
  });
});

describe('fxpq estimate', () => {
  const dir = tempDir();
  const model = writeZooFxp('mlp', 'u8', dir);
  it('--json prints target, totals and per-block figures; bad --target is a one-line error', () => {
    const r = fxpq('estimate', model, '--macs', '64', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.target).toBe('xc7');
    for (const k of ['lut', 'ff', 'dsp', 'bram']) expect(typeof j[k]).toBe('number');
    expect(j.synth).toBeNull();
    expect(j.layers.length).toBeGreaterThan(3);
    const bad = fxpq('estimate', model, '--target', 'stratix');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('ROM column counts', () => {
  // The oracle: each column's bits spelled out, floor(v / 2^b) mod 2, and compared as strings.
  function naive(depth: number, lanes: number, bits: number, value: (d: number, l: number) => number) {
    const seen = new Set<string>();
    let varying = 0;
    for (let l = 0; l < lanes; l++)
      for (let b = 0; b < bits; b++) {
        const col = Array.from({ length: depth }, (_, d) => ((Math.floor(value(d, l) / 2 ** b) % 2) + 2) % 2);
        const ones = col.reduce((s, x) => s + x, 0);
        if (ones === 0 || ones === depth) continue;
        varying++;
        seen.add(col.join(''));
      }
    return { varying, distinct: seen.size };
  }
  it('counts varying and distinct bit columns as spelling them out does: negative values, beyond 32 bits, odd depths, repeated columns', () => {
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    let checked = 0;
    for (const [depth, lanes, bits, range] of [
      [1, 3, 8, 2 ** 7],
      [7, 2, 9, 2 ** 8],
      [33, 4, 12, 2 ** 3],
      [70, 3, 40, 2 ** 38],
      [64, 2, 36, 2 ** 20],
      [5, 8, 34, 2 ** 31],
    ]) {
      const vals = Array.from({ length: depth * lanes }, () => Math.round(rnd() * range));
      // Lane 1 repeats lane 0 (equal columns count once), and one lane is constant.
      const value = (d: number, l: number) => (l === 1 ? vals[d * lanes] : l === 2 ? -3 : vals[d * lanes + l]);
      expect(romColumns(depth, lanes, bits, value), `${depth}x${lanes}x${bits}`).toEqual(naive(depth, lanes, bits, value));
      checked++;
    }
    expect(checked).toBe(6);
  });
});
