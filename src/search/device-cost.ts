import { type FitReport, fitPlan, macsLadder, placementsFor } from '../device/fit.js';
import type { Part } from '../device/parts.js';
import { buildPlan, type HwPlan, minimumMacs, type WeightPlacement } from '../hw/plan.js';
import { type Assignment, buildQGraph } from '../quant/build.js';
import type { FusedGraph } from '../quant/fuse.js';
import type { QGraph } from '../quant/qgraph.js';

/**
 * What a device-aware search minimises (`fxpq quantize --device PART --objective ...`):
 * - fps: cycles per image of the fastest design that fits the part (the highest --macs budget
 *   whose design fits), with the way to the next faster design priced in between;
 * - lut: the share of the part the design takes at one budget (--macs, else the smallest design),
 *   each resource as a fraction of what the part has, summed.
 */
export type DeviceObjective = 'fps' | 'lut';
export const DEVICE_OBJECTIVES: readonly DeviceObjective[] = ['fps', 'lut'];

export interface DeviceCostOptions {
  objective: DeviceObjective;
  /** A fixed budget (lut: the budget priced; fps: the largest budget tried). */
  macs?: number;
  weights?: WeightPlacement;
  /** The core is the whole design: its ports need pins (fit.ts). */
  standalone: boolean;
  model: string;
}

/** The design the search's result maps to on the part. */
export interface DevicePoint {
  plan: HwPlan;
  fit: FitReport;
}

/** Share of each resource the design uses, summed over the part's resources. */
const used = (f: FitReport): number => f.rows.reduce((s, r) => s + r.need / Math.max(r.have, 1), 0);
/** How far beyond the part the design goes, summed over the resources it overuses. */
const excess = (f: FitReport): number => f.rows.reduce((s, r) => s + Math.max(0, r.need / Math.max(r.have, 1) - 1), 0);
/** 0 at 0, towards 1 as x grows: a distance that stays below one rung's worth. */
const squash = (x: number): number => x / (1 + x);

/**
 * Tie-break weight of the resources used, against cycles: small enough that no change in used share
 * (at most a few units) outweighs one rung of cycles, large enough that a step that only frees
 * resources still ranks above one that saves nothing.
 */
const TIE = 1e-4;

/**
 * The price of a configuration on a part, from the resource estimator and the plan's cycle
 * formulas (milliseconds per configuration: the plan's folding depends on shapes only and is
 * folded once per budget, and the estimator counts each quantized weight tensor's ROM columns
 * once). A bit fewer never costs cycles: the folding ignores bit widths. It buys speed by letting a
 * larger budget fit, so a step is worth what it brings the next faster design towards fitting.
 *
 * Under fps, with rungs r = 0..L-1 the budgets of the ladder (fit.ts, as `estimate --device`
 * chooses), I(r) their cycles per image (bit-independent), R the highest rung that fits and N = R+1:
 *   cost = I(N) + (I(R) - I(N)) * squash(excess at N) + TIE * I(L-1) * used(R)
 * (R = -1, nothing fits: I(-1) = 2 I(0); R = L-1: only the last two terms). The cost falls
 * continuously towards I(N) as the design at N comes within the part, and the search's ratio of
 * cost saved to error added ranks first the steps that free the resource the faster design lacks.
 */
export class DeviceCost {
  private rungs: { budget: number; interval: number }[] | null = null;
  /** Where the last configuration's fastest fitting rung was: the walk starts there. */
  private hint = -1;

  constructor(
    private readonly fg: FusedGraph,
    private readonly part: Part,
    private readonly o: DeviceCostOptions,
  ) {}

  cost(a: Assignment): number {
    const q = buildQGraph(this.fg, a);
    if (this.o.objective === 'lut') {
      const f = this.atBudget(q, this.fixedBudget(q)).fit;
      return used(f) + excess(f);
    }
    const { rungs, R, at } = this.fastest(q);
    const I = (r: number) => (r < 0 ? 2 * rungs[0].interval : rungs[r].interval);
    const tie = TIE * rungs[rungs.length - 1].interval * used(at(Math.max(R, 0)).fit);
    if (R === rungs.length - 1) return I(R) + tie;
    const N = R + 1;
    return I(N) + (I(R) - I(N)) * squash(excess(at(N).fit)) + tie;
  }

  /**
   * The design the configuration maps to: under fps the fastest that fits (the smallest design
   * when none does), under lut the one at the priced budget.
   */
  point(a: Assignment): DevicePoint {
    const q = buildQGraph(this.fg, a);
    if (this.o.objective === 'lut') return this.atBudget(q, this.fixedBudget(q));
    const { R, at } = this.fastest(q);
    return at(Math.max(R, 0));
  }

  /** The ladder, its highest rung R that fits (-1: none), and the design at any rung (each built once). */
  private fastest(q: QGraph) {
    const rungs = this.ladder(q);
    const points = new Map<number, DevicePoint>();
    const at = (r: number) => {
      let p = points.get(r);
      if (!p) points.set(r, (p = this.atBudget(q, rungs[r].budget)));
      return p;
    };
    return { rungs, R: this.fastestFitting(rungs.length, (r) => at(r).fit.fits), at };
  }

  private fixedBudget(q: QGraph): number {
    return Math.max(minimumMacs(q), this.o.macs ?? minimumMacs(q));
  }

  /**
   * The highest rung whose design fits, walking from the last answer: a design that fits at a
   * budget is taken to fit at every smaller one (fewer multipliers and registers, the same memories).
   */
  private fastestFitting(n: number, fits: (r: number) => boolean): number {
    let r = Math.min(this.hint, n - 1);
    if (r >= 0 && !fits(r)) while (r >= 0 && !fits(r)) r--;
    else while (r + 1 < n && fits(r + 1)) r++;
    this.hint = r;
    return r;
  }

  /** At one budget: the first placement that fits (ROMs first), else the one that misses by least. */
  private atBudget(q: QGraph, budget: number): DevicePoint {
    let best: DevicePoint | null = null;
    for (const weights of placementsFor(this.part, this.o.weights)) {
      const plan = buildPlan(q, { macs: budget, model: this.o.model, weights });
      const fit = fitPlan(plan, this.part, { standalone: this.o.standalone });
      if (fit.fits) return { plan, fit };
      if (!best || excess(fit) < excess(best.fit)) best = { plan, fit };
    }
    return best!;
  }

  /** The budgets tried, one per distinct design (a budget the plan cannot spend builds the last one). */
  private ladder(q: QGraph): { budget: number; interval: number }[] {
    if (this.rungs) return this.rungs;
    const min = minimumMacs(q);
    const rungs: { budget: number; interval: number }[] = [];
    let last = -1;
    for (const budget of macsLadder(min, Math.max(min, this.o.macs ?? 4096))) {
      const plan = buildPlan(q, { macs: budget, model: this.o.model });
      if (plan.macs === last) continue;
      last = plan.macs;
      rungs.push({ budget, interval: plan.interval });
    }
    return (this.rungs = rungs);
  }
}
