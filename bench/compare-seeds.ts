/**
 * How much of the FxP-QNet vs baseline comparison is the calibration split: the same three methods
 * (FxP-QNet at max-drop 1, uniform 8, Ristretto) on every zoo CNN under several `--seed` values.
 * The seed picks which 256 of the 512 calibration images are searched on and which are held back
 * (and so also the statistics of the compensated rounding), so each seed is an equally valid run.
 * Top-1 is by the integer reference on the 1,000 bundled test images (one image is 0.1 pp), or with
 * `--test full` on the whole 10,000-image Fashion-MNIST test split read from its IDX files
 * (bench/fashion-mnist.ts), which resolves differences ten times finer.
 *   npm run build && node dist/bench/compare-seeds.js [--seeds 0,1,2,3,4] [--models resnet8] [--methods fxpqnet,uniform] [--test full] [--max-drop 1] [--schedule sensitivity|greedy] [--sensitivity-images N] [--write]
 * Per seed, the exact McNemar test of FxP-QNet against each baseline (images only one of the two
 * gets right); per method, tied images and top-1 with ties broken at random; per model, a noise
 * control: the float logits plus random noise as large as uniform 8's logit error.
 * --write puts the table into models/README.md under "## Across calibration splits" (with --test full:
 * "## On the whole test split").
 */
import { readFileSync } from 'node:fs';
import { writeSection } from './readme-section.js';
import { evaluate } from '../src/eval/evaluate.js';
import { type QuantizeModelOptions, quantizeModel } from '../src/search/quantize.js';
import { benchTestSet } from './fashion-mnist.js';
import { discordant, logits, mcnemarP, noisyTop1, rmsDiff, scoreLogits } from '../src/eval/paired.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const zoo: { name: string; file: string; ops: string[] }[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
const only = arg('--models')?.split(',');
const cnns = zoo.filter((z) => z.ops.includes('Conv') && (!only || only.includes(z.name)));
const seeds = (arg('--seeds') ?? '0,1,2,3,4').split(',').map(Number);
const full = arg('--test') === 'full';
// Every zoo model reads 1x28x28 images.
const { images: test, labels } = benchTestSet(full);
const maxDrop = Number(arg('--max-drop') ?? 1);
const schedule = arg('--schedule') as QuantizeModelOptions['schedule'];
const sensitivityImages = arg('--sensitivity-images') === undefined ? undefined : Number(arg('--sensitivity-images'));
const base: Omit<QuantizeModelOptions, 'model' | 'method' | 'seed'> = {
  calib: 'models/data/calib_x.npy',
  maxDrop: 1,
  minBits: 2,
  startBits: 16,
  objective: 'params',
  schedule,
  sensitivityImages,
};
const methods: { label: string; o: Partial<QuantizeModelOptions> }[] = [
  { label: `fxpqnet (max-drop ${maxDrop})`, o: { method: 'fxpqnet', maxDrop } },
  { label: 'uniform 8', o: { method: 'uniform', uniformBits: 8 } },
  { label: 'ristretto', o: { method: 'ristretto' } },
];
const onlyMethods = arg('--methods')?.split(',');
if (onlyMethods && process.argv.includes('--write')) throw new Error('--write needs all three methods (no --methods)');
if (onlyMethods) methods.splice(0, methods.length, ...methods.filter((m) => onlyMethods.some((x) => m.label.startsWith(x))));

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
const rows = [
  '| model | method | params compression, mean (min-max) | overall compression, mean | quantized top-1, mean ± sd | top-1 per seed | agreement with float, mean (per seed) | tied images, mean | top-1 with ties shared, mean | float top-1 |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
const noise: string[] = [];
const wins: string[] = [];
const diffs: string[] = [];
for (const z of cnns) {
  const res = new Map<
    string,
    { params: number; overall: number; top1: number; agree: number; first: number; ties: number; fair: number; pred: Int32Array }[]
  >();
  // uniform 8's logit error (first seed) and the float logits it was measured against.
  let noiseRef: { sigma: number; floatLogits: Float64Array } | null = null;
  // The float model and the test images are the same for every seed and method: scored once.
  let fe: ReturnType<typeof evaluate> | null = null;
  for (const seed of seeds) {
    for (const m of methods) {
      const r = await quantizeModel({ ...base, model: `models/${z.file}`, method: 'fxpqnet', seed, ...m.o } as QuantizeModelOptions);
      fe ??= evaluate(r.graph, test, labels);
      // The integer reference's logits once: top-1, agreement, ties and the tie-shared top-1 all
      // come from them.
      const y = logits({ q: r.q }, test.data, test.count);
      const ev = scoreLogits(y, labels, fe.predictions);
      const { top1, agreement: agree, shared: fair } = ev;
      // The bundled 1,000 images are the first 1,000 of the full split: their top-1 too, for
      // comparison with runs on those alone.
      let first = 0;
      if (full) for (let i = 0; i < 1000; i++) if (ev.predictions[i] === labels[i]) first++;
      const list = res.get(m.label) ?? [];
      list.push({
        params: r.report.compression.params,
        overall: r.report.compression.overall,
        top1,
        agree,
        first: first / 10,
        ties: ev.ties,
        fair,
        pred: ev.predictions,
      });
      // The size of uniform 8's perturbation of the logits, for the noise control below.
      if (m.label === 'uniform 8' && noiseRef === null) {
        const floatLogits = logits({ g: r.graph }, test.data, test.count);
        noiseRef = { sigma: rmsDiff(y, floatLogits), floatLogits };
      }
      res.set(m.label, list);
      console.log(
        `${z.name} seed ${seed} ${m.label}: params ${r.report.compression.params.toFixed(2)}x (overall ${r.report.compression.overall.toFixed(2)}x), top-1 ${top1.toFixed(2)} %${full ? ` (first 1,000: ${(first / 10).toFixed(1)} %)` : ''}, agreement ${agree.toFixed(2)} %, ${ev.ties} tied, top-1 with ties shared ${fair.toFixed(2)} % (${r.report.seconds.toFixed(0)} s)`,
      );
    }
  }
  for (const m of methods) {
    const l = res.get(m.label)!;
    const p = l.map((x) => x.params),
      t = l.map((x) => x.top1),
      ag = l.map((x) => x.agree);
    rows.push(
      `| ${z.name} | ${m.label} | ${mean(p).toFixed(2)}x (${Math.min(...p).toFixed(2)}-${Math.max(...p).toFixed(2)}) | ${mean(l.map((x) => x.overall)).toFixed(2)}x | ${mean(t).toFixed(2)} ± ${sd(t).toFixed(2)} % | ${t.map((x) => x.toFixed(full ? 2 : 1)).join(', ')} | ${mean(ag).toFixed(2)} % (${ag.map((x) => x.toFixed(full ? 2 : 1)).join(', ')}) | ${mean(l.map((x) => x.ties)).toFixed(0)} | ${mean(l.map((x) => x.fair)).toFixed(2)} % | ${fe!.top1!.toFixed(2)} % |`,
    );
  }
  // What a perturbation of the float logits as large as uniform 8's, but random, scores: the
  // spread of top-1 among networks that are equally faithful, and whether perturbing this model
  // at all tends to raise its top-1 on these images.
  if (noiseRef !== null) {
    const { sigma, floatLogits } = noiseRef;
    const t = noisyTop1(floatLogits, labels, sigma, 20, 1);
    noise.push(
      `${z.name}: float model plus random Gaussian logit noise as large as uniform 8's logit error (σ = ${sigma.toFixed(3)}), 20 draws: top-1 ${mean(t).toFixed(2)} % on average (${Math.min(...t).toFixed(2)}-${Math.max(...t).toFixed(2)} %; float ${fe!.top1!.toFixed(2)} %)`,
    );
  }
  // Paired on the same seed and test images: FxP-QNet's top-1, then its agreement with float,
  // minus each baseline's. Agreement counts every changed prediction, so it separates the methods'
  // fidelity far more finely than top-1, where most changes cancel.
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  const paired = (key: 'top1' | 'agree') =>
    (methods[0].label.startsWith('fxpqnet') ? methods.slice(1) : []).map((m) => ({
      m,
      d: res.get(methods[0].label)!.map((x, i) => x[key] - res.get(m.label)![i][key]),
    }));
  for (const { m, d } of paired('top1')) {
    // Exact McNemar per seed: how likely a split of the images only one of the two gets right at
    // least this uneven is when the two are equally accurate.
    const fl = res.get(methods[0].label)!,
      bl = res.get(m.label)!;
    const ps = fl.map((x, i) => {
      const { onlyA, onlyB } = discordant(x.pred, bl[i].pred, labels);
      return `${onlyA}/${onlyB}, p ${mcnemarP(onlyA, onlyB).toFixed(2)}`;
    });
    diffs.push(
      `${z.name}: FxP-QNet minus ${m.label}: ${signed(mean(d))} pp on average (per seed ${d.map(signed).join(', ')}; standard error of the mean ${(sd(d) / Math.sqrt(d.length)).toFixed(2)} pp; images only FxP-QNet / only ${m.label} gets right, and the exact McNemar p, per seed: ${ps.join('; ')})`,
    );
  }
  for (const { m, d } of paired('agree')) {
    diffs.push(
      `${z.name}: FxP-QNet agreement with float minus ${m.label}'s: ${signed(mean(d))} pp on average (per seed ${d.map(signed).join(', ')})`,
    );
  }
  if (full)
    diffs.push(
      `${z.name}: top-1 per seed on the first 1,000 of these images (\`data/test_x.npy\`): ${methods
        .map(
          (m) =>
            `${m.label} ${res
              .get(m.label)!
              .map((x) => x.first.toFixed(1))
              .join(', ')}`,
        )
        .join('; ')}`,
    );
  // Per seed: does FxP-QNet compress more than both baselines at no lower top-1? (Only when both ran.)
  if (methods.length < 3) continue;
  const f = res.get(methods[0].label)!;
  const n = seeds.filter((_, i) =>
    methods.slice(1).every((m) => {
      const b = res.get(m.label)![i];
      return f[i].params > b.params && f[i].top1 >= b.top1;
    }),
  ).length;
  wins.push(`${z.name}: FxP-QNet beats both baselines (more compression, no lower top-1) on ${n} of ${seeds.length} seeds`);
  const na = seeds.filter((_, i) =>
    methods.slice(1).every((m) => {
      const b = res.get(m.label)![i];
      return f[i].params > b.params && f[i].agree >= b.agree;
    }),
  ).length;
  wins.push(
    `${z.name}: FxP-QNet beats both baselines in agreement with float (more compression, no lower agreement) on ${na} of ${seeds.length} seeds`,
  );
}
console.log(rows.join('\n'));
console.log(wins.join('\n'));
console.log(diffs.join('\n'));
console.log(noise.join('\n'));
if (process.argv.includes('--write')) {
  writeSection(
    'models/README.md',
    full ? 'On the whole test split' : 'Across calibration splits',
    `Produced by \`node dist/bench/compare-seeds.js ${full ? '--test full ' : ''}--write\`: the comparison above under \`--seed\` ${seeds.join(', ')}. The seed
decides which half of the 512 calibration images is searched on (and feeds the compensated rounding) and which is held
back for the budget, so every seed is an equally valid run; the spread shows how much of a single table's difference
between methods is the split. Top-1 is on ${full ? 'the whole Fashion-MNIST test split (10,000 images, `--test full`, read from the IDX files in `/usr/share/datasets/fashion-mnist/`); one image is 0.01 pp' : 'the 1,000 test images of `data/test_x.npy`; one image is 0.1 pp'}.
Agreement is the share of those images on which the quantized network predicts what the float network predicts.

${rows.join('\n')}

${[...wins, ...diffs].map((w) => `- ${w}`).join('\n')}

*Tied images*: images whose largest integer logit is shared by two or more classes; the first class is taken, so
class order decides them (\`fxpq eval\` reports the count). *Top-1 with ties shared*: a tied image whose label is
one of its k tied classes counts 1/k, the top-1 expected when class order carries no information. *Noise control*: the float model's logits plus random
Gaussian noise of the same root-mean-square size as uniform 8's logit error (seed 0), scored on the same images.

${noise.map((w) => `- ${w}`).join('\n')}`,
  );
}
