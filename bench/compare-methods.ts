/**
 * FxP-QNet against the uniform and Ristretto baselines on every zoo CNN: compression, float and
 * quantized top-1 on the 1,000 held-out test images (integer reference), and time. Where the
 * Fashion-MNIST IDX files are on the machine (bench/fashion-mnist.ts), also top-1 and agreement
 * with the float model on all 10,000 test images (on 1,000 images one image is 0.1 pp, and single
 * differences between methods are mostly noise), the images whose top logits tie, and top-1 with
 * those ties broken at random instead of toward the first class.
 *   npm run build && node dist/bench/compare-methods.js [--write] [--models lenet5,vgg_bn] [--methods 'LABEL;...']
 * --write puts the table into models/README.md under "## FxP-QNet against the baselines"; with
 * --methods (labels as in the table) only those rows are measured and replaced, the others kept.
 */
import { readFileSync } from 'node:fs';
import { writeSection } from './readme-section.js';
import { evaluate } from '../src/eval/evaluate.js';
import { evaluateInt } from '../src/intref/evaluate.js';
import { loadImages, loadLabels } from '../src/io/dataset.js';
import { type QuantizeModelOptions, quantizeModel } from '../src/search/quantize.js';
import { fashionMnistTest } from './fashion-mnist.js';
import { logits, scoreLogits } from '../src/eval/paired.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const zoo: { name: string; file: string; ops: string[] }[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
const only = arg('--models')?.split(',');
const cnns = zoo.filter((z) => z.ops.includes('Conv') && (!only || only.includes(z.name)));
const base: Omit<QuantizeModelOptions, 'model' | 'method'> = {
  calib: 'models/data/calib_x.npy',
  maxDrop: 1,
  minBits: 2,
  startBits: 16,
  objective: 'params',
  seed: 0,
};
const configs: { label: string; o: Partial<QuantizeModelOptions> }[] = [
  { label: 'fxpqnet (max-drop 1)', o: { method: 'fxpqnet' } },
  { label: 'fxpqnet (max-drop 1), no reference', o: { method: 'fxpqnet', referenceBits: 0 } },
  { label: 'fxpqnet (max-drop 1), nearest rounding', o: { method: 'fxpqnet', rounding: 'nearest' } },
  { label: 'uniform 8', o: { method: 'uniform', uniformBits: 8 } },
  { label: 'uniform (smallest within budget)', o: { method: 'uniform' } },
  { label: 'ristretto', o: { method: 'ristretto' } },
];
// Labels hold commas, so the list is separated by semicolons.
const onlyMethods = arg('--methods')?.split(';');
for (const m of onlyMethods ?? []) if (!configs.some((c) => c.label === m)) throw new Error(`--methods: no row is labelled '${m}'`);
const full = fashionMnistTest();
if (!full) console.log('the Fashion-MNIST IDX files are not on this machine: no 10,000-image columns');
const pct = (x: number) => `${x.toFixed(2)} %`;
const measured = new Map<string, string>();
const rows = [
  '| model | method | params compression | overall compression | float top-1 | quantized top-1 | drop (pp) | top-1 on 10,000 (float) | agreement with float on 10,000 | tied on 10,000 | top-1 on 10,000, ties shared | time |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const z of cnns) {
  // The float model's scores on the 10,000 images are the same for every configuration.
  let floatFull: ReturnType<typeof evaluate> | null = null;
  for (const c of configs) {
    if (onlyMethods && !onlyMethods.includes(c.label)) continue;
    const res = await quantizeModel({ ...base, model: `models/${z.file}`, method: 'fxpqnet', ...c.o } as QuantizeModelOptions);
    const test = loadImages('models/data/test_x.npy', res.graph.input.shape);
    const labels = loadLabels('models/data/test_y.npy', test, 10);
    const fl = evaluate(res.graph, test, labels).top1!;
    const q = evaluateInt(res.q, test, { labels }).top1!;
    const r = res.report;
    let wide = '- | - | - | -';
    if (full) {
      floatFull ??= evaluate(res.graph, full.images, full.labels);
      // One pass of the integer reference over the 10,000 images gives every column.
      const qe = scoreLogits(logits({ q: res.q }, full.images.data, full.images.count), full.labels, floatFull.predictions);
      wide = `${pct(qe.top1)} (${pct(floatFull.top1!)}) | ${pct(qe.agreement)} | ${qe.ties} | ${pct(qe.shared)}`;
    }
    const row = `| ${z.name} | ${c.label} | ${r.compression.params.toFixed(2)}x | ${r.compression.overall.toFixed(2)}x | ${pct(fl)} | ${pct(q)} | ${(fl - q).toFixed(2)} | ${wide} | ${r.seconds.toFixed(1)} s |`;
    measured.set(`${z.name}|${c.label}`, row);
    console.log(row);
  }
}
// Rows not measured in this run are taken from the current table (--methods / --models subsets).
const old = new Map<string, string>();
const readme = readFileSync('models/README.md', 'utf8');
const section = readme.slice(Math.max(0, readme.indexOf('## FxP-QNet against the baselines'))).split(/\n## /)[0];
for (const line of section.split('\n')) {
  const m = /^\| (\w+) \| ([^|]+) \|/.exec(line);
  if (m) old.set(`${m[1]}|${m[2].trim()}`, line);
}
for (const z of zoo.filter((x) => x.ops.includes('Conv'))) {
  for (const c of configs) {
    const row = measured.get(`${z.name}|${c.label}`) ?? old.get(`${z.name}|${c.label}`);
    if (row) rows.push(row);
  }
}
if (process.argv.includes('--write')) {
  writeSection(
    'models/README.md',
    'FxP-QNet against the baselines',
    `Produced by \`node dist/bench/compare-methods.js --write\` (2-core machine, 512 unlabelled calibration images from the
training split, \`--seed 0\`; budget: 1 percentage point of top-1 agreement with the float model, checked by FxP-QNet on
both halves of the split and by the baselines on the held-back half; FxP-QNet is also held to uniform 8's mean KL
divergence to the float model on the held-back half, \`--reference-bits 8\`, the default, except in the row "no
reference"). Weights are rounded with error compensation
(\`--rounding gptq\`, the default, for every method) unless the row says otherwise. Quantized top-1 is measured by
the integer reference on the 1,000 test images of \`data/test_x.npy\`, which the search never sees; one image is
0.1 pp, and on these 1,000 images single-seed differences between methods are mostly noise (see "On the whole test split").
The two columns before the time score the same networks on all 10,000 images of the Fashion-MNIST test split (one image
is 0.01 pp; the 1,000 are its first images): top-1 with the float model's in brackets, and *agreement*, the share of
images on which the quantized network predicts what the float network predicts. Agreement is what the search budgets
(on calibration images) and the steadier measure of how faithful a network is: every changed prediction costs it,
while top-1 nets the changes that happen to fix a float error against those that break a correct one. *Tied*: images
whose largest integer logit is shared by two or more classes, where the first class is taken and class order decides
(\`fxpq eval\` reports the count); *ties shared* counts such an image 1/k when its label is one of the k tied classes,
the top-1 expected were ties broken at random.
Each row ran alone on the machine.

${rows.join('\n')}`,
  );
}
