/**
 * Simulation speed: the same generated design and the same test images through the cycle
 * simulator (sim/), Verilator and Icarus. Prints images/s of each and the ratios. RTL figures are
 * the simulator process alone (generation and build excluded); the cycle simulator is timed
 * in one thread without and with the integer-reference check, and as `fxpq simulate` runs it (both
 * cores, check included). The RTL test bench compares against precomputed vectors, so the one-thread
 * run without the check is the like-for-like figure; Verilator and Icarus run single-threaded.
 * All three agree on every logit and cycle count, which is checked here too.
 * Usage: node dist/bench/sim-speed.js [--model resnet8] [--config u8] [--macs 1024] [--sim 1000] [--verilator 100] [--icarus 2]
 */
import { cosim } from '../src/cosim/cosim.js';
import { buildPlan } from '../src/hw/plan.js';
import { quantizeInput } from '../src/intref/ops.js';
import { loadImages } from '../src/io/dataset.js';
import { simulate, simulateParallel } from '../sim/simulate.js';
import { Simulator } from '../sim/simulator.js';
import { type ZooConfig, zooQGraph } from '../src/calibration/zoo.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const model = arg('model', 'resnet8');
const config = arg('config', 'u8') as ZooConfig;
const macs = Number(arg('macs', '1024'));
const q = zooQGraph(model, config);
const inV = q.values[q.input];
const images = (n: number) => {
  const imgs = loadImages('models/data/test_x.npy', inV.shape, { limit: n });
  return { inputs: quantizeInput(imgs.data, inV.format), images: imgs.count };
};
const plan = buildPlan(q, { macs });
console.log(
  `${model} (${config}) --macs ${macs}: ${plan.engines.length} engines, ${plan.macs} multipliers, ${plan.latency.toLocaleString('en-US')} cycles per image; node ${process.version}`,
);

const rate: Record<string, number> = {};
const line = (name: string, n: number, s: number, extra = '') => {
  rate[name] = n / s;
  console.log(
    `${name.padEnd(22)} ${String(n).padStart(5)} images ${((s / n) * 1000).toFixed(2).padStart(10)} ms/image ${rate[name].toFixed(2).padStart(9)} images/s ${((rate[name] * plan.latency) / 1e6).toFixed(2).padStart(8)} Mcycles/s ${extra}`,
  );
};

const simIn = images(Number(arg('sim', '1000')));
// One warm-up image so the JIT has compiled the kernels (RTL simulators are compiled ahead too).
new Simulator(plan).run(simIn.inputs, 1);
let t0 = performance.now();
const sim = new Simulator(plan);
const run = sim.run(simIn.inputs, simIn.images);
line('simulator', simIn.images, (performance.now() - t0) / 1000);
t0 = performance.now();
const checked = simulate(q, plan, simIn.inputs, simIn.images);
line('simulator + check', simIn.images, (performance.now() - t0) / 1000, `(${checked.mismatches} mismatches vs the integer reference)`);
t0 = performance.now();
const par = await simulateParallel(q, plan, simIn.inputs, simIn.images, { workers: 2 });
line(
  'fxpq simulate (2 thr)',
  simIn.images,
  (performance.now() - t0) / 1000,
  `(reference check included; ${par.mismatches} mismatches; logits ${par.outputs.every((v, i) => v === run.outputs[i]) ? 'equal' : 'DIFFER from'} the single-thread run's)`,
);

for (const [name, n] of [
  ['verilator', Number(arg('verilator', '100'))],
  ['icarus', Number(arg('icarus', '2'))],
] as const) {
  const imgs = images(n);
  const r = await cosim(q, {
    sim: name,
    macs,
    model,
    source: `${model}.onnx`,
    ...imgs,
    captureOutputs: true,
    cacheDir: '.fxpq-cache/verilator',
  });
  const same =
    r.outputs !== null &&
    r.outputs.every((v, i) => v === run.outputs[i]) &&
    r.spans.every((s, i) => s.first === run.timing[i].firstIn && s.last === run.timing[i].lastOut);
  line(
    name,
    imgs.images,
    r.runSeconds,
    `(${r.mismatches} mismatches vs reference; logits and cycles ${same ? 'equal' : 'DIFFER from'} the simulator's; build ${r.buildSeconds.toFixed(1)} s)`,
  );
}
const x = (a: string, b: string) => `${(rate[a] / rate[b]).toFixed(0)}x`;
console.log(
  `one thread: simulator vs Verilator ${x('simulator', 'verilator')} (${x('simulator + check', 'verilator')} with the reference check), vs Icarus ${x('simulator', 'icarus')} (${x('simulator + check', 'icarus')})`,
);
console.log(
  `fxpq simulate on both cores, reference check included: vs Verilator ${x('fxpq simulate (2 thr)', 'verilator')}, vs Icarus ${x('fxpq simulate (2 thr)', 'icarus')}; Verilator vs Icarus ${x('verilator', 'icarus')}`,
);
