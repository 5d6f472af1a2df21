import { describe, expect, it } from 'vitest';
import { zooQGraph } from '../src/calibration/zoo.js';
import { generateDesign } from '../src/hw/generate.js';

const ZOO = ['mlp', 'lenet5', 'vgg_bn', 'resnet8', 'mobilenet'] as const;

/** Lines of every generated Verilog module of a design. */
function moduleLines(model: string, macs: number): Map<string, number> {
  const d = generateDesign(zooQGraph(model, 'u8'), { model, source: `${model}.onnx`, macs, top: 'fxpq' });
  const out = new Map<string, number>();
  for (const f of d.sources) out.set(f, d.files[f].split('\n').length);
  return out;
}

/**
 * Readable RTL: engines are generate loops over named parameters, so a module's length does not
 * grow with its parallelism (an unrolled ResNet-8 conv engine at --macs 1024 was 1,541 lines).
 */
describe('generated RTL size', () => {
  it('no zoo module reaches 400 lines at --macs 1024, and no engine grows by more than 20 lines from --macs 16 to 1024', () => {
    for (const m of ZOO) {
      const big = moduleLines(m, 1024),
        small = moduleLines(m, 16);
      for (const [f, n] of big) {
        expect(n, `${m} ${f}`).toBeLessThan(400);
        if (f !== 'fxpq.v') expect(n - (small.get(f) ?? 0), `${m} ${f}: ${small.get(f)} -> ${n} lines`).toBeLessThanOrEqual(20);
      }
    }
  });
});
