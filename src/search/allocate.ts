import type { Assignment } from '../quant/build.js';
import type { Curve } from './sensitivity.js';
import { getFormat, withFormat } from './structures.js';

/** One bit off one data structure, in the order the allocation would take it. */
export interface PathStep {
  curve: number;
  /** Index of the curve point this step moves to. */
  point: number;
  /** The configuration after this step and every step before it. */
  a: Assignment;
  /** KL to the teacher the curves predict for that configuration (sum of each step's increase). */
  predictedKl: number;
  cost: number;
}

/**
 * The order in which to lower the data structures, one bit at a time, predicted from their
 * sensitivity curves: at each step the data structure whose next bit saves the most cost per unit
 * of added KL. This is the method's gradual word-length reduction played out on measured curves
 * instead of on a fresh evaluation of every candidate at every step (the allocation of ZeroQ,
 * HAWQ-V3 and OMPQ treats layers' errors as additive the same way). The KL increases are made
 * non-decreasing along each curve (a lower word length is never predicted to be more faithful;
 * measured dips are noise) and taken as adding up over data structures, which holds for small,
 * independent errors; the caller checks every configuration it keeps with real evaluations.
 *
 * Deterministic: ties go to the larger saving, then to the earlier data structure.
 */
export function allocationPath(base: Assignment, baseKl: number, curves: Curve[], cost: (a: Assignment) => number): PathStep[] {
  const rise = curves.map((c) => {
    let m = 0;
    return c.points.map((p) => (m = Math.max(m, p.kl - baseKl)));
  });
  const pos = curves.map(() => -1);
  let a = base;
  let total = 0;
  let cur = cost(a);
  const steps: PathStep[] = [];
  for (;;) {
    let pick = -1,
      pickRatio = -Infinity,
      pickSave = 0,
      pickA: Assignment | null = null,
      pickCost = 0;
    for (let i = 0; i < curves.length; i++) {
      const next = pos[i] + 1;
      if (next >= curves[i].points.length) continue;
      const pt = curves[i].points[next];
      const d = curves[i].d;
      const f = getFormat(a, d);
      const cand = withFormat(a, d, { wl: pt.wl, fl: pt.fl, signed: f.signed });
      const c = cost(cand);
      const save = cur - c;
      const added = rise[i][next] - (pos[i] >= 0 ? rise[i][pos[i]] : 0);
      const ratio = save / Math.max(added, 1e-12);
      if (ratio > pickRatio || (ratio === pickRatio && save > pickSave)) {
        pick = i;
        pickRatio = ratio;
        pickSave = save;
        pickA = cand;
        pickCost = c;
      }
    }
    if (pick < 0) break;
    total += rise[pick][pos[pick] + 1] - (pos[pick] >= 0 ? rise[pick][pos[pick]] : 0);
    pos[pick]++;
    a = pickA!;
    cur = pickCost;
    steps.push({ curve: pick, point: pos[pick], a, predictedKl: baseKl + total, cost: cur });
  }
  return steps;
}
