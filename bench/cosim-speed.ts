/**
 * Co-simulation speed: the same generated design and the same images through Verilator and
 * Icarus; prints images/s of each (build excluded) and the ratio.
 * Usage: node dist/bench/cosim-speed.js [--model lenet5] [--macs 1024] [--verilator 200] [--icarus 5]
 */
import { cosim } from '../src/cosim/cosim.js';
import { quantizeInput } from '../src/intref/ops.js';
import { loadImages } from '../src/io/dataset.js';
import { zooQGraph } from '../src/calibration/zoo.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const model = arg('model', 'lenet5');
const macs = Number(arg('macs', '1024'));
const q = zooQGraph(model, 'u8');
const inV = q.values[q.input];
const rate: Record<string, number> = {};
for (const [sim, n] of [
  ['verilator', Number(arg('verilator', '200'))],
  ['icarus', Number(arg('icarus', '5'))],
] as const) {
  const imgs = loadImages('models/data/test_x.npy', inV.shape, { limit: n });
  const r = await cosim(q, { sim, macs, model, source: `${model}.onnx`, inputs: quantizeInput(imgs.data, inV.format), images: imgs.count });
  const run = r.seconds - r.buildSeconds;
  rate[sim] = imgs.count / run;
  console.log(
    `${sim.padEnd(9)} ${imgs.count} images, ${r.mismatches} mismatches, ${r.cycles_per_image} cycles/image: ${rate[sim].toFixed(2)} images/s (${(run / imgs.count).toFixed(3)} s/image; build ${r.buildSeconds.toFixed(1)} s)`,
  );
}
console.log(`${model} --macs ${macs}: Verilator is ${(rate.verilator / rate.icarus).toFixed(0)}x faster than Icarus`);
