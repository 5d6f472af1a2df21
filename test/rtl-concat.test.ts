import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomConcatGraph } from './helpers/random-graph.js';
import { expectRtlExact } from './helpers/rtl.js';

/**
 * Concat layers through the generator (2 to 4 inputs of their own formats, word lengths 1..16,
 * signed and unsigned, feature maps and vectors, random MAC budgets): lint-clean in Verilator and
 * Icarus; the test bench, the integer reference and the cycle simulator agree on every logit and
 * cycle, with and without handshake stalls; a few designs in Verilator too.
 */
describe('concat: generated RTL equals the integer reference and the simulator', () => {
  it('Icarus on random concatenations', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.boolean(), fc.integer({ min: 1, max: 32 }), async (seed, vectors, macs) => {
        const q = randomConcatGraph(seed, { vectors });
        const branches = q.layers.filter((l) => l.op.kind === 'conv' || l.op.kind === 'dense').length;
        const d = await expectRtlExact(q, Math.max(macs, branches), seed);
        const e = d.plan.engines[d.plan.engines.length - 1];
        expect(e.kind).toBe('concat');
        if (e.kind !== 'concat') return;
        // One cycle per word of every input, and the pipeline's one.
        expect(e.cycles).toBe(e.words.reduce((a, b) => a + b, 0) + 1);
        seen.add(`${e.inputs.length} inputs`);
        if (e.lanes > 1) seen.add('lanes');
        if (d.plan.buffers[e.inputs[0]].producer < 0) seen.add('network input');
        if (vectors) seen.add('vectors');
      }),
      { numRuns: 30, seed: 20261207 },
    );
    expect([...seen]).toEqual(expect.arrayContaining(['2 inputs', '3 inputs', '4 inputs', 'lanes', 'network input', 'vectors']));
  }, 600_000);

  it('Verilator on random concatenations', async () => {
    for (const seed of [3, 4]) await expectRtlExact(randomConcatGraph(seed), 16, seed, { verilator: true });
  }, 600_000);
});
