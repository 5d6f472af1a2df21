import chalk from 'chalk';
import { basename, join } from 'node:path';
import { placementOf, planForPart, portBits } from '../../device/fit.js';
import { findPart } from '../../device/parts.js';
import { FxpqError } from '../../errors.js';
import { generateDesign, verilogName } from '../../hw/generate.js';
import { checkOutputPath, safeFolderName, writeFolderAtomic } from '../../io/atomic.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { implementPlan } from '../../pnr/implement.js';
import { hasTool } from '../../cosim/simulators.js';
import { asciiJson } from '../../util/text.js';
import { checkMacs, checkWeights, modelName } from './generate.js';
import { table } from '../table.js';

export interface ImplementArgs {
  model: string;
  device: string;
  macs?: number;
  weights?: string;
  out?: string;
  freq: number;
  seed: number;
  /** Images for the gate-level simulation of the synthesized netlist (0: none). */
  gateSim: number;
  force?: boolean;
  json: boolean;
}

/**
 * Generates the design for a part, checks with the estimator that it fits (or picks the budget
 * that does), then synthesizes, places and routes it and writes the RTL folder with the bitstream,
 * nextpnr's log and implement.json beside it.
 */
export async function implementCommand(a: ImplementArgs): Promise<void> {
  checkMacs(a.macs);
  if (!(a.freq > 0 && a.freq <= 1000)) throw new FxpqError(`--freq must be a clock in MHz between 0 and 1000, got ${a.freq}`);
  if (!Number.isInteger(a.seed) || a.seed < 0 || a.seed > 2 ** 31 - 1)
    throw new FxpqError(`--seed must be an integer from 0 to 2^31 - 1, got ${a.seed}`);
  const part = findPart(a.device);
  if (!part.nextpnr)
    throw new FxpqError(
      `fxpq implement places and routes iCE40 parts only (nextpnr-ice40 from npm); ${part.name} has no nextpnr build on npm, use fxpq estimate --device ${part.name} or fxpq synth`,
    );
  const f = readFxpFile(a.model);
  const name = modelName(a.model, f);
  const top = verilogName(`fxpq_${name}`);
  const out = a.out ?? join('rtl-out', safeFolderName(`${verilogName(name)}_${part.name}`));
  const guard = { force: a.force, protect: [a.model] };
  checkOutputPath(out, guard);
  const { plan, fit } = planForPart(f.q, part, { macs: a.macs, model: name, standalone: true, weights: checkWeights(a.weights) });
  if (!Number.isInteger(a.gateSim) || a.gateSim < 0 || a.gateSim > 10_000)
    throw new FxpqError(`--gate-sim must be a number of images from 0 to 10000, got ${a.gateSim}`);
  const gate = a.gateSim > 0 && hasTool('iverilog');
  if (a.gateSim > 0 && !gate)
    process.stderr.write('iverilog is not installed: no gate-level simulation of the netlist (scripts/setup.sh installs it)\n');
  const d = generateDesign(f.q, {
    model: name,
    source: basename(f.meta.source.file || a.model),
    macs: plan.macBudget,
    weights: placementOf(plan),
    top,
    images: 8,
    seed: 0,
  });
  const { report, files } = await implementPlan(f.q, {
    part,
    plan,
    fit,
    model: name,
    source: basename(f.meta.source.file || a.model),
    top,
    out,
    freqMhz: a.freq,
    seed: a.seed,
    gateImages: gate ? a.gateSim : 0,
    onStep: a.json ? undefined : (what) => process.stderr.write(`${what}...\n`),
  });
  writeFolderAtomic(out, { ...d.files, ...files }, guard);
  const r = report;
  if (a.json) {
    console.log(asciiJson(report));
    return;
  }
  const pct = (n: number, of: number) => `${of ? Math.round((100 * n) / of) : 0}%`;
  console.log(
    table(
      ['resource', 'estimate', 'placed and routed', part.name, 'used'],
      [
        ['logic cells', r.estimate.lc, r.lut, part.lut, pct(r.lut, part.lut)],
        ['DSP blocks', r.estimate.dsp, r.dsp, part.dsp, pct(r.dsp, part.dsp)],
        ['block RAMs', r.estimate.bram, r.bram, part.bram, pct(r.bram, part.bram)],
        ['I/O', portBits(plan), r.io, part.io, pct(r.io, part.io)],
      ],
    ),
  );
  console.log(
    `${chalk.bold(top)} on ${part.vendor}: Fmax ${r.fmax_mhz.toFixed(1)} MHz, ${plan.interval.toLocaleString('en-US')} cycles per image, ` +
      `${report.images_per_second.toLocaleString('en-US')} images/s; bitstream ${report.bitstream}`,
  );
  const u = r.untimed_dsp_paths;
  if (u)
    console.log(
      chalk.yellow(
        `caution: nextpnr does not time paths through DSP blocks used without their registers; the worst path into one takes ${u.into_ns} ns and out of one ${u.out_of_ns} ns, the multiplier between them not counted, so the design may not meet ${r.fmax_mhz.toFixed(1)} MHz`,
      ),
    );
  if (r.gate_sim)
    console.log(
      `gate-level netlist in Icarus: ${r.gate_sim.images} images, 0 mismatches, ${plan.latency.toLocaleString('en-US')} cycles each as in the RTL`,
    );
}
