/**
 * What the search's objective buys on a named part (issue 29, item 5): the model quantized by
 * FxP-QNet under each objective (params, overall, and the device objectives fps and lut), and the
 * uniform 8-bit network, each mapped to the design quantize reports for the part; top-1
 * on the test images with the integer reference, and each network paired with the uniform 8-bit
 * one by an exact McNemar test on the same images. `--test full`: the 10,000 Fashion-MNIST test
 * images (bench/fashion-mnist.ts) instead of the bundled 1,000. `--seeds`: one table per
 * calibration split. With --implement (iCE40 parts), each design that fits is also synthesized,
 * placed and routed (minutes each; no gate-level simulation; first seed only).
 * Usage: node dist/bench/device-objectives.js [--model models/lenet5.onnx] [--part up5k]
 *        [--max-drop 1] [--seeds 0] [--test full] [--implement]
 */
import { basename } from 'node:path';
import { fitAtBudget } from '../src/device/fit.js';
import type { WeightPlacement } from '../src/hw/plan.js';
import { findPart } from '../src/device/parts.js';
import { FxpqError } from '../src/errors.js';
import { evaluateInt } from '../src/intref/evaluate.js';
import { implementPlan } from '../src/pnr/implement.js';
import { quantizeModel } from '../src/search/quantize.js';
import { discordant, mcnemarP } from '../src/eval/paired.js';
import { benchTestSet } from './fashion-mnist.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const model = arg('model', 'models/lenet5.onnx');
const part = findPart(arg('part', 'up5k'));
const maxDrop = Number(arg('max-drop', '1'));
const seeds = arg('seeds', arg('seed', '0')).split(',').map(Number);
const implementAll = process.argv.includes('--implement') && part.nextpnr !== null;
const testSet = benchTestSet(arg('test', '') === 'full');
const n = (x: number) => Math.round(x).toLocaleString('en-US');
const name = basename(model).replace(/\.onnx$/, '');

const runs: { label: string; objective: 'params' | 'overall' | 'fps' | 'lut'; uniform?: number }[] = [
  { label: 'FxP-QNet, params (the paper)', objective: 'params' },
  { label: 'FxP-QNet, overall', objective: 'overall' },
  { label: 'FxP-QNet, fps', objective: 'fps' },
  { label: 'FxP-QNet, lut', objective: 'lut' },
  { label: 'uniform 8 bits', objective: 'overall', uniform: 8 },
];

for (const seed of seeds) {
  const implement = implementAll && seed === seeds[0];
  const predictions = new Map<string, { p: Int32Array; labels: Int32Array }>();
  console.log(
    `\n${name} on ${part.vendor}, --max-drop ${maxDrop}, seed ${seed}, top-1 on ${testSet.name}${implement ? '; Yosys + nextpnr-ice40' : ''}`,
  );
  console.log('| network | search (s) | design | cycles/image | estimate | post-route | Fmax (MHz) | images/s at Fmax | top-1 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    const t0 = performance.now();
    let res;
    try {
      res = await quantizeModel({
        model,
        calib: 'models/data/calib_x.npy',
        method: 'fxpqnet',
        uniformBits: r.uniform,
        maxDrop,
        minBits: 2,
        startBits: 16,
        objective: r.objective,
        device: part,
        seed,
      });
    } catch (e) {
      if (!(e instanceof FxpqError)) throw e;
      console.log(`| ${r.label} | ${((performance.now() - t0) / 1000).toFixed(1)} | ${e.message.replace(/\|/g, '/')} | | | | | | |`);
      continue;
    }
    const secs = (performance.now() - t0) / 1000;
    const q = res.q;
    const labels = testSet.labels;
    const ev = evaluateInt(q, testSet.images, { labels });
    const top1 = ev.top1;
    predictions.set(r.label, { p: ev.predictions, labels });
    // The design quantize reports for the part (fps: the fastest that fits; lut: the priced budget).
    const d = res.report.device as { mac_budget: number; weights: WeightPlacement };
    const { plan, fit } = fitAtBudget(q, part, { macs: d.mac_budget, weights: d.weights, model: name, standalone: Boolean(part.nextpnr) });
    const est = fit.rows
      .filter((x) => !x.resource.startsWith('I/O'))
      .map((x) => `${n(x.need)} ${x.resource.replace(/ \(.*\)$/, '')}`)
      .join(', ');
    let post = '',
      fmax = '',
      ips = '';
    if (implement) {
      const impl = await implementPlan(q, {
        part,
        plan,
        fit,
        model: name,
        source: basename(model),
        top: `fxpq_${name.replace(/[^A-Za-z0-9_]/g, '_')}`,
        out: 'bench-results/device-objectives',
        freqMhz: 12,
        seed: 1,
        gateImages: 0,
      });
      const p = impl.report;
      post = `${n(p.lut)} LC, ${p.dsp} DSP, ${p.bram} EBR, ${p.spram} SPRAM, ${p.io} I/O`;
      // nextpnr's Fmax leaves out paths through unregistered DSP blocks: their two halves beside it.
      const u = p.untimed_dsp_paths;
      fmax = `${p.fmax_mhz.toFixed(1)}${u ? ` (DSP in ${u.into_ns} ns, out ${u.out_of_ns} ns)` : ''}`;
      ips = n(p.images_per_second);
    }
    console.log(
      `| ${r.label} | ${secs.toFixed(1)} | --macs ${plan.macBudget}${fit.weights === 'load' ? ', weights load' : ''} | ${n(plan.interval)} | ${est} | ${post} | ${fmax} | ${ips} | ${top1 === null ? '' : `${top1.toFixed(2)} %`} |`,
    );
  }

  // Paired: each network's top-1 against the uniform 8-bit one's on the same images (exact McNemar).
  const u8 = predictions.get('uniform 8 bits');
  if (u8) {
    console.log('\n| network | right only it / right only uniform 8 | McNemar p |');
    console.log('|---|---|---|');
    for (const [label, x] of predictions) {
      if (label === 'uniform 8 bits') continue;
      const d = discordant(x.p, u8.p, u8.labels);
      console.log(`| ${label} | ${d.onlyA} / ${d.onlyB} | ${mcnemarP(d.onlyA, d.onlyB).toFixed(3)} |`);
    }
  }
}
