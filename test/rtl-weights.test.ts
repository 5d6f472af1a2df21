import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zooQGraph } from '../src/calibration/zoo.js';
import { buildPlan } from '../src/hw/plan.js';
import { WEIGHT_STREAM_FILE } from '../src/hw/render.js';
import { randomGraph, randomGroupedGraph } from './helpers/random-graph.js';
import { expectRtlExact, icarusBuild, icarusRun, parseLog, writeDesign } from './helpers/rtl.js';

/**
 * `--weights load` (issue 29): the weights leave the bitstream for one shared memory that the
 * input stream fills after reset. The oracles are those of every RTL test (the integer reference
 * inside the test bench, the cycle simulator's schedule, Verilator against Icarus), now with the
 * weight load in front of the first image under the same handshake stalls, and a corrupted load
 * stream, which must change the logits: the weights the engines use are the loaded ones.
 */
describe('weights loaded through the input stream', () => {
  for (const kind of ['conv', 'dense'] as const) {
    it(`random ${kind} layers: bit- and cycle-exact, with and without stalls (Icarus)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer(), fc.integer({ min: 1, max: 24 }), async (seed, macs) => {
          const q = randomGraph(kind, seed, { groups: false });
          fc.pre(Object.values(q.values).every((v) => v.shape.every((d) => d > 0)));
          await expectRtlExact(q, macs, seed, { weights: 'load' });
        }),
        { numRuns: 10 },
      );
    });
  }

  it('depthwise and grouped layers: bit- and cycle-exact (Icarus)', async () => {
    for (const [groups, seed] of [
      ['depthwise', 3],
      [2, 5],
    ] as const) {
      await expectRtlExact(randomGroupedGraph(groups, seed), 8, seed, { weights: 'load' });
    }
  });

  it('a whole network (lenet5, mixed precision): Icarus and Verilator, with and without stalls', { timeout: 300_000 }, async () => {
    const d = await expectRtlExact(zooQGraph('lenet5', 'mixed'), 8, 1, { images: 2, verilator: true, weights: 'load' });
    const s = d.plan.weightStore!;
    // Every conv and dense engine reads from the store; no weight ROM image remains.
    expect(s.regions.map((r) => r.engine)).toEqual(d.plan.engines.filter((e) => e.kind === 'linear').map((e) => e.index));
    expect(Object.keys(d.files).filter((f) => f.endsWith('_w.hex'))).toEqual([]);
    expect(d.files[WEIGHT_STREAM_FILE].trim().split('\n').length).toBe(s.beats);
  });

  it('the logits come from the loaded weights: a corrupted load stream is caught', async () => {
    const q = zooQGraph('mlp', 'mixed');
    const { dir, d, cleanup } = writeDesign(q, { macs: 16, images: 2, seed: 1, weights: 'load' });
    try {
      const file = join(dir, WEIGHT_STREAM_FILE);
      const beats = readFileSync(file, 'utf8').split('\n');
      // Every bit of the last dense layer's region inverted: its weights reach the logits directly.
      const s = d.plan.weightStore!;
      const last = s.regions[s.regions.length - 1];
      const mask = 2 ** s.beatBits - 1;
      for (let at = last.base * s.beatsPerWord; at < (last.base + last.words) * s.beatsPerWord; at++)
        beats[at] = (parseInt(beats[at], 16) ^ mask).toString(16).padStart(beats[at].length, '0');
      writeFileSync(file, beats.join('\n'));
      expect((await icarusBuild(dir)).out.trim()).toBe('');
      expect(parseLog((await icarusRun(dir)).out).mismatches).toBeGreaterThan(0);
    } finally {
      cleanup();
    }
  });

  it('the store lays the engines end to end, in words as wide as the widest engine, in beats of the input TDATA', () => {
    const q = zooQGraph('lenet5', 'mixed');
    const plan = buildPlan(q, { macs: 8, weights: 'load' });
    const s = plan.weightStore!;
    let base = 0;
    for (const r of s.regions) {
      expect(r.base).toBe(base);
      base += r.words;
      expect(r.bits).toBeLessThanOrEqual(s.wordBits);
    }
    expect(s.depth).toBe(base);
    expect(s.wordBits % 16).toBe(0);
    expect(s.wordBits - Math.max(...s.regions.map((r) => r.bits))).toBeLessThan(16);
    expect(s.beats).toBe(s.depth * Math.ceil(s.wordBits / s.beatBits));
    expect(buildPlan(q, { macs: 8 }).weightStore).toBeUndefined();
    // A network without weights has nothing to load: one clear error.
    const pools = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => randomGraph('maxpool', seed));
    const pool = pools.find((g) => Object.values(g.values).every((v) => v.shape.every((d) => d > 0)))!;
    expect(() => buildPlan(pool, { macs: 1, weights: 'load' })).toThrow(/no layer with weights/);
  });
});
