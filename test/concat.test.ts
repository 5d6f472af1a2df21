import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../src/engine/run.js';
import { parseFxp, toFxpFile } from '../src/io/fxpjson.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildModel, type ModelSpec, randn, rng } from '../src/onnx/builder.js';
import { runQGraphInt } from '../src/intref/run.js';
import { randomInputs } from '../src/hw/generate.js';
import { oracleRun } from './helpers/bigint-oracle.js';
import { maxAbsDiff, runOrt } from './helpers/ort.js';
import { randomConcatGraph } from './helpers/random-graph.js';

/** Concat along channels: import and float engine against onnxruntime, integer reference against the BigInt oracle, file round trip. */

const r = rng(7);
const W = (name: string, dims: number[]) => ({
  name,
  dims,
  values: randn(
    r,
    dims.reduce((a, b) => a * b, 1),
    0.5,
  ),
});
const META = { tool: { name: 'fxpq', version: 't' }, source: { file: 't', sha256: '0', opset: 13, producer: 't' }, options: {} };

async function againstOrt(spec: ModelSpec) {
  const bytes = buildModel(spec);
  const g = importOnnx(bytes, { file: 'concat.onnx' });
  const perSample = spec.inputShape.slice(1) as number[];
  const x = Float32Array.from(randn(rng(3), 3 * perSample.reduce((a, b) => a * b, 1), 2));
  const ours = runGraph(g, x, 3).output,
    ref = await runOrt(bytes, x, [3, ...perSample]);
  return { g, diff: maxAbsDiff(ours, ref), n: ours.length, m: ref.length };
}

describe('Concat', () => {
  it('three convolution branches along the channels, then a convolution: the float engine equals onnxruntime', async () => {
    const { g, diff, n, m } = await againstOrt({
      inputShape: ['N', 2, 5, 5],
      inits: [W('w1', [3, 2, 3, 3]), W('w2', [1, 2, 1, 1]), W('w3', [2, 2, 3, 3]), W('w4', [2, 6, 1, 1])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Conv', inputs: ['x', 'w2'], outputs: ['b'] },
        { op: 'Conv', inputs: ['x', 'w3'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Concat', inputs: ['a', 'b', 'c'], outputs: ['h'], attrs: { axis: 1 } },
        { op: 'Conv', inputs: ['h', 'w4'], outputs: ['y'] },
      ],
    });
    expect(g.nodes.map((x) => x.op.kind)).toEqual(['conv', 'conv', 'conv', 'concat', 'conv']);
    expect(g.shapes.h).toEqual([6, 5, 5]);
    expect(n).toBe(m);
    expect(diff).toBeLessThan(1e-5);
  });

  it('features of two dense layers (axis -1 of [batch, features]): the float engine equals onnxruntime', async () => {
    const { g, diff } = await againstOrt({
      inputShape: ['N', 4],
      inits: [W('w1', [3, 4]), W('w2', [2, 4])],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w1'], outputs: ['a'], attrs: { transB: 1 } },
        { op: 'Gemm', inputs: ['x', 'w2'], outputs: ['b'], attrs: { transB: 1 } },
        { op: 'Concat', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: -1 } },
      ],
    });
    expect(g.shapes.y).toEqual([5]);
    expect(diff).toBeLessThan(1e-5);
  });

  it('refuses another axis and a constant input with one line naming the node', () => {
    const spec = (axis: number): ModelSpec => ({
      inputShape: ['N', 2, 4, 4],
      inits: [W('w', [2, 2, 1, 1])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['a'] },
        { op: 'Concat', inputs: ['a', 'x'], outputs: ['y'], name: 'cat', attrs: { axis } },
      ],
    });
    expect(() => importOnnx(buildModel(spec(2)))).toThrow(
      /node 'cat' \(Concat\): only Concat along the channels \(axis 1\) is supported, got axis=2/,
    );
    const withConst: ModelSpec = {
      inputShape: ['N', 2, 4, 4],
      inits: [W('k', [1, 2, 4, 4])],
      nodes: [{ op: 'Concat', inputs: ['x', 'k'], outputs: ['y'], name: 'cat', attrs: { axis: 1 } }],
    };
    expect(() => importOnnx(buildModel(withConst))).toThrow(
      /node 'cat' \(Concat\): Concat of computed tensors and constants is not supported/,
    );
  });

  it('integer reference equals the BigInt oracle on random concatenations (formats 1..16 bits, signed and unsigned, maps and vectors)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.boolean(), (seed, vectors) => {
        const q = randomConcatGraph(seed, { vectors });
        const xq = randomInputs(q, 1, seed);
        const ours = Array.from(runQGraphInt(q, xq, 1).output);
        const oracle = oracleRun(q, xq).get(q.output)!.map(Number);
        expect(ours).toEqual(oracle);
      }),
      { numRuns: 200, seed: 20261207 },
    );
  });

  it('a .fxp.json with a concatenation reads back to the same integers; mismatched input shapes are one clear line', () => {
    const q = randomConcatGraph(5);
    const file = toFxpFile(q, META);
    const back = parseFxp(JSON.parse(JSON.stringify(file))).q;
    const xq = randomInputs(q, 2, 5);
    expect(Array.from(runQGraphInt(back, xq, 2).output)).toEqual(Array.from(runQGraphInt(q, xq, 2).output));
    const bad = JSON.parse(JSON.stringify(file));
    const cat = bad.layers[bad.layers.length - 1];
    cat.inputs = [cat.inputs[0]];
    cat.formats.inputs = [cat.formats.inputs[0]];
    expect(() => parseFxp(bad)).toThrow(/layer 'y' field inputs: concat takes 2 to 8 input\(s\)/);
  });
});
