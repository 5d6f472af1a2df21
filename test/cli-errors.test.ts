import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npy.js';
import { fxpq, tempDir } from './helpers/cli.js';
import { buildModel, randn, rng } from '../src/onnx/builder.js';

const dir = tempDir();
const p = (f: string) => join(dir, f);
const r = rng(7);
const good = buildModel({
  inputShape: ['N', 1, 4, 4],
  inits: [
    { name: 'w', dims: [2, 1, 3, 3], values: randn(r, 18) },
    { name: 'fw', dims: [3, 8], values: randn(r, 24) },
  ],
  nodes: [
    { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
    { op: 'Flatten', inputs: ['c'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['y'], attrs: { transB: 1 } },
  ],
});

beforeAll(() => {
  writeFileSync(p('good.onnx'), good);
  writeFileSync(p('truncated.onnx'), good.subarray(0, Math.floor(good.length * 0.6)));
  writeFileSync(p('text.onnx'), 'this is not an onnx model, just some text\n');
  writeFileSync(p('empty.onnx'), '');
  writeFileSync(
    p('unsupported.onnx'),
    buildModel({
      inputShape: ['N', 4],
      nodes: [
        { op: 'Tanh', inputs: ['x'], outputs: ['t'], name: 'my_tanh' },
        { op: 'Relu', inputs: ['t'], outputs: ['y'] },
      ],
    }),
  );
  writeFileSync(
    p('nan-weight.onnx'),
    buildModel({
      inputShape: ['N', 2],
      inits: [{ name: 'fc.weight', dims: [2, 2], values: [1, NaN, 0, 1] }],
      nodes: [{ op: 'Gemm', inputs: ['x', 'fc.weight'], outputs: ['y'], attrs: { transB: 1 } }],
    }),
  );
  writeFileSync(
    p('inf-weight.onnx'),
    buildModel({
      inputShape: ['N', 2],
      inits: [{ name: 'fc.weight', dims: [2, 2], values: [1, Infinity, 0, 1] }],
      nodes: [{ op: 'Gemm', inputs: ['x', 'fc.weight'], outputs: ['y'], attrs: { transB: 1 } }],
    }),
  );
  writeFileSync(p('opset9.onnx'), buildModel({ opset: 9, inputShape: ['N', 4], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }));
  writeFileSync(p('x.npy'), encodeNpy('float32', [5, 1, 4, 4], randn(r, 80)));
  writeFileSync(
    p('x-u8.npy'),
    encodeNpy(
      'uint8',
      [5, 1, 4, 4],
      Array.from({ length: 80 }, (_, i) => i),
    ),
  );
  writeFileSync(p('x-shape.npy'), encodeNpy('float32', [5, 1, 4, 5], randn(r, 100)));
  writeFileSync(p('x-int32.npy'), encodeNpy('int32', [5, 1, 4, 4], Array(80).fill(1)));
  const withNaN = randn(r, 80);
  withNaN[37] = NaN;
  writeFileSync(p('x-nan.npy'), encodeNpy('float32', [5, 1, 4, 4], withNaN));
  writeFileSync(p('x-trunc.npy'), encodeNpy('float32', [5, 1, 4, 4], randn(r, 80)).subarray(0, 200));
  writeFileSync(p('y.npy'), encodeNpy('int64', [5], [0, 1, 2, 1, 0]));
  writeFileSync(p('y-short.npy'), encodeNpy('int64', [4], [0, 1, 2, 1]));
  writeFileSync(p('y-range.npy'), encodeNpy('int64', [5], [0, 1, 7, 1, 0]));
  writeFileSync(p('y-float.npy'), encodeNpy('float32', [5], [0, 1, 2, 1, 0]));
});

/** Every failure is one line on stderr, with no stack trace. */
function expectOneLineError(res: { code: number; stderr: string }, code: number, ...parts: (string | RegExp)[]) {
  expect(res.code).toBe(code);
  const lines = res.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^fxpq: error: /);
  expect(res.stderr).not.toMatch(/\s+at\s+\S+\s\(/);
  for (const s of parts) expect(lines[0]).toMatch(s);
}

describe('bad input: one clear line and a non-zero exit', () => {
  it('the good fixture works (so the failures below are the input, not the setup)', () => {
    const res = fxpq('eval', p('good.onnx'), '--data', p('x.npy'), '--labels', p('y.npy'), '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ images: 5 });
  });
  it('unsupported op: names the op type, the node and the supported ops; exit 2', () => {
    expectOneLineError(fxpq('info', p('unsupported.onnx')), 2, /'Tanh'/, /'my_tanh'/, /supported ops: Conv, Gemm/);
  });
  it('unsupported opset: exit 2', () => {
    expectOneLineError(fxpq('info', p('opset9.onnx')), 2, /opset 9 is not supported/);
  });
  it('missing model file', () => {
    expectOneLineError(fxpq('info', p('nope.onnx')), 1, /cannot read model file \(ENOENT\)/);
  });
  it('truncated model file', () => {
    expectOneLineError(fxpq('info', p('truncated.onnx')), 1, /truncated\.onnx: not a valid ONNX model/);
  });
  it('a text file is not an ONNX model', () => {
    expectOneLineError(fxpq('info', p('text.onnx')), 1, /not a valid ONNX model/);
  });
  it('an empty file', () => {
    expectOneLineError(fxpq('info', p('empty.onnx')), 1, /file is empty/);
  });
  it('NaN in weights names the initializer', () => {
    expectOneLineError(fxpq('info', p('nan-weight.onnx')), 1, /initializer 'fc.weight' holds NaN at flat index 1/);
  });
  it('Inf in weights names the initializer', () => {
    expectOneLineError(fxpq('info', p('inf-weight.onnx')), 1, /initializer 'fc.weight' holds Infinity/);
  });
  it('data of the wrong shape', () => {
    expectOneLineError(
      fxpq('eval', p('good.onnx'), '--data', p('x-shape.npy')),
      1,
      /shape \[5, 1, 4, 5\] does not match the model input \[N, 1, 4, 4\]/,
    );
  });
  it('data of the wrong dtype', () => {
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x-int32.npy')), 1, /dtype int32 is not supported/);
  });
  it('uint8 data without --scale, and with it', () => {
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x-u8.npy')), 1, /uint8 images need --scale/);
    expect(fxpq('eval', p('good.onnx'), '--data', p('x-u8.npy'), '--scale', '1/255').code).toBe(0);
  });
  it('NaN in inputs names the image', () => {
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x-nan.npy')), 1, /image 2 holds NaN/);
  });
  it('truncated .npy', () => {
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x-trunc.npy')), 1, /truncated \.npy data/);
  });
  it('labels: wrong count, out of range, wrong dtype', () => {
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x.npy'), '--labels', p('y-short.npy')), 1, /4 labels for 5 images/);
    expectOneLineError(
      fxpq('eval', p('good.onnx'), '--data', p('x.npy'), '--labels', p('y-range.npy')),
      1,
      /label 7 at index 2 is outside 0\.\.2/,
    );
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x.npy'), '--labels', p('y-float.npy')), 1, /labels must be int64/);
  });
  it('bad --scale and --limit', () => {
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x-u8.npy'), '--scale', 'abc'), 1, /--scale/);
    expectOneLineError(fxpq('eval', p('good.onnx'), '--data', p('x.npy'), '--limit', '0'), 1, /--limit must be a positive integer/);
  });
  it('an unknown command or a missing option is one line too', () => {
    expectOneLineError(fxpq('frobnicate'), 1, /Unknown argument|Unknown command/);
    expectOneLineError(fxpq('eval', p('good.onnx')), 1, /Missing required argument: data/);
  });
  it('--debug shows the stack trace', () => {
    const res = fxpq('info', p('nope.onnx'), '--debug');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/\s+at\s+/);
  });
});
