import { describe, expect, it } from 'vitest';
import { runGraph } from '../src/engine/run.js';
import { runQGraph } from '../src/intref/run.js';
import { loadImages } from '../src/io/dataset.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { buildQGraph } from '../src/quant/build.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { uniformAssignment as maxRuleAssignment } from '../src/quant/uniform.js';
import { allocationPath } from '../src/search/allocate.js';
import { LocalBackend } from '../src/search/backend.js';
import { type Curve, measureSensitivity } from '../src/search/sensitivity.js';
import { CostModel, dataStructures, getFormat } from '../src/search/structures.js';

/** KL(teacher || student) of softmax outputs per image, computed here from scratch (the oracle). */
function meanKl(teacher: Float64Array, student: Float64Array, scale: number, n: number, classes: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t = Array.from(teacher.subarray(i * classes, (i + 1) * classes));
    const s = Array.from(student.subarray(i * classes, (i + 1) * classes), (v) => v * scale);
    const lse = (v: number[]) => {
      const m = Math.max(...v);
      return m + Math.log(v.reduce((acc, x) => acc + Math.exp(x - m), 0));
    };
    const lt = lse(t),
      ls = lse(s);
    for (let c = 0; c < classes; c++) total += Math.exp(t[c] - lt) * (t[c] - lt - (s[c] - ls));
  }
  return total / n;
}

describe('sensitivity schedule', () => {
  const g = importOnnxFile('models/lenet5.onnx');
  const imgs = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 64 });
  const stats = calibrate(g, imgs);
  const fg = fuseGraph(g);
  const teacher = runGraph(g, imgs.data, imgs.count).output;

  it('measures each point as a full, independent evaluation of that configuration would', async () => {
    const backend = new LocalBackend({ fg, search: { images: imgs.data, teacher }, valid: { images: imgs.data, teacher } });
    const base = maxRuleAssignment(fg, stats, 8);
    const cur = await backend.commit(base, 0);
    const ds = dataStructures(fg)
      .filter((d) => d.kind === 'weights' || d.kind === 'output')
      .slice(0, 4);
    const { curves, evaluations, baseKl } = await measureSensitivity(backend, base, ds, {
      klSlack: Infinity,
      errorsFit: () => true,
      floor: () => 4,
    });
    expect(baseKl).toBeCloseTo(cur.search.kl, 12);
    expect(evaluations).toBeGreaterThan(0);
    let checked = 0;
    for (const c of curves) {
      expect(c.points.map((p) => p.wl)).toEqual([7, 6, 5, 4]);
      for (const p of c.points) {
        // Only this data structure differs from the base, and each point's fraction length is
        // one of the three the method allows relative to the point before it.
        const a = { ...base, layers: { ...base.layers } };
        const f = getFormat(base, c.d);
        const fmt = { wl: p.wl, fl: p.fl, signed: f.signed };
        if (c.d.kind === 'input') a.input = fmt;
        else a.layers[c.d.layer!] = { ...a.layers[c.d.layer!], [c.d.kind]: fmt };
        const q = buildQGraph(fg, a);
        const y = runQGraph(q, imgs.data, imgs.count).output;
        const kl = meanKl(teacher, y, 2 ** -q.values[q.output].format.fl, imgs.count, 10);
        expect(p.kl).toBeCloseTo(kl, 10);
        checked++;
      }
      const fls = [getFormat(base, c.d).fl, ...c.points.map((p) => p.fl)];
      for (let i = 1; i < fls.length; i++) expect([-2, -1, 0]).toContain(fls[i] - fls[i - 1]);
    }
    expect(checked).toBe(16);
  });

  it('ends a curve at the first word length whose KL passes the cap', async () => {
    const backend = new LocalBackend({ fg, search: { images: imgs.data, teacher }, valid: { images: imgs.data, teacher } });
    const base = maxRuleAssignment(fg, stats, 8);
    await backend.commit(base, 0);
    const d = dataStructures(fg).filter((x) => x.kind === 'weights');
    const full = await measureSensitivity(backend, base, d, { klSlack: Infinity, errorsFit: () => true, floor: () => 2 });
    const slack = (full.curves[0].points[3].kl - full.baseKl) * (1 + 1e-9); // keeps the fourth point of the first curve
    const cap = full.baseKl + slack;
    const capped = await measureSensitivity(backend, base, d, { klSlack: slack, errorsFit: () => true, floor: () => 2 });
    for (let i = 0; i < d.length; i++) {
      const pts = full.curves[i].points;
      const stop = pts.findIndex((p) => p.kl > cap);
      expect(capped.curves[i].points).toEqual(stop < 0 ? pts : pts.slice(0, stop));
    }
    expect(capped.curves[0].points.length).toBeGreaterThanOrEqual(4);
    expect(capped.curves.some((c, i) => c.points.length < full.curves[i].points.length)).toBe(true);
  });

  it('scores a subset as the first images of each shard, on any worker count', async () => {
    const backend = new LocalBackend({ fg, search: { images: imgs.data, teacher }, valid: { images: imgs.data, teacher } });
    const base = maxRuleAssignment(fg, stats, 8);
    await backend.commit(base, 0);
    const d = dataStructures(fg)
      .filter((x) => x.kind === 'weights')
      .slice(1, 2);
    const r = await measureSensitivity(backend, base, d, { images: 32, klSlack: Infinity, errorsFit: () => true, floor: () => 5 });
    // 64 images in two shards of 32: the subset is images 0-15 and 32-47.
    const idx = [...Array(16).keys(), ...Array.from({ length: 16 }, (_, i) => 32 + i)];
    const per = 28 * 28;
    const x = new Float64Array(idx.length * per),
      t = new Float64Array(idx.length * 10);
    idx.forEach((k, i) => {
      x.set(imgs.data.subarray(k * per, (k + 1) * per), i * per);
      t.set(teacher.subarray(k * 10, (k + 1) * 10), i * 10);
    });
    for (const p of r.curves[0].points) {
      const a = {
        ...base,
        layers: { ...base.layers, [d[0].layer!]: { ...base.layers[d[0].layer!], weights: { wl: p.wl, fl: p.fl, signed: true } } },
      };
      const q = buildQGraph(fg, a);
      expect(p.kl).toBeCloseTo(meanKl(t, runQGraph(q, x, idx.length).output, 2 ** -q.values[q.output].format.fl, idx.length, 10), 10);
    }
    expect(r.curves[0].points).toHaveLength(3);
  });
});

describe('allocation path', () => {
  const g = importOnnxFile('models/lenet5.onnx');
  const imgs = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 16 });
  const fg = fuseGraph(g);
  const base = maxRuleAssignment(fg, calibrate(g, imgs), 8);
  const cost = new CostModel(fg);
  const [w0, w1] = dataStructures(fg).filter((d) => d.kind === 'weights');
  const pt = (wl: number, kl: number) => ({ wl, fl: wl - 1, kl, errors: 0 });

  it('takes the step with the most memory saved per KL added, one bit at a time', () => {
    // Hand-computed on lenet5: w0 (first conv) has 150 weights, w1 (second conv) 2,400, so a bit
    // off each saves 150 and 2,400 bits. Rises in KL over the base 0.01: w0 1e-4 then 1e-4 more
    // (1.5e6 bits per unit KL each), w1 1e-3 (2.4e6) then 2e-3 more (1.2e6). So: w1, w0, w0, w1.
    const curves: Curve[] = [
      { d: w0, points: [pt(7, 0.0101), pt(6, 0.0102)] },
      { d: w1, points: [pt(7, 0.011), pt(6, 0.013)] },
    ];
    const path = allocationPath(base, 0.01, curves, (a) => cost.paramBits(a));
    expect(path.map((s) => [s.curve, curves[s.curve].points[s.point].wl])).toEqual([
      [1, 7],
      [0, 7],
      [0, 6],
      [1, 6],
    ]);
    [0.011, 0.0111, 0.0112, 0.0132].forEach((kl, i) => expect(path[i].predictedKl).toBeCloseTo(kl, 12));
    expect(path.map((s) => s.cost - path[0].cost)).toEqual([0, -150, -300, -2700]);
    expect(getFormat(path[3].a, w1)).toEqual({ ...getFormat(base, w1), wl: 6, fl: 5 });
    expect(getFormat(path[3].a, w0)).toEqual({ ...getFormat(base, w0), wl: 6, fl: 5 });
  });

  it('never predicts a lower word length to be more faithful (measured dips are noise)', () => {
    const curves: Curve[] = [{ d: w0, points: [pt(7, 0.02), pt(6, 0.015), pt(5, 0.03)] }];
    const path = allocationPath(base, 0.01, curves, (a) => cost.paramBits(a));
    [0.02, 0.02, 0.03].forEach((kl, i) => expect(path[i].predictedKl).toBeCloseTo(kl, 12));
  });
});
