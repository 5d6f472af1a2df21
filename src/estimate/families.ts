import type { Target } from '../synth/yosys.js';

export type { Target };

/**
 * What each FPGA family offers and how Yosys maps onto it (the `synth_*` scripts of Yosys 0.55):
 * the operand widths at which mul2dsp puts a multiply into a DSP block, and the block RAM shapes
 * memory_libmap tiles a memory with.
 */
export interface DspRule {
  /** Widest A and B port, and the narrowest operands and product that still go to a DSP. */
  aMax: number; bMax: number; minA: number; minB: number; minY: number;
}

export interface BramRule {
  /** Data widths (with the matching depth) of one block in simple dual-port mode. */
  shapes: { width: number; depth: number; units: number }[];
}

export interface Family {
  name: string;
  dsp: DspRule;
  dspCell: string;
  bram: BramRule;
  bramCell: string;
  lutInputs: number;
}

export const FAMILIES: Record<Target, Family> = {
  xc7: {
    name: 'Xilinx 7-series',
    // synth_xilinx -family xc7: DSP48E1, 25 x 18 signed; narrower products stay in LUTs.
    dsp: { aMax: 25, bMax: 18, minA: 2, minB: 2, minY: 9 },
    dspCell: 'DSP48E1',
    // RAMB18E1 counts 0.5 and RAMB36E1 1 (a RAMB36 site holds two RAMB18).
    bram: {
      shapes: [
        { width: 1, depth: 16384, units: 0.5 }, { width: 2, depth: 8192, units: 0.5 }, { width: 4, depth: 4096, units: 0.5 },
        { width: 9, depth: 2048, units: 0.5 }, { width: 18, depth: 1024, units: 0.5 }, { width: 36, depth: 512, units: 0.5 },
        { width: 1, depth: 32768, units: 1 }, { width: 2, depth: 16384, units: 1 }, { width: 4, depth: 8192, units: 1 },
        { width: 9, depth: 4096, units: 1 }, { width: 18, depth: 2048, units: 1 }, { width: 36, depth: 1024, units: 1 }, { width: 72, depth: 512, units: 1 },
      ],
    },
    bramCell: 'RAMB36E1',
    lutInputs: 6,
  },
  ice40up: {
    name: 'Lattice iCE40 UltraPlus',
    // synth_ice40 -dsp: SB_MAC16, 16 x 16; products below 11 bits stay in LUTs.
    dsp: { aMax: 16, bMax: 16, minA: 2, minB: 2, minY: 11 },
    dspCell: 'SB_MAC16',
    bram: { shapes: [{ width: 2, depth: 2048, units: 1 }, { width: 4, depth: 1024, units: 1 }, { width: 8, depth: 512, units: 1 }, { width: 16, depth: 256, units: 1 }] },
    bramCell: 'SB_RAM40_4K',
    lutInputs: 4,
  },
  ecp5: {
    name: 'Lattice ECP5',
    // synth_ecp5: MULT18X18D for every multiply.
    dsp: { aMax: 18, bMax: 18, minA: 2, minB: 2, minY: 0 },
    dspCell: 'MULT18X18D',
    bram: {
      shapes: [
        { width: 1, depth: 16384, units: 1 }, { width: 2, depth: 8192, units: 1 }, { width: 4, depth: 4096, units: 1 },
        { width: 9, depth: 2048, units: 1 }, { width: 18, depth: 1024, units: 1 }, { width: 36, depth: 512, units: 1 },
      ],
    },
    bramCell: 'DP16KD',
    lutInputs: 4,
  },
};

/** The fewest block RAM units that hold depth x width words, over the family's shapes. */
export function bramTiles(depth: number, width: number, rule: BramRule): number {
  let best = Infinity;
  for (const s of rule.shapes) best = Math.min(best, Math.ceil(depth / s.depth) * Math.ceil(width / s.width) * s.units);
  return best;
}
