import { chooseMacs, fitAtBudget, fitMessage, placementOf } from '../../device/fit.js';
import { findPart } from '../../device/parts.js';
import { FxpqError } from '../../errors.js';
import { calibrations, estimatePlan } from '../../estimate/estimate.js';
import { generateDesign, verilogName } from '../../hw/generate.js';
import { buildPlan } from '../../hw/plan.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { synthesize, TARGETS, type Target } from '../../synth/yosys.js';
import { FAMILIES } from '../../estimate/families.js';
import { fmtInt, table } from '../table.js';
import { checkMacs, checkWeights, modelName } from './generate.js';
import { asciiJson, terminalText } from '../../util/text.js';

export interface EstimateArgs {
  model: string;
  target: string;
  device?: string;
  macs?: number;
  weights?: string;
  synth: boolean;
  json: boolean;
}

const pctErr = (est: number, real: number): string =>
  real === 0 ? (est === 0 ? '0%' : 'n/a') : `${est >= real ? '+' : ''}${((100 * (est - real)) / real).toFixed(1)}%`;

/** Per-block and total FPGA resources from the analytical model; --synth adds Yosys for comparison. */
export async function estimateCommand(a: EstimateArgs): Promise<void> {
  checkMacs(a.macs);
  if (!TARGETS.includes(a.target as Target)) throw new FxpqError(`--target must be one of ${TARGETS.join(', ')}, got ${a.target}`);
  const part = a.device === undefined ? null : findPart(a.device);
  const target = part?.estimator ?? (a.target as Target);
  if (!calibrations[target])
    throw new FxpqError(
      `the estimator has no calibration for ${target} yet (run bench/estimator-collect.ts and bench/estimator-fit.ts for it)`,
    );
  const f = readFxpFile(a.model);
  const name = modelName(a.model, f);
  // A part without --macs: the fastest budget that fits, or the smallest design, whose report says what does not fit.
  const weights = checkWeights(a.weights);
  const chosen = part
    ? a.macs === undefined
      ? chooseMacs(f.q, part, { model: name, weights })
      : fitAtBudget(f.q, part, { macs: a.macs, model: name, weights })
    : null;
  const plan = chosen?.plan ?? buildPlan(f.q, { macs: a.macs, model: name, weights });
  const est = estimatePlan(plan, target);
  const fit = chosen?.fit ?? null;
  let synth: { lut: number; ff: number; dsp: number; bram: number; lutram: number; seconds: number } | null = null;
  if (a.synth) {
    const top = verilogName(`fxpq_${name}`);
    const d = generateDesign(f.q, { model: name, source: name, macs: plan.macBudget, weights: placementOf(plan), top, images: 1 });
    const s = await synthesize({ files: d.files, sources: d.sources, top, target });
    synth = { lut: s.lut, ff: s.ff, dsp: s.dsp, bram: s.bram, lutram: s.lutram, seconds: s.seconds };
  }
  const t = est.total;
  if (a.json) {
    console.log(
      asciiJson({
        target,
        lut: t.lut,
        ff: t.ff,
        dsp: t.dsp,
        bram: t.bram,
        lutram: t.lutram,
        multipliers: plan.macs,
        macs: plan.macBudget,
        device: fit
          ? {
              name: fit.part.name,
              part: fit.part.vendor,
              fits: fit.fits,
              resources: fit.rows.map((r) => ({ resource: r.resource, need: r.need, have: r.have })),
            }
          : null,
        layers: est.blocks.map((b) => ({
          block: b.block,
          kind: b.kind,
          layer: b.layer,
          lut: b.lut,
          ff: b.ff,
          dsp: b.dsp,
          bram: b.bram,
          lutram: b.lutram,
        })),
        synth: synth
          ? {
              lut: synth.lut,
              ff: synth.ff,
              dsp: synth.dsp,
              bram: synth.bram,
              lutram: synth.lutram,
              seconds: Number(synth.seconds.toFixed(1)),
            }
          : null,
      }),
    );
    return;
  }
  const rows = est.blocks
    .filter((b) => b.lut + b.ff + b.dsp + b.bram + b.lutram > 0)
    .map((b) => [b.block, b.kind, b.layer, fmtInt(b.lut), fmtInt(b.ff), b.dsp, b.bram, b.lutram]);
  rows.push(['total', '', '', fmtInt(t.lut), fmtInt(t.ff), t.dsp, t.bram, t.lutram]);
  if (synth)
    rows.push(['yosys', '', `${synth.seconds.toFixed(0)} s`, fmtInt(synth.lut), fmtInt(synth.ff), synth.dsp, synth.bram, synth.lutram]);
  if (synth)
    rows.push([
      'error',
      '',
      '',
      pctErr(t.lut, synth.lut),
      pctErr(t.ff, synth.ff),
      pctErr(t.dsp, synth.dsp),
      pctErr(t.bram, synth.bram),
      pctErr(t.lutram, synth.lutram),
    ]);
  console.log(table(['block', 'kind', 'layer', 'LUT', 'FF', 'DSP', 'BRAM', FAMILIES[target].lutramName], rows));
  const cal = calibrations[target]!.fit;
  console.log(
    `${terminalText(name, 80)} on ${target}, ${plan.macs} multipliers: ${fmtInt(t.lut)} LUT, ${fmtInt(t.ff)} FF, ${t.dsp} DSP, ${t.bram} BRAM${t.lutram > 0 ? `, ${t.lutram} ${FAMILIES[target].lutramName}` : ''} (analytical; calibrated on ${cal.samples} designs against Yosys ${cal.yosys})`,
  );
  if (fit) {
    console.log(
      table(
        ['resource', 'needed', fit.part.name, 'used'],
        fit.rows.map((r) => [
          r.resource,
          fmtInt(r.need),
          fmtInt(r.have),
          r.have ? `${Math.round((100 * r.need) / r.have)}%` : r.need ? 'none' : '0%',
        ]),
      ),
    );
    console.log(fitMessage(fit, name) + (fit.fits ? `, ${fmtInt(plan.interval)} cycles per image` : ''));
  }
}
