/**
 * The sequential schedule's figures and what a layer-pipelined (dataflow) schedule could reach
 * with the same design, from the cycle simulator's counters (issue 28's "before" column). For each
 * zoo model at one multiplier budget:
 *   - sequential: cycles per image, images/s at the clock, multipliers busy (the simulator's
 *     utilization: MACs / (multipliers x cycles per image));
 *   - dataflow, today's folding: every engine works on its own image, so the interval is the
 *     slowest engine's cycles (input load and logit send counted as stages too); the speedup over
 *     sequential and the multipliers busy at that interval;
 *   - dataflow, ideal balance: total MACs / multipliers, the interval if the folding (FINN's
 *     SetFolding) made every engine equally slow and no multiplier slot were wasted.
 * Usage: node dist/bench/dataflow-bound.js [--macs 256] [--clock 100] [--config u8]
 */
import { type ZooConfig, zooQGraph } from '../src/calibration/zoo.js';
import { buildPlan } from '../src/hw/plan.js';
import { quantizeInput } from '../src/intref/ops.js';
import { loadImages } from '../src/io/dataset.js';
import { simulate } from '../sim/simulate.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const macs = Number(arg('macs', '256'));
const clockMhz = Number(arg('clock', '100'));
const config = arg('config', 'u8') as ZooConfig;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const n = (x: number) => Math.round(x).toLocaleString('en-US');

console.log(`--macs ${macs}, ${config}, ${clockMhz} MHz; one test image through the cycle simulator`);
console.log(
  '| model | multipliers | sequential cycles/image | images/s | busy | slowest stage (cycles) | dataflow bound | x | busy | ideal balance (cycles) | x |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const model of ['mlp', 'lenet5', 'vgg_bn', 'resnet8', 'mobilenet']) {
  const q = zooQGraph(model, config);
  const plan = buildPlan(q, { macs });
  const inV = q.values[q.input];
  const imgs = loadImages('models/data/test_x.npy', inV.shape, { limit: 1 });
  const r = simulate(q, plan, quantizeInput(imgs.data, inV.format), 1);
  const c = r.counters;
  const seq = plan.latency;
  const totalMacs = c.layers.reduce((s, l) => s + l.macs, 0);
  // Stages: the input load (one word per cycle), every engine, the logit send (one per cycle).
  const stages = [
    { name: 'load', cycles: plan.input.elements },
    ...c.layers.map((l) => ({ name: l.engine, cycles: l.busy_cycles })),
    { name: 'send', cycles: plan.output.elements },
  ];
  const slowest = stages.reduce((a, b) => (b.cycles > a.cycles ? b : a));
  const ideal = Math.max(totalMacs / plan.macs, plan.input.elements);
  console.log(
    `| ${model} | ${plan.macs} | ${n(seq)} | ${n((clockMhz * 1e6) / seq)} | ${pct(totalMacs / (plan.macs * seq))} | ${slowest.name} (${n(slowest.cycles)}) | ${n((clockMhz * 1e6) / slowest.cycles)} img/s | ${(seq / slowest.cycles).toFixed(1)} | ${pct(totalMacs / (plan.macs * slowest.cycles))} | ${n(ideal)} | ${(seq / ideal).toFixed(1)} |`,
  );
}
