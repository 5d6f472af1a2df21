import { describe, expect, it } from 'vitest';
import { type FxFormat, maxInt, minInt, requantize } from '../src/fixed/format.js';
import { Scratch } from '../src/engine/kernels.js';
import { convOutHW } from '../src/ir/geometry.js';
import { rng } from '../src/onnx/builder.js';
import { conv, intForm } from '../src/intref/ops.js';
import { linearAccRange } from '../src/quant/accumulator.js';
import type { QConv } from '../src/quant/qgraph.js';

/**
 * The integer reference runs a convolution in int32 WebAssembly when every accumulator fits in
 * 32 signed bits, and in exact float64 otherwise. Both are checked against a direct BigInt
 * evaluation of the same sum, requantized by the scalar definition in fixed/format.ts.
 */
function oracle(op: QConv, x: Float64Array, batch: number, shape: number[], inF: FxFormat, out: FxFormat): number[] {
  const [cin, h, w] = shape;
  const [cout, , kh, kw] = op.weight.shape;
  const [ho, wo] = convOutHW(h, w, [kh, kw], op.strides, op.pads, op.dilations);
  const accFl = op.weightFormat.fl + inF.fl;
  const bs = BigInt(accFl - op.biasFormat.fl);
  const lo = op.act.kind === 'relu' ? 0 : -Infinity;
  const y: number[] = [];
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < cout; o++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let acc = BigInt(op.bias[o]) << bs;
          for (let c = 0; c < cin; c++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * op.strides[0] - op.pads[0] + ky * op.dilations[0];
                const ix = ox * op.strides[1] - op.pads[1] + kx * op.dilations[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += BigInt(op.weight.data[((o * cin + c) * kh + ky) * kw + kx]) * BigInt(x[((n * cin + c) * h + iy) * w + ix]);
              }
            }
          }
          y.push(requantize(Number(acc), accFl, out, lo));
        }
      }
    }
  }
  return y;
}

describe('integer reference convolution in int32', () => {
  it('matches a BigInt evaluation on both sides of the 32-bit accumulator limit, and takes the int32 path exactly when it is exact (16-bit tap pairs when operands fit)', () => {
    const r = rng(21);
    const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
    let int16 = 0,
      int32 = 0,
      float64 = 0,
      lanes = 0,
      int64 = 0;
    for (let t = 0; t < 400; t++) {
      const cin = int(1, 6),
        h = int(1, 9),
        w = int(1, 9),
        kh = int(1, 3),
        kw = int(1, 3),
        cout = int(1, 9);
      const strides: [number, number] = [int(1, 2), int(1, 2)];
      const pads: [number, number, number, number] = [int(0, 2), int(0, 2), int(0, 2), int(0, 2)];
      const dilations: [number, number] = [1, int(1, 2)];
      const [ho, wo] = convOutHW(h, w, [kh, kw], strides, pads, dilations);
      if (ho < 1 || wo < 1) continue;
      // Word lengths around the limit: products of up to 40 bits summed over up to 54 taps.
      const wF: FxFormat = { wl: int(2, 20), fl: int(0, 12), signed: true };
      const inF: FxFormat = { wl: int(2, 20), fl: int(0, 10), signed: r() < 0.5 };
      const bF: FxFormat = { wl: int(2, 16), fl: Math.max(0, wF.fl + inF.fl - int(0, 6)), signed: true };
      const out: FxFormat = { wl: int(2, 16), fl: int(-2, 14), signed: r() < 0.7 };
      const pick = (f: FxFormat) => (r() < 0.15 ? (r() < 0.5 ? minInt(f) : maxInt(f)) : int(minInt(f), maxInt(f)));
      const op: QConv = {
        kind: 'conv',
        weightFormat: wF,
        biasFormat: bF,
        strides,
        pads,
        dilations,
        group: 1,
        weight: { shape: [cout, cin, kh, kw], data: Int32Array.from({ length: cout * cin * kh * kw }, () => pick(wF)) },
        bias: Int32Array.from({ length: cout }, () => pick(bF)),
        act: r() < 0.5 ? { kind: 'relu' } : { kind: 'none' },
      };
      // Now and then more images than one call into WebAssembly takes (INT_IMAGES).
      const batch = r() < 0.1 ? int(9, 12) : int(1, 3);
      const x = Float64Array.from({ length: batch * cin * h * w }, () => pick(inF));
      const bits = linearAccRange(op, inF).bits;
      const form = intForm(op, inF, out);
      expect(form !== null, `accumulator of ${bits} bits`).toBe(bits <= 32 && out.fl - (wF.fl + inF.fl) <= 31);
      if (!form) float64++;
      else if (form.narrow) int16++;
      else int32++;
      if (form?.rq.lanes) lanes++;
      else if (form) int64++;
      if (form) expect(form.narrow).toBe(Math.max(wF.wl, inF.wl + (inF.signed ? 0 : 1)) <= 16);
      const y = conv(op, x, batch, [cin, h, w], inF, out, new Scratch());
      expect(Array.from(y), `case ${t}: ${bits}-bit accumulator`).toEqual(oracle(op, x, batch, [cin, h, w], inF, out));
    }
    // Every path was exercised: 16-bit tap pairs, int32, float64.
    expect(int16).toBeGreaterThan(30);
    expect(int32).toBeGreaterThan(5);
    expect(float64).toBeGreaterThan(10);
    // Requantization in 32-bit lanes and in int64.
    expect(lanes).toBeGreaterThan(30);
    expect(int64).toBeGreaterThan(5);
  });

  it('an accumulator that reaches 2^31 - 1 stays on the int32 path and comes out exact; one that reaches 2^31 does not', () => {
    const s16: FxFormat = { wl: 16, fl: 0, signed: true };
    const out: FxFormat = { wl: 18, fl: -16, signed: true };
    const mk = (w1: number): QConv => ({
      kind: 'conv',
      weightFormat: s16,
      biasFormat: s16,
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      group: 1,
      weight: { shape: [1, 2, 1, 1], data: Int32Array.from([-32768, w1]) },
      bias: Int32Array.from([32767]),
      act: { kind: 'none' },
    });
    const x = Float64Array.from([-32768, -32768]);
    // 2^30 + 32767 * 2^15 + 32767 = 2^31 - 1.
    const edge = mk(-32767);
    expect(linearAccRange(edge, s16).hi).toBe(2 ** 31 - 1);
    expect(intForm(edge, s16, out)).not.toBeNull();
    expect(Array.from(conv(edge, x, 1, [2, 1, 1], s16, out, new Scratch()))).toEqual(oracle(edge, x, 1, [2, 1, 1], s16, out));
    expect(conv(edge, x, 1, [2, 1, 1], s16, out, new Scratch())[0]).toBe(32768);
    const over = mk(-32768);
    expect(intForm(over, s16, out)).toBeNull();
    expect(Array.from(conv(over, x, 1, [2, 1, 1], s16, out, new Scratch()))).toEqual(oracle(over, x, 1, [2, 1, 1], s16, out));
  });
});
