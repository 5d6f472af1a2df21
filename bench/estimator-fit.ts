/**
 * Fits the resource estimator of one family to its calibration data and writes the result into
 * src/estimate/calibration.json: memory-mapping thresholds from the memory grid
 * (src/calibration/data/<target>-memories.json) and LUT/FF coefficients from the microbenchmark
 * designs (src/calibration/data/<target>.jsonl). Prints how well the fit reproduces the data,
 * including DSP and BRAM counts (rules, not fitted).
 * Usage: node dist/bench/estimator-fit.js --target xc7 [--fit-count K (fit the first K designs, report the rest as held out)] [--p 4] [--dry]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { buildPlan } from '../src/hw/plan.js';
import { type Calibration, blockParts, estimatePlan } from '../src/estimate/estimate.js';
import { addFeatures, bufferMemories, engineFeatures, FEATURES, FF_FEATURES, topFeatures, zeroFeatures } from '../src/estimate/features.js';
import { FAMILIES, type Target } from '../src/estimate/families.js';
import { fitNonNegative, fitNonNegativeLp } from '../src/calibration/fit.js';
import { mapMemory, type MemoryRules } from '../src/estimate/memory.js';
import { microGraph, type MicroSpec } from '../src/calibration/microbench.js';
import { synthesizedHierarchically } from '../src/calibration/micro-kit.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const target = arg('target', 'xc7') as Target;
const fam = FAMILIES[target];
const hierarchical = synthesizedHierarchically(target);

// ---- memory rules from the grid ----
interface Shape {
  kind: 'ram' | 'rom';
  depth: number;
  width: number;
  lut: number;
  ff: number;
  bram: number;
  lutram: number;
}
const gridFile = `src/calibration/data/${target}-memories.json`;
const grid: Shape[] = existsSync(gridFile) ? JSON.parse(readFileSync(gridFile, 'utf8')).shapes : [];
const unitBits = Math.max(...fam.bram.shapes.map((s) => (s.width * s.depth) / s.units));
const hasLutram = grid.some((s) => s.lutram > 0);
let rules: MemoryRules = { romMinEfficiency: 0.5, ramMinEfficiency: 0.5, lutram: hasLutram ? { maxUnits: 16 } : null, unitBits };
const score = (r: MemoryRules) =>
  grid.filter((s) => {
    const m = mapMemory(s.kind, s.depth, s.width, fam, r);
    return m.bram === s.bram && m.lutram === s.lutram;
  }).length;
for (const re of [0.2, 0.25, 0.26, 0.27, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7]) {
  for (const ra of [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) {
    for (const mu of hasLutram ? [8, 12, 16, 20, 24, 32] : [0]) {
      const r: MemoryRules = { romMinEfficiency: re, ramMinEfficiency: ra, lutram: hasLutram ? { maxUnits: mu } : null, unitBits };
      if (score(r) > score(rules)) rules = r;
    }
  }
}
// Logic around RAMs in block RAM: linear in data and address bits, fitted over the grid's RAMs in
// block RAM after the read multiplexers of several regions (their own rule) are taken off.
const bramRams = grid.filter((s) => s.kind === 'ram' && s.bram > 0);
if (bramRams.length) {
  const muxOnly = bramRams.map((s) => mapMemory(s.kind, s.depth, s.width, fam, { ...rules, ramBramLogic: undefined }));
  const X = bramRams.map((s) => [s.width, Math.ceil(Math.log2(s.depth)), 1]);
  const fit3 = (k: 'lut' | 'ff') =>
    fitNonNegative(
      X,
      bramRams.map((s, i) => s[k] - muxOnly[i][k]),
      undefined,
      bramRams.map((s) => s[k]),
    ).map((v) => Number(v.toFixed(3))) as [number, number, number];
  rules.ramBramLogic = { lut: fit3('lut'), ff: fit3('ff') };
  const e = (k: 'lut' | 'ff') =>
    bramRams.reduce((a, s) => a + Math.abs(mapMemory(s.kind, s.depth, s.width, fam, rules)[k] - s[k]) / Math.max(s[k], 1), 0) /
    bramRams.length;
  console.log(
    `logic around ${bramRams.length} RAMs in block RAM: LUT ${JSON.stringify(rules.ramBramLogic.lut)} (mean |error| ${(100 * e('lut')).toFixed(1)} %), FF ${JSON.stringify(rules.ramBramLogic.ff)} (${(100 * e('ff')).toFixed(1)} %) per data bit, address bit, memory`,
  );
}
const wrong = grid.filter((s) => {
  const m = mapMemory(s.kind, s.depth, s.width, fam, rules);
  return m.bram !== s.bram || m.lutram !== s.lutram;
});
console.log(
  `memory rules ${JSON.stringify(rules)}: block and distributed RAM counts exact on ${grid.length - wrong.length}/${grid.length} grid shapes`,
);
for (const s of wrong.slice(0, 12)) {
  const m = mapMemory(s.kind, s.depth, s.width, fam, rules);
  console.log(`  ${s.kind} ${s.depth}x${s.width}: yosys BRAM ${s.bram} LUTRAM ${s.lutram}, rule ${m.bram} / ${m.lutram}`);
}
const memLutErr = grid.filter((s) => s.lut > 20).map((s) => Math.abs(mapMemory(s.kind, s.depth, s.width, fam, rules).lut - s.lut) / s.lut);
if (memLutErr.length)
  console.log(
    `memory LUT formula: mean |error| ${((100 * memLutErr.reduce((a, b) => a + b, 0)) / memLutErr.length).toFixed(1)} % over ${memLutErr.length} logic-mapped shapes`,
  );

// ---- LUT/FF coefficients from the microbenchmarks ----
interface Rec {
  spec: MicroSpec;
  total?: { lut: number; ff: number; dsp: number; bram: number; lutram: number };
  error?: string;
}
// One record per spec (a resumed collection may have repeated one), in seed order.
const bySeed = new Map<number, Rec>();
for (const l of readFileSync(`src/calibration/data/${target}.jsonl`, 'utf8').trim().split('\n')) {
  const r = JSON.parse(l) as Rec;
  if (r.total && !bySeed.has(r.spec.seed)) bySeed.set(r.spec.seed, r);
}
const recs = [...bySeed.values()].sort((a, b) => a.spec.seed - b.spec.seed);
// --fit-count K: fit on the first K designs only and report the rest as held out (designs the
// coefficients never saw); by default every design is fitted.
const fitCount = Math.min(recs.length, Number(arg('fit-count', String(recs.length))));
const rows = recs.map((r) => {
  const plan = buildPlan(microGraph(r.spec), { macs: r.spec.macs });
  let f = zeroFeatures();
  let dsp = 0,
    bram = 0,
    memLut = 0,
    memFf = 0;
  const blocks = [
    ...plan.engines.map((e) => engineFeatures(plan, e, target)),
    topFeatures(plan),
    ...bufferMemories(plan).map((m) => ({ features: zeroFeatures(), dsp: 0, memories: [m] })),
  ];
  for (const b of blocks) {
    const m = blockParts(b, target, rules, hierarchical);
    f = addFeatures(f, m.features);
    dsp += m.dsp;
    bram += m.mem.bram;
    memLut += m.mem.lut;
    memFf += m.mem.ff;
  }
  return { r, plan, f, dsp, bram, memLut, memFf };
});
const fitRows = rows.slice(0, fitCount);
const X = fitRows.map((x) => FEATURES.map((k) => x.f[k]));
// The memories' LUTs and flip-flops come from their rules; the fit covers the rest.
// The acceptance criterion is a bound on each design's error, so large errors weigh more than
// in least squares: sum of |relative error|^4 (--p 2 gives least squares).
const P = Number(arg('p', '4'));
const cl = fitNonNegativeLp(
  X,
  fitRows.map((x) => x.r.total!.lut - x.memLut),
  fitRows.map((x) => x.r.total!.lut),
  P,
);
const cf = fitNonNegativeLp(
  fitRows.map((x) => FF_FEATURES.map((k) => x.f[k])),
  fitRows.map((x) => x.r.total!.ff - x.memFf),
  fitRows.map((x) => x.r.total!.ff),
  P,
);
const cal: Calibration = {
  lut: Object.fromEntries(FEATURES.map((k, i) => [k, Number(cl[i].toFixed(4))])),
  ff: Object.fromEntries(
    FEATURES.map((k) => {
      const i = FF_FEATURES.indexOf(k);
      return [k, i < 0 ? 0 : Number(cf[i].toFixed(4))];
    }),
  ),
  memory: rules,
  fit: { samples: fitRows.length, lutMeanAbsErr: 0, ffMeanAbsErr: 0, yosys: '0.55 (@yowasp/yosys)' },
};
const errs = rows
  .map((x) => {
    const e = estimatePlan(x.plan, target, cal, { hierarchical }).total,
      y = x.r.total!;
    return { lut: (e.lut - y.lut) / y.lut, ff: (e.ff - y.ff) / y.ff, dspOk: e.dsp === y.dsp, bramOk: e.bram === y.bram, x, e, y };
  })
  .map((e, i) => ({ ...e, heldOut: i >= fitCount }));
type Err = (typeof errs)[number];
const mae = (k: 'lut' | 'ff', es: Err[] = errs.slice(0, fitCount)) => es.reduce((s, e) => s + Math.abs(e[k]), 0) / es.length;
cal.fit.lutMeanAbsErr = Number(mae('lut').toFixed(4));
cal.fit.ffMeanAbsErr = Number(mae('ff').toFixed(4));
console.log(`coefficients LUT ${JSON.stringify(cal.lut)}\n             FF  ${JSON.stringify(cal.ff)}`);
const summary = (es: Err[]) =>
  `LUT mean |error| ${(100 * mae('lut', es)).toFixed(1)} %, within 15 % on ${es.filter((e) => Math.abs(e.lut) <= 0.15).length}; FF ${(100 * mae('ff', es)).toFixed(1)} %, within 15 % on ${es.filter((e) => Math.abs(e.ff) <= 0.15).length}; DSP exact on ${es.filter((e) => e.dspOk).length}; BRAM exact on ${es.filter((e) => e.bramOk).length}; LUTRAM exact on ${es.filter((e) => e.e.lutram === e.y.lutram).length}`;
console.log(`${fitCount} designs: ${summary(errs.slice(0, fitCount))}`);
if (fitCount < errs.length) console.log(`${errs.length - fitCount} held-out designs (not fitted): ${summary(errs.slice(fitCount))}`);
for (const e of errs.filter((e) => !e.dspOk || !e.bramOk || Math.abs(e.lut) > 0.15 || Math.abs(e.ff) > 0.15).slice(0, 30)) {
  const s = e.x.r.spec;
  console.log(
    `  ${e.heldOut ? '(held out) ' : ''}${s.kind} seed ${s.seed} w${s.wlW} in${s.wlIn}${s.signedIn ? 's' : 'u'} macs ${s.macs}: engines ${e.x.plan.engines.map((g) => (g.kind === 'linear' ? `${g.pe}x${g.simd}` : g.kind)).join(',')}: LUT ${e.e.lut}/${e.y.lut} (${(100 * e.lut).toFixed(0)} %) FF ${e.e.ff}/${e.y.ff} DSP ${e.e.dsp}/${e.y.dsp} BRAM ${e.e.bram}/${e.y.bram}`,
  );
}
if (!process.argv.includes('--dry')) {
  const file = 'src/estimate/calibration.json';
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  all[target] = cal;
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  console.log(`wrote ${file} [${target}]`);
}
if (process.argv.includes('--debug'))
  for (const x of rows.slice(0, 15))
    console.log(x.r.spec.kind, 'ff', x.r.total!.ff, 'memFf', x.memFf, 'ffBits', x.f.ffBits, 'ctl', x.f.ctlBits, 'mul', x.f.mulLut);
