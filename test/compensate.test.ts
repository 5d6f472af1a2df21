import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../src/engine/run.js';
import { type FxFormat, quantizeArray } from '../src/fixed/format.js';
import { loadImages } from '../src/io/dataset.js';
import { importOnnxFile } from '../src/onnx/import.js';
import {
  attachCompensation,
  blockRanges,
  type Compensation,
  compensatedQuantize,
  compensatedQuantizeJs,
  compensationKernel,
  compensationFromBlocks,
  compensationFromHessian,
  compensationParallel,
  crossFittedCompensations,
  layerHessians,
  MAX_BLOCK,
  partStatistics,
  withCompensations,
} from '../src/quant/compensate.js';
import { denseToPacked } from '../src/quant/hessian.js';
import { upperIndex } from '../src/quant/factor.js';
import { type CompJob, type CompResult, runCompJob } from '../src/quant/compensate-jobs.js';
import { runJobsSync, workerStats } from '../src/quant/sync-workers.js';
import type { Graph } from '../src/ir/types.js';
import { workerScript } from '../src/util/worker-script.js';
import { calibrate } from '../src/quant/calibrate.js';
import { uniformAssignment } from '../src/quant/uniform.js';
import { LocalBackend, shardRanges } from '../src/search/backend.js';
import { Evaluator } from '../src/search/evaluator.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { readFxpFile } from '../src/io/fxpjson.js';
import { fxpq, fxpqAsync, tempDir } from './helpers/cli.js';
import { mk } from './helpers/random-graph.js';

const INT0: FxFormat = { wl: 4, fl: 0, signed: true };

/** (w - q/2^fl)^T H (w - q/2^fl): the output error energy the rounding leaves. */
function energy(w: number[], q: ArrayLike<number>, h: number[][], fl: number): number {
  const d = w.map((x, i) => x - q[i] * 2 ** -fl);
  let e = 0;
  for (let i = 0; i < d.length; i++) for (let j = 0; j < d.length; j++) e += d[i] * h[i][j] * d[j];
  return e;
}

describe('error-compensating weight rounding', () => {
  it('matches a hand-worked two-input case', () => {
    // H = [[4, 2], [2, 2]], damping 0.01 x mean diag = 0.03. Column 0 (larger second moment) is
    // rounded first: 0.4 -> 0, error 0.4 moves onto w1 as 0.4 x H01 / (H11 + 0.03) = 0.394:
    // 0.3 + 0.394 = 0.694 -> 1. Plain rounding gives [0, 0].
    const h = [
      [4, 2],
      [2, 2],
    ];
    const c = compensationFromHessian(Float64Array.from(h.flat()), 2);
    expect([...c.blocks[0].perm]).toEqual([0, 1]);
    const q = compensatedQuantize(Float64Array.of(0.4, 0.3), INT0, c);
    expect([...q]).toEqual([0, 1]);
    expect([...quantizeArray([0.4, 0.3], INT0, new Int32Array(2))]).toEqual([0, 0]);
    // Output error energy: 1.30 for plain rounding, 0.50 compensated.
    expect(energy([0.4, 0.3], [0, 0], h, 0)).toBeCloseTo(1.3, 12);
    expect(energy([0.4, 0.3], q, h, 0)).toBeCloseTo(0.5, 12);
  });

  it('rounds the input with the larger second moment first (act order)', () => {
    // Same case with the inputs swapped: now column 1 goes first and w0 takes the correction.
    const c = compensationFromHessian(Float64Array.of(2, 2, 2, 4), 2);
    expect([...c.blocks[0].perm]).toEqual([1, 0]);
    expect([...compensatedQuantize(Float64Array.of(0.3, 0.4), INT0, c)]).toEqual([1, 0]);
  });

  it('factorises the damped inverse: U^T U (H + damping) = I in act order', () => {
    const r = mk(7),
      n = 20,
      m = 60;
    const x = Array.from({ length: m }, () => Array.from({ length: n }, () => r() - 0.5));
    const h = new Float64Array(n * n);
    for (const v of x) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] += v[i] * v[j];
    const { perm, u } = compensationFromHessian(h, n).blocks[0];
    // U is stored packed (its upper triangle by rows); here as the square matrix, zeros below.
    expect(u.length).toBe((n * (n + 1)) / 2);
    const c = {
      perm,
      u: Float64Array.from({ length: n * n }, (_, e) => (e % n >= Math.floor(e / n) ? u[upperIndex(n, Math.floor(e / n), e % n)] : 0)),
    };
    let mean = 0;
    for (let i = 0; i < n; i++) mean += h[i * n + i] / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        // (U^T U)[i][k] x Hp[k][j]
        let s = 0;
        for (let k = 0; k < n; k++) {
          let utu = 0;
          for (let t = 0; t < n; t++) utu += c.u[t * n + i] * c.u[t * n + k];
          const hp = h[c.perm[k] * n + c.perm[j]] + (k === j ? 0.01 * mean : 0);
          s += utu * hp;
        }
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
  });

  it('leaves less output error than plain rounding on correlated inputs', () => {
    const r = mk(11),
      n = 24,
      rows = 16,
      m = 3000;
    // Inputs mixed from a few sources, so they are strongly correlated (as activations are).
    const mix = Array.from({ length: n }, () => Array.from({ length: 4 }, () => r() - 0.5));
    const xs = Array.from({ length: m }, () => {
      const s = Array.from({ length: 4 }, () => r() - 0.5);
      return mix.map((row) => row.reduce((a, v, k) => a + v * s[k], 0) + 0.05 * (r() - 0.5));
    });
    const h = Array.from({ length: n }, () => new Array(n).fill(0));
    for (const v of xs) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i][j] += (v[i] * v[j]) / m;
    const w = Array.from({ length: rows * n }, () => (r() - 0.5) * 0.8);
    const f: FxFormat = { wl: 3, fl: 3, signed: true };
    const c = compensationFromHessian(Float64Array.from(h.flat()), n);
    const qc = compensatedQuantize(Float64Array.from(w), f, c);
    const qn = quantizeArray(w, f, new Int32Array(w.length));
    let ec = 0,
      en = 0;
    for (let row = 0; row < rows; row++) {
      const wr = w.slice(row * n, (row + 1) * n);
      ec += energy(wr, qc.subarray(row * n, (row + 1) * n), h, f.fl);
      en += energy(wr, qn.subarray(row * n, (row + 1) * n), h, f.fl);
    }
    expect(ec).toBeLessThan(0.5 * en);
    // Every integer is on the format's grid.
    for (const q of qc) {
      expect(q).toBeGreaterThanOrEqual(-4);
      expect(q).toBeLessThanOrEqual(3);
    }
  });

  it('splits very wide layers into independent blocks of inputs', () => {
    const n = MAX_BLOCK + 76;
    expect(blockRanges(n)).toEqual([
      [0, n / 2],
      [n / 2, n],
    ]);
    expect(blockRanges(MAX_BLOCK)).toEqual([[0, MAX_BLOCK]]);
    const r = mk(3),
      half = n / 2,
      rows = 3;
    const hb = [0, 1].map(() => {
      const x = Array.from({ length: 8 }, () => Float64Array.from({ length: half }, () => r() - 0.5));
      const h = new Float64Array(half * half);
      for (const v of x) for (let i = 0; i < half; i++) for (let j = 0; j < half; j++) h[i * half + j] += v[i] * v[j];
      return h;
    });
    const w = Float64Array.from({ length: rows * n }, () => r() - 0.5);
    const f: FxFormat = { wl: 4, fl: 3, signed: true };
    const whole = compensatedQuantize(w, f, compensationFromBlocks(hb, n));
    // Each half of each row, compensated on its own, gives the same integers.
    for (let k = 0; k < 2; k++) {
      const part = Float64Array.from({ length: rows * half }, (_, i) => w[Math.floor(i / half) * n + k * half + (i % half)]);
      const q = compensatedQuantize(part, f, compensationFromHessian(hb[k], half));
      for (let i = 0; i < rows * half; i++) expect(whole[Math.floor(i / half) * n + k * half + (i % half)]).toBe(q[i]);
    }
  });

  it("accumulates each layer's input second moments like a direct patch-by-patch sum", () => {
    const g = importOnnxFile('models/lenet5.onnx');
    const fg = fuseGraph(g);
    const imgs = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 5 });
    const hs = layerHessians(fg, imgs.data, 5, 2);
    const { values } = runGraph(g, imgs.data, 5, true);
    const conv = fg.layers.find((l) => l.op.kind === 'conv' && l.op.pads.every((p) => p === 2))!;
    const dense = fg.layers.find((l) => l.op.kind === 'dense')!;
    // Conv with padding: patches read zeros outside the image.
    {
      const op = conv.op as Extract<typeof conv.op, { kind: 'conv' }>;
      const [cin, hh, ww] = g.shapes[conv.inputs[0]];
      const [, , kh, kw] = op.weight.shape;
      const x = values!.get(conv.inputs[0])!;
      const n = cin * kh * kw;
      const h = new Float64Array(n * n);
      const ho = hh + op.pads[0] + op.pads[2] - kh + 1,
        wo = ww + op.pads[1] + op.pads[3] - kw + 1;
      const patch = new Float64Array(n);
      for (let b = 0; b < 5; b++) {
        for (let oy = 0; oy < ho; oy++) {
          for (let ox = 0; ox < wo; ox++) {
            let k = 0;
            for (let c = 0; c < cin; c++) {
              for (let ky = 0; ky < kh; ky++) {
                for (let kx = 0; kx < kw; kx++, k++) {
                  const iy = oy - op.pads[0] + ky,
                    ix = ox - op.pads[1] + kx;
                  patch[k] = iy < 0 || ix < 0 || iy >= hh || ix >= ww ? 0 : x[((b * cin + c) * hh + iy) * ww + ix];
                }
              }
            }
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] += patch[i] * patch[j];
          }
        }
      }
      const got = hs.get(conv.name)!;
      expect(got.n).toBe(n);
      expect(got.images).toBe(5);
      for (let i = 0; i < n * n; i++) expect(got.hs[0][i]).toBeCloseTo(h[i], 8);
    }
    {
      const x = values!.get(dense.inputs[0])!;
      const n = x.length / 5;
      const got = hs.get(dense.name)!;
      expect(got.n).toBe(n);
      for (let i = 0; i < n; i += 7) {
        for (let j = 0; j < n; j += 5) {
          let s = 0;
          for (let b = 0; b < 5; b++) s += x[b * n + i] * x[b * n + j];
          expect(got.hs[0][i * n + j]).toBeCloseTo(s, 8);
        }
      }
    }
  });
});

describe('cross-fitted compensation for the search score', () => {
  // lenet5 with 16 images: each shard of 8 is scored with weights compensated on the other 8.
  const g = importOnnxFile('models/lenet5.onnx');
  const imgs = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 16 });
  const per = 784;
  const teacher = runGraph(g, imgs.data, 16).output;
  const fg = fuseGraph(g);
  attachCompensation(fg, imgs.data, 16);
  const ranges = shardRanges(16);
  const cross = crossFittedCompensations(fg, imgs.data, ranges).map((c) => withCompensations(fg, c));
  const stats = calibrate(g, imgs);
  const a = uniformAssignment(fg, stats, 4);

  it('scores each search shard with weights fitted on the other shard only; the written graph keeps all images', async () => {
    expect(ranges).toEqual([
      [0, 8],
      [8, 16],
    ]);
    const backend = new LocalBackend({ fg, crossFg: cross, search: { images: imgs.data, teacher }, valid: { images: imgs.data, teacher } });
    const [s, v] = await backend.evaluate([
      { set: 'search', a, from: 0, abortAbove: Infinity },
      { set: 'valid', a, from: 0, abortAbove: Infinity },
    ]);
    // Oracle: for each shard, a graph compensated by attachCompensation on the other shard's images alone.
    let klSum = 0;
    for (const [k, [lo, hi]] of ranges.entries()) {
      const [olo, ohi] = ranges[1 - k];
      const other = fuseGraph(g);
      attachCompensation(other, imgs.data.subarray(olo * per, ohi * per), ohi - olo);
      klSum += new Evaluator(other, imgs.data.subarray(lo * per, hi * per), teacher.subarray(lo * 10, hi * 10), undefined).evaluate(
        a,
        0,
        Infinity,
      ).klSum;
    }
    expect(s.klSum).toBeCloseTo(klSum, 12);
    // The validation images are scored with the compensation from all 16 (the graph that is written).
    const whole = new Evaluator(fg, imgs.data, teacher, undefined).evaluate(a, 0, Infinity);
    expect(v.kl).toBeCloseTo(whole.kl, 12);
    // With 8 images against 400 inputs the dense layer's weights really differ between the fits.
    const dense = fg.layers.find((l) => l.op.kind === 'dense')!;
    const w = (dense.op as { weight: { data: Float64Array } }).weight.data;
    const q = (c: typeof dense.comp) => [...compensatedQuantize(w, a.layers[dense.name].weights!, c!)];
    const crossDense = cross[0].layers.find((l) => l.name === dense.name)!;
    expect(q(crossDense.comp)).not.toEqual(q(dense.comp));
    // Cross-fitting scores the search images less optimistically than fitting on them.
    expect(s.kl).toBeGreaterThan(whole.kl);
  });
});

describe('--rounding on a zoo model (CLI, integer reference on held-out test images)', () => {
  const dir = tempDir();
  const run = async (rounding: string) => {
    const out = join(dir, rounding);
    const r = await fxpqAsync(
      'quantize',
      'models/lenet5.onnx',
      '--calib',
      'models/data/calib_x.npy',
      '--uniform',
      '4',
      '--rounding',
      rounding,
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const e = await fxpqAsync(
      'eval',
      join(out, 'model.fxp.json'),
      '--data',
      'models/data/test_x.npy',
      '--labels',
      'models/data/test_y.npy',
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    return { file: join(out, 'model.fxp.json'), top1: JSON.parse(e.stdout).top1 as number };
  };

  it('nearest rounds each weight alone; gptq keeps clearly more top-1 at 4 bits', async () => {
    const [near, comp] = await Promise.all([run('nearest'), run('gptq')]);
    const fg = fuseGraph(importOnnxFile('models/lenet5.onnx'));
    const qn = readFxpFile(near.file).q,
      qc = readFxpFile(comp.file).q;
    let differ = 0;
    for (const l of fg.layers) {
      if (l.op.kind !== 'conv' && l.op.kind !== 'dense') continue;
      const ln = qn.layers.find((x) => x.name === l.name)!.op as { weight: { data: Int32Array }; weightFormat: FxFormat };
      const lc = qc.layers.find((x) => x.name === l.name)!.op as { weight: { data: Int32Array }; weightFormat: FxFormat };
      expect([...ln.weight.data]).toEqual([...quantizeArray(l.op.weight.data, ln.weightFormat, new Int32Array(l.op.weight.data.length))]);
      expect(lc.weightFormat).toEqual(ln.weightFormat);
      for (let i = 0; i < lc.weight.data.length; i++) if (lc.weight.data[i] !== ln.weight.data[i]) differ++;
    }
    expect(differ).toBeGreaterThan(0);
    // Measured: 73.2 % nearest, 80.9 % gptq (float 89.0 %).
    expect(comp.top1 - near.top1).toBeGreaterThan(3);
  });

  it('rejects an unknown rounding in one line', () => {
    const r = fxpq('quantize', 'models/lenet5.onnx', '--calib', 'models/data/calib_x.npy', '--rounding', 'stochastic');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/rounding/);
  });
});

describe('compensation statistics: the fast paths give the same H and the same compensation', () => {
  // A small float network: conv 4->116 (3x3, pad 1) + ReLU, conv 116->16 (3x3, stride 2, pads
  // 1/1/0/0: 1,044 inputs, so two blocks of 522, each several tiles), flatten, dense 144 -> 10.
  const r = mk(11);
  const rnd = (n: number, s: number) => Float64Array.from({ length: n }, () => (r() - 0.5) * s);
  const conv = (cin: number, cout: number, strides: [number, number], pads: [number, number, number, number]) => ({
    kind: 'conv' as const,
    weight: { shape: [cout, cin, 3, 3], data: rnd(cout * cin * 9, 0.5) },
    bias: rnd(cout, 0.1),
    strides,
    pads,
    dilations: [1, 1] as [number, number],
    group: 1,
  });
  const g: Graph = {
    input: { name: 'x', shape: [4, 6, 6] },
    output: 'y',
    nodes: [
      { name: 'c1', op: conv(4, 116, [1, 1], [1, 1, 1, 1]), inputs: ['x'], output: 'c1' },
      { name: 'r1', op: { kind: 'relu' }, inputs: ['c1'], output: 'r1' },
      { name: 'c2', op: conv(116, 16, [2, 2], [1, 1, 0, 0]), inputs: ['r1'], output: 'c2' },
      { name: 'f', op: { kind: 'flatten' }, inputs: ['c2'], output: 'f' },
      {
        name: 'd',
        op: { kind: 'dense', weight: { shape: [10, 144], data: rnd(1440, 0.2) }, bias: rnd(10, 0.1) },
        inputs: ['f'],
        output: 'y',
      },
    ],
    shapes: { x: [4, 6, 6], c1: [116, 6, 6], r1: [116, 6, 6], c2: [16, 3, 3], f: [144], y: [10] },
    source: { opset: 13, producer: 'test', sha256: '' },
  };
  const count = 40,
    per = 144;
  const x = rnd(count * per, 2);
  const name = (node: string) => fuseGraph(g).layers.find((l) => l.output === node || l.name === node)!.name;

  /** H of one layer the plain way: every input vector (im2col column) of every image, in order. */
  function directH(layer: string, n: number, images: number): Float64Array {
    const { values } = runGraph(g, x.subarray(0, images * per), images, true);
    const h = new Float64Array(n * n);
    const v = new Float64Array(n);
    const add = () => {
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] += v[i] * v[j];
    };
    const l = fuseGraph(g).layers.find((q) => q.name === layer)!;
    const xin = values!.get(l.inputs[0])!;
    if (l.op.kind === 'dense') {
      for (let b = 0; b < images; b++) {
        v.set(xin.subarray(b * n, (b + 1) * n));
        add();
      }
      return h;
    }
    const op = l.op as Extract<typeof l.op, { kind: 'conv' }>;
    const [cin, hh, ww] = g.shapes[l.inputs[0]];
    const [ho, wo] = [g.shapes[l.output][1], g.shapes[l.output][2]];
    for (let b = 0; b < images; b++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let k = 0;
          for (let c = 0; c < cin; c++) {
            for (let ky = 0; ky < 3; ky++) {
              for (let kx = 0; kx < 3; kx++, k++) {
                const iy = oy * op.strides[0] - op.pads[0] + ky,
                  ix = ox * op.strides[1] - op.pads[1] + kx;
                v[k] = iy < 0 || ix < 0 || iy >= hh || ix >= ww ? 0 : xin[((b * cin + c) * hh + iy) * ww + ix];
              }
            }
          }
          add();
        }
      }
    }
    return h;
  }
  const blockOf = (h: Float64Array, n: number, [a, b]: [number, number]) => {
    const sz = b - a,
      out = new Float64Array(sz * sz);
    for (let i = 0; i < sz; i++) for (let j = 0; j < sz; j++) out[i * sz + j] = h[(a + i) * n + a + j];
    return out;
  };
  const differing = (p: ArrayLike<number>, q: ArrayLike<number>) => {
    let d = p.length === q.length ? 0 : Infinity;
    for (let i = 0; i < p.length; i++) if (!Object.is(p[i], q[i])) d++;
    return d;
  };
  const sameComp = (p: Compensation, q: Compensation) =>
    p.n === q.n &&
    p.blocks.length === q.blocks.length &&
    p.blocks.every((b, i) => differing(b.perm, q.blocks[i].perm) === 0 && differing(b.u, q.blocks[i].u) === 0);

  it('forms only the lower triangle of H, tile by tile over many columns, with the bytes of the plain sum (blocks, caps)', () => {
    // conv2 has 4.9 M multiply-adds per image: this budget caps it at 33 of the 40 images.
    const budget = 33 * 2 * 522 * 522 * 9;
    const hs = layerHessians(fuseGraph(g), x, count, 32, budget);
    expect([...hs.values()].map((s) => [s.n, s.hs.length, s.images])).toEqual([
      [36, 1, 40],
      [1044, 2, 33],
      [144, 1, 40],
    ]);
    for (const [node, n, images] of [
      ['c1', 36, 40],
      ['c2', 1044, 33],
      ['d', 144, 40],
    ] as const) {
      const want = directH(name(node), n, images);
      const got = hs.get(name(node))!;
      blockRanges(n).forEach((rg, i) => expect(differing(got.hs[i], blockOf(want, n, rg))).toBe(0));
    }
  });

  it("takes the full H as the sum of the halves' H and fits each cross-fitted compensation on the other half alone", () => {
    const fg = fuseGraph(g);
    attachCompensation(fg, x, count, 1);
    const cross = crossFittedCompensations(
      fg,
      x,
      [
        [0, 20],
        [20, 40],
      ],
      1,
    );
    const halves = [0, 1].map((k) => layerHessians(fg, x.subarray(k * 20 * per, (k + 1) * 20 * per), 20, 32, 4e9));
    let layers = 0;
    for (const l of fg.layers) {
      if (!l.comp) continue;
      layers++;
      const [h0, h1] = halves.map((m) => m.get(l.name)!);
      // (0 + H0) + H1, element by element: the full statistics need no pass of their own.
      const sum = h0.hs.map((h, i) => {
        const s = new Float64Array(h.length);
        for (let e = 0; e < h.length; e++) s[e] += h[e];
        for (let e = 0; e < h.length; e++) s[e] += h1.hs[i][e];
        return s;
      });
      expect(sameComp(l.comp, compensationFromBlocks(sum, h0.n))).toBe(true);
      expect(sameComp(cross[0].get(l.name)!, compensationFromBlocks(h1.hs, h1.n))).toBe(true);
      expect(sameComp(cross[1].get(l.name)!, compensationFromBlocks(h0.hs, h0.n))).toBe(true);
    }
    expect(layers).toBe(3);
    // Without the halves kept by attachCompensation (another graph), the same compensations.
    const again = crossFittedCompensations(
      fuseGraph(g),
      x,
      [
        [0, 20],
        [20, 40],
      ],
      1,
    );
    for (const k of [0, 1]) for (const [n, c] of cross[k]) expect(sameComp(again[k].get(n)!, c)).toBe(true);
  });

  it("forms the full H from each half's share and the halves' own H in one pass each, where the budget caps a layer", () => {
    // 80 images, halves of 40. conv2 (4.9 M multiply-adds per image) is capped at its first 50
    // images in the full H (all of the first half, 10 of the second) and at 35 in each half's own.
    const p2 = 2 * 522 * 522 * 9;
    const xs = rnd(80 * per, 2);
    const fg = fuseGraph(g);
    const stats = partStatistics(
      fg,
      xs,
      [
        [0, 40],
        [40, 80],
      ],
      35 * p2,
      1,
      { count: 80, budget: 50 * p2 },
    );
    const c2 = name('c2');
    const half = (k: number) => xs.subarray(k * 40 * per, (k + 1) * 40 * per);
    const packed = (h: { hs: Float64Array[]; n: number }) =>
      h.hs.map((m, i) => {
        const [a, b] = blockRanges(h.n)[i];
        return denseToPacked(m, b - a);
      });
    const same = (p: Float64Array[], q: Float64Array[]) => p.length === q.length && p.every((m, i) => differing(m, q[i]) === 0);
    for (const k of [0, 1]) {
      const s = stats[k].get(c2)!;
      // Each half's own H: its first 35 images, as a pass of its own would give.
      expect(s.images).toBe(35);
      expect(same(s.hs, packed(layerHessians(fg, half(k), 40, 32, 35 * p2).get(c2)!))).toBe(true);
      // Its share of the full H: the first 40 (first half) or 10 (second half) of its images.
      expect(s.full!.images).toBe(k === 0 ? 40 : 10);
      expect(same(s.full!.hs, packed(layerHessians(fg, half(k), k === 0 ? 40 : 10, 32).get(c2)!))).toBe(true);
      // Layers the budget does not cap: the share is the half's own H.
      expect(stats[k].get(name('c1'))!.full).toBeUndefined();
    }
    // The two shares add up to the H of the first 50 images (up to the order of the additions).
    const whole = packed(layerHessians(fg, xs, 80, 32, 50 * p2).get(c2)!);
    whole.forEach((m, i) => {
      const s0 = stats[0].get(c2)!.full!.hs[i],
        s1 = stats[1].get(c2)!.full!.hs[i];
      let worst = 0;
      for (let e = 0; e < m.length; e++) worst = Math.max(worst, Math.abs(s0[e] + s1[e] - m[e]) / (Math.abs(m[e]) + 1e-300));
      expect(worst).toBeLessThan(1e-12);
    });
  });

  it('gives the same bytes on worker threads as on one thread', () => {
    // The workers run the compiled module (npx tsc -p . first).
    expect(existsSync(workerScript(pathToFileURL(join(process.cwd(), 'src/quant/compensate.ts')).href, 'compensate-worker'))).toBe(true);
    const saved = compensationParallel.minWork;
    compensationParallel.minWork = 0;
    try {
      const run = (threads: number) => {
        const fg = fuseGraph(g);
        attachCompensation(fg, x, count, threads);
        return {
          full: new Map(fg.layers.filter((l) => l.comp).map((l) => [l.name, l.comp!])),
          cross: crossFittedCompensations(
            fg,
            x,
            [
              [0, 20],
              [20, 40],
            ],
            threads,
          ),
        };
      };
      const before = workerStats.jobs;
      const one = run(1),
        two = run(2);
      expect(workerStats.jobs).toBeGreaterThan(before);
      for (const [n, c] of one.full) expect(sameComp(two.full.get(n)!, c)).toBe(true);
      for (const k of [0, 1]) for (const [n, c] of one.cross[k]) expect(sameComp(two.cross[k].get(n)!, c)).toBe(true);
      // A capped layer's two sums, formed on a worker.
      const p2 = 2 * 522 * 522 * 9;
      const [s1, s2] = [1, 2].map((t) =>
        partStatistics(
          fuseGraph(g),
          x,
          [
            [0, 20],
            [20, 40],
          ],
          15 * p2,
          t,
          { count: 40, budget: 25 * p2 },
        ),
      );
      for (const k of [0, 1]) {
        for (const [n, a] of s1[k]) {
          const b = s2[k].get(n)!;
          expect(a.hs.every((h, i) => differing(h, b.hs[i]) === 0)).toBe(true);
          expect(a.full === undefined ? b.full === undefined : a.full.hs.every((h, i) => differing(h, b.full!.hs[i]) === 0)).toBe(true);
        }
      }
    } finally {
      compensationParallel.minWork = saved;
    }
  });

  it('reports a job that fails on a worker instead of waiting for it', () => {
    const ok = new Float64Array(3).fill(1),
      bad = Float64Array.of(1, Number.NaN, 1);
    const script = workerScript(pathToFileURL(join(process.cwd(), 'src/quant/compensate.ts')).href, 'compensate-worker');
    expect(() =>
      runJobsSync<CompJob, CompResult>({
        jobs: [
          { kind: 'factor', h: ok, n: 2 },
          { kind: 'factor', h: bad, n: 2 },
        ],
        costs: [1, 1],
        threads: 2,
        script,
        run: runCompJob,
      }),
    ).toThrow(/compensation worker: .*not positive definite/);
  });

  /** The factorisation before issue 26: Cholesky of H, its inverse, L^-T L^-1, Cholesky again. */
  function directFactor(h: Float64Array, n: number): { perm: Int32Array; u: Float64Array } {
    const chol = (a: Float64Array) => {
      const l = new Float64Array(n * n);
      for (let j = 0; j < n; j++) {
        let d = a[j * n + j];
        for (let k = 0; k < j; k++) d -= l[j * n + k] ** 2;
        l[j * n + j] = Math.sqrt(d);
        for (let i = j + 1; i < n; i++) {
          let s = a[i * n + j];
          for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
          l[i * n + j] = s / l[j * n + j];
        }
      }
      return l;
    };
    const diag = Array.from({ length: n }, (_, i) => h[i * n + i]);
    const perm = Int32Array.from(diag.map((_, i) => i).sort((p, q) => diag[q] - diag[p] || p - q));
    const mean = diag.reduce((s, d) => s + d, 0) / n;
    const hp = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) hp[i * n + j] = h[perm[i] * n + perm[j]];
      if (hp[i * n + i] === 0) hp[i * n + i] = 1;
      hp[i * n + i] += 0.01 * (mean > 0 ? mean : 1);
    }
    const l = chol(hp);
    const m = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      m[j * n + j] = 1 / l[j * n + j];
      for (let i = j + 1; i < n; i++) {
        let s = 0;
        for (let k = j; k < i; k++) s -= l[i * n + k] * m[k * n + j];
        m[i * n + j] = s / l[i * n + i];
      }
    }
    const hinv = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = Math.max(i, j); k < n; k++) s += m[k * n + i] * m[k * n + j];
        hinv[i * n + j] = s;
      }
    const l2 = chol(hinv);
    // Packed as the compensation stores it (factor.ts upperIndex).
    const u = new Float64Array((n * (n + 1)) / 2);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[upperIndex(n, i, j)] = l2[j * n + i];
    return { perm, u };
  }

  it('factors H by one blocked Cholesky factorisation and one triangular inverse: the same U as the direct algorithm', () => {
    const rr = mk(5);
    for (const n of [1, 2, 63, 64, 65, 130, 300]) {
      // Rank-deficient H (fewer samples than inputs), a dead input and two tied diagonals.
      const samples = Math.max(1, Math.floor(n / 2));
      const xs = Array.from({ length: samples }, () => Float64Array.from({ length: n }, () => rr() - 0.3));
      for (const v of xs) {
        v[0] = 0;
        if (n > 2) v[2] = v[1];
      }
      const h = new Float64Array(n * n);
      for (const v of xs) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] += v[i] * v[j];
      const want = directFactor(h, n);
      const got = compensationFromHessian(h, n).blocks[0];
      expect([...got.perm]).toEqual([...want.perm]);
      let worst = 0;
      expect(got.u.length).toBe(want.u.length);
      for (let i = 0; i < n; i++)
        for (let j = i; j < n; j++)
          worst = Math.max(worst, Math.abs(got.u[upperIndex(n, i, j)] - want.u[upperIndex(n, i, j)]) / want.u[upperIndex(n, i, i)]);
      expect(worst).toBeLessThan(1e-9);
      // The integers of a few formats: the same.
      const w = Float64Array.from({ length: 4 * n }, () => (rr() - 0.5) * 2);
      for (const f of [
        { wl: 3, fl: 1, signed: true },
        { wl: 6, fl: 5, signed: true },
      ]) {
        expect([...compensatedQuantize(w, f, { n, blocks: [got] })]).toEqual([...compensatedQuantize(w, f, { n, blocks: [want] })]);
      }
    }
  });
});

describe('compensated rounding in WebAssembly', () => {
  // The kernel (wasm/gptq.ts) must give the same integers as the TypeScript loop, which is the
  // definition: same operations, same order. Blocks of odd and even size, rows not a multiple of
  // the kernel's group of 16, permuted columns, saturation at both ends, exact ties (x * 2^fl
  // ending in .5), unsigned formats and a 32-bit format whose top values wrap in an Int32Array.
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const block = (n: number, off: number) => {
    const u = new Float64Array((n * (n + 1)) / 2);
    for (let i = 0; i < n; i++) {
      u[upperIndex(n, i, i)] = 0.5 + rnd();
      for (let j = i + 1; j < n; j++) u[upperIndex(n, i, j)] = (rnd() - 0.5) * 0.3;
    }
    const perm = Int32Array.from({ length: n }, (_, i) => off + ((i * 5 + 3) % n));
    return { perm, u };
  };
  const cases: { n: number[]; rows: number; f: FxFormat; spread: number }[] = [
    { n: [7], rows: 3, f: { wl: 4, fl: 3, signed: true }, spread: 2 },
    { n: [33, 32], rows: 37, f: { wl: 6, fl: 5, signed: true }, spread: 1 },
    { n: [64], rows: 17, f: { wl: 8, fl: 0, signed: false }, spread: 600 },
    { n: [20], rows: 16, f: { wl: 2, fl: 1, signed: true }, spread: 4 },
    { n: [15], rows: 5, f: { wl: 32, fl: 30, signed: false }, spread: 8 },
    // Several panels of 32 inputs, the last panel and the tile of 8 inputs cut short.
    { n: [100, 77], rows: 19, f: { wl: 5, fl: 3, signed: true }, spread: 3 },
    { n: [MAX_BLOCK], rows: 3, f: { wl: 7, fl: 6, signed: true }, spread: 1.5 },
  ];
  for (const c of cases) {
    it(`${c.f.signed ? 's' : 'u'}${c.f.wl}.${c.f.fl}, blocks ${c.n.join('+')}, ${c.rows} rows`, () => {
      let off = 0;
      const blocks = c.n.map((n) => {
        const b = block(n, off);
        off += n;
        return b;
      });
      const comp: Compensation = { n: off, blocks };
      const w = Float64Array.from({ length: c.rows * off }, () => (rnd() - 0.5) * c.spread);
      // Exact ties for the first inputs of every row: (k + 0.5) * 2^-fl.
      for (let r = 0; r < c.rows; r++) w[r * off + blocks[0].perm[0]] = (Math.floor(rnd() * 6) - 3 + 0.5) * 2 ** -c.f.fl;
      expect(compensationKernel()).toBe('wasm');
      const seenJs = new Float64Array(w.length),
        seenWasm = new Float64Array(w.length);
      const js = compensatedQuantizeJs(w, c.f, comp, undefined, seenJs);
      const wasm = compensatedQuantize(w, c.f, comp, undefined, seenWasm);
      expect(Array.from(wasm)).toEqual(Array.from(js));
      // Every value rounded is the same double (a zero may differ in sign: the kernel subtracts
      // 0 * U where the loop skips): the same operations in the same order, not just the same
      // integers by luck.
      let differ = 0;
      for (let e = 0; e < w.length; e++) if (!(seenJs[e] === seenWasm[e])) differ++;
      expect(differ).toBe(0);
      // Not trivially equal: values vary, and some saturate where the range is tight.
      expect(new Set(js).size).toBeGreaterThan(2);
    });
  }
});
