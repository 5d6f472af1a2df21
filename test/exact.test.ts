import { describe, expect, it } from 'vitest';
import { checkExactRange, exactnessBound } from '../src/engine/exact.js';
import { runGraph } from '../src/engine/run.js';
import type { ConvOp, DenseOp, Graph } from '../src/ir/types.js';
import { rng } from '../src/onnx/builder.js';

/** Integer weights large enough that float32 would round but float64 must not. */
function intGraph(seed: number, wMax: number): Graph {
  const r = rng(seed);
  const ints = (n: number, m: number) => Float64Array.from({ length: n }, () => Math.round((r() * 2 - 1) * m));
  const c1: ConvOp = {
    kind: 'conv',
    weight: { shape: [3, 2, 3, 3], data: ints(54, wMax) },
    bias: ints(3, wMax),
    strides: [1, 1],
    pads: [1, 1, 1, 1],
    dilations: [1, 1],
    group: 1,
  };
  const d1: DenseOp = { kind: 'dense', weight: { shape: [4, 48], data: ints(192, wMax) }, bias: ints(4, wMax) };
  return {
    input: { name: 'x', shape: [2, 4, 4] },
    output: 'y',
    nodes: [
      { name: 'c1', op: c1, inputs: ['x'], output: 'c' },
      { name: 'r1', op: { kind: 'relu' }, inputs: ['c'], output: 'r' },
      { name: 'f', op: { kind: 'flatten' }, inputs: ['r'], output: 'f' },
      { name: 'd1', op: d1, inputs: ['f'], output: 'y' },
    ],
    shapes: { x: [2, 4, 4], c: [3, 4, 4], r: [3, 4, 4], f: [48], y: [4] },
    source: { opset: 13, producer: 'test', sha256: '' },
  };
}

/** Independent BigInt model of the same graph: direct loops, no im2col, no GEMM. */
function bigintReference(g: Graph, x: Float64Array): bigint[] {
  const c = g.nodes[0].op as ConvOp;
  const d = g.nodes[3].op as DenseOp;
  const X = Array.from(x, (v) => BigInt(v));
  const conv: bigint[] = [];
  for (let o = 0; o < 3; o++) {
    for (let y = 0; y < 4; y++) {
      for (let xx = 0; xx < 4; xx++) {
        let s = BigInt(c.bias[o]);
        for (let ci = 0; ci < 2; ci++) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1,
                ix = xx + kx - 1;
              if (iy < 0 || iy > 3 || ix < 0 || ix > 3) continue;
              s += BigInt(c.weight.data[((o * 2 + ci) * 3 + ky) * 3 + kx]) * X[(ci * 4 + iy) * 4 + ix];
            }
          }
        }
        conv.push(s > 0n ? s : 0n);
      }
    }
  }
  return Array.from({ length: 4 }, (_, o) => conv.reduce((s, v, k) => s + BigInt(d.weight.data[o * 48 + k]) * v, BigInt(d.bias[o])));
}

describe('the float64 engine is exact on integer tensors within its stated bound', () => {
  it('matches an independent BigInt computation where float32 would already round', () => {
    const wMax = 2 ** 12;
    const xMax = 2 ** 10;
    const g = intGraph(3, wMax);
    const report = checkExactRange(g, xMax);
    expect(report.maxPartialSum).toBeGreaterThan(2 ** 40); // far beyond float32's 2^24
    expect(report.maxPartialSum).toBeLessThan(2 ** 53);
    const r = rng(9);
    for (let trial = 0; trial < 5; trial++) {
      // Inputs at the bound's extremes as well as random ones.
      const x = Float64Array.from({ length: 32 }, (_, i) => (trial === 0 ? (i % 2 ? xMax : -xMax) : Math.round((r() * 2 - 1) * xMax)));
      const ours = runGraph(g, x, 1).output;
      const ref = bigintReference(g, x);
      expect(Array.from(ours, (v) => BigInt(v))).toEqual(ref);
      expect(ref.some((v) => (v < 0n ? -v : v) > 2n ** 24n)).toBe(true);
    }
  });
  it('the bound is never below the true magnitude, and the check refuses ranges beyond 2^53', () => {
    const g = intGraph(5, 2 ** 12);
    const xMax = 2 ** 10;
    const bound = exactnessBound(g, xMax).maxPartialSum;
    const x = Float64Array.from({ length: 32 }, (_, i) => (i % 3 ? xMax : -xMax));
    const maxOut = Math.max(...Array.from(runGraph(g, x, 1).output, Math.abs));
    expect(bound).toBeGreaterThanOrEqual(maxOut);
    expect(() => checkExactRange(g, 2 ** 40)).toThrow(/2\^53/);
  });
});
