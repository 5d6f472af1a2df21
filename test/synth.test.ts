import { describe, expect, it } from 'vitest';
import { fxpqAsync, tempDir } from './helpers/cli.js';
import { ZOO, writeZooFxp } from './helpers/zoo-q.js';

/**
 * Real synthesis of the generated RTL with Yosys (WebAssembly). Whole networks take minutes each
 * (the weight ROMs' initial contents dominate), so CI runs every zoo model through synth_xilinx
 * and the two smallest through synth_ice40, all at the mixed configuration (2-8-bit weights);
 * bench/synth-zoo.ts runs the full matrix.
 */
const dir = tempDir();
const MACS = 64;

async function synth(name: string, target: string) {
  const fxp = writeZooFxp(name, 'mixed', dir);
  const r = await fxpqAsync('synth', fxp, '--target', target, '--macs', String(MACS), '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { lut: number; ff: number; dsp: number; bram: number; macs: number };
}

describe('the generated RTL synthesizes with Yosys', () => {
  for (const z of ZOO) {
    it(`${z.name} mixed: synth_xilinx`, { timeout: 900_000 }, async () => {
      const s = await synth(z.name, 'xc7');
      expect(s.lut).toBeGreaterThan(0);
      expect(s.ff).toBeGreaterThan(0);
      // Weight ROMs and activation buffers land in block RAM, not in LUTs.
      expect(s.bram).toBeGreaterThan(0);
    });
  }
  for (const name of ['mlp', 'lenet5']) {
    it(`${name} mixed: synth_ice40 -dsp`, { timeout: 900_000 }, async () => {
      const s = await synth(name, 'ice40up');
      expect(s.lut).toBeGreaterThan(0);
      expect(s.bram).toBeGreaterThan(0);
    });
  }
});
