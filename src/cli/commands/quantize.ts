import chalk from 'chalk';
import { join } from 'node:path';
import { fmtText } from '../../fixed/format.js';
import { checkOutputPath, writeFolderAtomic } from '../../io/atomic.js';
import { parseScale } from '../../io/dataset.js';
import { type Method, quantizeModel, type Rounding } from '../../search/quantize.js';
import type { Objective } from '../../search/structures.js';
import type { DeviceObjective } from '../../search/device-cost.js';
import { findPart } from '../../device/parts.js';
import type { WeightPlacement } from '../../hw/plan.js';
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
  device?: string;
  macs?: number;
  weights?: string;
  clock?: number;
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

interface DevicePointReport {
  fits: boolean;
  mac_budget: number;
  weights: string;
  interval_cycles: number;
  images_per_second: number;
  resources: { resource: string; need: number; have: number }[];
}
interface DeviceReport extends DevicePointReport {
  part: string;
  vendor: string;
  objective: string;
  clock_mhz: number;
  trace: { what: string; within: boolean; validation_drop: number; point: DevicePointReport }[];
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * The result on the part, and what the search went through: accuracy against images/s and
 * resources, one row per distinct design (the most accurate configuration that led to it).
 */
function printDevice(d: DeviceReport): void {
  const res = d.resources.map((r) => `${n(r.need)} of ${n(r.have)} ${r.resource}`).join(', ');
  const at = `--macs ${d.mac_budget}${d.weights === 'load' ? ' --weights load' : ''}`;
  console.log(
    `${chalk.bold(d.part)} (${d.vendor}), objective ${d.objective}: fits at ${at}, ${n(d.interval_cycles)} cycles/image, ${n(d.images_per_second)} images/s at ${d.clock_mhz} MHz; ${res}`,
  );
  const rows = new Map<string, (typeof d.trace)[number]>();
  for (const t of d.trace) {
    const key = JSON.stringify([t.within, t.point.fits, t.point.mac_budget, t.point.weights, t.point.resources.map((r) => r.need)]);
    const seen = rows.get(key);
    if (!seen || t.validation_drop < seen.validation_drop) rows.set(key, t);
  }
  if (rows.size === 0) return;
  const names = d.resources.map((r) => r.resource.replace(/ \(.*\)$/, ''));
  console.log(
    table(
      ['search point', 'budget', 'drop (pp)', 'fits', 'images/s', ...names],
      [...rows.values()].map((t) => [
        t.what,
        t.within ? 'within' : 'exceeds',
        t.validation_drop.toFixed(2),
        t.point.fits ? `--macs ${t.point.mac_budget}${t.point.weights === 'load' ? ' load' : ''}` : 'no',
        n(t.point.images_per_second),
        ...t.point.resources.map((r) => n(r.need)),
      ]),
    ),
  );
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
    objective: a.objective as Objective | DeviceObjective,
    device: a.device === undefined ? undefined : findPart(a.device),
    macs: a.macs,
    weights: a.weights as WeightPlacement | undefined,
    clockMhz: a.clock,
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
  if (r.device) printDevice(r.device as DeviceReport);
  const agree = r.calibration.agreement === null ? 'n/a' : `${r.calibration.agreement.toFixed(2)} %`;
  const what = a.uniform !== undefined ? `uniform ${a.uniform} bits` : r.method;
  console.log(
    `${chalk.bold(what)}: params ${r.compression.params.toFixed(2)}x, overall ${r.compression.overall.toFixed(2)}x smaller than float32; top-1 agreement with float on ${r.calibration.images} calibration images ${agree}; ${r.seconds.toFixed(1)} s -> ${join(a.out, 'model.fxp.json')}`,
  );
}
