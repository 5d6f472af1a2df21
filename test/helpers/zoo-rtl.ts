import { describe, expect, it } from 'vitest';
import { cosim } from '../../src/cosim/cosim.js';
import { quantizeInput } from '../../src/intref/ops.js';
import { loadImages } from '../../src/io/dataset.js';
import { icarusBuild, lint, writeDesign } from './rtl.js';
import { type ZooConfig, zooQGraph } from './zoo-q.js';

/** MAC budgets that keep 1,000 Verilator images to seconds per model. */
const MACS: Record<string, number> = { mlp: 256, lenet5: 1024, vgg_bn: 1024, resnet8: 1024 };
/** Icarus is ~100x slower than Verilator: 100 images where that takes under a minute, fewer on the big CNNs. */
const ICARUS_IMAGES: Record<string, number> = { mlp: 100, lenet5: 100, vgg_bn: 3, resnet8: 2 };

function testImages(q: ReturnType<typeof zooQGraph>, limit: number) {
  const inV = q.values[q.input];
  const imgs = loadImages('models/data/test_x.npy', inV.shape, { limit });
  return { inputs: quantizeInput(imgs.data, inV.format), images: imgs.count };
}

/** One test file per zoo model, so vitest spreads the simulations over both cores. */
export function zooRtlSuite(name: string): void {
  const z = { name };
  describe(`${name} RTL: lint-clean, and bit-exact against the integer reference on test images`, () => {
    for (const config of ['u8', 'mixed'] as ZooConfig[]) {
      it(`${z.name} ${config}: verilator -Wall and iverilog -Wall silent; 1,000 images in Verilator; ${ICARUS_IMAGES[z.name]} in Icarus`, { timeout: 1_200_000 }, async () => {
        const q = zooQGraph(z.name, config);
        const macs = MACS[z.name];
        const { dir, d, cleanup } = writeDesign(q, { macs, images: 2 });
        try {
          expect((await lint(dir, d.top)).out.trim(), 'verilator --lint-only -Wall').toBe('');
          expect((await icarusBuild(dir)).out.trim(), 'iverilog -g2012 -Wall').toBe('');
        } finally {
          cleanup();
        }
        const common = { macs, model: z.name, source: `${z.name}.onnx`, cacheDir: '.fxpq-cache/verilator' };
        const v = await cosim(q, { ...common, sim: 'verilator', ...testImages(q, 1000) });
        expect(v.images).toBe(1000);
        expect(v.mismatches).toBe(0);
        expect(v.cycles.length).toBe(1000);
        // The plan's cycle count is exact: every image takes exactly the planned cycles in RTL.
        expect(new Set(v.cycles)).toEqual(new Set([d.plan.latency]));
        const ic = await cosim(q, { ...common, sim: 'icarus', ...testImages(q, ICARUS_IMAGES[z.name]) });
        expect(ic.mismatches).toBe(0);
        expect(ic.cycles).toEqual(Array(ICARUS_IMAGES[z.name]).fill(d.plan.latency));
      });
    }
  });
}
