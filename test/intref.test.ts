import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxInt, minInt } from '../src/fixed/format.js';
import { runQGraphInt } from '../src/intref/run.js';
import type { QGraph } from '../src/quant/qgraph.js';
import { oracleRun } from './helpers/bigint-oracle.js';
import { int, mk, randomGraph } from './helpers/random-graph.js';

describe('integer reference equals an independent BigInt model, op by op', () => {
  for (const kind of ['conv', 'dense', 'maxpool', 'avgpool', 'gap', 'add', 'pad', 'flatten'] as const) {
    it(`${kind}: random shapes, word lengths 1..16, fraction lengths, signed and unsigned`, () => {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const q = randomGraph(kind, seed);
          const r = mk(seed ^ 0x5bd1e995);
          const xv = q.values.x;
          const n = xv.shape.reduce((a, b) => a * b, 1);
          const batch = 2;
          const x = new Float64Array(batch * n);
          for (let i = 0; i < x.length; i++) x[i] = int(r, minInt(xv.format), maxInt(xv.format));
          const ours = runQGraphInt(q, x, batch).output;
          const per = ours.length / batch;
          for (let b = 0; b < batch; b++) {
            const ref = oracleRun(q, x.subarray(b * n, (b + 1) * n)).get('y')!;
            expect(Array.from(ours.subarray(b * per, (b + 1) * per), (v) => BigInt(v))).toEqual(ref);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it('a hand-computed case: 2x2 conv, bias alignment, rounding tie, ReLU and saturation', () => {
    // Input s8.1 (LSB 0.5): [[1, 2], [3, 4]] as reals 0.5, 1, 1.5, 2. Weights s8.2 (LSB 0.25).
    // Output channel 0: w = [1, 1, 1, 1] (0.25 each), bias s8.0 = 1 (1.0).
    //   acc (fl 3) = 1 + 2 + 3 + 4 = 10, bias aligned: 1 << 3 = 8 -> 18 = 2.25 real.
    //   output u4.1: 18 >> 2 with rounding = floor((18 + 2) / 4) = 5 (2.5 real; 2.25 ties up).
    // Output channel 1: w = [-4, 0, 0, 0], bias 0: acc = -4 -> ReLU -> 0.
    // Output channel 2: w = [40, 40, 40, 40]: acc = 400 + 0 -> 100 -> saturates to 15.
    const q: QGraph = {
      input: 'x',
      output: 'y',
      values: {
        x: { shape: [1, 2, 2], format: { wl: 8, fl: 1, signed: true } },
        y: { shape: [3, 1, 1], format: { wl: 4, fl: 1, signed: false } },
      },
      layers: [
        {
          name: 'y',
          inputs: ['x'],
          output: 'y',
          op: {
            kind: 'conv',
            weight: { shape: [3, 1, 2, 2], data: Int32Array.from([1, 1, 1, 1, -4, 0, 0, 0, 40, 40, 40, 40]) },
            bias: Int32Array.from([1, 0, 0]),
            weightFormat: { wl: 8, fl: 2, signed: true },
            biasFormat: { wl: 8, fl: 0, signed: true },
            strides: [1, 1],
            pads: [0, 0, 0, 0],
            dilations: [1, 1],
            group: 1,
            act: { kind: 'relu' },
          },
        },
      ],
    };
    expect(Array.from(runQGraphInt(q, Float64Array.from([1, 2, 3, 4]), 1).output)).toEqual([5, 0, 15]);
  });
});
