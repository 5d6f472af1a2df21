/**
 * Issue 26's figures for the big tier of the zoo, in one run on this machine:
 *  - throughput on the same images and batch, one thread each: fxpq's float64 engine,
 *    onnxruntime-node, and the integer reference of the `--uniform 8` network;
 *  - `fxpq quantize --uniform 8` and the FxP-QNet search (default options, 512 unlabelled calibration
 *    images): wall time, evaluations, peak resident memory (GNU time), compression, per-stage times;
 *  - `fxpq eval` of both .fxp.json files on all 10,000 Fashion-MNIST test images (top-1, agreement
 *    with the float model, wall time), and of the float model.
 * Every CLI step is a child process as a user would run it, so peak memory is the process's own.
 *
 *   npm run build && node dist/bench/big-tier.js [--models resnet18,vgg11w] [--images 128] [--no-search] [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { runGraph } from '../src/engine/run.js';
import { runQGraph } from '../src/intref/run.js';
import { readFxpFile } from '../src/io/fxpjson.js';
import { encodeNpy } from '../src/io/npy.js';
import { size } from '../src/ir/types.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { bigModel } from './big-zoo.js';
import { fashionMnistTest } from './fashion-mnist.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const models = (arg('--models') ?? 'resnet18,vgg11w').split(',');
const images = Number(arg('--images') ?? 128);
const batch = 16;
const search = !args.includes('--no-search');
const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const CALIB = 'models/data/calib_x.npy';

const test = fashionMnistTest();
if (!test) throw new Error('the Fashion-MNIST IDX files are not on this machine (apt-get install dataset-fashion-mnist)');
const dir = mkdtempSync(join(tmpdir(), 'fxpq-big-tier-'));
const testX = join(dir, 'test_x.npy'),
  testY = join(dir, 'test_y.npy');
writeFileSync(testX, encodeNpy('float32', [test.images.count, ...test.images.shape], test.images.data));
writeFileSync(testY, encodeNpy('int64', [test.images.count], test.labels));

/** Runs the CLI under GNU time: wall seconds, peak resident MiB, stdout. */
function cli(...argv: string[]): { seconds: number; peakMiB: number; stdout: string } {
  const stats = join(dir, 'time.txt');
  const stdout = execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', stats, process.execPath, CLI, ...argv], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const [wall, kb] = readFileSync(stats, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { seconds: wall, peakMiB: kb / 1024, stdout };
}

/** Images per second of `run` over the bench images in batches, best of a warm-up and `reps` passes. */
async function throughput(run: (s: number, n: number) => unknown, reps = 2): Promise<number> {
  let best = Infinity;
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    for (let s = 0; s < images; s += batch) {
      const n = Math.min(batch, images - s);
      await run(s, n);
    }
    if (r > 0) best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return images / best;
}

const results: Record<string, unknown>[] = [];
for (const name of models) {
  const model = bigModel(name);
  const g = importOnnxFile(model);
  const per = size(g.input.shape);
  const x = test.images.data.subarray(0, images * per);
  const row: Record<string, unknown> = { model: name };
  const u8 = join(dir, `${name}-u8`),
    fx = join(dir, `${name}-fxp`);

  const q8 = cli('quantize', model, '--calib', CALIB, '--uniform', '8', '--out', u8, '--json');
  const u8Report = JSON.parse(q8.stdout);
  row.uniform8 = {
    seconds: q8.seconds,
    peak_mib: Math.round(q8.peakMiB),
    params_x: u8Report.compression.params,
    timings: u8Report.timings,
  };

  // Throughput, one thread each, the same images and batch.
  const { q } = readFxpFile(join(u8, 'model.fxp.json'));
  const floatIps = await throughput((s, n) => runGraph(g, x.subarray(s * per, (s + n) * per), n));
  const session = await ort.InferenceSession.create(readFileSync(model), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const x32 = Float32Array.from(x);
  const ortIps = await throughput((s, n) =>
    session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x32.subarray(s * per, (s + n) * per), [n, ...g.input.shape]) }),
  );
  await session.release();
  const intIps = await throughput((s, n) => runQGraph(q, x.subarray(s * per, (s + n) * per), n));
  row.throughput = {
    images,
    batch,
    float_fxpq: floatIps,
    onnxruntime: ortIps,
    int_reference: intIps,
    int_over_ort: intIps / ortIps,
    float_over_ort: floatIps / ortIps,
  };

  const evalOf = (file: string) => {
    const r = cli('eval', file, '--data', testX, '--labels', testY, '--json');
    const j = JSON.parse(r.stdout);
    return { seconds: r.seconds, top1: j.top1, agreement: j.agreement ?? null, peak_mib: Math.round(r.peakMiB) };
  };
  row.float_eval = evalOf(model);
  row.uniform8_eval = evalOf(join(u8, 'model.fxp.json'));
  if (search) {
    const s = cli('quantize', model, '--calib', CALIB, '--out', fx, '--json');
    const rep = JSON.parse(s.stdout);
    row.fxpqnet = {
      seconds: s.seconds,
      peak_mib: Math.round(s.peakMiB),
      evaluations: rep.evaluations,
      steps: rep.search_steps,
      params_x: rep.compression.params,
      overall_x: rep.compression.overall,
      timings: rep.timings,
    };
    row.fxpqnet_eval = evalOf(join(fx, 'model.fxp.json'));
  }
  results.push(row);
  console.log(JSON.stringify(row, null, 1));
}

const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : '-');
console.log(
  '\nmodel     | float img/s | ORT img/s | int-ref img/s (x ORT) | --uniform 8 s | search s (evals, peak MiB) | params x | top-1 float / u8 / fxp | agreement u8 / fxp | eval 10k s (fxp)',
);
/** The fields of a row the summary reads (the row is built loosely above and written as JSON). */
type Figures = Record<string, number>;
interface Row {
  model: string;
  throughput: Figures;
  uniform8: Figures;
  fxpqnet?: Figures;
  float_eval: Figures;
  uniform8_eval: Figures;
  fxpqnet_eval?: Figures;
}
for (const r of results as unknown as Row[]) {
  const t = r.throughput;
  console.log(
    [
      r.model.padEnd(9),
      f(t.float_fxpq),
      f(t.onnxruntime),
      `${f(t.int_reference)} (${f(t.int_over_ort, 2)}x)`,
      f(r.uniform8.seconds),
      r.fxpqnet ? `${f(r.fxpqnet.seconds)} (${r.fxpqnet.evaluations}, ${r.fxpqnet.peak_mib})` : '-',
      r.fxpqnet ? f(r.fxpqnet.params_x, 2) : '-',
      `${f(r.float_eval.top1, 2)} / ${f(r.uniform8_eval.top1, 2)} / ${r.fxpqnet_eval ? f(r.fxpqnet_eval.top1, 2) : '-'}`,
      `${f(r.uniform8_eval.agreement, 2)} / ${r.fxpqnet_eval ? f(r.fxpqnet_eval.agreement, 2) : '-'}`,
      r.fxpqnet_eval ? f(r.fxpqnet_eval.seconds) : f(r.uniform8_eval.seconds),
    ].join(' | '),
  );
}
const out = arg('--json');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), results }, null, 1) + '\n');
rmSync(dir, { recursive: true, force: true });
