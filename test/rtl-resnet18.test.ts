import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resnet18Onnx } from '../src/onnx/resnet18.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildQGraph } from '../src/quant/build.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { uniformAssignment } from '../src/quant/uniform.js';
import { rng } from '../src/onnx/builder.js';
import { lint, writeDesign } from './helpers/rtl.js';

describe('a ResNet-18-sized network (11 M parameters)', () => {
  it('generates RTL that passes verilator --lint-only -Wall, with its on-chip memory in the README', { timeout: 900_000 }, async () => {
    const g = importOnnx(resnet18Onnx());
    const fg = fuseGraph(g);
    const r = rng(3);
    const n = 4 * 28 * 28;
    const stats = calibrate(g, { count: 4, data: Float64Array.from({ length: n }, () => r()) });
    const q = buildQGraph(fg, uniformAssignment(fg, stats, 8));
    const t0 = performance.now();
    const { dir, d, cleanup } = writeDesign(q, { macs: 256, images: 1, model: 'resnet18' });
    const genSeconds = (performance.now() - t0) / 1000;
    try {
      const params = q.layers.reduce((s, l) => s + ('weight' in l.op ? l.op.weight.data.length + l.op.bias.length : 0), 0);
      expect(params).toBeGreaterThan(11_000_000);
      const l = await lint(dir, d.top);
      expect(l.out.trim(), 'verilator --lint-only -Wall').toBe('');
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const total = /total: \*\*([\d.]+) kbit\*\*/.exec(readme);
      expect(total).not.toBeNull();
      // 8-bit weights alone need 11.2 M x 8 bits; the README's total includes them and the buffers.
      expect(Number(total![1]) * 1024).toBeGreaterThan(params * 8);
      console.log(`resnet18: generated in ${genSeconds.toFixed(1)} s, ${d.plan.engines.length} engines, on-chip memory ${total![1]} kbit`);
    } finally {
      cleanup();
    }
  });
});
