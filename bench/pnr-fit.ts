/**
 * The logic-cell model of src/device/fit.ts (LUTs + k x flip-flops) fitted to nextpnr-ice40's
 * packed logic cells: least squares for k over the general spread's placed designs in
 * src/calibration/data/pnr-<part>.jsonl (seeds below 1030; the designs collected with --near stay
 * out of the fit), with the estimator as it is now. Prints k, the mean and worst error with it
 * and with the shipped ICE40_LC_PER_FF, and each placed design's utilization; it writes nothing.
 * Usage: node dist/bench/pnr-fit.js [--part up5k]
 */
import { readFileSync } from 'node:fs';
import { microGraph, type MicroSpec } from '../src/calibration/microbench.js';
import { ICE40_LC_PER_FF } from '../src/device/fit.js';
import { findPart } from '../src/device/parts.js';
import { estimatePlan } from '../src/estimate/estimate.js';
import { buildPlan } from '../src/hw/plan.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const part = findPart(arg('part', 'up5k'));
const recs = readFileSync(`src/calibration/data/pnr-${part.name}.jsonl`, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { spec: MicroSpec; fits: boolean; pnr?: { lc: number } });
const rows = recs
  .filter((r) => r.pnr)
  .map((r) => {
    const e = estimatePlan(buildPlan(microGraph(r.spec), { macs: r.spec.macs }), part.estimator).total;
    return { seed: r.spec.seed, lut: e.lut, ff: e.ff, lc: r.pnr!.lc, spread: r.spec.seed < 1030 };
  });
const fit = rows.filter((r) => r.spread);
// Least squares for k in lc - lut = k * ff.
const k = fit.reduce((s, r) => s + (r.lc - r.lut) * r.ff, 0) / fit.reduce((s, r) => s + r.ff * r.ff, 0);
const errs = (kk: number, rs: typeof rows) => rs.map((r) => (r.lut + kk * r.ff - r.lc) / r.lc);
const stat = (es: number[]) =>
  `mean |error| ${((100 * es.reduce((s, e) => s + Math.abs(e), 0)) / es.length).toFixed(1)} %, worst ${(100 * Math.max(...es.map(Math.abs))).toFixed(1)} %`;
console.log(`${part.name}: ${fit.length} placed designs of the spread, ${rows.length - fit.length} placed near the limit`);
console.log(
  `least squares: ${k.toFixed(3)} LC per flip-flop; spread ${stat(errs(k, fit))}; near ${stat(
    errs(
      k,
      rows.filter((r) => !r.spread),
    ),
  )}`,
);
console.log(
  `shipped ${ICE40_LC_PER_FF}: spread ${stat(errs(ICE40_LC_PER_FF, fit))}; near ${stat(
    errs(
      ICE40_LC_PER_FF,
      rows.filter((r) => !r.spread),
    ),
  )}`,
);
for (const r of rows)
  console.log(
    `  ${r.seed}: ${r.lc} LC placed (${((100 * r.lc) / part.lut).toFixed(0)} %), estimate ${Math.ceil(r.lut + ICE40_LC_PER_FF * r.ff)} (${((100 * (r.lut + ICE40_LC_PER_FF * r.ff)) / part.lut).toFixed(0)} %)`,
  );
