import { describe, expect, it } from 'vitest';
import { halfToFloat, widenModel } from '../src/onnx/float16.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildModel } from '../src/onnx/builder.js';
import onnxProto from 'onnx-proto';

describe('big tier: float16 storage', () => {
  it('converts IEEE halves exactly (hand-computed values)', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(halfToFloat(0x7bff)).toBe(65504); // largest finite
    expect(halfToFloat(0x3555)).toBe(0.333251953125);
    expect(halfToFloat(0x8000)).toBe(-0);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('widens float16 initializers into a model the importer reads', () => {
    const bytes = buildModel({
      inputShape: ['N', 2],
      inits: [{ name: 'w', dims: [2, 2], values: [1, -2, 0.5, 0.25] }],
      nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
    });
    const m = onnxProto.onnx.ModelProto.decode(bytes);
    const w = m.graph!.initializer![0];
    w.dataType = 10;
    w.rawData = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x3400]).buffer);
    const g = importOnnx(widenModel(onnxProto.onnx.ModelProto.encode(m).finish()), { file: 'half.onnx' });
    const dense = g.nodes.find((n) => n.op.kind === 'dense')!;
    expect(Array.from((dense.op as { weight: { data: Float64Array } }).weight.data)).toEqual([1, -2, 0.5, 0.25]);
  });
});
