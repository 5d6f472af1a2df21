import chalk from 'chalk';
import { basename, join } from 'node:path';
import { placementOf, planForPart } from '../../device/fit.js';
import { findPart } from '../../device/parts.js';
import { FxpqError } from '../../errors.js';
import { fmtText } from '../../fixed/format.js';
import { quantizeInput } from '../../intref/ops.js';
import { checkOutputPath, safeFolderName, writeFolderAtomic } from '../../io/atomic.js';
import { loadImages, parseScale } from '../../io/dataset.js';
import { type LoadedFxp, readFxpFile } from '../../io/fxpjson.js';
import { checkTop, generateDesign, planJson, verilogName } from '../../hw/generate.js';
import { engineSummary, WEIGHT_PLACEMENTS, type WeightPlacement } from '../../hw/plan.js';
import { asciiJson, terminalText } from '../../util/text.js';
import { table } from '../table.js';

export interface GenerateArgs {
  model: string;
  out?: string;
  macs?: number;
  device?: string;
  weights?: string;
  top?: string;
  data?: string;
  scale?: string;
  limit?: number;
  seed: number;
  force?: boolean;
  json: boolean;
}

/** Model name for file headers and default folders: the ONNX file the .fxp.json came from. */
export function modelName(path: string, f: LoadedFxp): string {
  const src = f.meta.source.file ? basename(f.meta.source.file).replace(/\.onnx$/i, '') : '';
  return src || basename(path).replace(/\.fxp\.json$|\.json$/i, '');
}

export function checkMacs(macs: number | undefined): void {
  if (macs !== undefined && (!Number.isInteger(macs) || macs < 1)) throw new FxpqError(`--macs must be a positive integer, got ${macs}`);
}

/** --weights rom|load, or undefined when not given. */
export function checkWeights(w: string | undefined): WeightPlacement | undefined {
  if (w === undefined) return undefined;
  if (!(WEIGHT_PLACEMENTS as readonly string[]).includes(w))
    throw new FxpqError(`--weights must be rom or load, got ${terminalText(w, 20)}`);
  return w as WeightPlacement;
}

/** Quantized input words of images from a .npy file, for test vectors. */
export function vectorInputs(f: LoadedFxp, data: string, scale?: string, limit?: number): { inputs: Float64Array; images: number } {
  const inV = f.q.values[f.q.input];
  const imgs = loadImages(data, inV.shape, { scale: parseScale(scale), limit });
  return { inputs: quantizeInput(imgs.data, inV.format), images: imgs.count };
}

export function generateCommand(a: GenerateArgs): void {
  checkMacs(a.macs);
  const weights = checkWeights(a.weights);
  if (!Number.isInteger(a.seed)) throw new FxpqError(`--seed must be an integer, got ${a.seed}`);
  if (a.top !== undefined) checkTop(a.top);
  const f = readFxpFile(a.model);
  const name = modelName(a.model, f);
  const out = a.out ?? join('rtl-out', safeFolderName(verilogName(name)));
  const guard = { force: a.force, protect: [a.model, a.data] };
  checkOutputPath(out, guard);
  // With a part named, the estimator decides the budget (or refuses) before anything is written.
  const chosen = a.device ? planForPart(f.q, findPart(a.device), { macs: a.macs, model: name, weights }).plan : null;
  const vec = a.data ? vectorInputs(f, a.data, a.scale, a.limit ?? 16) : undefined;
  const d = generateDesign(f.q, {
    model: name,
    source: basename(f.meta.source.file || a.model),
    macs: chosen?.macBudget ?? a.macs,
    weights: chosen ? placementOf(chosen) : weights,
    top: a.top ?? verilogName(`fxpq_${name}`),
    inputs: vec?.inputs,
    images: vec?.images ?? a.limit ?? 8,
    seed: a.seed,
  });
  writeFolderAtomic(out, d.files, guard);
  const p = d.plan;
  if (a.json) {
    console.log(asciiJson({ out, top: d.top, files: Object.keys(d.files).length, plan: planJson(p) }));
    return;
  }
  console.log(
    table(
      ['engine', 'layer', 'datapath', 'cycles'],
      p.engines.map((e) => [e.id, e.layer, engineSummary(e), e.cycles]),
    ),
  );
  const kb = (b: number) => `${(b / 8192).toFixed(1)} KiB`;
  console.log(
    `${chalk.bold(d.top)}: ${p.engines.length} engines, ${p.macs} multipliers (budget ${p.macBudget}), ${p.latency.toLocaleString('en-US')} cycles per image; ` +
      `on-chip memory ${kb(p.memoryBits.activations)} activations + ${kb(p.memoryBits.weights)} weights; input ${fmtText(p.input.format)}, output ${fmtText(p.output.format)}`,
  );
  console.log(`wrote ${Object.keys(d.files).length} files to ${out} (README.md, files.f, tb.v)`);
}
