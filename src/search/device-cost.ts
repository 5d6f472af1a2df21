import { type FitReport, fitPlan, macsLadder, overBy, placementsFor } from '../device/fit.js';
import type { Part } from '../device/parts.js';
import { buildPlan, type HwPlan, minimumMacs, type WeightPlacement } from '../hw/plan.js';
import { type Assignment, buildQGraph } from '../quant/build.js';
import type { FusedGraph } from '../quant/fuse.js';
import type { QGraph } from '../quant/qgraph.js';

/**
 * What a device-aware search minimises (`fxpq quantize --device PART --objective ...`):
 * - fps: cycles per image of the fastest design that fits the part, with the way to the next
 *   faster design priced in between;
 * - lut: the share of the part the design takes at one budget (--macs, else the smallest design),
 *   each resource as a fraction of what the part has, summed.
 */
export type DeviceObjective = 'fps' | 'lut';
export const DEVICE_OBJECTIVES: readonly DeviceObjective[] = ['fps', 'lut'];
export const isDeviceObjective = (x: string): x is DeviceObjective => (DEVICE_OBJECTIVES as readonly string[]).includes(x);

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
 * formulas (milliseconds per design: the plan's folding depends on shapes only and is folded once
 * per budget, and the estimator counts each quantized weight tensor's ROM columns once). A bit
 * fewer never costs cycles: the folding ignores bit widths. It buys speed by letting a faster
 * design fit, so a step is worth what it brings the next faster design towards fitting.
 *
 * Under fps, with the ladder's budgets (fit.ts, as `estimate --device` tries them) ordered fastest
 * first (fewest cycles I, the smaller budget on ties), R the first that fits (chooseMacs's choice)
 * and N the one just before it (the next faster design):
 *   cost = I(N) + (I(R) - I(N)) * squash(excess at N) + TIE * I(fastest) * used(R)
 * (nothing fits: R stands for twice the slowest design's cycles and N is the slowest; R the
 * fastest: only the last two terms). The cost falls continuously towards I(N) as N's design comes
 * within the part, and the search's ratio of cost saved to error added ranks first the steps that
 * free the resource the faster design lacks. Fitting is not monotone in the budget (the ROMs' and
 * the store's shapes change with the folding: mlp on an UP5K fits at --macs 4 and 8, not at 3 or
 * 6), so every rung faster than R is priced.
 */
export class DeviceCost {
  private rungs: { budget: number; interval: number }[] | null = null;
  /** Rung indices, fastest first. */
  private order: number[] = [];

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
    const { rungs, R, N, at } = this.fastest(q);
    const slowest = this.order[this.order.length - 1];
    const I = (r: number) => (r < 0 ? 2 * rungs[slowest].interval : rungs[r].interval);
    const tie = TIE * rungs[this.order[0]].interval * used(at(R >= 0 ? R : slowest).fit);
    if (N < 0) return I(R) + tie;
    return I(N) + (I(R) - I(N)) * squash(excess(at(N).fit)) + tie;
  }

  /**
   * The design the configuration maps to: under fps the fastest that fits (the slowest design
   * when none does), under lut the one at the priced budget.
   */
  point(a: Assignment): DevicePoint {
    const q = buildQGraph(this.fg, a);
    if (this.o.objective === 'lut') return this.atBudget(q, this.fixedBudget(q));
    const { R, at } = this.fastest(q);
    return at(R >= 0 ? R : this.order[this.order.length - 1]);
  }

  /** R, N (-1 when there is none) and the design at any rung, each built once. */
  private fastest(q: QGraph) {
    const rungs = this.ladder(q);
    const points = new Map<number, DevicePoint>();
    const at = (r: number) => {
      let p = points.get(r);
      if (!p) points.set(r, (p = this.atBudget(q, rungs[r].budget)));
      return p;
    };
    const k = this.order.findIndex((r) => at(r).fit.fits);
    const R = k < 0 ? -1 : this.order[k];
    const N = k < 0 ? this.order[this.order.length - 1] : k > 0 ? this.order[k - 1] : -1;
    return { rungs, R, N, at };
  }

  private fixedBudget(q: QGraph): number {
    return Math.max(minimumMacs(q), this.o.macs ?? minimumMacs(q));
  }

  /**
   * At one budget: the first placement that fits (ROMs first), else the one that misses by least
   * (its worst resource, as chooseMacs compares designs that do not fit).
   */
  private atBudget(q: QGraph, budget: number): DevicePoint {
    let best: DevicePoint | null = null;
    for (const weights of placementsFor(this.part, this.o.weights)) {
      const plan = buildPlan(q, { macs: budget, model: this.o.model, weights });
      const fit = fitPlan(plan, this.part, { standalone: this.o.standalone });
      if (fit.fits) return { plan, fit };
      if (!best || overBy(fit) < overBy(best.fit)) best = { plan, fit };
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
    this.order = rungs.map((_, r) => r).sort((x, y) => rungs[x].interval - rungs[y].interval || rungs[x].budget - rungs[y].budget);
    return (this.rungs = rungs);
  }
}
