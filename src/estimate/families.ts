import type { Target } from '../synth/yosys.js';

export type { Target };

/**
 * What each FPGA family offers and how Yosys maps onto it (the `synth_*` scripts of Yosys 0.55):
 * the operand widths at which mul2dsp puts a multiply into a DSP block, and the block RAM shapes
 * memory_libmap tiles a memory with.
 */
export interface DspRule {
  /** Widest A and B port, and the narrowest operands and product that still go to a DSP. */
  aMax: number;
  bMax: number;
  minA: number;
  minB: number;
  minY: number;
  /** Width of the slices a too-wide A operand is cut into (DSP_A_MAXWIDTH_PARTIAL; default aMax). */
  aPartial?: number;
  /** DSP_SIGNEDONLY: each slice gives up one bit to a zero sign bit. */
  signedOnly?: boolean;
}

export interface BramRule {
  /** Data widths (with the matching depth) of one block in simple dual-port mode. */
  shapes: { width: number; depth: number; units: number }[];
}

/**
 * Yosys's memory_libmap cost model (passes/memory/memory_libmap.cc with the family's libraries:
 * xc7 brams_xc4v.txt and lutrams_xc5v.txt, iCE40 brams.txt, ECP5 lutrams_trellis.txt and
 * brams_16kd.txt): each RAM kind at each of its widths holds ceil(depth / words) address regions,
 * packed side by side into ceil(regions * width / unitWidth) instances, plus half a cost unit per
 * bit of read multiplexer and per region of write decoder, and the emulation score of its ports;
 * the cheapest wins if it costs less than logic (logicCostPerBit per bit for a ROM, logicCostRam
 * for a RAM, truncated).
 */
export interface LibmapRom {
  logicCostPerBit: number;
  /** Logic cost per RAM bit, where this model also decides RAMs. */
  logicCostRam?: number;
  /**
   * `distributed`: LUT RAM (counted as LUTRAM, not block RAM), with an asynchronous read port and
   * never used for ROMs (memlib's prune_rom). `widthscale`: that much of the cost is charged per
   * data bit used rather than per primitive (memlib's widthscale). `emu` and `ramEmu`: the
   * emulation score (times FACTOR_EMU, 2) when holding a ROM or a RAM: one point for a read port
   * of its own, three for read-first emulation where a write does not leave the other port's read
   * with the old word (the 2w + a + 2 flip-flops around iCE40 and ECP5 block-RAM RAMs). For the
   * templates' RAM in iCE40 and ECP5 block RAM the score is 7 (Yosys's `debug memory_libmap` log:
   * cost 128 x units + 14 on ECP5, which decides a 64 x 48 RAM for LUT RAM at 268 against 270).
   */
  rams: {
    name: string;
    abits: number;
    widths: number[];
    cost: number;
    units: number;
    emu: number;
    ramEmu: number;
    distributed?: boolean;
    byte?: number;
    widthscale?: number;
  }[];
  /** Logic ROM: banks of one LUT each combine through free wide-function multiplexers up to this many. */
  freeMuxBanks?: number;
}

export interface Family {
  name: string;
  /** What the estimate's `lutram` counts on this family: distributed RAM, or on iCE40 (which has none) SPRAM blocks. */
  lutramName: string;
  dsp: DspRule;
  dspCell: string;
  /**
   * Whether synthesis packs a lone product's accumulation (adder and accumulator register) into
   * the DSP block. The accumulator loads the bias on a pixel's first tap, so the adder's input is
   * a multiplexer of bias and register: xilinx_dsp maps that choice onto the DSP48E1's dynamic Z
   * multiplexer (P or C), while ice40_dsp's accumulator pattern needs the register itself on the
   * adder, and synth_ecp5 maps multiplies only. Measured: the xc7 microbenchmarks and mlp fit only
   * with packing, the iCE40 and ECP5 ones only without (an ECP5 mlp engine of 32 lanes keeps 850
   * flip-flops).
   */
  dspAccumulates: boolean;
  /**
   * Whether synthesis packs an average-pooling window-sum register into the DSP that multiplies it
   * by the reciprocal: xilinx_dsp makes it the DSP48E1's pre-adder register (ADREG, the adder's
   * output on the D port); the iCE40 and ECP5 flows keep it in the fabric.
   */
  dspPacksPoolSum: boolean;
  /**
   * Whether synthesis keeps window registers that never change (the origin of a layer with one
   * output pixel, the offsets of a 1 x 1 kernel, one-bit counters of a single step). synth_xilinx
   * removes them; synth_ice40 and synth_ecp5 do not: lenet5's last dense engine keeps iy0, ix0,
   * kyv, kxv, rowb, pix, kyo and its one-bit oy, ox, ky, kx on both (144 flip-flops each; 52 on
   * xc7, accumulators in DSPs).
   */
  keepsDeadRegisters: boolean;
  /**
   * Which multiplier operand registers synthesis packs into the DSP blocks' input registers.
   * `own`: a register that feeds one multiplier only (a weight lane; an input lane only with one
   * output channel per cycle): ice40_dsp's SB_MAC16 A_REG/B_REG. `all`: also one shared by
   * several multipliers, copied into each (xilinx_dsp's DSP48E1 AREG/BREG; fitting the xc7 records
   * that way took the flip-flop error from 4.6 % to 3.1 %, while on iCE40 it went from 2.9 % to
   * 4.0 %). `none`: synth_ecp5 leaves MULT18X18D's input registers unused.
   */
  dspOperandRegs: 'none' | 'own' | 'all';
  /**
   * Whether the logic around a RAM in block RAM registers the write data (memory_libmap's
   * read-first emulation on iCE40: a write-data and a bypass register per data bit), so data bits
   * the writer always drives alike share those registers. On ECP5 the fabric register is the read
   * data after the block RAM, one per bit whatever the writer does (maxpool 1068: 128 for 128 bits
   * on ECP5, 130 on iCE40 for words whose 16-bit lanes carry 8 distinct bits).
   */
  ramLogicOnWriteData: boolean;
  bram: BramRule;
  bramCell: string;
  lutInputs: number;
  libmapRom?: LibmapRom;
  /**
   * Single-port RAM blocks that memory_libmap may use for the weight store (templates/wstore.v.hbs):
   * iCE40 UltraPlus SPRAM under `synth_ice40 -spram` (techlibs/ice40/spram.txt: 16K x 16, cost
   * 2048 against the EBR's 64; the cheaper mapping wins).
   */
  spram?: { abits: number; width: number; cost: number; bramCost: number };
}

const ICE40UP: Family = {
  name: 'Lattice iCE40 UltraPlus',
  lutramName: 'SPRAM',
  // synth_ice40 -dsp: SB_MAC16, 16 x 16; products below 11 bits stay in LUTs.
  dsp: { aMax: 16, bMax: 16, minA: 2, minB: 2, minY: 11 },
  dspCell: 'SB_MAC16',
  dspAccumulates: false,
  dspPacksPoolSum: false,
  keepsDeadRegisters: true,
  dspOperandRegs: 'own',
  ramLogicOnWriteData: true,
  bram: {
    shapes: [
      { width: 2, depth: 2048, units: 1 },
      { width: 4, depth: 1024, units: 1 },
      { width: 8, depth: 512, units: 1 },
      { width: 16, depth: 256, units: 1 },
    ],
  },
  bramCell: 'SB_RAM40_4K',
  lutInputs: 4,
  // synth_ice40 runs memory_libmap with its defaults (logic cost 1/16 per ROM bit, 1 per RAM
  // bit) and $__ICE40_RAM4K_: 2048 x 2 to 256 x 16, cost 64, a dedicated read port. With no
  // distributed RAM, RAMs are decided by the same model.
  libmapRom: {
    logicCostPerBit: 1 / 16,
    logicCostRam: 1,
    // HAS_BE gives bit-wide write enables.
    rams: [{ name: 'RAM4K', abits: 11, widths: [2, 4, 8, 16], cost: 64, units: 1, emu: 0, ramEmu: 14, byte: 1 }],
  },
  spram: { abits: 14, width: 16, cost: 2048, bramCost: 64 },
};

export const FAMILIES: Record<Target, Family> = {
  xc7: {
    name: 'Xilinx 7-series',
    lutramName: 'LUTRAM',
    // synth_xilinx -family xc7: DSP48E1, 25 x 18 signed; narrower products stay in LUTs; wider A
    // operands are cut into 18-bit slices for the PCOUT >> 17 cascade.
    dsp: { aMax: 25, bMax: 18, minA: 2, minB: 2, minY: 9, aPartial: 18, signedOnly: true },
    dspCell: 'DSP48E1',
    dspAccumulates: true,
    dspPacksPoolSum: true,
    keepsDeadRegisters: false,
    dspOperandRegs: 'all',
    ramLogicOnWriteData: false,
    // RAMB18E1 counts 0.5 and RAMB36E1 1 (a RAMB36 site holds two RAMB18).
    bram: {
      shapes: [
        { width: 1, depth: 16384, units: 0.5 },
        { width: 2, depth: 8192, units: 0.5 },
        { width: 4, depth: 4096, units: 0.5 },
        { width: 9, depth: 2048, units: 0.5 },
        { width: 18, depth: 1024, units: 0.5 },
        { width: 36, depth: 512, units: 0.5 },
        { width: 1, depth: 32768, units: 1 },
        { width: 2, depth: 16384, units: 1 },
        { width: 4, depth: 8192, units: 1 },
        { width: 9, depth: 4096, units: 1 },
        { width: 18, depth: 2048, units: 1 },
        { width: 36, depth: 1024, units: 1 },
        { width: 72, depth: 512, units: 1 },
      ],
    },
    bramCell: 'RAMB36E1',
    lutInputs: 6,
    // synth_xilinx passes -logic-cost-rom 0.015625 and brams_xc4v.txt with HAS_SIZE_36, HAS_CASCADE
    // and HAS_MIXWIDTH_SDP; listed in the library's order (the first of equal costs wins).
    libmapRom: {
      logicCostPerBit: 0.015625,
      logicCostRam: 1,
      rams: [
        // lutrams_xc5v.txt's LUT RAMs with one write and one asynchronous read port, as the
        // activation buffers have: simple dual-port RAM64M as 64 x 3 or RAM32M
        // as 32 x 6 (cost 8 of which 7 scale with the data bits used), and dual-port RAM128X1D
        // (cost 8, all of it per data bit), which wins only for one-bit words deeper than 64. The
        // dual port kind's 64 x 2 and 32 x 4 options never win and the quad-port kind costs more.
        { name: 'LUTRAM SDP', abits: 6, widths: [3, 6], cost: 8, units: 1, emu: 0, ramEmu: 2, distributed: true, widthscale: 7 },
        { name: 'LUTRAM DP', abits: 7, widths: [1], cost: 8, units: 1, emu: 0, ramEmu: 2, distributed: true, widthscale: 8 },
        // emu 2: the read port is emulated on a read/write port (FACTOR_EMU x one point).
        { name: 'TDP RAMB18', abits: 14, widths: [1, 2, 4, 9, 18], cost: 129, units: 0.5, emu: 2, ramEmu: 2 },
        { name: 'TDP RAMB36', abits: 15, widths: [1, 2, 4, 9, 18, 36], cost: 257, units: 1, emu: 2, ramEmu: 2 },
        { name: 'TDP cascade', abits: 16, widths: [1], cost: 513, units: 2, emu: 2, ramEmu: 2 },
        { name: 'SDP RAMB18', abits: 14, widths: [1, 2, 4, 9, 18, 36], cost: 129, units: 0.5, emu: 2, ramEmu: 2 },
        { name: 'SDP RAMB36', abits: 15, widths: [1, 2, 4, 9, 18, 36, 72], cost: 257, units: 1, emu: 2, ramEmu: 2 },
      ],
    },
  },
  ice40up: ICE40UP,
  // synth_ice40 without -dsp (LP/HX have no SB_MAC16): every product is logic. Otherwise the
  // UltraPlus's fabric: the same logic cells, EBR and memory_libmap rules.
  ice40hx: { ...ICE40UP, name: 'Lattice iCE40 LP/HX', dsp: { aMax: 0, bMax: 0, minA: 99, minB: 99, minY: 999 }, spram: undefined },
  ecp5: {
    name: 'Lattice ECP5',
    lutramName: 'LUTRAM',
    // synth_ecp5: MULT18X18D for every multiply.
    dsp: { aMax: 18, bMax: 18, minA: 2, minB: 2, minY: 0 },
    dspCell: 'MULT18X18D',
    dspAccumulates: false,
    dspPacksPoolSum: false,
    keepsDeadRegisters: true,
    dspOperandRegs: 'none',
    ramLogicOnWriteData: false,
    // synth_ecp5 runs memory_libmap with lattice/lutrams_trellis.txt and brams_16kd.txt at the default
    // logic costs: TRELLIS_DPR16X4 (16 x 4, cost 4, asynchronous read, not for ROMs), DP16KD
    // (true dual port, 16K x 1 to 1K x 18, cost 128; a ROM's read port emulated on a read/write
    // port) and PDPW16KD (read port up to 512 x 36, cost 128). Slices combine up to eight LUT4s
    // through PFUMX/L6MUX21 without further LUTs.
    libmapRom: {
      logicCostPerBit: 1 / 16,
      logicCostRam: 1,
      rams: [
        { name: 'DPR16X4', abits: 4, widths: [4], cost: 4, units: 1, emu: 0, ramEmu: 2, distributed: true },
        { name: 'DP16KD', abits: 14, widths: [1, 2, 4, 9, 18], cost: 128, units: 1, emu: 2, ramEmu: 14, byte: 9 },
        { name: 'PDPW16KD', abits: 14, widths: [1, 2, 4, 9, 18, 36], cost: 128, units: 1, emu: 0, ramEmu: 14, byte: 9 },
      ],
      freeMuxBanks: 8,
    },
    bram: {
      shapes: [
        { width: 1, depth: 16384, units: 1 },
        { width: 2, depth: 8192, units: 1 },
        { width: 4, depth: 4096, units: 1 },
        { width: 9, depth: 2048, units: 1 },
        { width: 18, depth: 1024, units: 1 },
        { width: 36, depth: 512, units: 1 },
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

/**
 * Where memory_libmap puts a ROM (or, with `ram`, a RAM): block or distributed RAM instances and
 * their read multiplexer, or logic (null).
 */
export function libmapRom(
  depth: number,
  width: number,
  lib: LibmapRom,
  ram = false,
): { units: number; regions: number; distributed: boolean } | null {
  let best: { cost: number; units: number; regions: number; distributed: boolean } | null = null;
  for (const r of lib.rams) {
    if (r.distributed && !ram) continue;
    for (let b = 0; b < r.widths.length; b++) {
      const regions = Math.ceil(depth / 2 ** (r.abits - b));
      // Address regions are packed side by side; a RAM's word is first padded to whole write-enable
      // bytes (the library's byte width, or the whole unit where it has none: distributed RAM),
      // a ROM's is not.
      const eb = ram ? Math.min(r.byte || r.widths[b], r.widths[b]) : 1;
      const repl = Math.ceil((regions * Math.ceil(width / eb) * eb) / r.widths[b]);
      // A ROM's read port on a read/write port is emulated (emu); a RAM uses both ports as they are.
      // Per-primitive cost, the data-width share (widthscale), read multiplexers between regions
      // (FACTOR_MUX 0.5), for a RAM split into regions a write-enable decoder (FACTOR_DEMUX 0.5),
      // and the emulation score.
      const ws = r.widthscale ?? 0;
      const cost =
        (r.cost - ws) * repl +
        (ws * regions * width) / r.widths[b] +
        0.5 * (regions - 1) * width +
        (ram && regions > 1 ? 0.5 * regions : 0) +
        (ram ? r.ramEmu : r.emu);
      if (!best || cost < best.cost) best = { cost, units: repl * r.units, regions, distributed: !!r.distributed };
    }
  }
  const logic = Math.trunc(depth * width * (ram ? lib.logicCostRam! : lib.logicCostPerBit));
  return best && best.cost < logic ? { units: best.units, regions: best.regions, distributed: best.distributed } : null;
}

/**
 * LUTs per output bit of an n:1 read multiplexer (select registered): one LUT while data and
 * select inputs fit a 6-input LUT; beyond that what ABC made of it on the measured shapes
 * (5:1 four LUTs with MUXF7/F8, 7:1 and 9:1 about three), and about a LUT per four inputs after.
 */
export function readMuxLuts(n: number): number {
  if (n <= 1) return 0;
  const sel = Math.ceil(Math.log2(n));
  if (n + sel <= 6) return 1;
  const measured: Record<number, number> = { 5: 4, 6: 3, 7: 3, 8: 3, 9: 3.2 };
  return measured[n] ?? Math.ceil(n / 4) + 1;
}
