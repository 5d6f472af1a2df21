import { FxpqError } from '../errors.js';
import type { FxFormat } from '../fixed/format.js';
import type { Assignment } from '../quant/build.js';
import type { ValueStats } from '../quant/calibrate.js';
import type { FusedGraph } from '../quant/fuse.js';
import { uniformAssignment as maxRuleAssignment } from '../quant/uniform.js';
import type { Backend, EvalJob } from './backend.js';
import type { Score } from './evaluator.js';
import { CostModel, type DataStructure, dataStructures, getFormat, isActivation, type Objective, withFormat } from './structures.js';

export interface SearchOptions {
  /** Allowed top-1 drop in percentage points on the validation images. */
  maxDrop: number;
  minBits: number;
  startBits: number;
  objective: Objective;
  /**
   * Word length of the uniform network (every data structure at this many bits, max-rule fraction
   * lengths, the same weight rounding) that the result may be no less faithful than: a step must
   * keep the mean KL divergence to the teacher on the validation images at or below that network's.
   * Null: only the top-1 budget applies.
   */
  referenceBits: number | null;
  /** Top-1 errors of the float model on the search images (0 unless labels are given). */
  searchBaselineErrors: number;
  onStep?: (info: { step: number; cost: number; startCost: number; drop: number; frozen: number; total: number }) => void;
}

export interface SearchResult {
  assignment: Assignment;
  steps: number;
  evaluations: number;
  validationDrop: number;
  /** Mean KL of the reference network on the validation images (null without a reference). */
  referenceKl: number | null;
  log: string[];
}

/**
 * Candidates evaluated together. Fixed (not the worker count) so the search takes the same path,
 * and writes the same bytes, on any number of cores.
 */
export const BATCH = 2;

interface Cand { d: DataStructure; a: Assignment; s: Score; fl: number }

const better = (x: Score, y: Score | undefined) => !y || x.kl < y.kl || (x.kl === y.kl && x.errors < y.errors);

/**
 * For each data structure in `ds`, the fraction length among `fls(d)` that minimises the KL
 * statistic at word length `wl(d)` (others as in `base`); fewer top-1 errors break ties.
 * Candidates run in batches of BATCH; a candidate is dropped early once clearly worse than the best
 * of its data structure found in earlier batches.
 */
export async function bestFractions(
  backend: Backend, base: Assignment, ds: DataStructure[], wl: (d: DataStructure) => number, fls: (d: DataStructure) => number[],
): Promise<{ best: (Cand | null)[]; evaluations: number }> {
  const best: (Cand | null)[] = ds.map(() => null);
  const queue: { i: number; fl: number }[] = [];
  const lists = ds.map((d) => fls(d));
  const depth = Math.max(0, ...lists.map((l) => l.length));
  for (let k = 0; k < depth; k++) lists.forEach((l, i) => { if (k < l.length) queue.push({ i, fl: l[k] }); });
  let evaluations = 0;
  for (let s = 0; s < queue.length; s += BATCH) {
    const batch = queue.slice(s, s + BATCH);
    const cands = batch.map(({ i, fl }) => {
      const f = getFormat(base, ds[i]);
      return { i, fl, a: withFormat(base, ds[i], { wl: wl(ds[i]), fl, signed: f.signed }) };
    });
    const jobs: EvalJob[] = cands.map((c) => ({ set: 'search', a: c.a, from: ds[c.i].from, abortAbove: best[c.i]?.s.kl ?? Infinity }));
    const scores = await backend.evaluate(jobs);
    evaluations += jobs.length;
    cands.forEach((c, k) => {
      const sc = scores[k];
      if (!sc.aborted && better(sc, best[c.i]?.s)) best[c.i] = { d: ds[c.i], a: c.a, s: sc, fl: c.fl };
    });
  }
  return { best, evaluations };
}

/** Single data structure version of bestFractions. */
export async function bestFraction(backend: Backend, base: Assignment, d: DataStructure, wl: number, fls: number[]) {
  const r = await bestFractions(backend, base, [d], () => wl, () => fls);
  return { a: r.best[0]?.a ?? null, s: r.best[0]?.s ?? null, fl: r.best[0]?.fl ?? null, evaluations: r.evaluations };
}

/**
 * FxP-QNet as reconstructed in docs/fxpqnet.md:
 *  1. every data structure starts at `startBits` with the max-rule fraction length;
 *  2. a fast start lowers all word lengths together while no top-1 prediction changes (and the
 *     validation KL stays within the reference bound);
 *  3. greedy gradual adaptation: each step lowers by one bit the data structure with the best
 *     ratio of memory saved to added prediction error (mean KL divergence to the float teacher
 *     on the search images), choosing its fraction length among {fl-1, fl, fl-2} by the same
 *     statistic; a step that would exceed the top-1 budget on the validation images or on the
 *     search images, or make the network less faithful (mean KL on the validation images) than the
 *     uniform `referenceBits` network, is undone and that data structure is frozen; under
 *     `--objective params` only weights and biases are lowered;
 *  4. every fraction length is re-tuned once (fl-1, fl+1) with the final word lengths; then each
 *     layer whose weights are rounded with error compensation tries nearest rounding instead
 *     (compensation lowers the layer's own output error, which is not always the network's).
 */
export async function fxpqnetSearch(fg: FusedGraph, stats: Map<string, ValueStats>, backend: Backend, baselineErrors: number, o: SearchOptions): Promise<SearchResult> {
  const log: string[] = [];
  const cost = new CostModel(fg);
  const ds = dataStructures(fg);
  const nV = backend.validImages;
  const nS = backend.searchImages;
  const fits = (errors: number, base: number, n: number) => errors - base <= (o.maxDrop / 100) * n;
  const drop = (s: Score) => (100 * (s.errors - baselineErrors)) / nV;
  const searchDrop = (s: Score) => (100 * (s.errors - o.searchBaselineErrors)) / nS;
  // A step must keep the drop within budget on both halves. The validation half is consulted at
  // every step, so the configurations that pass are those on which it happened to be lucky; the
  // search half's top-1 is a second sample (its KL, not its top-1, ranks the candidates), and the
  // two are rarely lucky together. On ResNet-8 (seed 2) the validation check alone let through a
  // network 1.25 pp below float on the 10,000 test images.
  //
  // The top-1 count moves in steps of 0.4 pp of 256 images, so the search ends wherever a step
  // first happens to cross it: 98.1-99.2 % agreement on the 10,000 test images over the zoo and
  // seeds, where uniform 8 sits at 98.7-99.4 %. The reference bound is the smooth half of the
  // budget: mean KL is a sum over every image, so it neither jumps nor lets a lucky step through,
  // and it ties the result to a network whose fidelity a user knows.
  let refKl = Infinity;
  let evaluations = 0;
  if (o.referenceBits !== null) {
    [{ kl: refKl }] = await backend.evaluate([{ set: 'valid', a: maxRuleAssignment(fg, stats, o.referenceBits), from: 0, abortAbove: Infinity }]);
    evaluations++;
    log.push(`reference: uniform ${o.referenceBits} bits, KL ${refKl.toExponential(2)} on the validation images`);
  }
  const within = (v: Score, s: Score) => fits(v.errors, baselineErrors, nV) && fits(s.errors, o.searchBaselineErrors, nS) && v.kl <= refKl;
  const drops = (v: Score, s: Score) => `validation ${drop(v).toFixed(2)} pp, search ${searchDrop(s).toFixed(2)} pp, validation KL ${v.kl.toExponential(2)}`;

  let a = maxRuleAssignment(fg, stats, o.startBits);
  let cur = await backend.commit(a, 0);
  evaluations += 2;
  if (!fits(cur.valid.errors, baselineErrors, nV)) {
    throw new FxpqError(`even --start-bits ${o.startBits} loses ${drop(cur.valid).toFixed(2)} points of top-1 on the validation images, more than --max-drop ${o.maxDrop}; raise --start-bits or --max-drop`);
  }
  if (cur.valid.kl > refKl) {
    throw new FxpqError(`even --start-bits ${o.startBits} is less faithful than uniform ${o.referenceBits} bits (KL ${cur.valid.kl.toExponential(2)} against ${refKl.toExponential(2)} on the validation images); raise --start-bits or lower --reference-bits`);
  }
  const startCost = cost.cost(a, o.objective);

  // 2. Fast start.
  for (let wl = o.startBits - 1; wl >= Math.max(o.minBits, 2); wl--) {
    const cand = maxRuleAssignment(fg, stats, wl);
    const [s, v] = await backend.evaluate([
      { set: 'search', a: cand, from: 0, abortAbove: Infinity }, { set: 'valid', a: cand, from: 0, abortAbove: Infinity },
    ]);
    evaluations += 2;
    if (s.errors > cur.search.errors || v.errors > cur.valid.errors || v.kl > refKl) break;
    a = cand;
    cur = await backend.commit(a, 0);
    log.push(`fast start: all data structures at ${wl} bits (KL ${s.kl.toExponential(2)})`);
  }

  // 3. Greedy gradual adaptation with lazy re-scoring.
  const frozen = new Set<string>();
  const lastScore = new Map<string, number>();
  let step = 0;
  const lowerable = (d: DataStructure) => getFormat(a, d).wl > Math.max(o.minBits, getFormat(a, d).signed ? 2 : 1);
  for (;;) {
    for (const d of ds) if (!frozen.has(d.key) && !lowerable(d)) frozen.add(d.key);
    // Under `params` a step on an activation saves no parameter memory and only spends budget, so
    // activations keep the word length the fast start gave them. When they were candidates (their
    // tiny cost a tie-break) they won whenever their KL rose less than a weight's: on vgg_bn
    // (seed 2) the last 60 steps saved 0.5 % of the parameter bits and took agreement with float
    // on the 10,000 test images from 98.97 % to 98.24 %.
    const open = ds.filter((d) => !frozen.has(d.key) && !(o.objective === 'params' && isActivation(d)));
    if (open.length === 0) {
      if (o.objective === 'params') log.push(`step ${step}: no weight or bias can be lowered within the budget; activations stay as they are`);
      break;
    }
    const order = open.sort((x, y) => (lastScore.get(y.key) ?? Infinity) - (lastScore.get(x.key) ?? Infinity));
    let chosen: Cand | null = null;
    let bestFresh = -Infinity;
    for (let i = 0; i < order.length; i += BATCH) {
      if (chosen && (lastScore.get(order[i].key) ?? Infinity) <= bestFresh) break; // no stale score can win
      const group = order.slice(i, i + BATCH);
      const r = await bestFractions(backend, a, group, (d) => getFormat(a, d).wl - 1, (d) => { const fl = getFormat(a, d).fl; return [fl - 1, fl, fl - 2]; });
      evaluations += r.evaluations;
      r.best.forEach((c, k) => {
        const d = group[k];
        if (!c) { lastScore.set(d.key, -Infinity); return; }
        const saved = cost.cost(a, o.objective) - cost.cost(c.a, o.objective);
        const ratio = saved / Math.max(c.s.kl - cur.search.kl, 1e-9);
        lastScore.set(d.key, ratio);
        if (ratio > bestFresh) { bestFresh = ratio; chosen = c; }
      });
    }
    if (!chosen) break;
    const c: Cand = chosen;
    const v = await backend.stageValid(c.a, c.d.from);
    evaluations++;
    if (!within(v, c.s)) {
      frozen.add(c.d.key);
      log.push(`step ${step}: ${c.d.key} -> ${fmt(getFormat(c.a, c.d))} exceeds the budget (${drops(v, c.s)}); frozen at ${fmt(getFormat(a, c.d))}`);
    } else {
      a = c.a;
      cur = await backend.commitStaged(a, c.d.from);
      log.push(`step ${step}: ${c.d.key} -> ${fmt(getFormat(a, c.d))} (KL ${cur.search.kl.toExponential(2)}, drop ${drops(cur.valid, cur.search)})`);
    }
    step++;
    o.onStep?.({ step, cost: cost.cost(a, o.objective), startCost, drop: drop(cur.valid), frozen: frozen.size, total: ds.length });
  }

  // 4. Re-tune every fraction length once with the final word lengths.
  for (const d of ds) {
    const f = getFormat(a, d);
    const r = await bestFractions(backend, a, [d], () => f.wl, () => [f.fl - 1, f.fl + 1]);
    evaluations += r.evaluations;
    const c = r.best[0];
    if (!c || c.s.kl >= cur.search.kl) continue;
    const v = await backend.stageValid(c.a, d.from);
    evaluations++;
    if (within(v, c.s)) {
      a = c.a;
      cur = await backend.commitStaged(a, d.from);
      log.push(`re-tune: ${d.key} -> ${fmt(getFormat(a, d))}`);
    }
  }
  for (const d of ds) {
    if (d.kind !== 'weights' || !fg.layers[d.from].comp || a.layers[d.layer!].nearest) continue;
    const cand: Assignment = { input: a.input, layers: { ...a.layers, [d.layer!]: { ...a.layers[d.layer!], nearest: true } } };
    const [s] = await backend.evaluate([{ set: 'search', a: cand, from: d.from, abortAbove: cur.search.kl }]);
    evaluations++;
    if (s.aborted || !better(s, cur.search)) continue;
    const v = await backend.stageValid(cand, d.from);
    evaluations++;
    if (within(v, s)) {
      a = cand;
      cur = await backend.commitStaged(a, d.from);
      log.push(`re-tune: ${d.key} rounded to nearest`);
    }
  }
  return { assignment: a, steps: step, evaluations, validationDrop: drop(cur.valid), referenceKl: o.referenceBits === null ? null : refKl, log };
}

const fmt = (f: FxFormat) => `${f.signed ? 's' : 'u'}${f.wl}.${f.fl}`;
