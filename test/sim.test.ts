import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FxFormat, maxInt, minInt } from '../src/fixed/format.js';
import { wasmAvailable } from '../src/engine/gemm.js';
import { convOutHW } from '../src/ir/geometry.js';
import { randomInputs } from '../src/hw/generate.js';
import { buildPlan } from '../src/hw/plan.js';
import type { LinearEngine } from '../src/hw/engines/linear/plan.js';
import { runQGraphInt } from '../src/intref/run.js';
import { encodeNpy } from '../src/io/npy.js';
import type { Activation, QGraph } from '../src/quant/qgraph.js';
import { lfsrStep, TbStall } from '../sim/handshake.js';
import { simulate, simulateParallel } from '../sim/simulate.js';
import { Simulator } from '../sim/simulator.js';
import { fxpq, tempDir } from './helpers/cli.js';
import { int, mk, randomGraph } from './helpers/random-graph.js';
import { writeZooFxp, zooQGraph } from '../src/calibration/zoo.js';

describe('cycle simulator', () => {
  it("steps the test bench's LFSR, and jumps ahead to the same state", () => {
    // tb.v.hbs: lfsr = {lfsr[30:0], lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0]}, written bit by bit.
    const bits = (s: number) => Array.from({ length: 32 }, (_, i) => (s >>> i) & 1);
    const step = (b: number[]) => [b[31] ^ b[21] ^ b[1] ^ b[0], ...b.slice(0, 31)];
    let b = bits(1),
      s = 1;
    const states: number[] = [1];
    for (let i = 0; i < 5000; i++) {
      b = step(b);
      s = lfsrStep(s);
      expect(s).toBe(b.reduce((a, v, j) => a + v * 2 ** j, 0));
      states.push(s);
    }
    // Edge k sees the state after k - 1 steps; look-ups far apart and backwards take the jump.
    const t = new TbStall();
    for (const k of [4900, 17, 3000, 2, 4999, 1000, 1001, 4000]) {
      expect(t.inValid(k)).toBe((states[k - 1] & 7) !== 0);
      expect(t.outReady(k)).toBe(((states[k - 1] >>> 3) & 7) !== 0);
    }
    let far = 1;
    for (let i = 0; i < 1_234_567; i++) far = lfsrStep(far);
    const t2 = new TbStall();
    t2.inValid(10);
    expect(t2.inValid(1_234_568)).toBe((far & 7) !== 0);
    expect(t2.outReady(1_234_568)).toBe(((far >>> 3) & 7) !== 0);
  });

  for (const kind of ['conv', 'dense', 'maxpool', 'avgpool', 'gap', 'add'] as const) {
    it(`${kind}: logits equal the integer reference on random layers and budgets; cycles are the plan's, more with stalls`, () => {
      fc.assert(
        fc.property(fc.integer(), fc.integer({ min: 1, max: 40 }), (seed, macs) => {
          const q = randomGraph(kind, seed, { groups: false });
          fc.pre(Object.values(q.values).every((v) => v.shape.every((d) => d > 0)));
          const linear = q.layers.filter((l) => l.op.kind === 'conv' || l.op.kind === 'dense').length;
          const plan = buildPlan(q, { macs: Math.max(macs, linear) });
          const x = randomInputs(q, 4, seed);
          const ref = runQGraphInt(q, x, 4).output;
          const r = simulate(q, plan, x, 4);
          expect(r.mismatches).toBe(0);
          expect(Array.from(r.outputs)).toEqual(Array.from(ref));
          expect(r.timing.map((t) => t.cycles)).toEqual([plan.latency, plan.latency, plan.latency, plan.latency]);
          // Back to back: each image starts the cycle after the previous one's last logit.
          for (let i = 1; i < 4; i++) expect(r.timing[i].firstIn).toBe(r.timing[i - 1].lastOut + 1);
          const st = simulate(q, plan, x, 4, { handshake: new TbStall() });
          expect(Array.from(st.outputs)).toEqual(Array.from(ref));
          // Stalls add cycles, never more than the cycles the handshakes were low.
          for (const t of st.timing) {
            expect(t.cycles).toBeGreaterThanOrEqual(plan.latency);
            expect(t.cycles).toBeLessThanOrEqual(plan.latency + t.inputStalls + t.outputStalls);
            expect(t.start[0]).toBe(t.lastIn + 1);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it('counters of a hand-worked convolution: MACs without padding, utilization, buffer and ROM traffic, live memory', () => {
    // 2 x 4 x 4 input (u8), 3 x 3 convolution with padding 1 to 3 channels (s8 out), ReLU.
    const u8: FxFormat = { wl: 8, fl: 0, signed: false },
      s8: FxFormat = { wl: 8, fl: 0, signed: true };
    const q: QGraph = {
      input: 'x',
      output: 'y',
      values: { x: { shape: [2, 4, 4], format: u8 }, y: { shape: [3, 4, 4], format: s8 } },
      layers: [
        {
          name: 'conv',
          inputs: ['x'],
          output: 'y',
          op: {
            kind: 'conv',
            weight: { shape: [3, 2, 3, 3], data: Int32Array.from({ length: 54 }, (_, i) => (i % 7) - 3) },
            bias: Int32Array.from([5, -2, 0]),
            weightFormat: { wl: 4, fl: 2, signed: true },
            biasFormat: { wl: 16, fl: 2, signed: true },
            strides: [1, 1],
            pads: [1, 1, 1, 1],
            dilations: [1, 1],
            group: 1,
            act: { kind: 'relu' },
          },
        },
      ],
    };
    // The input is loaded one element per word (1 lane), so SIMD is 1; 3 multipliers give PE 3.
    const plan = buildPlan(q, { macs: 3 });
    const x = Float64Array.from({ length: 32 * 3 }, (_, i) => (i * 37) % 256);
    const r = simulate(q, plan, x, 3);
    expect(r.mismatches).toBe(0);
    const c = r.counters;
    // Taps: 16 pixels x 2 channels x 9 kernel positions; +3 pipeline cycles (memory read,
    // operand registers, requantize and write).
    expect(c.layers[0].taps).toBe(288);
    expect(c.layers[0].busy_cycles).toBe(291);
    // Valid kernel positions on a 4 x 4 image with padding 1: corners 4, edges 6, inside 9.
    const valid = 4 * 4 + 8 * 6 + 4 * 9;
    expect(valid).toBe(100);
    expect(c.layers[0].valid_taps).toBe(valid * 2);
    expect(c.layers[0].macs).toBe(valid * 2 * 3);
    expect(c.layers[0].utilization).toBeCloseTo(600 / (3 * 291), 12);
    expect(c.layers[0].weight_rom_reads).toBe(288);
    expect(c.layers[0].bias_rom_reads).toBe(16);
    // 32 input words in, 291 cycles of compute, the streamer's first fetch, 48 logits out: 372 per
    // image, back to back.
    expect(c.latency_cycles).toEqual({ mean: 372, min: 372, max: 372 });
    expect(c.interval_cycles).toBe(372);
    expect(c.total_cycles).toBe(3 * 372);
    expect(c.utilization).toBeCloseTo(600 / (3 * 372), 12);
    expect(c.buffers.map((b) => [b.words, b.lanes, b.bits, b.writes, b.reads])).toEqual([
      [32, 1, 256, 32, 288],
      [16, 3, 384, 16, 48],
    ]);
    // Both buffers are live while the convolution runs.
    expect(c.memory.allocated_bits).toBe(640);
    expect(c.memory.peak_live_bits).toBe(640);
    expect(c.memory.peak_during).toBe('l00_conv');
  });

  it('the WebAssembly int32 kernel and the JavaScript float64 kernel give the same logits', () => {
    const q = zooQGraph('lenet5', 'mixed');
    const plan = buildPlan(q, { macs: 64 });
    // Only layers whose accumulator fits in 32 bits take the int32 kernel: here all of them.
    expect(plan.engines.every((e) => e.kind !== 'linear' || e.acc.bits <= 32)).toBe(true);
    const x = randomInputs(q, 20, 1);
    const a = new Simulator(plan).run(x, 20),
      b = new Simulator(plan, { wasm: false }).run(x, 20);
    expect(Array.from(a.outputs)).toEqual(Array.from(b.outputs));
    expect(Array.from(a.outputs)).toEqual(Array.from(runQGraphInt(q, x, 20).output));
  });

  it('conv/dense engines on the shared integer kernel (int16 and int32 operands, window or flat, any lanes) give the logits of the float64 loop and the reference', () => {
    // Formats chosen so that every way into the kernel occurs: int16 and int32 operands, the window
    // walked by the kernel or gathered (few input channels, a dense layer), input and output
    // buffers packed with every lane count, requantization in 32-bit lanes and in int64, right and
    // left shifts, and accumulators beyond int32 on the float64 loop.
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 96 }), (seed, macs) => {
        const q = kernelGraph(seed);
        const plan = buildPlan(q, { macs: Math.max(macs, 2) });
        const x = randomInputs(q, 3, seed);
        const a = new Simulator(plan),
          b = new Simulator(plan, { wasm: false });
        for (const m of a.models) {
          if (m.engine.kind !== 'linear') continue;
          const e = m.engine as LinearEngine;
          const s = e.acc.fl - e.outFormat.fl,
            int32 = (v: number) => v >= -(2 ** 31) && v < 2 ** 31;
          const lanes = s > 0 ? s <= 31 && int32(e.acc.hi + 2 ** (s - 1)) : int32(e.acc.lo * 2 ** -s) && int32(e.acc.hi * 2 ** -s);
          const inL = plan.buffers[e.inputs[0]].lanes,
            outL = plan.buffers[e.output].lanes;
          seen.add(m.kernel!);
          if (m.kernel !== 'float64') {
            seen.add(`${lanes ? 'lanes' : 'int64'} ${s > 0 ? 'right' : 'left'}`);
            seen.add(`in ${inL === 1 ? 1 : inL === e.cin ? 'c' : 'some'}, out ${outL === e.cout ? 'c' : 'some'}`);
          }
        }
        const ra = Array.from(a.run(x, 3).outputs);
        expect(ra).toEqual(Array.from(b.run(x, 3).outputs));
        expect(ra).toEqual(Array.from(runQGraphInt(q, x, 3).output));
        // A fixed seed: the check below needs every kernel path among the 300 cases, and an unseeded
        // run missed 'in some, out c' once in four CI runs.
      }),
      { numRuns: 300, seed: 20261207 },
    );
    // (Without WebAssembly SIMD every engine takes the float64 loop.)
    if (wasmAvailable())
      expect([...seen].sort()).toEqual([
        'float64',
        'in 1, out c',
        'in 1, out some',
        'in c, out c',
        'in c, out some',
        'in some, out c',
        'in some, out some',
        'int16',
        'int16 flat',
        'int32',
        'int32 flat',
        'int64 left',
        'int64 right',
        'lanes left',
        'lanes right',
      ]);
  });

  it('the simulator object can be reused: a second run gives the same logits and cycles', () => {
    const q = randomGraph('conv', 11, { groups: false });
    const plan = buildPlan(q, { macs: 8 });
    const x = randomInputs(q, 3, 5);
    const s = new Simulator(plan);
    const a = s.run(x, 3),
      b = s.run(x, 3);
    expect(Array.from(b.outputs)).toEqual(Array.from(a.outputs));
    expect(b.timing).toEqual(a.timing);
  });
});

describe('simulateParallel', () => {
  it('two worker threads give the logits, mismatch count, cycles and counters of one thread', async () => {
    const q = randomGraph('conv', 3, { groups: false });
    const plan = buildPlan(q, { macs: 6 });
    const x = randomInputs(q, 100, 9);
    const one = simulate(q, plan, x, 100, { handshake: new TbStall() });
    const two = await simulateParallel(q, plan, x, 100, { handshake: new TbStall(), workers: 2 });
    expect(Array.from(two.outputs)).toEqual(Array.from(one.outputs));
    expect(two.mismatches).toBe(0);
    expect(two.timing).toEqual(one.timing);
    expect(two.counters).toEqual(one.counters);
  });
});

describe('fxpq simulate', () => {
  const dir = tempDir();
  const model = writeZooFxp('lenet5', 'mixed', dir);

  it('--json reports images, cycles, zero mismatches, utilization and per-layer counters', () => {
    const r = fxpq('simulate', model, '--data', 'models/data/test_x.npy', '--limit', '50', '--macs', '64', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.images).toBe(50);
    expect(j.mismatches_vs_reference).toBe(0);
    const g = JSON.parse(fxpq('generate', model, '--macs', '64', '--out', join(dir, 'rtl'), '--json').stdout);
    expect(j.cycles_per_image).toBe(g.plan.latency);
    expect(j.layers.length).toBe(g.plan.engines.length);
    expect(j.utilization).toBeGreaterThan(0);
    expect(j.utilization).toBeLessThanOrEqual(1);
    expect(typeof j.seconds).toBe('number');
    const stalled = JSON.parse(
      fxpq('simulate', model, '--data', 'models/data/test_x.npy', '--limit', '5', '--macs', '64', '--stall', '--json').stdout,
    );
    expect(stalled.mismatches_vs_reference).toBe(0);
    expect(stalled.cycles_per_image).toBeGreaterThan(g.plan.latency);
  });

  it('prints a per-layer table and a PASS line', () => {
    const r = fxpq('simulate', model, '--data', 'models/data/test_x.npy', '--limit', '20');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/l00_conv/);
    expect(r.stdout).toMatch(/PASS 20 images, 0 mismatches/);
  });

  it('bad input: a MAC budget below one multiplier per layer, data of the wrong shape, a bad --limit', () => {
    let r = fxpq('simulate', model, '--data', 'models/data/test_x.npy', '--macs', '2');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--macs 2 cannot fit the design: it needs at least 5/);
    writeFileSync(join(dir, 'wrong.npy'), encodeNpy('float32', [2, 1, 20, 20], new Array(800).fill(0)));
    r = fxpq('simulate', model, '--data', join(dir, 'wrong.npy'));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/shape|expected/i);
    r = fxpq('simulate', model, '--data', 'models/data/test_x.npy', '--limit', '0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--limit must be a positive integer/);
  });
});

/**
 * A convolution followed by a convolution or a dense layer, with up to 12 channels, operands of 1
 * to 16 bits (int16 in the kernel) or up to 24 (int32), biases up to 31 bits and output shifts
 * from 12 left to 40 right.
 */
function kernelGraph(seed: number): QGraph {
  const r = mk(seed);
  const wide = r() < 0.5;
  const fmt = (wl: number, signed: boolean, fl = int(r, -4, 12)): FxFormat => ({ wl, fl, signed });
  const act = (out: FxFormat): Activation => {
    const k = int(r, 0, 2);
    if (k < 2) return { kind: k === 0 ? 'none' : 'relu' };
    const lo = int(r, minInt(out), 0),
      hi = int(r, lo, maxInt(out));
    return { kind: 'clip', lo, hi, min: lo, max: hi };
  };
  const operand = (): FxFormat => (wide ? (r() < 0.5 ? fmt(16, false) : fmt(int(r, 17, 24), true)) : fmt(int(r, 1, 15), r() < 0.5));
  const ints = (n: number, f: FxFormat) => Int32Array.from({ length: n }, () => int(r, minInt(f), maxInt(f)));
  const C = int(r, 1, 12),
    H = int(r, 1, 9),
    W = int(r, 1, 9);
  const values: QGraph['values'] = { x: { shape: [C, H, W], format: operand() } };
  const layers: QGraph['layers'] = [];
  const linear = (name: string, input: string, cin: number, cout: number, kh: number, kw: number) => {
    const inF = values[input].format;
    const wF = fmt(wide ? int(r, 2, 8) : int(r, 2, 16), true);
    const accFl = wF.fl + inF.fl;
    const bF = { wl: int(r, 2, 31), fl: accFl - int(r, 0, 6), signed: true };
    const out = name === 'y' ? fmt(int(r, 2, 16), r() < 0.5, accFl - int(r, -12, 40)) : { ...operand(), fl: accFl - int(r, -12, 40) };
    return {
      weight: { shape: [cout, cin, kh, kw], data: ints(cout * cin * kh * kw, wF) },
      bias: ints(cout, bF),
      weightFormat: wF,
      biasFormat: bF,
      act: act(out),
      out,
    };
  };
  const conv = (name: string, input: string) => {
    const [cin, h, w] = values[input].shape;
    const kh = int(r, 1, Math.min(3, h)),
      kw = int(r, 1, Math.min(3, w));
    const pads: [number, number, number, number] = [int(r, 0, kh - 1), int(r, 0, kw - 1), int(r, 0, kh - 1), int(r, 0, kw - 1)];
    const strides: [number, number] = [int(r, 1, 2), int(r, 1, 2)];
    const [ho, wo] = convOutHW(h, w, [kh, kw], strides, pads, [1, 1]);
    const { out, ...l } = linear(name, input, cin, int(r, 1, 12), kh, kw);
    values[name] = { shape: [l.bias.length, ho, wo], format: out };
    layers.push({ name, inputs: [input], output: name, op: { kind: 'conv', ...l, strides, pads, dilations: [1, 1], group: 1 } });
  };
  conv('c', 'x');
  if (r() < 0.5) conv('y', 'c');
  else {
    const [c, h, w] = values.c.shape;
    values.f = { shape: [c * h * w], format: values.c.format };
    layers.push({ name: 'f', inputs: ['c'], output: 'f', op: { kind: 'flatten' } });
    const { out, weight, ...l } = linear('y', 'f', c, int(r, 1, 12), h, w);
    values.y = { shape: [l.bias.length], format: out };
    layers.push({
      name: 'y',
      inputs: ['f'],
      output: 'y',
      op: { kind: 'dense', ...l, weight: { shape: [l.bias.length, c * h * w], data: weight.data } },
    });
  }
  return { input: 'x', output: 'y', layers, values };
}
