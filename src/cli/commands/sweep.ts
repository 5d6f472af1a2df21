import chalk from 'chalk';
import { basename, join } from 'node:path';
import { findPart } from '../../device/parts.js';
import type { DeviceObjective } from '../../search/device-cost.js';
import { FxpqError } from '../../errors.js';
import { checkOutputPath, safeFolderName, writeFolderAtomic } from '../../io/atomic.js';
import { parseScale } from '../../io/dataset.js';
import { sweepHtml } from '../../report/html.js';
import { defaultWorkers } from '../../search/backend.js';
import type { Objective } from '../../search/structures.js';
import { checkReferenceBits, type Rounding } from '../../search/quantize.js';
import { DEFAULT_CHOICE, DEFAULT_SWEEP_MACS, numberList, sweepConfigs } from '../../sweep/configs.js';
import { runSweep, type SweepResult } from '../../sweep/sweep.js';
import { TARGETS, type Target } from '../../synth/yosys.js';
import { Progress } from '../progress.js';
import { fmtInt, table } from '../table.js';
import { asciiJson } from '../../util/text.js';

export interface SweepArgs {
  model: string;
  calib: string;
  calibScale?: string;
  calibLabels?: string;
  test?: string;
  testLabels?: string;
  testScale?: string;
  testLimit?: number;
  target: string;
  macs?: string;
  clock: number;
  uniformBits?: string;
  maxDrops?: string;
  ristretto: boolean;
  chooseDrop: number;
  seed: number;
  minBits: number;
  startBits: number;
  objective: string;
  rounding: string;
  referenceBits: number;
  workers?: number;
  cache: string | false;
  device?: string;
  out?: string;
  force?: boolean;
  json: boolean;
}

export function printSweep(s: SweepResult): void {
  const pc = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  console.log(
    table(
      [
        'configuration',
        '--macs',
        'accuracy %',
        'drop pp',
        'params',
        'overall',
        'LUT',
        'FF',
        'DSP',
        'BRAM',
        'cycles/image',
        'images/s',
        'Pareto',
        ...(s.device ? [`fits ${s.device}`] : []),
      ],
      s.points.map((p) => [
        p.label + (p.config === s.chosen ? ' *' : ''),
        p.macs_budget,
        pc(p.accuracy),
        pc(p.drop),
        `${p.params_compression.toFixed(2)}x`,
        `${p.overall_compression.toFixed(2)}x`,
        fmtInt(p.lut),
        fmtInt(p.ff),
        p.dsp,
        p.bram,
        fmtInt(p.cycles_per_image),
        fmtInt(Math.round(p.images_per_second)),
        p.pareto_lut ? 'yes' : '',
        ...(s.device ? [p.fits ? (p.weights === 'load' ? 'yes, weights loaded' : 'yes') : 'no'] : []),
      ]),
    ),
  );
  console.log(
    chalk.dim(
      `accuracy: ${s.accuracy_measure}; float32 ${s.float.accuracy.toFixed(2)} %; resources: analytical ${s.target} estimate; images/s at ${s.clock_mhz} MHz; * chosen (least parameter memory within ${s.choose_drop} pp)`,
    ),
  );
}

export async function sweepCommand(a: SweepArgs): Promise<void> {
  if (!TARGETS.includes(a.target as Target)) throw new FxpqError(`--target must be one of ${TARGETS.join(', ')}, got ${a.target}`);
  const part = a.device === undefined ? undefined : findPart(a.device);
  if (a.testLabels && !a.test) throw new FxpqError('--test-labels needs --test');
  checkReferenceBits(a.referenceBits);
  const out = a.out ?? join('out', safeFolderName(`sweep-${basename(a.model).replace(/\.onnx$/i, '')}`));
  const guard = { force: a.force, protect: [a.model, a.calib, a.calibLabels, a.test, a.testLabels] };
  checkOutputPath(out, guard);
  const configs = sweepConfigs({
    uniformBits: numberList(a.uniformBits, '--uniform-bits') ?? DEFAULT_CHOICE.uniformBits,
    maxDrops: numberList(a.maxDrops, '--max-drops') ?? DEFAULT_CHOICE.maxDrops,
    ristretto: a.ristretto,
  });
  const bar = new Progress('sweep', configs.length, 'configurations', !a.json);
  const { result: s, files } = await runSweep({
    model: a.model,
    calib: a.calib,
    calibScale: parseScale(a.calibScale),
    calibLabels: a.calibLabels,
    test: a.test ? { data: a.test, labels: a.testLabels, scale: parseScale(a.testScale), limit: a.testLimit } : undefined,
    configs,
    macs: numberList(a.macs, '--macs') ?? DEFAULT_SWEEP_MACS,
    target: part?.estimator ?? (a.target as Target),
    device: part,
    clockMhz: a.clock,
    seed: a.seed,
    minBits: a.minBits,
    startBits: a.startBits,
    objective: a.objective as Objective | DeviceObjective,
    rounding: a.rounding as Rounding,
    referenceBits: a.referenceBits,
    workers: a.workers ?? defaultWorkers(),
    cacheDir: a.cache === false ? null : a.cache,
    chooseDrop: a.chooseDrop,
    onProgress: (done) => bar.update(done),
  });
  bar.done();
  const models = Object.fromEntries(s.configs.map((c, i) => [`models/${c.id}.fxp.json`, asciiJson(files[i]) + '\n']));
  writeFolderAtomic(out, { 'sweep.json': asciiJson(s, 2) + '\n', 'report.html': sweepHtml(s), ...models }, guard);
  if (a.json) {
    console.log(asciiJson(s));
    return;
  }
  printSweep(s);
  const cachedN = s.configs.filter((c) => c.cached).length;
  console.log(
    `${chalk.bold(s.model)}: ${s.configs.length} configurations x ${new Set(s.points.map((p) => p.macs_budget)).size} MAC budgets in ${s.seconds.total.toFixed(1)} s` +
      `${cachedN ? ` (${cachedN} from the cache)` : ''} -> ${join(out, 'report.html')}, ${join(out, 'sweep.json')}`,
  );
}
