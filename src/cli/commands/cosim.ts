import chalk from 'chalk';
import { basename } from 'node:path';
import { FxpqError } from '../../errors.js';
import { cosim } from '../../cosim/cosim.js';
import type { SimName } from '../../cosim/simulators.js';
import { checkOutputPath } from '../../io/atomic.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { Progress } from '../progress.js';
import { checkMacs, checkWeights, modelName, vectorInputs } from './generate.js';
import { asciiJson, terminalText } from '../../util/text.js';

export interface CosimArgs {
  model: string;
  data: string;
  scale?: string;
  limit?: number;
  sim: string;
  macs?: number;
  vcd?: string;
  stall: boolean;
  weights?: string;
  keep?: string;
  force?: boolean;
  json: boolean;
}

/** Runs the generated RTL in Icarus or Verilator and compares it with the integer reference. */
export async function cosimCommand(a: CosimArgs): Promise<void> {
  checkMacs(a.macs);
  if (a.keep) checkOutputPath(a.keep, { force: a.force, protect: [a.model, a.data], option: '--keep' });
  if (a.sim !== 'icarus' && a.sim !== 'verilator') throw new FxpqError(`--sim must be icarus or verilator, got ${a.sim}`);
  const f = readFxpFile(a.model);
  const { inputs, images } = vectorInputs(f, a.data, a.scale, a.limit ?? 100);
  const bar = new Progress(`cosim ${a.sim}`, images, 'images', !a.json);
  const r = await cosim(f.q, {
    sim: a.sim as SimName,
    macs: a.macs,
    weights: checkWeights(a.weights),
    model: modelName(a.model, f),
    source: basename(f.meta.source.file || a.model),
    inputs,
    images,
    stall: a.stall,
    vcd: a.vcd,
    keep: a.keep,
    cacheDir: '.fxpq-cache/verilator',
    onImage: (d) => bar.update(d),
    output: { force: a.force, protect: [a.model, a.data] },
  });
  bar.done();
  const fm = r.firstMismatch;
  if (a.json) {
    console.log(
      asciiJson({
        images: r.images,
        mismatches: r.mismatches,
        cycles_per_image: r.cycles_per_image,
        expected_cycles_per_image: r.expected_cycles,
        sim: r.sim,
        seconds: Number(r.seconds.toFixed(3)),
        build_seconds: Number(r.buildSeconds.toFixed(3)),
        first_mismatch: fm ? { image: fm.image, element: fm.element, got: fm.got, expected: fm.expected, layer: fm.layer } : null,
      }),
    );
  } else {
    const ok = r.mismatches === 0;
    const cyc =
      r.cycles_per_image === r.expected_cycles
        ? `${r.cycles_per_image} cycles per image (as planned)`
        : `${r.cycles_per_image} cycles per image (plan: ${r.expected_cycles})`;
    console.log(
      `${ok ? chalk.green('PASS') : chalk.red('FAIL')} ${r.sim}: ${r.images} images, ${r.mismatches} mismatches, ${cyc}, ${r.seconds.toFixed(1)} s (build ${r.buildSeconds.toFixed(1)} s)`,
    );
    if (fm) {
      console.log(`first mismatch: image ${fm.image}, logit ${fm.element}: RTL ${fm.got}, reference ${fm.expected}`);
      if (fm.layer)
        console.log(
          `first layer that differs: ${terminalText(fm.layer.layer)} (${fm.layer.engine}) at [c=${fm.layer.element.join(', y=').replace(/, y=(\d+), y=/, ', y=$1, x=')}]: RTL ${fm.layer.got ?? 'not written'}, reference ${fm.layer.expected}`,
        );
    }
  }
  if (r.mismatches > 0) throw new FxpqError(`${r.mismatches} mismatches between RTL and the integer reference`, 1);
}
