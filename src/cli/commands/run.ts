import chalk from 'chalk';
import { join } from 'node:path';
import { findPart } from '../../device/parts.js';
import { FxpqError } from '../../errors.js';
import { runFlow, runJson } from '../../flow/run.js';
import { defaultWorkers } from '../../search/backend.js';
import { TARGETS, type Target } from '../../synth/yosys.js';
import { FAMILIES } from '../../estimate/families.js';
import { stageBars } from '../progress.js';
import { fmtInt } from '../table.js';
import { checkMacs } from './generate.js';
import { asciiJson } from '../../util/text.js';

export interface RunArgs {
  model?: string;
  calib?: string;
  data?: string;
  labels?: string;
  maxDrop: number;
  macs?: number;
  device?: string;
  target: string;
  clock: number;
  sim: string;
  cosimImages: number;
  out?: string;
  rtlOut?: string;
  seed: number;
  workers?: number;
  cache: string | false;
  force?: boolean;
  json: boolean;
}

/** `fxpq run`: the whole flow on one model, one screen of summary at the end. */
export async function runCommand(a: RunArgs): Promise<void> {
  checkMacs(a.macs);
  if (!TARGETS.includes(a.target as Target)) throw new FxpqError(`--target must be one of ${TARGETS.join(', ')}, got ${a.target}`);
  if (!['auto', 'verilator', 'icarus', 'none'].includes(a.sim))
    throw new FxpqError(`--sim must be auto, verilator, icarus or none, got ${a.sim}`);
  const part = a.device === undefined ? undefined : findPart(a.device);
  if (!(a.maxDrop >= 0)) throw new FxpqError(`--max-drop must be a non-negative number of percentage points, got ${a.maxDrop}`);
  const r = await runFlow({
    model: a.model,
    calib: a.calib,
    data: a.data,
    labels: a.labels,
    maxDrop: a.maxDrop,
    macs: a.macs,
    device: part,
    target: a.target as Target,
    clockMhz: a.clock,
    sim: a.sim as 'auto',
    cosimImages: a.cosimImages,
    out: a.out,
    rtlOut: a.rtlOut,
    seed: a.seed,
    workers: a.workers ?? defaultWorkers(),
    cacheDir: a.cache === false ? null : a.cache,
    force: a.force,
    onStage: stageBars(!a.json, (stage) => (stage === 'quantize' ? 'configurations' : stage === 'implement' ? 'designs' : 'images')),
  });
  const failed = r.simulate.mismatches > 0 || (!('skipped' in r.cosim) && r.cosim.mismatches > 0);
  if (a.json) {
    console.log(asciiJson(runJson(r)));
  } else {
    const c = r.sweep.configs[0];
    const t = r.estimate.total;
    const ok = (bad: boolean) => (bad ? chalk.red('FAIL') : chalk.green('PASS'));
    const acc =
      c.top1 !== null
        ? `top-1 ${c.top1.toFixed(2)} % (float ${r.sweep.float.top1!.toFixed(2)} %) on ${r.sweep.test_images} test images`
        : `agreement ${c.agreement?.toFixed(2)} %`;
    const rate = (r.sweep.clock_mhz * 1e6) / r.plan.interval;
    const lines: [string, string][] = [
      [
        'quantize',
        `${c.label}: params ${c.compression.params.toFixed(2)}x, overall ${c.compression.overall.toFixed(2)}x smaller; ${acc}${c.cached ? ' (cached)' : ''}`,
      ],
      [
        'RTL',
        `${r.rtlOut}: ${r.plan.engines.length} engines, ${r.plan.macs} multipliers, ${fmtInt(r.plan.latency)} cycles per image, ${fmtInt(Math.round(rate))} images/s at ${r.sweep.clock_mhz} MHz`,
      ],
      [
        'simulate',
        r.simulate.images
          ? `${ok(r.simulate.mismatches > 0)} ${r.simulate.images} images, ${r.simulate.mismatches} mismatches against the integer reference, ${fmtInt(r.simulate.cycles_per_image)} cycles per image, ${(100 * r.simulate.utilization).toFixed(1)} % of multipliers busy`
          : 'no test images',
      ],
      [
        'cosim',
        'skipped' in r.cosim
          ? chalk.yellow(r.cosim.skipped)
          : `${ok(r.cosim.mismatches > 0)} ${r.cosim.sim}, ${r.cosim.images} images, ${r.cosim.mismatches} mismatches, ${fmtInt(r.cosim.cycles_per_image)} cycles per image${r.cosim.cycles_per_image === r.cosim.expected_cycles ? ' (as planned)' : ` (plan ${fmtInt(r.cosim.expected_cycles)})`}`,
      ],
      [
        'estimate',
        `${r.sweep.target}: ${fmtInt(t.lut)} LUT, ${fmtInt(t.ff)} FF, ${t.dsp} DSP, ${t.bram} BRAM, ${t.lutram} ${FAMILIES[r.sweep.target as Target].lutramName} (analytical)` +
          (r.device
            ? `; fits ${r.device.fit.part.name} (${r.device.fit.rows.map((x) => `${fmtInt(x.need)}/${fmtInt(x.have)} ${x.resource}`).join(', ')})`
            : ''),
      ],
      ...((): [string, string][] => {
        const im = r.device?.implement;
        if (!im) return [];
        // nextpnr leaves paths through DSP blocks without registers out of its Fmax (implement.ts).
        const untimed = im.untimed_dsp_paths ? ' (paths through the DSP blocks not timed)' : '';
        const gate = im.gate_sim ? `; gate-level netlist ${ok(im.gate_sim.mismatches > 0)} ${im.gate_sim.images} images` : '';
        return [
          [
            'implement',
            `${im.part}: ${fmtInt(im.lut)} logic cells, ${im.dsp} DSP, ${im.bram} BRAM after place and route, Fmax ${im.fmax_mhz} MHz${untimed}, ${fmtInt(im.images_per_second)} images/s; ${im.bitstream}${gate}`,
          ],
        ];
      })(),
      ['report', `${join(r.out, 'report.html')} (+ run.json, model.fxp.json)`],
    ];
    console.log(chalk.bold(`fxpq run: ${r.model}`) + chalk.dim(` (${r.modelFile})`));
    for (const [k, v] of lines) console.log(`  ${k.padEnd(9)} ${v}`);
    console.log(`done in ${r.seconds.toFixed(1)} s; RTL in ${r.rtlOut}, report in ${join(r.out, 'report.html')}`);
  }
  if (failed) throw new FxpqError('the hardware does not match the integer reference (see above)', 1);
}
