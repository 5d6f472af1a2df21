import chalk from 'chalk';
import { join } from 'node:path';
import { fmtText } from '../../fixed/format.js';
import { checkOutputPath, writeFolderAtomic } from '../../io/atomic.js';
import { parseScale } from '../../io/dataset.js';
import { type Method, quantizeModel, type Rounding } from '../../search/quantize.js';
import type { Objective } from '../../search/structures.js';
import type { Schedule } from '../../search/fxpqnet.js';
import type { QuantReport } from '../../quant/report.js';
import { stageBars } from '../progress.js';
import { table } from '../table.js';
import { asciiJson } from '../../util/text.js';

export interface QuantizeArgs {
  model: string;
  calib: string;
  calibScale?: string;
  calibLabels?: string;
  uniform?: number;
  method: string;
  maxDrop: number;
  referenceBits: number;
  minBits: number;
  startBits: number;
  objective: string;
  rounding: string;
  schedule?: string;
  sensitivityImages?: number;
  seed: number;
  workers?: number;
  out: string;
  force?: boolean;
  json: boolean;
}

/** What each stage's progress bar counts. */
const STAGE_UNITS: Record<string, string> = {
  search: 'data structures settled',
  sensitivity: 'word lengths measured',
  bisection: 'probes',
  refinement: 'steps tried',
};

export function printReport(r: QuantReport): void {
  const total = r.bits.params_quantized || 1;
  const fm = (x: { wl: number; fl: number; signed: boolean } | null) => (x ? fmtText(x) : '');
  console.log(
    table(
      ['layer', 'op', 'weights', 'bias', 'input', 'output', 'param bits', 'share'],
      r.layers.map((l) => [
        l.name,
        l.kind,
        fm(l.weights),
        fm(l.bias),
        fm(l.input),
        fm(l.output),
        l.param_bits,
        `${((100 * l.param_bits) / total).toFixed(1)} %`,
      ]),
    ),
  );
  console.log(chalk.dim('formats: s|u<word length>.<fraction length>, value = integer x 2^-fl'));
}

export async function quantizeCommand(a: QuantizeArgs): Promise<void> {
  const guard = { force: a.force, protect: [a.model, a.calib, a.calibLabels] };
  checkOutputPath(a.out, guard);
  const res = await quantizeModel({
    model: a.model,
    calib: a.calib,
    calibScale: parseScale(a.calibScale),
    calibLabels: a.calibLabels,
    uniformBits: a.uniform,
    method: a.method as Method,
    maxDrop: a.maxDrop,
    referenceBits: a.referenceBits,
    minBits: a.minBits,
    startBits: a.startBits,
    objective: a.objective as Objective,
    rounding: a.rounding as Rounding,
    schedule: a.schedule as Schedule | undefined,
    sensitivityImages: a.sensitivityImages,
    seed: a.seed,
    workers: a.workers,
    onProgress: stageBars(!a.json, (stage) => STAGE_UNITS[stage] ?? 'images'),
  });
  writeFolderAtomic(
    a.out,
    {
      'model.fxp.json': asciiJson(res.file) + '\n',
      'report.json': asciiJson(res.report, 2) + '\n',
    },
    guard,
  );
  const r = res.report;
  if (a.json) {
    console.log(asciiJson(r));
    return;
  }
  printReport(r);
  const agree = r.calibration.agreement === null ? 'n/a' : `${r.calibration.agreement.toFixed(2)} %`;
  const what = a.uniform !== undefined ? `uniform ${a.uniform} bits` : r.method;
  console.log(
    `${chalk.bold(what)}: params ${r.compression.params.toFixed(2)}x, overall ${r.compression.overall.toFixed(2)}x smaller than float32; top-1 agreement with float on ${r.calibration.images} calibration images ${agree}; ${r.seconds.toFixed(1)} s -> ${join(a.out, 'model.fxp.json')}`,
  );
}
