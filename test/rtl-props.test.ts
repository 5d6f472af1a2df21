import fc from 'fast-check';
import { describe, it } from 'vitest';
import { randomGraph } from './helpers/random-graph.js';
import { expectRtlExact } from './helpers/rtl.js';

/**
 * Random small layers (shapes, word lengths 1..16, fraction lengths, signed and unsigned data,
 * fused activations, random MAC budgets) through the generator. For each: Verilator -Wall lint is
 * silent, Icarus -Wall is silent, and the self-checking test bench sees every output equal to the
 * integer reference (including with random handshake stalls) and the planned cycle count. The
 * cycle simulator (sim/) runs the same images under the same handshake pattern: every logit and
 * every image's first-input and last-logit cycle equal the RTL's.
 */
describe('generated RTL equals the integer reference on random layers (Icarus)', () => {
  for (const kind of ['conv', 'dense', 'maxpool', 'avgpool', 'gap', 'add'] as const) {
    it(`${kind}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer(), fc.integer({ min: 1, max: 24 }), async (seed, macs) => {
          const q = randomGraph(kind, seed, { groups: false });
          // Windows larger than the padded input leave nothing to compute (ONNX import rejects them).
          fc.pre(Object.values(q.values).every((v) => v.shape.every((d) => d > 0)));
          const linear = q.layers.filter((l) => l.op.kind === 'conv' || l.op.kind === 'dense').length;
          await expectRtlExact(q, Math.max(macs, linear), seed);
        }),
        { numRuns: 25 },
      );
    });
  }
});
