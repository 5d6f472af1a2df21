import { afterEach, describe, expect, it } from 'vitest';
import { type FxFormat, maxInt, minInt, requantizeSum } from '../src/fixed/format.js';
import { freeResident, fromResident, intHeapInUse, toResident } from '../src/engine/gemm.js';
import { maxpool as maxpoolF64, Scratch } from '../src/engine/kernels.js';
import { convOutHW, poolOutHW } from '../src/ir/geometry.js';
import { actBounds, add, addResidentOp, conv, dense, intForm, maxpool, maxpoolResidentOp, residentBytes } from '../src/intref/ops.js';
import { runQGraphInt } from '../src/intref/run.js';
import { linearAccRange } from '../src/quant/accumulator.js';
import type { Activation, QAdd, QConv, QDense, QGraph, QLayer, QMaxPool } from '../src/quant/qgraph.js';
import { oracleRun } from './helpers/bigint-oracle.js';
import { int as intR, mk, type Rnd } from './helpers/random-graph.js';

/**
 * The integer reference's WebAssembly kernels (engine/gemm.ts, wasm/gemm.ts): int32 convolution
 * and dense layers (16-bit tap pairs, int32 taps, patches for few input channels), requantization
 * in 32-bit lanes and in int64, and the resident tensors that carry integers from layer to layer
 * (residual add, max pooling). Each is checked against an independent BigInt evaluation
 * (helpers/bigint-oracle.ts) and against the exact float64 path (FXPQ_INTREF_F64=1), on random
 * layers whose sizes straddle every tile edge (16 output channels, 2 pixels, the image chunks), and
 * on hand-built layers at the 32-bit limit where the choice between the paths is made.
 */

const F64 = 'FXPQ_INTREF_F64';
afterEach(() => {
  delete process.env[F64];
});
/** Runs f on the float64 path only. */
function float64<T>(f: () => T): T {
  process.env[F64] = '1';
  try {
    return f();
  } finally {
    delete process.env[F64];
  }
}

const pick = (r: Rnd, f: FxFormat) => (r() < 0.2 ? (r() < 0.5 ? minInt(f) : maxInt(f)) : intR(r, minInt(f), maxInt(f)));
const fmt = (r: Rnd, wlMax: number, signed = r() < 0.5): FxFormat => ({ wl: intR(r, signed ? 2 : 1, wlMax), fl: intR(r, -3, 12), signed });
function act(r: Rnd, out: FxFormat): Activation {
  const k = intR(r, 0, 2);
  if (k === 0) return { kind: 'none' };
  if (k === 1) return { kind: 'relu' };
  const lo = intR(r, minInt(out), 0),
    hi = intR(r, lo, maxInt(out));
  return { kind: 'clip', lo, hi, min: lo, max: hi };
}
const COUTS = [1, 2, 3, 7, 8, 15, 16, 17, 31, 33];

/** One layer as a graph, for the BigInt oracle. */
function oneLayer(op: QConv | QDense, inShape: number[], inF: FxFormat, outShape: number[], out: FxFormat): QGraph {
  const layers: QLayer[] = [{ name: 'y', inputs: ['x'], output: 'y', op }];
  return { input: 'x', output: 'y', layers, values: { x: { shape: inShape, format: inF }, y: { shape: outShape, format: out } } };
}
function oracle(q: QGraph, x: Float64Array, batch: number): number[] {
  const per = x.length / batch;
  const y: number[] = [];
  for (let b = 0; b < batch; b++) for (const v of oracleRun(q, x.subarray(b * per, (b + 1) * per)).get(q.output)!) y.push(Number(v));
  return y;
}

/** Which path a layer takes, from the exported decision alone. */
function pathOf(op: QConv | QDense, inF: FxFormat, out: FxFormat): 'int16' | 'int32' | 'float64' {
  const f = intForm(op, inF, out);
  return !f ? 'float64' : f.narrow ? 'int16' : 'int32';
}

describe('int32 WebAssembly convolution and dense layers', () => {
  it('random convolutions equal a BigInt evaluation and the float64 path (word lengths 1..20, strides, padding, dilation, 1x1, few channels, tile edges)', () => {
    const r = mk(2026);
    const seen = { int16: 0, int32: 0, float64: 0, lanes: 0, patches: 0, pointwise: 0, leftShift: 0 };
    for (let t = 0; t < 260; t++) {
      const cin = intR(r, 1, 9),
        h = intR(r, 1, 8),
        w = intR(r, 1, 8);
      const pointwise = r() < 0.2;
      const kh = pointwise ? 1 : intR(r, 1, 3),
        kw = pointwise ? 1 : intR(r, 1, 3);
      const cout = COUTS[intR(r, 0, COUTS.length - 1)];
      const strides: [number, number] = [intR(r, 1, 3), intR(r, 1, 3)];
      const pads: [number, number, number, number] = [intR(r, 0, 2), intR(r, 0, 2), intR(r, 0, 2), intR(r, 0, 2)];
      const dilations: [number, number] = [intR(r, 1, 2), intR(r, 1, 2)];
      const [ho, wo] = convOutHW(h, w, [kh, kw], strides, pads, dilations);
      if (ho < 1 || wo < 1) continue;
      // Mostly 16-bit operands; now and then wider ones (the int32 kernel, or past the limit).
      const wide = r() < 0.25;
      const wF = fmt(r, wide ? 20 : 16, r() < 0.85),
        inF = fmt(r, wide ? 20 : 16);
      const bF: FxFormat = { wl: intR(r, 2, 16), fl: wF.fl + inF.fl - intR(r, 0, 5), signed: true };
      const out: FxFormat = { wl: intR(r, 2, 16), fl: wF.fl + inF.fl - intR(r, -3, 14), signed: r() < 0.6 };
      const op: QConv = {
        kind: 'conv',
        weightFormat: wF,
        biasFormat: bF,
        strides,
        pads,
        dilations,
        group: 1,
        weight: { shape: [cout, cin, kh, kw], data: Int32Array.from({ length: cout * cin * kh * kw }, () => pick(r, wF)) },
        bias: Int32Array.from({ length: cout }, () => pick(r, bF)),
        act: act(r, out),
      };
      const batch = intR(r, 1, 3);
      const x = Float64Array.from({ length: batch * cin * h * w }, () => pick(r, inF));
      const path = pathOf(op, inF, out);
      seen[path]++;
      const f = intForm(op, inF, out);
      if (f) {
        if (f.rq.lanes) seen.lanes++;
        if (f.rq.shift < 0) seen.leftShift++;
        if (kh * kw > 1 && cin <= 4) seen.patches++;
        if (kh * kw === 1) seen.pointwise++;
      }
      // The decision: int32 exactly when the accumulator range (and the requantizer's operands) fit.
      const range = linearAccRange(op, inF);
      expect(f !== null, `case ${t}`).toBe(range.bits <= 32 && out.fl - (wF.fl + inF.fl) <= 31 && maxInt(inF) < 2 ** 31);
      const y = Array.from(conv(op, x, batch, [cin, h, w], inF, out, new Scratch()));
      const ref = oracle(oneLayer(op, [cin, h, w], inF, [cout, ho, wo], out), x, batch);
      expect(y, `case ${t}: ${path}, ${range.bits}-bit accumulator`).toEqual(ref);
      if (f)
        expect(y, `case ${t}: float64 path`).toEqual(Array.from(float64(() => conv(op, x, batch, [cin, h, w], inF, out, new Scratch()))));
    }
    expect(seen.int16).toBeGreaterThan(100);
    expect(seen.int32).toBeGreaterThan(5);
    expect(seen.float64).toBeGreaterThan(10);
    expect(seen.lanes).toBeGreaterThan(50);
    expect(seen.patches).toBeGreaterThan(30);
    expect(seen.pointwise).toBeGreaterThan(20);
    expect(seen.leftShift).toBeGreaterThan(10);
  });

  it('random dense layers equal a BigInt evaluation, read as a vector and as a flattened [c][h][w] image', () => {
    const r = mk(77);
    let ints = 0,
      flats = 0;
    for (let t = 0; t < 120; t++) {
      const c = intR(r, 1, 9),
        h = intR(r, 1, 4),
        w = intR(r, 1, 4),
        n = c * h * w;
      const cout = COUTS[intR(r, 0, COUTS.length - 1)];
      const wF = fmt(r, r() < 0.2 ? 20 : 16, true),
        inF = fmt(r, 16);
      const bF: FxFormat = { wl: intR(r, 2, 16), fl: wF.fl + inF.fl - intR(r, 0, 5), signed: true };
      const out: FxFormat = { wl: intR(r, 2, 16), fl: wF.fl + inF.fl - intR(r, -3, 14), signed: r() < 0.6 };
      const op: QDense = {
        kind: 'dense',
        weightFormat: wF,
        biasFormat: bF,
        act: act(r, out),
        weight: { shape: [cout, n], data: Int32Array.from({ length: cout * n }, () => pick(r, wF)) },
        bias: Int32Array.from({ length: cout }, () => pick(r, bF)),
      };
      const batch = intR(r, 1, 5);
      const x = Float64Array.from({ length: batch * n }, () => pick(r, inF));
      if (intForm(op, inF, out)) ints++;
      const ref = oracle(oneLayer(op, [n], inF, [cout], out), x, batch);
      expect(Array.from(dense(op, x, batch, inF, out)), `case ${t}`).toEqual(ref);
      // Flattened from an image that stays resident: the dense layer runs as one c x h x w kernel.
      const conv1: QConv = {
        kind: 'conv',
        weightFormat: { wl: 2, fl: 0, signed: true },
        biasFormat: { wl: 2, fl: 0, signed: true },
        strides: [1, 1],
        pads: [0, 0, 0, 0],
        dilations: [1, 1],
        group: 1,
        weight: { shape: [c, c, 1, 1], data: Int32Array.from({ length: c * c }, (_, i) => (i % (c + 1) === 0 ? 1 : 0)) },
        bias: new Int32Array(c),
        act: { kind: 'none' },
      };
      const q: QGraph = {
        input: 'x',
        output: 'y',
        values: {
          x: { shape: [c, h, w], format: inF },
          i: { shape: [c, h, w], format: inF },
          f: { shape: [n], format: inF },
          y: { shape: [cout], format: out },
        },
        layers: [
          { name: 'i', inputs: ['x'], output: 'i', op: conv1 },
          { name: 'f', inputs: ['i'], output: 'f', op: { kind: 'flatten' } },
          { name: 'y', inputs: ['f'], output: 'y', op },
        ],
      };
      if (intForm(conv1, inF, inF) && intForm(op, inF, out)) flats++;
      expect(Array.from(runQGraphInt(q, x, batch).output), `case ${t}, flattened`).toEqual(ref);
    }
    expect(ints).toBeGreaterThan(60);
    expect(flats).toBeGreaterThan(40);
  });

  it('rounds half up at every shift, in 32-bit lanes and in int64, and shifts left exactly', () => {
    // y = x * 1 (a 1x1 convolution), requantized by s bits: floor((x + 2^(s-1)) / 2^s).
    const xs = Array.from({ length: 41 }, (_, i) => i - 20);
    const one = (wF: FxFormat, inF: FxFormat, bias = 0, bF: FxFormat = { wl: 16, fl: wF.fl + inF.fl, signed: true }): QConv => ({
      kind: 'conv',
      weightFormat: wF,
      biasFormat: bF,
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      group: 1,
      weight: { shape: [1, 1, 1, 1], data: Int32Array.from([1]) },
      bias: Int32Array.from([bias]),
      act: { kind: 'none' },
    });
    const s8: FxFormat = { wl: 8, fl: 0, signed: true };
    for (const s of [1, 2, 3]) {
      const out: FxFormat = { wl: 8, fl: -s, signed: true };
      const op = one(s8, s8);
      expect(intForm(op, s8, out)?.rq.lanes).toBe(true);
      const x = Float64Array.from(xs);
      expect(Array.from(conv(op, x, 1, [1, 41, 1], s8, out, new Scratch())), `shift ${s}`).toEqual(
        xs.map((v) => Math.floor((v + 2 ** (s - 1)) / 2 ** s)),
      );
    }
    // Left shifts (the output has more fraction bits than the accumulator).
    for (const s of [1, 5]) {
      const out: FxFormat = { wl: 16, fl: s, signed: true };
      const op = one(s8, s8);
      expect(Array.from(conv(op, Float64Array.from(xs), 1, [1, 41, 1], s8, out, new Scratch())), `left shift ${s}`).toEqual(
        xs.map((v) => v * 2 ** s),
      );
    }
    // int64 requantization: the top of the range is 2^31 - 1, so the rounding offset would carry it
    // out of int32. acc = -32768 a - 32767 b + 32767 is odd for even b: each of those is a tie.
    const s16: FxFormat = { wl: 16, fl: 0, signed: true };
    const half: FxFormat = { wl: 32, fl: -1, signed: true };
    const tie: QConv = {
      kind: 'conv',
      weightFormat: s16,
      biasFormat: { wl: 20, fl: 0, signed: true },
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      group: 1,
      weight: { shape: [1, 2, 1, 1], data: Int32Array.from([-32768, -32767]) },
      bias: Int32Array.from([32767]),
      act: { kind: 'none' },
    };
    expect(linearAccRange(tie, s16).hi).toBe(2 ** 31 - 1);
    const f = intForm(tie, s16, half);
    expect(f && f.narrow && !f.rq.lanes).toBe(true);
    const r = mk(8);
    const pairs = Array.from({ length: 25 }, (_, i) =>
      i < 4
        ? [
            [-32768, -32768],
            [32767, 32766],
            [0, -2],
            [-1, 2],
          ][i]
        : [intR(r, -32768, 32767), 2 * intR(r, -16384, 16383)],
    );
    const xt = Float64Array.from([...pairs.map((p) => p[0]), ...pairs.map((p) => p[1])]);
    expect(Array.from(conv(tie, xt, 1, [2, pairs.length, 1], s16, half, new Scratch()))).toEqual(
      pairs.map(([a, b]) => (-32768 * a - 32767 * b + 32767 + 1) / 2),
    );
  });

  it('at the 32-bit limit: an accumulator of exactly -2^31 or 2^31 - 1 runs in int32 and comes out exact; one beyond runs in float64', () => {
    const s16: FxFormat = { wl: 16, fl: 0, signed: true };
    const s32: FxFormat = { wl: 32, fl: 0, signed: true };
    const bF: FxFormat = { wl: 20, fl: 0, signed: true };
    const conv2 = (w: number[], b: number): QConv => ({
      kind: 'conv',
      weightFormat: s16,
      biasFormat: bF,
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      group: 1,
      weight: { shape: [1, 2, 1, 1], data: Int32Array.from(w) },
      bias: Int32Array.from([b]),
      act: { kind: 'none' },
    });
    const dense2 = (w: number[], b: number): QDense => ({
      kind: 'dense',
      weightFormat: s16,
      biasFormat: bF,
      weight: { shape: [1, 2], data: Int32Array.from(w) },
      bias: Int32Array.from([b]),
      act: { kind: 'none' },
    });
    const xMin = Float64Array.from([-32768, -32768]);
    // Bottom: 2 * (-32768 * 32767) - 65536 = -2^31 exactly; one more below needs 33 bits.
    // Top: 2^30 + 32767 * 32768 + 32767 = 2^31 - 1; with bias 32768 it is 2^31.
    const cases: [number[], number, number, boolean][] = [
      [[32767, 32767], -65536, -(2 ** 31), true],
      [[32767, 32767], -65537, -(2 ** 31) - 1, false],
      [[-32768, -32767], 32767, 2 ** 31 - 1, true],
      [[-32768, -32767], 32768, 2 ** 31, false],
    ];
    for (const [w, b, acc, fits] of cases) {
      for (const out of [s32, { wl: 32, fl: -1, signed: true }]) {
        const expected = out.fl === 0 ? Math.min(Math.max(acc, minInt(out)), maxInt(out)) : Math.floor((acc + 1) / 2);
        const c = conv2(w, b);
        expect(intForm(c, s16, out) !== null, `conv ${acc}`).toBe(fits);
        expect(conv(c, xMin, 1, [2, 1, 1], s16, out, new Scratch())[0], `conv ${acc} -> ${out.fl}`).toBe(expected);
        const d = dense2(w, b);
        expect(intForm(d, s16, out) !== null, `dense ${acc}`).toBe(fits);
        expect(dense(d, xMin, 1, s16, out)[0], `dense ${acc}`).toBe(expected);
      }
    }
    // The requantizer's own switch: range top + 2^(s-1) = 2^31 - 1 in lanes, 2^31 in int64; both exact.
    const half: FxFormat = { wl: 32, fl: -1, signed: true };
    const top = (b: number) => conv2([-32768, -32767], b);
    expect(linearAccRange(top(32766), s16).hi).toBe(2 ** 31 - 2);
    expect(intForm(top(32766), s16, half)!.rq.lanes).toBe(true);
    expect(intForm(top(32767), s16, half)!.rq.lanes).toBe(false);
    for (const b of [32766, 32767])
      expect(conv(top(b), xMin, 1, [2, 1, 1], s16, half, new Scratch())[0]).toBe(Math.floor((2 ** 31 - 32768 + b + 1) / 2));
  });

  it('images split over several calls into WebAssembly and wide outputs: the chunk and tile edges', () => {
    const r = mk(5);
    // 64 channels of 30 x 30 int16 (115 KB an image): two images a call, five images.
    const [cin, h, w, cout, batch] = [64, 30, 30, 17, 5];
    const wF: FxFormat = { wl: 6, fl: 5, signed: true },
      inF: FxFormat = { wl: 6, fl: 2, signed: false },
      out: FxFormat = { wl: 8, fl: 3, signed: true };
    const op: QConv = {
      kind: 'conv',
      weightFormat: wF,
      biasFormat: { wl: 12, fl: 7, signed: true },
      strides: [1, 1],
      pads: [1, 0, 1, 2],
      dilations: [1, 1],
      group: 1,
      weight: { shape: [cout, cin, 3, 3], data: Int32Array.from({ length: cout * cin * 9 }, () => pick(r, wF)) },
      bias: Int32Array.from({ length: cout }, () => intR(r, -2000, 2000)),
      act: { kind: 'relu' },
    };
    const x = Float64Array.from({ length: batch * cin * h * w }, () => pick(r, inF));
    expect(pathOf(op, inF, out)).toBe('int16');
    const y = conv(op, x, batch, [cin, h, w], inF, out, new Scratch());
    expect(Array.from(y)).toEqual(Array.from(float64(() => conv(op, x, batch, [cin, h, w], inF, out, new Scratch()))));
    // A spot check of one output per image against the definition.
    const [ho, wo] = convOutHW(h, w, [3, 3], op.strides, op.pads, op.dilations);
    for (let b = 0; b < batch; b++) {
      const o = 16,
        oy = ho - 1,
        ox = wo - 1;
      let acc = op.bias[o] * 2 ** (wF.fl + inF.fl - 7);
      for (let c = 0; c < cin; c++)
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) {
            const iy = oy - 1 + ky,
              ix = ox + kx;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
              acc += op.weight.data[((o * cin + c) * 3 + ky) * 3 + kx] * x[((b * cin + c) * h + iy) * w + ix];
          }
      const s = wF.fl + inF.fl - out.fl;
      expect(y[((b * cout + o) * ho + oy) * wo + ox]).toBe(Math.min(127, Math.max(0, Math.floor((acc + 2 ** (s - 1)) / 2 ** s))));
    }
  });
});

describe('resident tensors from layer to layer', () => {
  /** x -> conv a (3x3) -> conv b (3x3), conv s (1x1) of x -> add(b, s) -> maxpool -> flatten -> dense. */
  function randomNet(r: Rnd): QGraph {
    const C = intR(r, 1, 5),
      H = intR(r, 3, 9),
      W = intR(r, 3, 9);
    const inF = fmt(r, 12, r() < 0.3);
    const values: QGraph['values'] = { x: { shape: [C, H, W], format: inF } };
    const layers: QLayer[] = [];
    const convL = (name: string, input: string, cout: number, k: number, pad: number, stride: number, wlMax: number) => {
      const [cin, h, w] = values[input].shape;
      const inFmt = values[input].format;
      const wF = fmt(r, wlMax, true),
        out: FxFormat = { wl: intR(r, 2, 16), fl: inFmt.fl + intR(r, -3, 3), signed: r() < 0.5 };
      const bF: FxFormat = { wl: intR(r, 2, 14), fl: wF.fl + inFmt.fl - intR(r, 0, 4), signed: true };
      const [ho, wo] = convOutHW(h, w, [k, k], [stride, stride], [pad, pad, pad, pad], [1, 1]);
      values[name] = { shape: [cout, ho, wo], format: out };
      layers.push({
        name,
        inputs: [input],
        output: name,
        op: {
          kind: 'conv',
          weightFormat: wF,
          biasFormat: bF,
          strides: [stride, stride],
          pads: [pad, pad, pad, pad],
          dilations: [1, 1],
          group: 1,
          act: act(r, out),
          weight: { shape: [cout, cin, k, k], data: Int32Array.from({ length: cout * cin * k * k }, () => pick(r, wF)) },
          bias: Int32Array.from({ length: cout }, () => pick(r, bF)),
        },
      });
    };
    const M = COUTS[intR(r, 0, 6)];
    const stride = intR(r, 1, 2);
    convL('a', 'x', M, 3, 1, 1, r() < 0.15 ? 20 : 10);
    convL('b', 'a', M, 3, 1, stride, 10);
    convL('s', 'x', M, 1, 0, stride, 10);
    const addOut: FxFormat = {
      wl: intR(r, 2, 16),
      fl: Math.max(values.b.format.fl, values.s.format.fl) - intR(r, -2, 3),
      signed: r() < 0.5,
    };
    values.sum = { shape: values.b.shape, format: addOut };
    layers.push({ name: 'sum', inputs: ['b', 's'], output: 'sum', op: { kind: 'add', act: act(r, addOut) } });
    const k = intR(r, 1, 3),
      ps = intR(r, 1, 2),
      pp = intR(r, 0, k - 1);
    const pool: QMaxPool = {
      kind: 'maxpool',
      kernel: [k, k],
      strides: [ps, ps],
      pads: [pp, pp, pp, pp],
      dilations: [1, 1],
      ceilMode: false,
    };
    const [ph, pw] = poolOutHW(values.sum.shape[1], values.sum.shape[2], pool);
    values.p = { shape: [M, ph, pw], format: addOut };
    layers.push({ name: 'p', inputs: ['sum'], output: 'p', op: pool });
    values.f = { shape: [M * ph * pw], format: addOut };
    layers.push({ name: 'f', inputs: ['p'], output: 'f', op: { kind: 'flatten' } });
    const O = intR(r, 1, 12),
      wF = fmt(r, 12, true),
      out = fmt(r, 16);
    const bF: FxFormat = { wl: intR(r, 2, 14), fl: wF.fl + addOut.fl - intR(r, 0, 4), signed: true };
    values.y = { shape: [O], format: out };
    layers.push({
      name: 'y',
      inputs: ['f'],
      output: 'y',
      op: {
        kind: 'dense',
        weightFormat: wF,
        biasFormat: bF,
        act: act(r, out),
        weight: { shape: [O, M * ph * pw], data: Int32Array.from({ length: O * M * ph * pw }, () => pick(r, wF)) },
        bias: Int32Array.from({ length: O }, () => pick(r, bF)),
      },
    });
    return { input: 'x', output: 'y', layers, values };
  }

  it('random residual networks: every tensor equals the BigInt evaluation and the float64 path, and no memory is left behind', () => {
    const r = mk(99);
    let resident = 0;
    for (let t = 0; t < 60; t++) {
      const q = randomNet(r);
      const [C, H, W] = q.values.x.shape;
      const batch = intR(r, 1, 3);
      const x = Float64Array.from({ length: batch * C * H * W }, () => pick(r, q.values.x.format));
      const before = intHeapInUse();
      const all = runQGraphInt(q, x, batch, true).values!;
      const out = runQGraphInt(q, x, batch).output;
      const ref = float64(() => runQGraphInt(q, x, batch, true).values!);
      for (const [k, v] of ref) expect(Array.from(all.get(k)!), `net ${t}, tensor ${k}`).toEqual(Array.from(v));
      expect(Array.from(out)).toEqual(Array.from(ref.get('y')!));
      const per = C * H * W;
      for (let b = 0; b < batch; b++) {
        const o = oracleRun(q, x.subarray(b * per, (b + 1) * per));
        for (const k of ['sum', 'p', 'y']) {
          const n = o.get(k)!.length;
          expect(Array.from(all.get(k)!.subarray(b * n, (b + 1) * n)), `net ${t}, image ${b}, ${k}`).toEqual(o.get(k)!.map(Number));
        }
      }
      const l = q.layers;
      if (
        intForm(l[0].op as QConv, q.values.x.format, q.values.a.format) &&
        intForm(l[1].op as QConv, q.values.a.format, q.values.b.format)
      )
        resident++;
      // Only packed weights stay (cached across runs): a second run takes no more memory.
      const after = intHeapInUse();
      runQGraphInt(q, x, batch);
      expect(intHeapInUse(), `net ${t}`).toBe(after);
      expect(after).toBeGreaterThanOrEqual(before);
    }
    expect(resident).toBeGreaterThan(30);
  });

  it('residual add in lanes exactly when the aligned sum fits int32, equal to fixed/format.ts requantizeSum', () => {
    const r = mk(3);
    let lanes = 0,
      fallback = 0;
    for (let t = 0; t < 400; t++) {
      const fa = fmt(r, 16),
        fb = r() < 0.3 ? { ...fa } : fmt(r, 16);
      fb.signed = fa.signed;
      fb.wl = r() < 0.5 ? fa.wl : fb.wl;
      const out: FxFormat = { wl: intR(r, 2, 16), fl: Math.max(fa.fl, fb.fl) - intR(r, -4, 20), signed: r() < 0.5 };
      const op: QAdd = { kind: 'add', act: act(r, out) };
      const [c, h, w, n] = [intR(r, 1, 9), intR(r, 1, 4), intR(r, 1, 4), intR(r, 1, 3)];
      const len = n * c * h * w;
      const a = Float64Array.from({ length: len }, () => pick(r, fa)),
        b = Float64Array.from({ length: len }, () => pick(r, fb));
      const ea = residentBytes(fa),
        eb = residentBytes(fb);
      if (!ea || !eb) continue;
      const ra = toResident(a, n, c, h, w, ea),
        rb = toResident(b, n, c, h, w, eb);
      const y = addResidentOp(op, ra, rb, fa, fb, out);
      // The condition, restated: the aligned sum's range plus the rounding offset (or shifted left) in int32.
      const fl = Math.max(fa.fl, fb.fl),
        s = fl - out.fl;
      const lo = minInt(fa) * 2 ** (fl - fa.fl) + minInt(fb) * 2 ** (fl - fb.fl),
        hi = maxInt(fa) * 2 ** (fl - fa.fl) + maxInt(fb) * 2 ** (fl - fb.fl);
      const inInt32 = (v: number) => v >= -(2 ** 31) && v < 2 ** 31;
      const ok =
        ea === eb &&
        residentBytes(out) === ea &&
        inInt32(lo) &&
        inInt32(hi) &&
        (s > 0 ? s <= 31 && inInt32(hi + 2 ** (s - 1)) : inInt32(lo * 2 ** -s) && inInt32(hi * 2 ** -s));
      expect(y !== null, `case ${t}`).toBe(ok);
      const [l, u] = actBounds(op.act);
      const ref = requantizeSum(a, 2 ** (fl - fa.fl), b, 2 ** (fl - fb.fl), fl, out, l, u);
      expect(Array.from(add(op, a, b, fa, fb, out))).toEqual(Array.from(ref));
      if (y) {
        lanes++;
        expect(Array.from(fromResident(y)), `case ${t}`).toEqual(Array.from(ref));
      } else fallback++;
      // Free what this case made (the kernels' memory is shared by every test).
      for (const v of [ra, rb, y]) if (v) freeResident(v);
    }
    expect(lanes).toBeGreaterThan(100);
    expect(fallback).toBeGreaterThan(20);
  });

  it('residual add at the 32-bit limit: in lanes while the sum plus the rounding offset fits, in float64 from one beyond', () => {
    // a << 16 + b with a in u15, b in s16: the top of the sum is 2^31 - 32769. Shifting right by 16
    // adds 2^15 (fits: 2^31 - 1); by 17 adds 2^16 (does not).
    const fa: FxFormat = { wl: 15, fl: 0, signed: false },
      fb: FxFormat = { wl: 16, fl: 16, signed: true };
    const op: QAdd = { kind: 'add', act: { kind: 'none' } };
    const a = Float64Array.from([32767, 32767, 0, 1, 32767]),
      b = Float64Array.from([32767, -32768, -32768, 32767, 32766]);
    const ra = toResident(a, 1, 5, 1, 1, 2),
      rb = toResident(b, 1, 5, 1, 1, 2);
    for (const [outFl, lanes] of [
      [0, true],
      [-1, false],
    ] as const) {
      const out: FxFormat = { wl: 16, fl: outFl, signed: true };
      const y = addResidentOp(op, ra, rb, fa, fb, out);
      expect(y !== null, `shift ${16 - outFl}`).toBe(lanes);
      const ref = Array.from(a, (v, i) => Math.min(32767, Math.floor((v * 65536 + b[i] + 2 ** (15 - outFl)) / 2 ** (16 - outFl))));
      if (outFl === 0) expect(ref[0]).toBe(32767);
      if (y) {
        expect(Array.from(fromResident(y))).toEqual(ref);
        freeResident(y);
      }
      expect(Array.from(add(op, a, b, fa, fb, out))).toEqual(ref);
    }
    freeResident(ra);
    freeResident(rb);
  });

  it('max pooling of resident tensors equals the float64 kernel, and leaves windows entirely in padding to it', () => {
    const r = mk(11);
    let resident = 0,
      empty = 0;
    for (let t = 0; t < 400; t++) {
      const [c, h, w, n] = [intR(r, 1, 20), intR(r, 1, 7), intR(r, 1, 7), intR(r, 1, 3)];
      const k: [number, number] = [intR(r, 1, 3), intR(r, 1, 3)];
      const pads: [number, number, number, number] = [intR(r, 0, k[0]), intR(r, 0, k[1]), intR(r, 0, k[0]), intR(r, 0, k[1])];
      const op: QMaxPool = {
        kind: 'maxpool',
        kernel: k,
        strides: [intR(r, 1, 3), intR(r, 1, 3)],
        pads,
        dilations: [intR(r, 1, 2), intR(r, 1, 2)],
        ceilMode: false,
      };
      const [ho, wo] = poolOutHW(h, w, op);
      if (ho < 1 || wo < 1) continue;
      const f = fmt(r, r() < 0.3 ? 24 : 16);
      const es = residentBytes(f)!;
      const x = Float64Array.from({ length: n * c * h * w }, () => pick(r, f));
      const ref = maxpool(op, x, n, [c, h, w]);
      expect(Array.from(ref), `case ${t}: intref maxpool`).toEqual(Array.from(maxpoolF64({ ...op, kind: 'maxpool' }, x, n, [c, h, w])));
      const xr = toResident(x, n, c, h, w, es);
      const y = maxpoolResidentOp(op, xr);
      if (ref.some((v) => v === -Infinity)) {
        expect(y).toBeNull();
        empty++;
      } else {
        expect(y).not.toBeNull();
        resident++;
        expect(Array.from(fromResident(y!)), `case ${t}`).toEqual(Array.from(ref));
        freeResident(y!);
      }
      freeResident(xr);
    }
    expect(resident).toBeGreaterThan(100);
    expect(empty).toBeGreaterThan(5);
  });
});
