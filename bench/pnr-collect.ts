/**
 * Places and routes the estimator's iCE40 microbenchmark designs with nextpnr-ice40 and records,
 * per design, the estimator's figures, Yosys's mapped cells and nextpnr's post-route counts and
 * Fmax. src/device/fit.ts derives its logic-cell model from these records, and the fit decision is
 * checked against them (test/device.test.ts). Appends to src/calibration/data/pnr-<part>.jsonl
 * and skips designs already there, so it can be resumed and sharded.
 * --near: only the designs of the set (from --count candidates) whose estimated logic cells lie
 * between 60 % and 105 % of the part's while their DSP blocks and block RAMs fit, where the
 * decision is hard; they are held out of the logic-cell fit in src/device/fit.ts, which used the
 * spread alone. nextpnr is stopped after --timeout seconds (recorded as not placed).
 * Usage: node dist/bench/pnr-collect.js [--part up5k] [--count 40] [--set spread] [--near] [--timeout 300] [--seeds a,b] [--shard 0/2]
 */
import { appendFileSync } from 'node:fs';
import { microGraph, microSets, type MicroSpec } from '../src/calibration/microbench.js';
import { recordedSeeds } from '../src/calibration/micro-kit.js';
import { fitPlan } from '../src/device/fit.js';
import { buildPlan } from '../src/hw/plan.js';
import { findPart } from '../src/device/parts.js';
import { estimatePlan } from '../src/estimate/estimate.js';
import { generateDesign, synthesisFiles } from '../src/hw/generate.js';
import { placeAndRoute } from '../src/pnr/ice40.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const part = findPart(arg('part', 'up5k'));
const count = Number(arg('count', '40'));
const timeout = Number(arg('timeout', '300'));
// --seeds a,b,c: only these designs of the set.
const seeds = process.argv.includes('--seeds') ? new Set(arg('seeds', '').split(',').map(Number)) : null;
const set = arg('set', 'spread');
const [shard, shards] = arg('shard', '0/1').split('/').map(Number);
const file = `src/calibration/data/pnr-${part.name}.jsonl`;
const done = recordedSeeds(file);
const near = (s: MicroSpec) => {
  const f = fitPlan(buildPlan(microGraph(s), { macs: s.macs }), part, { standalone: true });
  const lc = f.rows[0];
  return lc.need >= 0.6 * lc.have && lc.need <= 1.05 * lc.have && f.rows.slice(1).every((r) => r.need <= r.have);
};
const candidates = microSets()[set](count);
const specs = candidates
  .filter((s) => !seeds || seeds.has(s.seed))
  .filter((s, i) => i % shards === shard && !done.has(s.seed) && (!process.argv.includes('--near') || near(s)));
console.log(`${part.name}: ${specs.length} designs to place and route`);
for (const spec of specs) {
  const d = generateDesign(microGraph(spec), { model: 'm', source: 'microbench', macs: spec.macs, top: 'm' });
  const est = estimatePlan(d.plan, part.estimator).total;
  const files = synthesisFiles(d);
  let line: Record<string, unknown>;
  try {
    const r = await placeAndRoute({ files, sources: d.sources, top: 'm', part, freqMhz: 12, seed: 1, timeoutSeconds: timeout });
    line = {
      spec,
      estimate: est,
      fits: true,
      pnr: {
        lc: r.lc,
        lut: r.lut,
        ff: r.ff,
        ram: r.ram,
        dsp: r.dsp,
        io: r.io,
        fmax_mhz: Number(r.fmaxMhz.toFixed(2)),
        // Paths nextpnr reports but leaves out of the Fmax (unregistered DSP blocks), or null.
        untimed_dsp: r.untimedDsp,
      },
      seconds: Number((r.seconds.synth + r.seconds.pnr).toFixed(1)),
    };
  } catch (e) {
    line = { spec, estimate: est, fits: false, error: (e as Error).message.slice(0, 300) };
  }
  appendFileSync(file, JSON.stringify(line) + '\n');
  console.log(JSON.stringify(line).slice(0, 240));
}
