import { FxpqError } from '../errors.js';
import type { Target } from '../synth/yosys.js';

/**
 * FPGA parts as data: what each offers, from the vendors' datasheets, and which of fxpq's tools
 * know it (the resource estimator's calibration, nextpnr's chip database). Resources are in the
 * units the estimator and Yosys count: LUTs (iCE40: logic cells, one LUT4 and one flip-flop
 * each), flip-flops, DSP blocks (iCE40 SB_MAC16, ECP5 18x18 multipliers, 7-series DSP48E1), block
 * RAMs (iCE40 4-kbit EBR, ECP5 18-kbit sysMEM, 7-series 36-kbit BRAM) and single-port RAM
 * (iCE40 UltraPlus 256-kbit SPRAM).
 */
export type PartFamily = 'ice40up' | 'ice40hx' | 'ice40lp' | 'ecp5' | 'xc7';

export interface Part {
  /** The name users type after --device. */
  name: string;
  /** The vendor's part name. */
  vendor: string;
  family: PartFamily;
  lut: number;
  ff: number;
  dsp: number;
  bram: number;
  /** Kbit in one block RAM. */
  bramKbit: number;
  spram: number;
  /** User I/O of the package named in `package`. */
  io: number;
  package: string;
  /** Estimator calibration that prices designs for it. */
  estimator: Target;
  /** Place and route: the nextpnr-ice40 device flag, or null where no build is reachable from npm. */
  nextpnr: { arch: string; package: string } | null;
  /** Datasheet the figures come from. */
  source: string;
}

const ICE40UP = 'Lattice iCE40 UltraPlus Family Data Sheet (FPGA-DS-02008), table 1.1';
const ICE40LPHX = 'Lattice iCE40 LP/HX Family Data Sheet (FPGA-DS-02029), table 1.1';
const ECP5 = 'Lattice ECP5 and ECP5-5G Family Data Sheet (FPGA-DS-02012), table 1.1 (LUTs given in thousands)';
const ARTIX7 = 'Xilinx 7 Series FPGAs Data Sheet: Overview (DS180), table 3 (LUTs = 4 per slice)';
const ZYNQ7 = 'Xilinx Zynq-7000 SoC Data Sheet: Overview (DS190), programmable logic table';

/** name, vendor part number, LUTs (logic cells), DSP blocks, block RAMs, SPRAM, user I/O, package; nextpnr-ice40's device flag. */
type Ice40Row = [string, string, number, number, number, number, number, string, string];
const ICE40_ROWS: Ice40Row[] = [
  ['up5k', 'iCE40UP5K-SG48', 5280, 8, 30, 4, 39, 'sg48', '--up5k'],
  ['up3k', 'iCE40UP3K-SG48', 2800, 4, 20, 4, 39, 'sg48', '--up3k'],
  ['hx1k', 'iCE40HX1K-TQ144', 1280, 0, 16, 0, 95, 'tq144', '--hx1k'],
  ['hx4k', 'iCE40HX4K-TQ144', 3520, 0, 20, 0, 107, 'tq144', '--hx4k'],
  ['hx8k', 'iCE40HX8K-CT256', 7680, 0, 32, 0, 206, 'ct256', '--hx8k'],
  ['lp1k', 'iCE40LP1K-CM121', 1280, 0, 16, 0, 95, 'cm121', '--lp1k'],
  ['lp8k', 'iCE40LP8K-CM81', 7680, 0, 32, 0, 63, 'cm81', '--lp8k'],
];
const ice40 = ([name, vendor, lut, dsp, bram, spram, io, pkg, arch]: Ice40Row): Part => {
  const family: PartFamily = name.startsWith('up') ? 'ice40up' : name.startsWith('hx') ? 'ice40hx' : 'ice40lp';
  return {
    name,
    vendor,
    family,
    // One flip-flop per logic cell.
    lut,
    ff: lut,
    dsp,
    bram,
    bramKbit: 4,
    spram,
    io,
    package: pkg,
    // LP and HX share the UltraPlus's logic cells and EBR but have no DSP blocks: synth_ice40 without -dsp.
    estimator: family === 'ice40up' ? 'ice40up' : 'ice40hx',
    nextpnr: { arch, package: pkg },
    source: family === 'ice40up' ? ICE40UP : ICE40LPHX,
  };
};

/** name, vendor part number, LUTs, flip-flops, DSP blocks, block RAMs, user I/O, package. */
type OtherRow = [string, string, number, number, number, number, number, string];
// ECP5 slices hold two LUT4s and two flip-flops.
const ECP5_ROWS: OtherRow[] = [
  ['ecp5-12f', 'LFE5U-12F-6BG256', 12_000, 12_000, 28, 32, 197, 'caBGA256'],
  ['ecp5-25f', 'LFE5U-25F-6BG256', 24_000, 24_000, 28, 56, 197, 'caBGA256'],
  ['ecp5-45f', 'LFE5U-45F-6BG381', 44_000, 44_000, 72, 108, 203, 'caBGA381'],
  ['ecp5-85f', 'LFE5U-85F-6BG381', 84_000, 84_000, 156, 208, 205, 'caBGA381'],
];
const XC7_ROWS: OtherRow[] = [
  ['xc7a35t', 'XC7A35T-1CPG236C', 20_800, 41_600, 90, 50, 106, 'cpg236'],
  ['xc7a50t', 'XC7A50T-1CSG324C', 32_600, 65_200, 120, 75, 210, 'csg324'],
  ['xc7a100t', 'XC7A100T-1CSG324C', 63_400, 126_800, 240, 135, 210, 'csg324'],
  ['xc7a200t', 'XC7A200T-1SBG484C', 134_600, 269_200, 740, 365, 285, 'sbg484'],
  ['xc7z010', 'XC7Z010-1CLG400C', 17_600, 35_200, 80, 60, 100, 'clg400'],
  ['xc7z020', 'XC7Z020-1CLG400C', 53_200, 106_400, 220, 140, 125, 'clg400'],
];
const other =
  (family: 'ecp5' | 'xc7', bramKbit: number, source: (name: string) => string) =>
  ([name, vendor, lut, ff, dsp, bram, io, pkg]: OtherRow): Part => ({
    name,
    vendor,
    family,
    lut,
    ff,
    dsp,
    bram,
    bramKbit,
    spram: 0,
    io,
    package: pkg,
    estimator: family,
    // No nextpnr build for ECP5 or 7-series is on npm.
    nextpnr: null,
    source: source(name),
  });

/** Every known part. */
export const PARTS: readonly Part[] = [
  ...ICE40_ROWS.map(ice40),
  ...ECP5_ROWS.map(other('ecp5', 18, () => ECP5)),
  ...XC7_ROWS.map(other('xc7', 36, (n) => (n.startsWith('xc7z') ? ZYNQ7 : ARTIX7))),
];

/** The part named by --device (case-insensitive), or one line listing the known names. */
export function findPart(name: string): Part {
  const key = name.trim().toLowerCase();
  const p = PARTS.find((q) => q.name === key || q.vendor.toLowerCase() === key);
  if (!p) throw new FxpqError(`--device must be one of ${PARTS.map((q) => q.name).join(', ')}, got ${JSON.stringify(name.slice(0, 40))}`);
  return p;
}
