import { describe, expect, it } from 'vitest';
import { runGraph } from '../src/engine/run.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildModel, type ModelSpec, randn, rng } from '../src/onnx/builder.js';
import { maxAbsDiff, runOrt } from './helpers/ort.js';

const BATCH = 3;

/** Imports the model, runs it with our engine and with onnxruntime-node, and returns both. */
async function compare(spec: ModelSpec, seed = 1) {
  const bytes = buildModel(spec);
  const g = importOnnx(bytes, { file: 'case.onnx' });
  const perSample = spec.inputShape.slice(1) as number[];
  const n = BATCH * perSample.reduce((a, b) => a * b, 1);
  const x = Float32Array.from(randn(rng(seed), n, 2));
  const ours = runGraph(g, x, BATCH).output;
  const ref = await runOrt(bytes, x, [BATCH, ...perSample]);
  return { g, ours, ref, diff: maxAbsDiff(ours, ref) };
}

const r = rng(42);
const W = (name: string, dims: number[], raw = true) => ({
  name,
  dims,
  values: randn(
    r,
    dims.reduce((a, b) => a * b, 1),
    0.5,
  ),
  raw,
});
const I64 = (name: string, values: number[]) => ({ name, dims: [values.length], values, type: 'int64' as const });

interface Case {
  name: string;
  spec: ModelSpec;
  kinds?: string[];
}

const cases: Case[] = [
  {
    name: 'Conv 3x3, pad 1, bias in raw_data',
    spec: {
      inputShape: ['N', 2, 7, 7],
      inits: [W('w', [4, 2, 3, 3]), W('b', [4])],
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } }],
    },
    kinds: ['conv'],
  },
  {
    name: 'Conv stride 2, asymmetric pads, dilation 2, no bias, typed float_data',
    spec: {
      inputShape: ['N', 3, 11, 10],
      inits: [W('w', [5, 3, 3, 2], false)],
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2, 2], pads: [0, 1, 2, 1], dilations: [2, 2] } }],
    },
    kinds: ['conv'],
  },
  {
    name: 'Conv grouped (group 2)',
    spec: {
      inputShape: ['N', 4, 6, 6],
      inits: [W('w', [6, 2, 3, 3]), W('b', [6])],
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: 2, pads: [1, 1, 1, 1] } }],
    },
  },
  {
    name: 'Conv depthwise (group = channels)',
    spec: {
      inputShape: ['N', 3, 8, 8],
      inits: [W('w', [3, 1, 3, 3]), W('b', [3])],
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] } }],
    },
  },
  {
    name: 'Conv auto_pad SAME_UPPER and 1x1 pointwise',
    spec: {
      inputShape: ['N', 2, 7, 7],
      inits: [W('w', [3, 2, 4, 4]), W('w2', [2, 3, 1, 1]), W('b2', [2])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['h'], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
        { op: 'Conv', inputs: ['h', 'w2', 'b2'], outputs: ['y'] },
      ],
    },
  },
  {
    name: 'Gemm transB=1, alpha, beta, bias',
    spec: {
      inputShape: ['N', 6],
      inits: [W('w', [4, 6]), W('c', [4])],
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'c'], outputs: ['y'], attrs: { transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } } }],
    },
    kinds: ['dense'],
  },
  {
    name: 'Gemm transB=0 with a scalar C in typed float_data',
    spec: {
      inputShape: ['N', 5],
      inits: [W('w', [5, 3]), { name: 'c', dims: [1], values: [0.25], raw: false }],
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'c'], outputs: ['y'] }],
    },
  },
  {
    name: 'MatMul followed by Add becomes a biased dense layer',
    spec: {
      inputShape: ['N', 6],
      inits: [W('w', [6, 4]), W('b', [4])],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
      ],
    },
    kinds: ['dense'],
  },
  {
    name: 'residual Add, Relu',
    spec: {
      inputShape: ['N', 3, 5, 5],
      inits: [W('w', [3, 3, 3, 3]), W('b', [3])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Add', inputs: ['r', 'x'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['y'] },
      ],
    },
    kinds: ['conv', 'relu', 'add', 'relu'],
  },
  {
    name: 'Clip as ReLU6 (opset 13, min/max inputs)',
    spec: {
      inputShape: ['N', 10],
      inits: [
        { name: 'lo', dims: [], values: [0] },
        { name: 'hi', dims: [], values: [0.75] },
      ],
      nodes: [{ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }],
    },
    kinds: ['clip'],
  },
  {
    name: 'Clip with only a max (opset 11)',
    spec: {
      opset: 11,
      inputShape: ['N', 10],
      inits: [{ name: 'hi', dims: [], values: [0.5] }],
      nodes: [{ op: 'Clip', inputs: ['x', '', 'hi'], outputs: ['y'] }],
    },
  },
  {
    name: 'MaxPool 3x3 stride 2 with pads and dilation',
    spec: {
      inputShape: ['N', 2, 9, 9],
      nodes: [
        {
          op: 'MaxPool',
          inputs: ['x'],
          outputs: ['y'],
          attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 2] },
        },
      ],
    },
    kinds: ['maxpool'],
  },
  {
    name: 'AveragePool with pads, count_include_pad=0',
    spec: {
      inputShape: ['N', 2, 7, 7],
      nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
    },
    kinds: ['avgpool'],
  },
  {
    name: 'AveragePool with pads, count_include_pad=1',
    spec: {
      inputShape: ['N', 2, 6, 6],
      nodes: [
        {
          op: 'AveragePool',
          inputs: ['x'],
          outputs: ['y'],
          attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 },
        },
      ],
    },
  },
  {
    name: 'GlobalAveragePool then Flatten',
    spec: {
      inputShape: ['N', 4, 5, 3],
      nodes: [
        { op: 'GlobalAveragePool', inputs: ['x'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['y'] },
      ],
    },
    kinds: ['gap', 'flatten'],
  },
  {
    name: 'BatchNormalization after Conv is folded',
    spec: {
      inputShape: ['N', 2, 5, 5],
      inits: [
        W('w', [3, 2, 3, 3]),
        W('b', [3]),
        { name: 's', dims: [3], values: [1.5, 0.5, 2] },
        W('be', [3]),
        W('mu', [3]),
        { name: 'v', dims: [3], values: [0.3, 1.2, 2.5] },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
        { op: 'BatchNormalization', inputs: ['c', 's', 'be', 'mu', 'v'], outputs: ['y'], attrs: { epsilon: { float: 1e-3 } } },
      ],
    },
    kinds: ['conv'],
  },
  {
    name: 'BatchNormalization after Gemm is folded (opset 15)',
    spec: {
      opset: 15,
      inputShape: ['N', 4],
      inits: [
        W('w', [3, 4]),
        { name: 's', dims: [3], values: [1.5, 0.5, 2] },
        W('be', [3]),
        W('mu', [3]),
        { name: 'v', dims: [3], values: [0.3, 1.2, 2.5] },
      ],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w'], outputs: ['c'], attrs: { transB: 1 } },
        { op: 'BatchNormalization', inputs: ['c', 's', 'be', 'mu', 'v'], outputs: ['y'] },
      ],
    },
    kinds: ['dense'],
  },
  {
    name: 'per-channel Mul and Add after Conv fold into it',
    spec: {
      inputShape: ['N', 2, 4, 4],
      inits: [W('w', [3, 2, 3, 3]), W('m', [3, 1, 1]), W('a', [1, 3, 1, 1])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
        { op: 'Mul', inputs: ['c', 'm'], outputs: ['d'] },
        { op: 'Add', inputs: ['a', 'd'], outputs: ['y'] },
      ],
    },
    kinds: ['conv'],
  },
  {
    name: 'Reshape to [-1, K] after a feature map',
    spec: {
      inputShape: ['N', 2, 3, 3],
      inits: [I64('shape', [-1, 18]), W('w', [4, 18])],
      nodes: [
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'w'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    },
    kinds: ['flatten', 'dense'],
  },
  {
    name: 'x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat, Reshape',
    spec: {
      inputShape: ['N', 2, 3, 3],
      inits: [{ name: 'zero', dims: [], values: [0], type: 'int64' }, I64('ax', [0]), I64('minus1', [-1])],
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['n', 'ax'], outputs: ['n1'] },
        { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
    },
    kinds: ['flatten'],
  },
  {
    name: 'Identity and Dropout are removed',
    spec: {
      inputShape: ['N', 5],
      inits: [W('w', [3, 5])],
      nodes: [
        { op: 'Identity', inputs: ['x'], outputs: ['i'] },
        { op: 'Dropout', inputs: ['i'], outputs: ['d'] },
        { op: 'Gemm', inputs: ['d', 'w'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    },
    kinds: ['dense'],
  },
  {
    name: 'trailing Softmax (opset 11, axis 1)',
    spec: {
      opset: 11,
      inputShape: ['N', 5],
      inits: [W('w', [4, 5])],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w'], outputs: ['l'], attrs: { transB: 1 } },
        { op: 'Softmax', inputs: ['l'], outputs: ['y'], attrs: { axis: 1 } },
      ],
    },
    kinds: ['dense', 'softmax'],
  },
  {
    name: 'weights from Constant nodes and constant arithmetic are folded',
    spec: {
      inputShape: ['N', 4],
      inits: [{ name: 'two', dims: [], values: [2] }],
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['w0'], attrs: { value: { tensor: W('', [4, 3]) } } },
        { op: 'Mul', inputs: ['w0', 'two'], outputs: ['w1'] },
        { op: 'Transpose', inputs: ['w1'], outputs: ['w'], attrs: { perm: [1, 0] } },
        { op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    },
    kinds: ['dense'],
  },
  {
    name: 'zero Pad merged into the next Conv',
    spec: {
      inputShape: ['N', 2, 5, 5],
      inits: [I64('p', [0, 0, 1, 2, 0, 0, 2, 1]), W('w', [3, 2, 3, 3])],
      nodes: [
        { op: 'Pad', inputs: ['x', 'p'], outputs: ['q'] },
        { op: 'Conv', inputs: ['q', 'w'], outputs: ['y'] },
      ],
    },
    kinds: ['conv'],
  },
  {
    name: 'zero Pad before MaxPool stays an op (zeros are not -inf)',
    spec: {
      inputShape: ['N', 2, 5, 5],
      inits: [I64('p', [0, 0, 1, 1, 0, 0, 1, 1])],
      nodes: [
        { op: 'Pad', inputs: ['x', 'p'], outputs: ['q'] },
        { op: 'MaxPool', inputs: ['q'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      ],
    },
    kinds: ['pad', 'maxpool'],
  },
];

for (const opset of [11, 17, 21]) {
  cases.push({
    name: `Conv + Relu + MaxPool + Flatten + Gemm at opset ${opset}`,
    spec: {
      opset,
      inputShape: ['N', 1, 8, 8],
      inits: [W('w', [2, 1, 3, 3]), W('b', [2]), W('fw', [3, 18]), W('fb', [3])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    },
  });
}

describe('import + engine agree with onnxruntime-node on every supported op', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { g, diff, ours } = await compare(c.spec);
      expect(ours.some((v) => v !== 0)).toBe(true);
      expect(diff).toBeLessThan(1e-5);
      if (c.kinds) expect(g.nodes.map((n) => n.op.kind)).toEqual(c.kinds);
    });
  }
});
