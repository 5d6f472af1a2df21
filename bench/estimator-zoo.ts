/**
 * The analytical estimator against Yosys on every zoo design, without synthesizing again: the
 * Yosys figures are the ones bench/synth-zoo.ts measured and recorded in
 * src/calibration/data/zoo-yosys.json, so a change to the estimator is checked against all the recorded
 * designs in seconds rather than an hour. Prints one table per family; with --write it replaces
 * the bodies of the three comparison tables in docs/hardware-results.md.
 * Usage: node dist/bench/estimator-zoo.js [--write]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { estimatePlan } from '../src/estimate/estimate.js';
import { buildPlan } from '../src/hw/plan.js';
import { zooQGraph } from '../src/calibration/zoo.js';
import { loadZooYosys } from '../src/calibration/zoo-yosys.js';

const data = loadZooYosys();

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(n));
const pct = (e: number, y: number) => {
  const p = Math.round((100 * (e - y)) / y);
  return `${p > 0 ? '+' : ''}${p} %`;
};
const rows: Record<string, string[]> = { xc7: [], ice40up: [], ecp5: [] };
let within = 0,
  exact = 0;
const worst: Record<string, number> = {};
for (const y of data.designs) {
  const e = estimatePlan(buildPlan(zooQGraph(y.model, y.config), { macs: data.macs }), y.target).total;
  const lutErr = (e.lut - y.lut) / y.lut,
    ffErr = (e.ff - y.ff) / y.ff;
  within += +(Math.abs(lutErr) <= 0.15 && Math.abs(ffErr) <= 0.15);
  exact += +(e.dsp === y.dsp && e.bram === y.bram && e.lutram === y.lutram);
  worst[y.target] = Math.max(worst[y.target] ?? 0, Math.abs(lutErr), Math.abs(ffErr));
  const name = `${y.model} ${y.config}`;
  // Each family's table keeps the column order it was first published with.
  if (y.target === 'xc7')
    rows.xc7.push(
      `| ${name} | ${fmt(e.lut)} / ${fmt(y.lut)} (${pct(e.lut, y.lut)}) | ${fmt(e.ff)} / ${fmt(y.ff)} (${pct(e.ff, y.ff)}) | ${e.dsp} / ${y.dsp} | ${e.lutram} / ${y.lutram} | ${fmt(e.bram)} / ${fmt(y.bram)} |`,
    );
  else if (y.target === 'ice40up')
    rows.ice40up.push(
      `| ${name} | ${fmt(e.lut)} / ${fmt(y.lut)} (${pct(e.lut, y.lut)}) | ${fmt(e.ff)} / ${fmt(y.ff)} (${pct(e.ff, y.ff)}) | ${e.dsp} / ${y.dsp} | ${e.bram} / ${y.bram} |`,
    );
  else
    rows.ecp5.push(
      `| ${name} | ${fmt(y.lut)} / ${fmt(e.lut)} (${pct(e.lut, y.lut)}) | ${fmt(y.ff)} / ${fmt(e.ff)} (${pct(e.ff, y.ff)}) | ${y.dsp} / ${e.dsp} | ${y.bram} / ${e.bram} | ${y.lutram} / ${e.lutram} | ${y.seconds ?? ''} s |`,
    );
}
for (const [t, r] of Object.entries(rows)) console.log(`${t}\n${r.join('\n')}\n`);
console.log(
  `${data.designs.length} zoo designs: DSP, BRAM and LUTRAM exact on ${exact}, LUT and FF within 15 % on ${within}; largest LUT/FF error ${Object.entries(
    worst,
  )
    .map(([t, w]) => `${t} ${(100 * w).toFixed(1)} %`)
    .join(', ')}`,
);

/** Replaces the body rows of the markdown table whose header row is `header`. */
function replaceTable(text: string, header: string, body: string[]): string {
  const lines = text.split('\n');
  const at = lines.indexOf(header);
  if (at < 0) throw new Error(`table not found: ${header}`);
  let end = at + 2;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  lines.splice(at + 2, end - at - 2, ...body);
  return lines.join('\n');
}
if (process.argv.includes('--write')) {
  const path = 'docs/hardware-results.md';
  let text = readFileSync(path, 'utf8');
  text = replaceTable(text, '| design | LUT est / Yosys | FF est / Yosys | DSP | LUTRAM | BRAM est / Yosys |', rows.xc7);
  text = replaceTable(text, '| design | LUT est / Yosys | FF est / Yosys | DSP | EBR |', rows.ice40up);
  text = replaceTable(text, '| design | LUT Yosys / est | FF Yosys / est | DSP | DP16KD | DPR16X4 | Yosys time |', rows.ecp5);
  writeFileSync(path, text);
  console.log(`updated ${path}`);
}
