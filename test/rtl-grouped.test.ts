import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomGroupedGraph } from './helpers/random-graph.js';
import { expectRtlExact } from './helpers/rtl.js';

/**
 * Grouped convolutions (2 and 4 groups, and one group per channel) through the generator, as
 * rtl-props.test.ts does for the other layers: random shapes, word lengths 1..16, signed and unsigned data, fused activations and MAC
 * budgets; lint-clean in Verilator and Icarus; the test bench, the integer reference and the cycle
 * simulator agree on every logit and cycle, with and without handshake stalls. A few designs of
 * each kind also run in Verilator.
 */
describe('grouped convolutions: generated RTL equals the integer reference and the simulator', () => {
  for (const groups of ['depthwise', 2, 4] as const) {
    it(`${groups}: Icarus on random layers`, async () => {
      // What the runs covered: several lanes per input word, several outputs per cycle, several
      // output words per convolution group.
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(fc.integer(), fc.integer({ min: 2, max: 24 }), async (seed, macs) => {
          const d = await expectRtlExact(randomGroupedGraph(groups, seed), macs, seed);
          expect(d.plan.macs).toBeLessThanOrEqual(macs);
          const e = d.plan.engines[1],
            inLanes = d.plan.buffers[e.inputs[0]].lanes;
          if (e.kind === 'linear' && e.groups > 1) seen.add('groups');
          if (inLanes > 1) seen.add('input lanes');
          if (e.kind === 'linear' && e.pe > 1) seen.add('pe');
          if (e.kind === 'linear' && e.cout / e.groups / e.pe > 1) seen.add('words per group');
          if (e.kind === 'depthwise') seen.add('depthwise engine');
          if (e.kind === 'depthwise' && e.c / e.lanes > 1) seen.add('channel words');
        }),
        { numRuns: 25, seed: 20261207 },
      );
      // One channel per group goes to the depthwise engine (lanes shared by input and output).
      expect([...seen]).toEqual(
        expect.arrayContaining(
          groups === 'depthwise'
            ? ['channel words', 'depthwise engine', 'input lanes']
            : ['groups', 'input lanes', 'pe', 'words per group'],
        ),
      );
    }, 600_000);
    it(`${groups}: Verilator on random layers`, async () => {
      for (const seed of [11, 12]) await expectRtlExact(randomGroupedGraph(groups, seed), 16, seed, { verilator: true });
    }, 600_000);
  }

  it('the depthwise engine spends one multiplier per lane and one cycle per tap of a channel word', async () => {
    const q = randomGroupedGraph('depthwise', 7);
    const conv = q.layers[1].op;
    if (conv.kind !== 'conv') throw new Error('expected a convolution');
    const d = await expectRtlExact(q, 64, 7);
    const e = d.plan.engines[1];
    if (e.kind !== 'depthwise') throw new Error(`expected the depthwise engine, got ${e.kind}`);
    const [c, ho, wo] = q.values.y.shape,
      kk = conv.weight.shape[2] * conv.weight.shape[3];
    expect(c).toBeGreaterThan(1);
    expect(e.multipliers).toBe(e.lanes);
    expect(e.cycles).toBe((c / e.lanes) * ho * wo * kk + 3);
  });
});
