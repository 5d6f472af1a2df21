import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomGraph } from './helpers/random-graph.js';
import { icarusBuild, icarusRun, lint, parseLog, parseSpans, readOuts, writeDesign } from './helpers/rtl.js';
import { randomInputs } from '../src/hw/generate.js';
import { alwaysReady, type Handshake, TbStall } from '../sim/handshake.js';
import { Simulator } from '../sim/simulator.js';

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
          const inputs = randomInputs(q, 3, seed);
          const against = (out: string, hs: Handshake) => {
            const s = new Simulator(d.plan).run(inputs, 3, { handshake: hs });
            expect(readOuts(dir, d.plan.output.format), `simulator logits (${hs.name})`).toEqual(Array.from(s.outputs));
            expect(parseSpans(out), `simulator cycles (${hs.name})`).toEqual(s.timing.map((t) => ({ first: t.firstIn, last: t.lastOut })));
          };
          const plain = (await icarusRun(dir, ['+outs'])).out;
          const r = parseLog(plain);
          expect(r.mismatches).toBe(0);
          expect(r.cycles).toEqual([d.plan.latency, d.plan.latency, d.plan.latency]);
          against(plain, alwaysReady);
          // Random gaps in both handshakes: still exact (cycles then depend on the gaps).
          const stalled = (await icarusRun(dir, ['+stall', '+outs'])).out;
          expect(parseLog(stalled).mismatches).toBe(0);
          against(stalled, new TbStall());
        } finally {
          cleanup();
        }
      }), { numRuns: 25 });
    });
  }
});
