import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SweepResult } from '../sweep/sweep.js';

export const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let chartJs: string | null = null;
/** Chart.js's browser bundle, inlined so the report opens offline from a file. */
function chartBundle(): string {
  if (chartJs === null) {
    const main = createRequire(import.meta.url).resolve('chart.js');
    chartJs = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
  }
  return chartJs;
}

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

const fmt = (f: { wl: number; fl: number; signed: boolean } | null) => (f ? `${f.signed ? 's' : 'u'}${f.wl}.${f.fl}` : '');
export const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)} %`);

/** The browser side: builds the three charts from the embedded sweep JSON. */
const PAGE_SCRIPT = `
(function () {
  var s = JSON.parse(document.getElementById('sweep-data').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  var methodName = { uniform: 'uniform', fxpqnet: 'FxP-QNet', ristretto: 'Ristretto' };
  Chart.defaults.animation = false;
  function axis(title) { return { title: { display: true, text: title } }; }
  function tip(ctx) { var r = ctx.raw; return r.label + ': ' + ctx.parsed.y.toFixed(2) + ' % at ' + ctx.parsed.x.toLocaleString('en-US', { maximumFractionDigits: 1 }); }

  // Accuracy against parameter memory, one point per configuration.
  var methods = [];
  s.configs.forEach(function (c) { if (methods.indexOf(c.method) < 0) methods.push(c.method); });
  var memSets = methods.map(function (m, i) {
    return { label: methodName[m] || m, backgroundColor: palette[i % palette.length], pointRadius: 5,
      data: s.configs.filter(function (c) { return c.method === m; }).map(function (c) { return { x: c.bits.params / 8192, y: c.accuracy, label: c.label, config: c.id }; }) };
  });
  memSets.push({ label: 'float32', backgroundColor: '#000', pointStyle: 'rectRot', pointRadius: 6,
    data: [{ x: s.float.params_kib, y: s.float.accuracy, label: 'float32', config: 'float' }] });
  new Chart(document.getElementById('acc-memory'), { type: 'scatter', data: { datasets: memSets },
    options: { plugins: { tooltip: { callbacks: { label: tip } } },
      scales: { x: Object.assign(axis('parameter memory (KiB)'), { type: 'logarithmic' }), y: axis(s.accuracy_measure + ' (%)') } } });

  // Accuracy against LUTs, one point per configuration and MAC budget, Pareto front as a line.
  var budgets = [];
  s.points.forEach(function (p) { if (budgets.indexOf(p.macs_budget) < 0) budgets.push(p.macs_budget); });
  var lutSets = budgets.map(function (b, i) {
    return { label: '--macs ' + b, backgroundColor: palette[i % palette.length], pointRadius: 5,
      data: s.points.filter(function (p) { return p.macs_budget === b; }).map(function (p) { return { x: p.lut, y: p.accuracy, label: p.label + ', --macs ' + p.macs_budget, config: p.config, macs: p.macs_budget }; }) };
  });
  var front = s.points.filter(function (p) { return p.pareto_lut; }).sort(function (a, b) { return a.lut - b.lut; })
    .map(function (p) { return { x: p.lut, y: p.accuracy, label: 'Pareto: ' + p.label + ', --macs ' + p.macs_budget, config: p.config, macs: p.macs_budget }; });
  lutSets.push({ label: 'Pareto front', type: 'line', data: front, borderColor: '#000', backgroundColor: '#000', borderDash: [6, 4], pointRadius: 8, pointStyle: 'circle', pointBackgroundColor: 'rgba(0,0,0,0)', fill: false, stepped: 'before' });
  new Chart(document.getElementById('acc-lut'), { type: 'scatter', data: { datasets: lutSets },
    options: { plugins: { tooltip: { callbacks: { label: tip } } },
      scales: { x: Object.assign(axis('LUTs (' + s.target + ', analytical estimate)'), { type: 'logarithmic' }), y: axis(s.accuracy_measure + ' (%)') } } });

  // Word lengths per layer of the chosen configuration.
  var chosen = s.configs.filter(function (c) { return c.id === s.chosen; })[0];
  var el = document.getElementById('layer-bits');
  if (chosen) {
    var layers = chosen.layers.filter(function (l) { return l.kind !== 'flatten'; });
    var kinds = [['weights', '#1f77b4'], ['bias', '#aec7e8'], ['input', '#ff7f0e'], ['output', '#2ca02c']];
    new Chart(el, { type: 'bar', data: { labels: layers.map(function (l) { return l.name; }),
      datasets: kinds.map(function (k) { return { label: k[0], backgroundColor: k[1], data: layers.map(function (l) { return l[k[0]] ? l[k[0]].wl : null; }) }; }) },
      options: { scales: { y: axis('word length (bits)'), x: { ticks: { autoSkip: false, maxRotation: 60 } } } } });
  }
})();
`;

/** A self-contained HTML report of a sweep (or of `fxpq run`'s single configuration). */
export function sweepHtml(s: SweepResult, opts: { title?: string; extra?: string; chosenNote?: string } = {}): string {
  const title = opts.title ?? `fxpq sweep: ${s.model}`;
  const chosen = s.configs.find((c) => c.id === s.chosen);
  const cfgRows = s.configs
    .map(
      (c) =>
        `<tr${c.id === s.chosen ? ' class="chosen"' : ''}><td>${esc(c.label)}</td><td>${pct(c.top1)}</td><td>${pct(c.agreement)}</td><td>${c.drop.toFixed(2)}</td>` +
        `<td>${c.compression.params.toFixed(2)}x</td><td>${c.compression.overall.toFixed(2)}x</td><td>${(c.bits.params / 8192).toFixed(1)}</td><td>${c.pareto_memory ? 'yes' : ''}</td><td>${c.quantize_seconds.toFixed(1)} s${c.cached ? ' (cached)' : ''}</td></tr>`,
    )
    .join('\n');
  const ptRows = s.points
    .map(
      (p) =>
        `<tr${p.pareto_lut ? ' class="pareto"' : ''}><td>${esc(p.label)}</td><td>${p.macs_budget}</td><td>${p.multipliers}</td><td>${p.accuracy.toFixed(2)}</td>` +
        `<td>${n0(p.lut)}</td><td>${n0(p.ff)}</td><td>${p.dsp}</td><td>${p.bram}</td><td>${p.lutram}</td><td>${n0(p.cycles_per_image)}</td><td>${n0(p.images_per_second)}</td><td>${p.pareto_lut ? 'yes' : ''}</td></tr>`,
    )
    .join('\n');
  const layerRows = chosen
    ? chosen.layers
        .map(
          (l) =>
            `<tr><td>${esc(l.name)}</td><td>${esc(l.kind)}</td><td>${fmt(l.weights)}</td><td>${fmt(l.bias)}</td><td>${fmt(l.input)}</td><td>${fmt(l.output)}</td><td>${n0(l.params)}</td></tr>`,
        )
        .join('\n')
    : '';
  const skipped = s.skipped.length
    ? `<p>Not planned: ${s.skipped.map((k) => `${esc(k.config)} at --macs ${k.macs_budget} (${esc(k.reason)})`).join('; ')}.</p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.chosen td, tr.pareto td { background: #eef6ee; }
.chart { position: relative; height: 380px; margin: 1em 0 2em; }
.note { color: #555; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="note">${esc(s.tool)}; target ${esc(s.target)} at ${s.clock_mhz} MHz; accuracy = ${esc(s.accuracy_measure)}${s.test_images ? ` (${s.test_images} images)` : ''}; float32 accuracy ${s.float.accuracy.toFixed(2)} %; ${s.calib_images} calibration images.
Resources are the analytical estimator's (calibrated against Yosys); cycles come from the hardware plan, which the RTL and the simulator match exactly.</p>
${opts.extra ?? ''}
<h2>Accuracy against parameter memory</h2>
<div class="chart"><canvas id="acc-memory"></canvas></div>
<h2>Accuracy against LUTs (Pareto front marked)</h2>
<div class="chart"><canvas id="acc-lut"></canvas></div>
<h2>Word lengths per layer: ${chosen ? esc(chosen.label) : 'no configuration within the drop'}</h2>
<p class="note">${esc(opts.chosenNote ?? `The chosen configuration is the one with the least parameter memory whose drop is at most ${s.choose_drop} percentage points.`)}</p>
<div class="chart"><canvas id="layer-bits"></canvas></div>
<table><thead><tr><th>layer</th><th>op</th><th>weights</th><th>bias</th><th>input</th><th>output</th><th>params</th></tr></thead><tbody>
${layerRows}
</tbody></table>
<h2>Configurations</h2>
<table><thead><tr><th>configuration</th><th>top-1</th><th>agreement</th><th>drop (pp)</th><th>params</th><th>overall</th><th>params KiB</th><th>Pareto (memory)</th><th>time</th></tr></thead><tbody>
${cfgRows}
</tbody></table>
<h2>Hardware points</h2>
<table><thead><tr><th>configuration</th><th>--macs</th><th>multipliers</th><th>accuracy</th><th>LUT</th><th>FF</th><th>DSP</th><th>BRAM</th><th>LUTRAM</th><th>cycles/image</th><th>images/s</th><th>Pareto (LUT)</th></tr></thead><tbody>
${ptRows}
</tbody></table>
${skipped}
<script type="application/json" id="sweep-data">${scriptJson(s)}</script>
<script>${chartBundle()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
