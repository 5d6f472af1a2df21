import { FxpqError } from '../errors.js';
import { type FxFormat, maxRuleFormat } from '../fixed/format.js';
import type { Assignment } from '../quant/build.js';
import { maxAbsOf, type ValueStats } from '../quant/calibrate.js';
import type { FusedGraph } from '../quant/fuse.js';
import { maxRuleActivation } from '../quant/uniform.js';
import type { Evaluator, Score } from './evaluator.js';
import { CostModel, type DataStructure, dataStructures, getFormat, type Objective, withFormat } from './structures.js';

export interface SearchOptions {
  /** Allowed top-1 drop in percentage points on the validation images. */
  maxDrop: number;
  minBits: number;
  startBits: number;
  objective: Objective;
  onStep?: (info: { step: number; cost: number; startCost: number; drop: number; frozen: number; total: number }) => void;
}

export interface SearchResult {
  assignment: Assignment;
  steps: number;
  evaluations: number;
  validationDrop: number;
  log: string[];
}

/**
 * The fraction length, among `fls`, that minimises the KL statistic for data structure `d` at word
 * length `wl` (others as in `base`); fewer top-1 errors break ties. Candidates are tried in the
 * given order and dropped early once clearly worse than the best so far.
 */
export function bestFraction(search: Evaluator, base: Assignment, d: DataStructure, wl: number, fls: number[]): { a: Assignment | null; s: Score | null; fl: number | null; evaluations: number } {
  const f = getFormat(base, d);
  let best: { a: Assignment; s: Score; fl: number } | null = null;
  let evaluations = 0;
  for (const fl of fls) {
    const cand = withFormat(base, d, { wl, fl, signed: f.signed });
    const s = search.evaluate(cand, d.from, best ? best.s.kl : Infinity);
    evaluations++;
    if (!s.aborted && (!best || s.kl < best.s.kl || (s.kl === best.s.kl && s.errors < best.s.errors))) best = { a: cand, s, fl };
  }
  return { a: best?.a ?? null, s: best?.s ?? null, fl: best?.fl ?? null, evaluations };
}

/** Max-rule formats for every data structure at `wl` bits: the search's starting point. */
export function maxRuleAssignment(fg: FusedGraph, stats: Map<string, ValueStats>, wl: number): Assignment {
  const a: Assignment = { input: maxRuleActivation(stats.get(fg.input), wl), layers: {} };
  for (const l of fg.layers) {
    const f: Assignment['layers'][string] = { output: maxRuleActivation(stats.get(l.output), wl) };
    if (l.op.kind === 'conv' || l.op.kind === 'dense') {
      f.weights = maxRuleFormat(maxAbsOf(l.op.weight.data), wl, true);
      f.bias = maxRuleFormat(maxAbsOf(l.op.bias), wl, true);
    }
    a.layers[l.name] = f;
  }
  return a;
}

/**
 * FxP-QNet, as reconstructed in docs/fxpqnet.md:
 *  1. every data structure starts at `startBits` with the max-rule fraction length;
 *  2. a fast start lowers all word lengths together while the network's predictions on the search
 *     images do not change at all (a shortcut through steps the greedy loop would take anyway);
 *  3. greedy gradual adaptation: each step lowers by one bit the data structure with the best
 *     ratio of memory saved to added prediction error (mean KL divergence to the float teacher
 *     on the search images), choosing its fraction length among {fl-2, fl-1, fl} by the same
 *     statistic; a step that would exceed the top-1 budget on the validation images is undone
 *     and that data structure is frozen;
 *  4. every fraction length is re-tuned once (fl-1, fl, fl+1) with the final word lengths.
 */
export function fxpqnetSearch(fg: FusedGraph, stats: Map<string, ValueStats>, search: Evaluator, valid: Evaluator, baselineErrors: number, o: SearchOptions): SearchResult {
  const log: string[] = [];
  const cost = new CostModel(fg);
  const ds = dataStructures(fg);
  const budgetErrors = (o.maxDrop / 100) * valid.n;
  const drop = (s: Score) => (100 * (s.errors - baselineErrors)) / valid.n;
  let evaluations = 0;

  let a = maxRuleAssignment(fg, stats, o.startBits);
  search.commit(a, 0);
  let vs = valid.commit(a, 0);
  evaluations += 2;
  if (vs.errors - baselineErrors > budgetErrors) {
    throw new FxpqError(`even --start-bits ${o.startBits} loses ${drop(vs).toFixed(2)} points of top-1 on the validation images, more than --max-drop ${o.maxDrop}; raise --start-bits or --max-drop`);
  }
  const startCost = cost.cost(a, o.objective);

  // 2. Fast start.
  for (let wl = o.startBits - 1; wl >= Math.max(o.minBits, 2); wl--) {
    const cand = maxRuleAssignment(fg, stats, wl);
    const s = search.evaluate(cand, 0);
    const v = valid.evaluate(cand, 0);
    evaluations += 2;
    if (s.errors > search.score.errors || v.errors > vs.errors) break;
    a = cand;
    search.commit(a, 0);
    vs = valid.commit(a, 0);
    log.push(`fast start: all data structures at ${wl} bits (KL ${s.kl.toExponential(2)})`);
  }

  // 3. Greedy gradual adaptation with lazy re-scoring.
  const frozen = new Set<string>();
  const lastScore = new Map<string, number>();
  let step = 0;
  const tryLower = (d: DataStructure, base: Assignment): { a: Assignment; s: Score } | null => {
    const f = getFormat(base, d);
    const minWl = Math.max(o.minBits, f.signed ? 2 : 1);
    if (f.wl <= minWl) return null;
    const best = bestFraction(search, base, d, f.wl - 1, [f.fl - 1, f.fl, f.fl - 2]);
    evaluations += best.evaluations;
    return best.a ? { a: best.a, s: best.s! } : null;
  };
  const ratio = (d: DataStructure, cand: { a: Assignment; s: Score }) => {
    const saved = cost.cost(a, o.objective) - cost.cost(cand.a, o.objective);
    const added = cand.s.kl - search.score.kl;
    return saved / Math.max(added, 1e-9);
  };
  for (;;) {
    const open = ds.filter((d) => !frozen.has(d.key));
    if (open.length === 0) break;
    // Pop candidates in order of their last known ratio; re-score until the best is fresh.
    const order = open.sort((x, y) => (lastScore.get(y.key) ?? Infinity) - (lastScore.get(x.key) ?? Infinity));
    let chosen: { d: DataStructure; cand: { a: Assignment; s: Score } } | null = null;
    let bestFresh = -Infinity;
    for (const d of order) {
      const stale = lastScore.get(d.key) ?? Infinity;
      if (chosen && stale <= bestFresh) break; // no stale score can beat the best fresh one
      const cand = tryLower(d, a);
      if (!cand) { frozen.add(d.key); continue; }
      const r = ratio(d, cand);
      lastScore.set(d.key, r);
      if (r > bestFresh) { bestFresh = r; chosen = { d, cand }; }
    }
    if (!chosen) break;
    const v = valid.evaluate(chosen.cand.a, chosen.d.from);
    evaluations++;
    if (v.errors - baselineErrors > budgetErrors) {
      frozen.add(chosen.d.key);
      log.push(`step ${step}: ${chosen.d.key} -> ${fmt(getFormat(chosen.cand.a, chosen.d))} exceeds the budget (${drop(v).toFixed(2)} pp); frozen at ${fmt(getFormat(a, chosen.d))}`);
    } else {
      a = chosen.cand.a;
      search.commit(a, chosen.d.from);
      vs = valid.commit(a, chosen.d.from);
      log.push(`step ${step}: ${chosen.d.key} -> ${fmt(getFormat(a, chosen.d))} (KL ${search.score.kl.toExponential(2)}, validation drop ${drop(vs).toFixed(2)} pp)`);
    }
    step++;
    o.onStep?.({ step, cost: cost.cost(a, o.objective), startCost, drop: drop(vs), frozen: frozen.size, total: ds.length });
  }

  // 4. Re-tune every fraction length once with the final word lengths.
  for (const d of ds) {
    const f = getFormat(a, d);
    let best = { a, kl: search.score.kl };
    for (const fl of [f.fl - 1, f.fl + 1]) {
      const cand = withFormat(a, d, { ...f, fl });
      const s = search.evaluate(cand, d.from, best.kl);
      evaluations++;
      if (!s.aborted && s.kl < best.kl) best = { a: cand, kl: s.kl };
    }
    if (best.a !== a) {
      const v = valid.evaluate(best.a, d.from);
      evaluations++;
      if (v.errors - baselineErrors <= budgetErrors) {
        a = best.a;
        search.commit(a, d.from);
        vs = valid.commit(a, d.from);
        log.push(`re-tune: ${d.key} -> ${fmt(getFormat(a, d))}`);
      }
    }
  }
  return { assignment: a, steps: step, evaluations, validationDrop: drop(vs), log };
}

const fmt = (f: FxFormat) => `${f.signed ? 's' : 'u'}${f.wl}.${f.fl}`;
