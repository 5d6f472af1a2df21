import { bramTiles, type Family, libmapRom, readMuxLuts } from './families.js';

/**
 * Where Yosys puts each memory of the design and what that costs: block RAM, distributed (LUT)
 * RAM, or logic (a LUT table plus output register for a ROM; flip-flops for a RAM on a family
 * without distributed RAM). Rules measured per family over a grid of the templates' own memory
 * modules (bench/estimator-memories.ts; bench/estimator-fit.ts checks them against it and stores
 * the thresholds with the calibration).
 */
export interface MemoryRules {
  /** Block RAM when the memory fills at least this share of the blocks it would take. */
  romMinEfficiency: number;
  ramMinEfficiency: number;
  /** Distributed RAM: shallow (<= 64 words) always; deeper while it needs at most `maxUnits` primitives. */
  lutram: { maxUnits: number } | null;
  /** Bits of one block RAM unit (parity included), for the efficiency. */
  unitBits: number;
  /**
   * Logic around a RAM in block RAM, as [per data bit, per address bit, constant], LUTs and
   * flip-flops: the read-during-write bypass that memory_libmap adds where the block RAM's read
   * port does not see a write of the same cycle (iCE40, ECP5) holds the written word and address
   * and compares addresses, so it grows with both widths.
   */
  ramBramLogic?: { lut: [number, number, number]; ff: [number, number, number] };
}

// Address bits of the memory as Yosys sees it: none for a single word (hw/verilog.ts's clog2
// keeps a 1-bit port there, which Yosys then removes).
const addressBits = (depth: number) => Math.ceil(Math.log2(depth));

/** LUTs and flip-flops around a RAM of this shape in block RAM (MemoryRules.ramBramLogic). */
export function ramBramLogic(depth: number, width: number, r: MemoryRules): { lut: number; ff: number } {
  const at = (c?: [number, number, number]) => (c ? Math.round(c[0] * width + c[1] * addressBits(depth) + c[2]) : 0);
  return { lut: at(r.ramBramLogic?.lut), ff: at(r.ramBramLogic?.ff) };
}

export interface MemoryMapping {
  how: 'bram' | 'lutram' | 'logic';
  bram: number;
  lutram: number;
  lut: number;
  ff: number;
}

/** Distributed RAM primitives: 32 x 6 (RAM32M) up to 32 words, 64 x 3 (RAM64M) beyond, in 64-word banks. */
function lutramShape(depth: number, width: number) {
  if (depth <= 32) return { units: Math.ceil(width / 6), banks: 1 };
  const banks = Math.ceil(depth / 64);
  return { units: banks * Math.ceil(width / 3), banks };
}

/**
 * LUTs per bit of the read multiplexer behind n regions of ECP5 distributed RAM (measured 2..16;
 * beyond, by the same slope). Three regions take two (a LUT and a PFUMX pair): the 36-word
 * activation buffers of test/synth.test.ts's small network, 6, 12 and 14 bits wide, took 15, 27
 * and 31 LUTs (2 per bit plus a write enable per region); priced at 3 they came out 40 % high.
 */
function lutramMuxLuts(n: number): number {
  const measured: Record<number, number> = { 2: 1, 3: 2, 4: 4, 5: 5, 6: 6, 7: 6, 8: 6 };
  return measured[n] ?? Math.round(1.3 * n);
}

/**
 * LUTs per bit of an n:1 read multiplexer: measured shapes on 6-input LUTs; on 4-input LUTs a 2:1
 * LUT per input beyond one, or, where slices combine LUT pairs (ECP5's PFUMX and L6MUX21), a LUT
 * per two inputs.
 */
const muxLuts = (n: number, fam: Family) =>
  n <= 1 ? 0 : fam.lutInputs >= 6 ? readMuxLuts(n) : fam.libmapRom?.freeMuxBanks ? Math.ceil(n / 2) : n - 1;

/**
 * LUTs of one ROM column of `depth` words as a tree of 2:1 multiplexers over k-input tables, split
 * at the top address bit: a part above a power of two of at most 2^(k-2) words is a function of
 * k-2 address bits, which the multiplexer's LUT takes on its two spare inputs for free.
 */
export function muxTreeLuts(depth: number, k: number): number {
  if (depth <= 1) return 0;
  if (depth <= 2 ** k) return 1;
  const low = 2 ** (Math.ceil(Math.log2(depth)) - 1),
    high = depth - low;
  return muxTreeLuts(low, k) + (high <= 2 ** (k - 2) ? 0 : muxTreeLuts(high, k)) + 1;
}

export function mapMemory(
  kind: 'rom' | 'ram',
  depth: number,
  width: number,
  fam: Family,
  r: MemoryRules,
  columns?: () => number,
  varying?: () => number,
  sharedBits = 0,
): MemoryMapping {
  const bits = depth * width;
  // One word: a ROM is a constant (its register holds the only value: no cells at all); a RAM is a
  // plain register.
  if (depth <= 1) return { how: 'logic', bram: 0, lutram: 0, lut: 0, ff: kind === 'rom' ? 0 : width };
  if (kind === 'rom' && fam.libmapRom) {
    // Yosys's own cost model (families.ts): exact block RAM counts, regions muxed by registered
    // top address bits.
    // Constant data bits are dropped before the choice (known contents).
    const w = varying ? varying() : width;
    if (w === 0) return { how: 'logic', bram: 0, lutram: 0, lut: 0, ff: 0 };
    const m = libmapRom(depth, w, fam.libmapRom);
    if (m)
      return { how: 'bram', bram: m.units, lutram: 0, lut: Math.round(w * muxLuts(m.regions, fam)), ff: Math.ceil(Math.log2(m.regions)) };
  }
  const lib = fam.libmapRom;
  if (kind === 'ram' && lib?.logicCostRam !== undefined) {
    // memory_libmap decides RAMs too: block or distributed RAM, else flip-flops (below).
    const m = libmapRom(depth, width, lib, true);
    if (m?.distributed) {
      // Regions beyond one: a read multiplexer per bit (measured on ECP5; on 6-input LUTs MUXF7/F8
      // take the first levels) and a write enable each; a RAM's synchronous read keeps its output
      // register.
      const perBit = fam.lutInputs >= 6 ? Math.ceil((m.regions - 1) / 3) : lutramMuxLuts(m.regions);
      const mux = m.regions > 1 ? width * perBit + m.regions : 0;
      return { how: 'lutram', bram: 0, lutram: m.units, lut: mux, ff: width };
    }
    if (m) {
      // Address regions beyond one add a read multiplexer per bit (select registered) and a write
      // enable per region.
      const mux = m.regions > 1 ? width * muxLuts(m.regions, fam) + m.regions : 0;
      const around = ramBramLogic(depth, fam.ramLogicOnWriteData ? width - sharedBits : width, r);
      return { how: 'bram', bram: m.units, lutram: 0, lut: around.lut + mux, ff: around.ff + Math.ceil(Math.log2(m.regions)) };
    }
  }
  const tiles = bramTiles(depth, width, fam.bram);
  const eff = bits / (tiles * r.unitBits);
  if (depth > 1) {
    if (kind === 'ram' && r.lutram) {
      const l = lutramShape(depth, width);
      if (depth <= 64 || l.units <= r.lutram.maxUnits || eff < r.ramMinEfficiency) {
        // Banks beyond one are selected by LUT multiplexers (MUXF7/F8 take the first levels).
        return {
          how: 'lutram',
          bram: 0,
          lutram: l.units,
          lut: l.banks > 1 ? width * Math.ceil((l.banks - 1) / 3) + l.banks : 0,
          ff: width,
        };
      }
      return { how: 'bram', bram: tiles, lutram: 0, lut: 0, ff: 0 };
    }
    if (
      !fam.libmapRom?.logicCostRam &&
      !(kind === 'rom' && fam.libmapRom) &&
      eff >= (kind === 'rom' ? r.romMinEfficiency : r.ramMinEfficiency)
    ) {
      const ram = kind === 'ram';
      const around = ram ? ramBramLogic(depth, width, r) : { lut: 0, ff: 0 };
      return { how: 'bram', bram: tiles, lutram: 0, ...around };
    }
  }
  // Logic: a ROM is a LUT table per output bit (64 entries per 6-input LUT, wider tables through
  // multiplexers) and its output register; a RAM is flip-flops and read muxes.
  // On 6-input LUTs MUXF7 and MUXF8 join the banks in pairs, so up to four banks a table takes a
  // power of two of them (a 144-word ROM takes four LUT6 per bit, as a 256-word one does).
  const needed = Math.ceil(depth / 2 ** fam.lutInputs);
  const banks = fam.lutInputs >= 6 && needed <= 4 ? 2 ** Math.ceil(Math.log2(needed)) : needed;
  // Combining the banks: 6-input LUT families have MUXF7/F8 for the first two levels; with 4-input
  // LUTs every 2:1 multiplexer is a LUT, unless the slices combine them (ECP5: PFUMX and L6MUX21
  // up to eight banks, one LUT more for a count that is not a power of two; beyond, about half a
  // LUT per bank).
  const free = fam.libmapRom?.freeMuxBanks;
  const mux =
    fam.lutInputs >= 6
      ? Math.max(0, banks / 4 - 1) * 1.5
      : free
        ? banks <= free
          ? (banks & (banks - 1)) === 0
            ? 0
            : 1
          : 0.5 * banks
        : banks - 1;
  if (kind === 'rom') {
    // Only columns that vary, each once, need a table and a register bit (when the contents are known).
    const w = columns ? columns() : width;
    // Plain 4-input LUTs (iCE40): the tree folds a small part above a power of two into a
    // multiplexer (conv 1046's 36-word weight ROM: 1,812 LUT4 for 512 columns, 3.5 each, where
    // one table per 16 words and a LUT per multiplexer say 5).
    const perCol = fam.lutInputs < 6 && !free ? muxTreeLuts(depth, fam.lutInputs) : banks + mux;
    return { how: 'logic', bram: 0, lutram: 0, lut: w * perCol, ff: w };
  }
  // Flip-flops for every bit, a depth-to-1 read multiplexer per output bit, a write enable per word;
  // bits that are always zero or copies of another need none of them.
  const readMux = fam.lutInputs >= 6 ? Math.ceil(depth / 4) : depth - 1;
  const live = width - sharedBits;
  return { how: 'logic', bram: 0, lutram: 0, lut: live * readMux + depth, ff: depth * live + (kind === 'ram' ? live : 0) };
}
