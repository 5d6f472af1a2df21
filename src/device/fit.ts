import { FxpqError } from '../errors.js';
import { calibrations, estimatePlan, type Resources } from '../estimate/estimate.js';
import { buildPlan, type HwPlan, minimumMacs, type WeightPlacement } from '../hw/plan.js';
import { streamBits } from '../hw/render.js';
import { counterBits } from '../hw/verilog.js';
import type { QGraph } from '../quant/qgraph.js';
import type { Part } from './parts.js';
import { terminalText } from '../util/text.js';

/**
 * Does a design fit a part? The resource estimator's figures (milliseconds, no synthesis) against
 * the part's datasheet capacity, resource by resource. On iCE40 the unit that runs out is the
 * logic cell (a LUT4 and a flip-flop that nextpnr packs together only when the flip-flop takes the
 * LUT's output), so LUTs and flip-flops become logic cells by the model below.
 */
export interface FitRow {
  resource: string;
  need: number;
  have: number;
}

export interface FitReport {
  part: Part;
  fits: boolean;
  rows: FitRow[];
  estimate: Resources;
  /** The multipliers the plan spent and the budget it was given. */
  macs: number;
  macBudget: number;
  /** Where the plan keeps its weights. */
  weights: WeightPlacement;
}

/** The weight placement of a plan, as --weights names it. */
export const placementOf = (plan: HwPlan): WeightPlacement => (plan.weightStore ? 'load' : 'rom');

/**
 * Logic cells per flip-flop beyond the LUTs: the least-squares fit of nextpnr-ice40 0.8's packed
 * logic cells to the estimator's LUTs and flip-flops on the 24 UltraPlus microbenchmarks of the
 * general spread that placed (src/calibration/data/pnr-up5k.jsonl, bench/pnr-collect.ts,
 * bench/pnr-fit.ts; mean error 3.9 %, worst 12 %; on the 13 other placed designs 4.8 %, worst
 * 13 %). Many generated flip-flops take a block RAM's, a DSP's or another flip-flop's output and
 * so get a logic cell of their own.
 */
export const ICE40_LC_PER_FF = 0.68;

/**
 * The share of an iCE40's logic cells a design may fill and still be placed. Measured with
 * nextpnr-ice40 0.8 on the UltraPlus 5K (bench/pnr-collect.ts --near) on the templates before
 * issue 29's pipeline registers, whose output register file sat in flip-flops: every design
 * estimated at up to 67 % placed and routed, and every design with as many flip-flops as LUTs
 * estimated at 81 % or more did not place within five minutes (the analytical placer's legaliser
 * stalls: the eight cells of a logic block share one clock enable and one reset, and these designs
 * had many). On the current templates the same designs keep their output in block RAM, take
 * 14-24 % of the part and all place; the one with few flip-flops placed at 97 % (1076). The rule
 * stays, erring on the safe side, until designs near the limit are measured again.
 */
export const ICE40_MAX_LC_UTILIZATION = 0.8;

/** LUTs one distributed-RAM cell takes (7-series RAM32M/RAM64M quads, an ECP5 DPR16X4's two slices). */
const LUTS_PER_LUTRAM = 4;

/** The top's port bits (clk, rst, both AXI4-Stream handshakes, TDATA, TLAST, TUSER): a standalone design's I/O pins. */
export function portBits(plan: HwPlan): number {
  return 2 + 2 + streamBits(plan.input.format.wl) + 3 + streamBits(plan.output.format.wl) + counterBits(plan.output.elements);
}

/**
 * The estimate of `plan` against `part`. `standalone`: the core is the whole design (fxpq
 * implement), so its ports need pins; inside a larger design they do not.
 */
export function fitPlan(plan: HwPlan, part: Part, o: { standalone?: boolean } = {}): FitReport {
  if (!calibrations[part.estimator])
    throw new FxpqError(`the resource estimator has no calibration for ${part.name}'s family (${part.family}) yet`);
  const e = estimatePlan(plan, part.estimator).total;
  const rows: FitRow[] = [];
  if (part.family.startsWith('ice40')) {
    rows.push({
      resource: `logic cells (${Math.round(100 * ICE40_MAX_LC_UTILIZATION)} % placeable)`,
      need: Math.ceil(e.lut + ICE40_LC_PER_FF * e.ff),
      have: Math.floor(ICE40_MAX_LC_UTILIZATION * part.lut),
    });
  } else {
    rows.push({ resource: 'LUTs', need: e.lut + LUTS_PER_LUTRAM * e.lutram, have: part.lut });
    rows.push({ resource: 'flip-flops', need: e.ff, have: part.ff });
  }
  rows.push({ resource: 'DSP blocks', need: e.dsp, have: part.dsp });
  rows.push({ resource: `block RAMs (${part.bramKbit} kbit)`, need: e.bram, have: part.bram });
  // The estimator counts iCE40 SPRAM under lutram (the weight store, --weights load).
  if (part.family === 'ice40up') rows.push({ resource: 'SPRAM', need: e.lutram, have: part.spram });
  if (o.standalone) rows.push({ resource: `I/O (${part.package})`, need: portBits(plan), have: part.io });
  return {
    part,
    fits: rows.every((r) => r.need <= r.have),
    rows,
    estimate: e,
    macs: plan.macs,
    macBudget: plan.macBudget,
    weights: placementOf(plan),
  };
}

/** One line: what does not fit and by how much. `model` comes from a model file: it is shown escaped. */
export function fitMessage(f: FitReport, model: string): string {
  model = terminalText(model, 80);
  const over = f.rows.filter((r) => r.need > r.have);
  const at = `--macs ${f.macBudget}${f.weights === 'load' ? ' --weights load' : ''}`;
  if (over.length === 0) return `${model} fits ${f.part.name} at ${at}`;
  const what = over.map(
    (r) =>
      `${r.need.toLocaleString('en-US')} of ${r.have.toLocaleString('en-US')} ${r.resource} (${(r.need / Math.max(r.have, 1)).toFixed(1)}x)`,
  );
  return `${model} at ${at} does not fit ${f.part.name} (${f.part.vendor}): it needs ${what.join(', ')}`;
}

/** Budgets tried when the part chooses --macs: about two steps per octave. */
export function macsLadder(min: number, max: number): number[] {
  const out = [min];
  for (let p = 1; p <= max; p *= 2) {
    if (p > min) out.push(p);
    if (p >= 2 && p + p / 2 > min && p + p / 2 <= max) out.push(p + p / 2);
  }
  return out;
}

/**
 * The budget whose design runs fastest (fewest cycles per image) and still fits, the smallest such
 * budget on ties; when none fits, the report of the smallest design, which says what does not fit.
 * Each candidate costs one plan and one estimate (milliseconds), as FINN's folding search does
 * with its analytical models.
 */
export function chooseMacs(
  q: QGraph,
  part: Part,
  o: { model?: string; standalone?: boolean; maxMacs?: number; weights?: WeightPlacement } = {},
): { plan: HwPlan; fit: FitReport } {
  let best: { plan: HwPlan; fit: FitReport } | null = null;
  // Per placement its smallest design; when nothing fits, the one that misses by the least.
  const smallest: { plan: HwPlan; fit: FitReport }[] = [];
  for (const weights of placementsFor(part, o.weights)) {
    let lastMacs = -1;
    let first: { plan: HwPlan; fit: FitReport } | null = null;
    for (const budget of macsLadder(minimumMacs(q), Math.max(minimumMacs(q), o.maxMacs ?? 4096))) {
      const plan = buildPlan(q, { macs: budget, model: o.model, weights });
      // A larger budget that the plan cannot spend builds the same design.
      if (plan.macs === lastMacs) continue;
      lastMacs = plan.macs;
      const fit = fitPlan(plan, part, o);
      first ??= { plan, fit };
      if (fit.fits && (!best || plan.interval < best.plan.interval)) best = { plan, fit };
    }
    if (first) smallest.push(first);
  }
  return best ?? smallest.reduce((a, b) => (overBy(b.fit) < overBy(a.fit) ? b : a));
}

/** How far a design misses its part: the largest need / have ratio. */
export const overBy = (f: FitReport): number => Math.max(...f.rows.map((r) => r.need / Math.max(r.have, 1)));

/**
 * Placements worth trying on a part: the one asked for; else ROMs, and where the part has SPRAM
 * (which the bitstream cannot initialise) also the weight store loaded after reset. ROMs come
 * first, so they win ties: a design that fits with its weights in the bitstream needs no load.
 */
export function placementsFor(part: Part, asked: WeightPlacement | undefined): WeightPlacement[] {
  if (asked) return [asked];
  return part.spram > 0 ? ['rom', 'load'] : ['rom'];
}

/** At a given budget: the first placement that fits (ROMs first), else the report of the first. */
export function fitAtBudget(
  q: QGraph,
  part: Part,
  o: { macs: number; model?: string; standalone?: boolean; weights?: WeightPlacement },
): { plan: HwPlan; fit: FitReport } {
  const tries = placementsFor(part, o.weights).map((weights) => {
    const plan = buildPlan(q, { macs: o.macs, model: o.model, weights });
    return { plan, fit: fitPlan(plan, part, o) };
  });
  return tries.find((t) => t.fit.fits) ?? tries[0];
}

/**
 * The design for `part`: at the given budget, or at the budget chooseMacs picks; one clear error
 * (what does not fit and by how much) when it does not fit.
 */
export function planForPart(
  q: QGraph,
  part: Part,
  o: { macs?: number; model: string; standalone?: boolean; weights?: WeightPlacement },
): { plan: HwPlan; fit: FitReport } {
  const r = o.macs !== undefined ? fitAtBudget(q, part, { ...o, macs: o.macs }) : chooseMacs(q, part, o);
  if (!r.fit.fits) {
    const hint =
      o.macs === undefined
        ? ` (the smallest design; no --macs budget fits${part.spram > 0 && !o.weights ? ', with the weights in ROM or in SPRAM' : ''})`
        : '';
    throw new FxpqError(fitMessage(r.fit, o.model) + hint);
  }
  return r;
}
