/**
 * How much of a top-1 difference between two networks scored on the same test images is the
 * images: the exact McNemar test on the images exactly one of them gets right, and the top-1 a
 * float model reaches when its logits are perturbed at random by as much as a quantizer perturbs
 * them (no quantizer can be expected to beat that spread by fidelity alone).
 */
import { argmaxRows, runGraph, tiedRows } from '../engine/run.js';
import { runQGraph } from '../intref/run.js';
import type { Graph } from '../ir/types.js';
import { rng } from '../onnx/builder.js';
import type { QGraph } from '../quant/qgraph.js';

/** Logits of the float model, or the real value of the integer reference's, over the test images. */
export function logits(m: { g: Graph } | { q: QGraph }, data: Float64Array, n: number): Float64Array {
  const per = data.length / n;
  const out: Float64Array[] = [];
  for (let s = 0; s < n; s += 100) {
    const x = data.subarray(s * per, Math.min(n, s + 100) * per);
    const b = Math.min(100, n - s);
    if ('g' in m) out.push(runGraph(m.g, x, b).output);
    else out.push(runQGraph(m.q, x, b).output.map((v) => v * 2 ** -m.q.values[m.q.output].format.fl));
  }
  const all = new Float64Array(out.reduce((a, o) => a + o.length, 0));
  let k = 0;
  for (const o of out) {
    all.set(o, k);
    k += o.length;
  }
  return all;
}

/**
 * Everything the benches read off one network's logits on labelled test images: predictions,
 * top-1, agreement with the float predictions, tied images and top-1 with ties shared.
 */
export function scoreLogits(y: Float64Array, labels: Int32Array, floatPredictions: Int32Array) {
  const n = labels.length;
  const predictions = argmaxRows(y, n);
  const share = (ref: Int32Array) => (100 * predictions.reduce((a, p, i) => a + (p === ref[i] ? 1 : 0), 0)) / n;
  return {
    predictions,
    top1: share(labels),
    agreement: share(floatPredictions),
    ties: tiedRows(y, n).reduce((a, t) => a + t, 0),
    shared: sharedTop1(y, labels),
  };
}

/** Images only `a` gets right (b) and only `b` gets right (c). */
export function discordant(a: Int32Array, b: Int32Array, labels: Int32Array): { onlyA: number; onlyB: number } {
  let onlyA = 0,
    onlyB = 0;
  for (let i = 0; i < labels.length; i++) {
    const ra = a[i] === labels[i],
      rb = b[i] === labels[i];
    if (ra && !rb) onlyA++;
    else if (rb && !ra) onlyB++;
  }
  return { onlyA, onlyB };
}

/**
 * Two-sided exact McNemar p-value: the chance, were both networks equally accurate, of a split of
 * the n = b + c discordant images at least as uneven as the one seen (binomial, p = 1/2).
 */
export function mcnemarP(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let term = 0.5 ** n,
    tail = 0;
  for (let i = 0; i <= k; i++) {
    tail += term;
    term = (term * (n - i)) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}

/** Root mean square difference of two logit arrays (same layout). */
export function rmsDiff(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - y[i]) ** 2;
  return Math.sqrt(s / x.length);
}

/**
 * Top-1 (percent) of `logits` plus independent Gaussian noise of standard deviation `sigma`, for
 * `draws` seeded draws.
 */
export function noisyTop1(logits: Float64Array, labels: Int32Array, sigma: number, draws: number, seed: number): number[] {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const n = labels.length;
  return Array.from({ length: draws }, () => {
    const z = logits.map((v) => v + sigma * gauss());
    const p = argmaxRows(z, n);
    let ok = 0;
    for (let i = 0; i < n; i++) if (p[i] === labels[i]) ok++;
    return (100 * ok) / n;
  });
}

/**
 * Top-1 (percent) when a tie is broken at random instead of toward the first class: an image whose
 * label is among its k tied top classes counts 1/k. The expected top-1 of a network whose class
 * order carries no information.
 */
export function sharedTop1(logits: Float64Array, labels: Int32Array): number {
  const n = labels.length,
    c = logits.length / n;
  let credit = 0;
  for (let b = 0; b < n; b++) {
    let best = -Infinity,
      k = 0;
    for (let i = 0; i < c; i++) {
      const v = logits[b * c + i];
      if (v > best) {
        best = v;
        k = 1;
      } else if (v === best) k++;
    }
    if (logits[b * c + labels[b]] === best) credit += 1 / k;
  }
  return (100 * credit) / n;
}
