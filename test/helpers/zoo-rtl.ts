import { describe, expect, it } from 'vitest';
import { cosim } from '../../src/cosim/cosim.js';
import { quantizeInput } from '../../src/intref/ops.js';
import { loadImages } from '../../src/io/dataset.js';
import { icarusBuild, lint, writeDesign } from './rtl.js';
import { type CosimResult } from '../../src/cosim/cosim.js';
import { buildPlan } from '../../src/hw/plan.js';
import { alwaysReady, type Handshake, TbStall } from '../../sim/handshake.js';
import { Simulator } from '../../sim/simulator.js';
import { type ZooConfig, zooQGraph } from '../../src/calibration/zoo.js';

/** MAC budgets that keep 1,000 Verilator images to seconds per model. */
const MACS: Record<string, number> = { mlp: 256, lenet5: 1024, vgg_bn: 1024, resnet8: 1024, mobilenet: 1024 };
/**
 * Further budgets for the simulator-vs-RTL cross-check (with the test bench's random handshake
 * stalls): the fewest multipliers that make sense for the model up to a middle budget.
 */
const CROSS_MACS: Record<string, number[]> = {
  mlp: [3, 16, 64],
  lenet5: [5, 64, 256],
  vgg_bn: [64, 256],
  resnet8: [64, 256],
  mobilenet: [64, 256],
};
const CROSS_IMAGES: Record<string, number> = { mlp: 20, lenet5: 10, vgg_bn: 4, resnet8: 4, mobilenet: 4 };

/** The simulator on the same images and handshake pattern: the RTL's logits and cycles exactly. */
function expectSimulatorAgrees(r: CosimResult, inputs: Float64Array, images: number, hs: Handshake): void {
  const s = new Simulator(r.plan).run(inputs, images, { handshake: hs });
  expect(r.outputs, 'RTL logits captured').not.toBeNull();
  const diff = Array.from(s.outputs).findIndex((v, i) => v !== r.outputs![i]);
  expect(diff, `first logit where the simulator differs from ${r.sim}`).toBe(-1);
  expect(r.outputs!.length).toBe(s.outputs.length);
  expect(
    s.timing.map((t) => ({ first: t.firstIn, last: t.lastOut })),
    `cycles of each image, simulator vs ${r.sim} (${hs.name})`,
  ).toEqual(r.spans);
}

/**
 * Icarus is 100-200x slower than Verilator, which runs 1,000 images: Icarus is the second,
 * independent simulator on the same design, so a sample is enough (40 images where that takes
 * well under a minute, fewer on the big CNNs).
 */
const ICARUS_IMAGES: Record<string, number> = { mlp: 40, lenet5: 40, vgg_bn: 3, resnet8: 2, mobilenet: 3 };

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
      it(
        `${z.name} ${config}: verilator -Wall and iverilog -Wall silent; 1,000 images in Verilator; ${ICARUS_IMAGES[z.name]} in Icarus`,
        { timeout: 1_200_000 },
        async () => {
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
          const vIn = testImages(q, 1000);
          const v = await cosim(q, { ...common, sim: 'verilator', captureOutputs: true, ...vIn });
          expect(v.images).toBe(1000);
          expect(v.mismatches).toBe(0);
          expect(v.cycles.length).toBe(1000);
          // The plan's cycle count is exact: every image takes exactly the planned cycles in RTL.
          expect(new Set(v.cycles)).toEqual(new Set([d.plan.latency]));
          expectSimulatorAgrees(v, vIn.inputs, vIn.images, alwaysReady);
          const icIn = testImages(q, ICARUS_IMAGES[z.name]);
          const ic = await cosim(q, { ...common, sim: 'icarus', captureOutputs: true, ...icIn });
          expect(ic.mismatches).toBe(0);
          expect(ic.cycles).toEqual(Array(ICARUS_IMAGES[z.name]).fill(d.plan.latency));
          expectSimulatorAgrees(ic, icIn.inputs, icIn.images, alwaysReady);
        },
      );
    }
    it(
      `${z.name} mixed: simulator and Verilator agree on logits and cycles at --macs ${CROSS_MACS[z.name].join(', ')} with handshake stalls`,
      { timeout: 1_200_000 },
      async () => {
        const q = zooQGraph(z.name, 'mixed');
        const imgs = testImages(q, CROSS_IMAGES[z.name]);
        for (const macs of CROSS_MACS[z.name]) {
          const r = await cosim(q, {
            macs,
            model: z.name,
            source: `${z.name}.onnx`,
            cacheDir: '.fxpq-cache/verilator',
            sim: 'verilator',
            stall: true,
            captureOutputs: true,
            ...imgs,
          });
          expect(r.mismatches).toBe(0);
          expect(r.plan.macs).toBeLessThanOrEqual(macs);
          // Stalls only add cycles to the planned latency.
          expect(Math.min(...r.cycles)).toBeGreaterThan(buildPlan(q, { macs }).latency);
          expectSimulatorAgrees(r, imgs.inputs, imgs.images, new TbStall());
        }
      },
    );
  });
}
