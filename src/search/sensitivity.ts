import type { Assignment } from '../quant/build.js';
import type { Backend, EvalJob } from './backend.js';
import type { Score } from './evaluator.js';
import { type DataStructure, getFormat, withFormat } from './structures.js';

/** One point of a sensitivity curve: the data structure alone at `wl` bits (fraction `fl`). */
export interface CurvePoint {
  wl: number;
  fl: number;
  kl: number;
  errors: number;
}

/**
 * A data structure's sensitivity: the search images' mean KL to the teacher with only this data
 * structure lowered from the base configuration, for each word length from one below the base down
 * to where the curve ends (its KL left the allowed range, or the minimum word length).
 */
export interface Curve {
  d: DataStructure;
  points: CurvePoint[];
}

export interface SensitivityOptions {
  /**
   * Search images to score each point on (the backend's subset rule; all when absent). Curves rank
   * data structures against each other on the same images, which a few dozen do well (ZeroQ
   * measures its sensitivities on one batch); what is kept is checked on every image later.
   */
  images?: number;
  /** Allowed rise of a point's KL over the base's: beyond it, the step alone spends more than the budget. */
  klSlack: number;
  /** Whether a point's top-1 errors on the images it was scored on are still within the budget. */
  errorsFit: (errors: number, images: number) => boolean;
  /** Smallest word length to measure for a data structure. */
  floor: (d: DataStructure) => number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Measures every data structure's curve against the committed base configuration. The backend keeps
 * the base's layer outputs, so a point at data structure d recomputes only the layers from d's
 * layer on. Word lengths are lowered one at a time, as the method's gradual adaptation does: at each
 * word length the fraction length is chosen among {fl-1, fl, fl-2} of the previous point (the same
 * integer bits, one more, one fewer) by the lowest KL, the method's prediction-error statistic.
 * All data structures advance together, one word length per round, so each round's evaluations
 * are independent jobs the backend spreads over its workers. A fraction candidate already clearly
 * worse than its data structure's best, or than the cap, stops early (the evaluator's early drop).
 *
 * The cost is about (word lengths measured) x (evaluations of the layers after each data
 * structure): it grows with the network, not with the network times the search's steps.
 */
export async function measureSensitivity(
  backend: Backend,
  base: Assignment,
  ds: DataStructure[],
  o: SensitivityOptions,
): Promise<{ curves: Curve[]; baseKl: number; evaluations: number }> {
  const curves: Curve[] = ds.map((d) => ({ d, points: [] }));
  const [base0] = await backend.evaluate([{ set: 'search', a: base, from: 0, abortAbove: Infinity, images: o.images }]);
  const klCap = base0.kl + o.klSlack;
  const open = new Set(ds.map((_, i) => i));
  const last = ds.map((d) => getFormat(base, d));
  let evaluations = 1;
  const roundsLeft = (i: number) => Math.max(0, last[i].wl - o.floor(ds[i]));
  const total = ds.reduce((s, _, i) => s + roundsLeft(i), 0);
  let done = 0;
  for (const i of [...open]) if (roundsLeft(i) === 0) open.delete(i);
  o.onProgress?.(0, total);
  while (open.size > 0) {
    const idx = [...open];
    const cands: { i: number; fl: number; a: Assignment }[] = [];
    // Fraction candidates in rounds of one per data structure, so a later candidate can stop early
    // against the best of the earlier ones.
    const best = new Map<number, { fl: number; s: Score }>();
    for (const k of [-1, 0, -2]) {
      cands.length = 0;
      for (const i of idx) {
        const f = last[i];
        const fl = f.fl + k;
        cands.push({ i, fl, a: withFormat(base, ds[i], { wl: f.wl - 1, fl, signed: f.signed }) });
      }
      const jobs: EvalJob[] = cands.map((c) => ({
        set: 'search',
        a: c.a,
        from: ds[c.i].from,
        abortAbove: Math.min(best.get(c.i)?.s.kl ?? Infinity, klCap),
        images: o.images,
      }));
      const scores = await backend.evaluate(jobs);
      evaluations += jobs.length;
      cands.forEach((c, j) => {
        const s = scores[j];
        const b = best.get(c.i);
        if (!s.aborted && (!b || s.kl < b.s.kl || (s.kl === b.s.kl && s.errors < b.s.errors))) best.set(c.i, { fl: c.fl, s });
      });
    }
    for (const i of idx) {
      const b = best.get(i);
      const prev = last[i];
      done += 1;
      if (!b || b.s.kl > klCap || !o.errorsFit(b.s.errors, b.s.images)) {
        done += roundsLeft(i) - 1;
        open.delete(i);
        continue;
      }
      curves[i].points.push({ wl: prev.wl - 1, fl: b.fl, kl: b.s.kl, errors: b.s.errors });
      last[i] = { wl: prev.wl - 1, fl: b.fl, signed: prev.signed };
      if (roundsLeft(i) === 0) open.delete(i);
    }
    o.onProgress?.(done, total);
  }
  return { curves, baseKl: base0.kl, evaluations };
}
