import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomGraph } from './helpers/random-graph.js';
import { icarusBuild, icarusRun, lint, parseLog, writeDesign } from './helpers/rtl.js';

/**
 * Random small layers (shapes, word lengths 1..16, fraction lengths, signed and unsigned data,
 * fused activations, random MAC budgets) through the generator. For each: Verilator -Wall lint is
 * silent, Icarus -Wall is silent, and the self-checking test bench sees every output equal to the
 * integer reference (including with random handshake stalls) and the planned cycle count.
 */
describe('generated RTL equals the integer reference on random layers (Icarus)', () => {
  for (const kind of ['conv', 'dense', 'maxpool', 'avgpool', 'gap', 'add'] as const) {
    it(`${kind}`, async () => {
      await fc.assert(fc.asyncProperty(fc.integer(), fc.integer({ min: 1, max: 24 }), async (seed, macs) => {
        const q = randomGraph(kind, seed, { groups: false });
        // Windows larger than the padded input leave nothing to compute (ONNX import rejects them).
        fc.pre(Object.values(q.values).every((v) => v.shape.every((d) => d > 0)));
        const linear = q.layers.filter((l) => l.op.kind === 'conv' || l.op.kind === 'dense').length;
        const { dir, d, cleanup } = writeDesign(q, { macs: Math.max(macs, linear), images: 3, seed });
        try {
          const l = await lint(dir, d.top);
          expect(l.out.trim(), 'verilator -Wall').toBe('');
          const b = await icarusBuild(dir);
          expect(b.out.trim(), 'iverilog -Wall').toBe('');
          const r = parseLog((await icarusRun(dir)).out);
          expect(r.mismatches).toBe(0);
          expect(r.cycles).toEqual([d.plan.latency, d.plan.latency, d.plan.latency]);
          // Random gaps in both handshakes: still exact (cycles then depend on the gaps).
          expect(parseLog((await icarusRun(dir, ['+stall'])).out).mismatches).toBe(0);
        } finally {
          cleanup();
        }
      }), { numRuns: 25 });
    });
  }
});
