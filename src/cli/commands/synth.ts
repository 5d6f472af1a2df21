import chalk from 'chalk';
import { basename } from 'node:path';
import { FxpqError } from '../../errors.js';
import { generateDesign, synthesisFiles, verilogName } from '../../hw/generate.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { synthesize, type Target, TARGETS } from '../../synth/yosys.js';
import { checkMacs, checkWeights, modelName } from './generate.js';
import { asciiJson } from '../../util/text.js';

export interface SynthArgs {
  model: string;
  target: string;
  macs?: number;
  weights?: string;
  json: boolean;
}

/** Generates the design in memory and synthesizes it with Yosys (WebAssembly) for one FPGA family. */
export async function synthCommand(a: SynthArgs): Promise<void> {
  checkMacs(a.macs);
  if (!TARGETS.includes(a.target as Target)) throw new FxpqError(`--target must be one of ${TARGETS.join(', ')}, got ${a.target}`);
  const f = readFxpFile(a.model);
  const name = modelName(a.model, f);
  const d = generateDesign(f.q, {
    model: name,
    source: basename(f.meta.source.file || a.model),
    macs: a.macs,
    weights: checkWeights(a.weights),
    top: verilogName(`fxpq_${name}`),
    images: 1,
  });
  const files = synthesisFiles(d);
  if (!a.json)
    process.stderr.write(`synthesizing ${d.top} for ${a.target} with Yosys (WebAssembly); this takes minutes for a whole network...\n`);
  const s = await synthesize({ files, sources: d.sources, top: d.top, target: a.target as Target });
  const out = {
    target: s.target,
    top: d.top,
    macs: d.plan.macs,
    lut: s.lut,
    ff: s.ff,
    dsp: s.dsp,
    bram: s.bram,
    lutram: s.lutram,
    cells: s.cells,
    seconds: Number(s.seconds.toFixed(1)),
  };
  if (a.json) {
    console.log(asciiJson(out));
    return;
  }
  console.log(
    `${chalk.bold(d.top)} on ${s.target}: ${s.lut} LUT, ${s.ff} FF, ${s.dsp} DSP, ${s.bram} BRAM, ${s.lutram} LUTRAM (${s.seconds.toFixed(1)} s)`,
  );
}
