/**
 * Quantizes every zoo model and measures top-1 with the integer reference on the 1,000 test
 * images (never used for calibration: those come from the training split).
 *   npm run build && node dist/bench/quantize-zoo.js [--write]   (--write updates models/README.md)
 */
import { readFileSync } from 'node:fs';
import { writeSection } from './readme-section.js';
import { evaluate } from '../src/eval/evaluate.js';
import { evaluateInt } from '../src/intref/evaluate.js';
import { loadImages, loadLabels } from '../src/io/dataset.js';
import { quantizeModel, type Rounding } from '../src/search/quantize.js';

const uniform = (model: string, bits: number, rounding: Rounding) =>
  quantizeModel({
    model,
    calib: 'models/data/calib_x.npy',
    method: 'uniform',
    uniformBits: bits,
    maxDrop: 1,
    minBits: 2,
    startBits: 16,
    objective: 'params',
    seed: 0,
    rounding,
  });

const zoo: { name: string; file: string }[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
const rows: string[] = [];
rows.push(
  '| model | method | weight rounding | params compression | overall compression | float top-1 | quantized top-1 | drop (pp) | agreement | quantize time |',
);
rows.push('|---|---|---|---|---|---|---|---|---|---|');
for (const z of zoo) {
  for (const bits of [16, 8, 6, 4])
    for (const rounding of ['nearest', 'gptq'] as const) {
      const res = await uniform(`models/${z.file}`, bits, rounding);
      const test = loadImages('models/data/test_x.npy', res.graph.input.shape);
      const labels = loadLabels('models/data/test_y.npy', test, 10);
      const fl = evaluate(res.graph, test, labels);
      const q = evaluateInt(res.q, test, { labels, floatPredictions: fl.predictions });
      const r = res.report;
      const line = `| ${z.name} | uniform ${bits} | ${rounding} | ${r.compression.params.toFixed(2)}x | ${r.compression.overall.toFixed(2)}x | ${fl.top1!.toFixed(2)} % | ${q.top1!.toFixed(2)} % | ${(fl.top1! - q.top1!).toFixed(2)} | ${q.agreement!.toFixed(1)} % | ${r.seconds.toFixed(1)} s |`;
      rows.push(line);
      console.log(line);
    }
}
if (process.argv.includes('--write')) {
  writeSection(
    'models/README.md',
    'Quantized results',
    `Measured by \`node dist/bench/quantize-zoo.js --write\` with the integer reference on the 1,000 test images of
\`data/test_x.npy\` (test split); calibration used the 512 training-split images of \`data/calib_x.npy\`.
Compression is against float32; "overall" also counts every activation tensor of one inference. Weight rounding
\`nearest\` rounds each weight alone; \`gptq\` (the default) compensates rounding errors (\`docs/fxpqnet.md\`).

${rows.join('\n')}`,
  );
}
