import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFxpFile } from '../io/fxpjson.js';
import { maxRuleFormat } from '../fixed/format.js';
import { loadImages } from '../io/dataset.js';
import { importOnnxFile } from '../onnx/import.js';
import { type Assignment, buildQGraph } from '../quant/build.js';
import { calibrate, maxAbsOf } from '../quant/calibrate.js';
import { fuseGraph } from '../quant/fuse.js';
import type { QGraph } from '../quant/qgraph.js';
import { maxRuleActivation, uniformAssignment } from '../quant/uniform.js';

export const ZOO: { name: string; file: string }[] = JSON.parse(readFileSync('models/zoo.json', 'utf8'));
export type ZooConfig = 'u8' | 'mixed';

/** Word lengths cycled over the layers of the mixed configuration: 2 and 3 bits appear in every model. */
const MIXED_W = [3, 6, 2, 5, 4, 8];
const MIXED_OUT = [6, 8, 4, 7, 5];

/**
 * A zoo model quantized without search: every data structure at 8 bits, or a mixed configuration
 * with different word lengths per layer (weights down to 2-3 bits); fraction lengths by the max
 * rule on 64 calibration images. Accuracy is not the point here; exercising many widths is.
 */
export function zooQGraph(name: string, config: ZooConfig): QGraph {
  const g = importOnnxFile(`models/${name}.onnx`);
  const fg = fuseGraph(g);
  const stats = calibrate(g, loadImages('models/data/calib_x.npy', g.input.shape, { limit: 64 }));
  const a: Assignment = uniformAssignment(fg, stats, 8);
  if (config === 'mixed') {
    fg.layers.forEach((l, i) => {
      const f = a.layers[l.name];
      f.output = maxRuleActivation(stats.get(l.output), MIXED_OUT[i % MIXED_OUT.length]);
      if (l.op.kind === 'conv' || l.op.kind === 'dense') {
        f.weights = maxRuleFormat(maxAbsOf(l.op.weight.data), MIXED_W[i % MIXED_W.length], true);
        f.bias = maxRuleFormat(maxAbsOf(l.op.bias), 10 + (i % 5), true);
      }
    });
  }
  return buildQGraph(fg, a);
}

/** Writes zooQGraph(name, config) as a .fxp.json file (for CLI runs) and returns its path. */
export function writeZooFxp(name: string, config: ZooConfig, dir: string): string {
  const q = zooQGraph(name, config);
  const file = toFxpFile(q, {
    tool: { name: 'fxpq', version: 'test' },
    source: { file: `${name}.onnx`, sha256: '', opset: 13, producer: 'pytorch' },
    options: { config },
  });
  const path = join(dir, `${name}-${config}.fxp.json`);
  writeFileSync(path, JSON.stringify(file));
  return path;
}
