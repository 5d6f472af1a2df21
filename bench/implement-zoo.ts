/**
 * The zoo on real parts: for each model and multiplier budget, the estimator's fit decision for
 * the part (milliseconds) and, where the part has nextpnr on npm, synthesis, placement and
 * routing: post-route utilization, Fmax and images/s at Fmax. With --confirm, designs the
 * estimator refuses are placed and routed too, to check that nextpnr refuses them as well (each
 * costs a whole-network synthesis, minutes). Prints a Markdown table for docs/hardware-results.md
 * and appends one JSON line per design to --log.
 * Usage: node dist/bench/implement-zoo.js [--part up5k] [--config mixed] [--budgets chosen,16,64] [--confirm]
 *        [--models mlp,lenet5,...] [--log bench-results/implement-zoo.jsonl]
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ZooConfig, zooQGraph } from '../src/calibration/zoo.js';
import { chooseMacs, fitAtBudget, fitMessage, type FitReport, placementOf } from '../src/device/fit.js';
import { findPart } from '../src/device/parts.js';
import { generateDesign, synthesisFiles } from '../src/hw/generate.js';
import { type HwPlan, minimumMacs } from '../src/hw/plan.js';
import { placeAndRoute, type PnrResult } from '../src/pnr/ice40.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const part = findPart(arg('part', 'up5k'));
const config = arg('config', 'mixed') as ZooConfig;
const budgets = arg('budgets', 'min,16,64').split(',');
const models = arg('models', 'mlp,lenet5,vgg_bn,resnet8,mobilenet').split(',');
const confirm = process.argv.includes('--confirm');
const log = arg('log', 'bench-results/implement-zoo.jsonl');
mkdirSync(dirname(log), { recursive: true });
const n = (x: number) => Math.round(x).toLocaleString('en-US');

console.log(`${part.vendor}, zoo ${config}; estimator fit decision${part.nextpnr ? ', then Yosys + nextpnr-ice40 0.8' : ''}`);
console.log(
  '| model | --macs | weights | estimate: LC / DSP / BRAM / SPRAM | fits? | post-route: LC / DSP / BRAM / SPRAM / I/O | Fmax (MHz) | cycles/image | images/s | agree |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const model of models) {
  const q = zooQGraph(model, config);
  for (const b of budgets) {
    let plan: HwPlan, fit: FitReport;
    // At a budget, the weight placement that fits (ROMs first; SPRAM where the part has it).
    if (b === 'chosen') ({ plan, fit } = chooseMacs(q, part, { model, standalone: true }));
    else ({ plan, fit } = fitAtBudget(q, part, { macs: b === 'min' ? minimumMacs(q) : Number(b), model, standalone: true }));
    const est = [...fit.rows.slice(0, 3).map((r) => n(r.need)), String(part.spram > 0 ? fit.estimate.lutram : 0)];
    let pnr: PnrResult | null = null,
      error: string | null = null;
    if (part.nextpnr && (fit.fits || confirm)) {
      const d = generateDesign(q, {
        model,
        source: model,
        macs: plan.macBudget,
        weights: placementOf(plan),
        top: `fxpq_${model}`,
        images: 1,
      });
      const files = synthesisFiles(d);
      try {
        pnr = await placeAndRoute({ files, sources: d.sources, top: d.top, part, freqMhz: 12, seed: 1 });
      } catch (e) {
        error = (e as Error).message;
      }
    }
    const tried = pnr !== null || error !== null;
    const agree = !tried ? 'not placed' : (pnr !== null) === fit.fits ? 'yes' : '**no**';
    console.log(
      `| ${model} | ${plan.macBudget} | ${fit.weights} | ${est.join(' / ')} | ${fit.fits ? 'yes' : 'no: ' + fitMessage(fit, model).replace(/^.*needs /, '')} | ` +
        `${pnr ? `${n(pnr.lc)} / ${pnr.dsp} / ${pnr.ram} / ${pnr.spram} / ${pnr.io}` : error ? 'refused: ' + error.replace(/^.*?: /, '').slice(0, 90) : ''} | ` +
        `${pnr ? pnr.fmaxMhz.toFixed(1) : ''} | ${n(plan.interval)} | ${pnr ? n((pnr.fmaxMhz * 1e6) / plan.interval) : ''} | ${agree} |`,
    );
    appendFileSync(
      log,
      JSON.stringify({
        part: part.name,
        model,
        config,
        macs: plan.macBudget,
        weights: fit.weights,
        estimate: fit.rows,
        fits: fit.fits,
        pnr: pnr
          ? {
              lc: pnr.lc,
              lut: pnr.lut,
              ff: pnr.ff,
              dsp: pnr.dsp,
              ram: pnr.ram,
              spram: pnr.spram,
              io: pnr.io,
              fmax_mhz: pnr.fmaxMhz,
              seconds: pnr.seconds,
            }
          : null,
        error,
      }) + '\n',
    );
  }
}
