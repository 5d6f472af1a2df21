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
  /** Estimator calibration that prices designs for it (null: none yet). */
  estimator: Target | null;
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

type Row = Omit<Part, 'ff'> & Partial<Pick<Part, 'ff'>>;
const ice40 = (r: Omit<Row, 'bramKbit' | 'source' | 'estimator' | 'dsp' | 'spram'> & Partial<Row>): Row => ({
  bramKbit: 4,
  dsp: 0,
  spram: 0,
  // LP and HX share the UltraPlus's logic cells and EBR but have no DSP blocks: synth_ice40 without -dsp.
  estimator: r.family === 'ice40up' ? 'ice40up' : 'ice40hx',
  source: r.family === 'ice40up' ? ICE40UP : ICE40LPHX,
  ...r,
});

const ROWS: Row[] = [
  ice40({
    name: 'up5k',
    vendor: 'iCE40UP5K-SG48',
    family: 'ice40up',
    lut: 5280,
    dsp: 8,
    bram: 30,
    spram: 4,
    io: 39,
    package: 'sg48',
    estimator: 'ice40up',
    nextpnr: { arch: '--up5k', package: 'sg48' },
  }),
  ice40({
    name: 'up3k',
    vendor: 'iCE40UP3K-SG48',
    family: 'ice40up',
    lut: 2800,
    dsp: 4,
    bram: 20,
    spram: 4,
    io: 39,
    package: 'sg48',
    estimator: 'ice40up',
    nextpnr: { arch: '--up3k', package: 'sg48' },
  }),
  ice40({
    name: 'hx1k',
    vendor: 'iCE40HX1K-TQ144',
    family: 'ice40hx',
    lut: 1280,
    bram: 16,
    io: 95,
    package: 'tq144',
    nextpnr: { arch: '--hx1k', package: 'tq144' },
  }),
  ice40({
    name: 'hx4k',
    vendor: 'iCE40HX4K-TQ144',
    family: 'ice40hx',
    lut: 3520,
    bram: 20,
    io: 107,
    package: 'tq144',
    nextpnr: { arch: '--hx4k', package: 'tq144' },
  }),
  ice40({
    name: 'hx8k',
    vendor: 'iCE40HX8K-CT256',
    family: 'ice40hx',
    lut: 7680,
    bram: 32,
    io: 206,
    package: 'ct256',
    nextpnr: { arch: '--hx8k', package: 'ct256' },
  }),
  ice40({
    name: 'lp1k',
    vendor: 'iCE40LP1K-CM121',
    family: 'ice40lp',
    lut: 1280,
    bram: 16,
    io: 95,
    package: 'cm121',
    nextpnr: { arch: '--lp1k', package: 'cm121' },
  }),
  ice40({
    name: 'lp8k',
    vendor: 'iCE40LP8K-CM81',
    family: 'ice40lp',
    lut: 7680,
    bram: 32,
    io: 63,
    package: 'cm81',
    nextpnr: { arch: '--lp8k', package: 'cm81' },
  }),
  {
    name: 'ecp5-12f',
    vendor: 'LFE5U-12F-6BG256',
    family: 'ecp5',
    lut: 12_000,
    dsp: 28,
    bram: 32,
    bramKbit: 18,
    spram: 0,
    io: 197,
    package: 'caBGA256',
    estimator: 'ecp5',
    nextpnr: null,
    source: ECP5,
  },
  {
    name: 'ecp5-25f',
    vendor: 'LFE5U-25F-6BG256',
    family: 'ecp5',
    lut: 24_000,
    dsp: 28,
    bram: 56,
    bramKbit: 18,
    spram: 0,
    io: 197,
    package: 'caBGA256',
    estimator: 'ecp5',
    nextpnr: null,
    source: ECP5,
  },
  {
    name: 'ecp5-45f',
    vendor: 'LFE5U-45F-6BG381',
    family: 'ecp5',
    lut: 44_000,
    dsp: 72,
    bram: 108,
    bramKbit: 18,
    spram: 0,
    io: 203,
    package: 'caBGA381',
    estimator: 'ecp5',
    nextpnr: null,
    source: ECP5,
  },
  {
    name: 'ecp5-85f',
    vendor: 'LFE5U-85F-6BG381',
    family: 'ecp5',
    lut: 84_000,
    dsp: 156,
    bram: 208,
    bramKbit: 18,
    spram: 0,
    io: 205,
    package: 'caBGA381',
    estimator: 'ecp5',
    nextpnr: null,
    source: ECP5,
  },
  {
    name: 'xc7a35t',
    vendor: 'XC7A35T-1CPG236C',
    family: 'xc7',
    lut: 20_800,
    ff: 41_600,
    dsp: 90,
    bram: 50,
    bramKbit: 36,
    spram: 0,
    io: 106,
    package: 'cpg236',
    estimator: 'xc7',
    nextpnr: null,
    source: ARTIX7,
  },
  {
    name: 'xc7a50t',
    vendor: 'XC7A50T-1CSG324C',
    family: 'xc7',
    lut: 32_600,
    ff: 65_200,
    dsp: 120,
    bram: 75,
    bramKbit: 36,
    spram: 0,
    io: 210,
    package: 'csg324',
    estimator: 'xc7',
    nextpnr: null,
    source: ARTIX7,
  },
  {
    name: 'xc7a100t',
    vendor: 'XC7A100T-1CSG324C',
    family: 'xc7',
    lut: 63_400,
    ff: 126_800,
    dsp: 240,
    bram: 135,
    bramKbit: 36,
    spram: 0,
    io: 210,
    package: 'csg324',
    estimator: 'xc7',
    nextpnr: null,
    source: ARTIX7,
  },
  {
    name: 'xc7a200t',
    vendor: 'XC7A200T-1SBG484C',
    family: 'xc7',
    lut: 134_600,
    ff: 269_200,
    dsp: 740,
    bram: 365,
    bramKbit: 36,
    spram: 0,
    io: 285,
    package: 'sbg484',
    estimator: 'xc7',
    nextpnr: null,
    source: ARTIX7,
  },
  {
    name: 'xc7z010',
    vendor: 'XC7Z010-1CLG400C',
    family: 'xc7',
    lut: 17_600,
    ff: 35_200,
    dsp: 80,
    bram: 60,
    bramKbit: 36,
    spram: 0,
    io: 100,
    package: 'clg400',
    estimator: 'xc7',
    nextpnr: null,
    source: ZYNQ7,
  },
  {
    name: 'xc7z020',
    vendor: 'XC7Z020-1CLG400C',
    family: 'xc7',
    lut: 53_200,
    ff: 106_400,
    dsp: 220,
    bram: 140,
    bramKbit: 36,
    spram: 0,
    io: 125,
    package: 'clg400',
    estimator: 'xc7',
    nextpnr: null,
    source: ZYNQ7,
  },
];

/** Every known part; flip-flops default to one per LUT (iCE40 logic cells, ECP5 slices). */
export const PARTS: readonly Part[] = ROWS.map((r) => ({ ...r, ff: r.ff ?? r.lut }));

/** The part named by --device (case-insensitive), or one line listing the known names. */
export function findPart(name: string): Part {
  const key = name.trim().toLowerCase();
  const p = PARTS.find((q) => q.name === key || q.vendor.toLowerCase() === key);
  if (!p) throw new FxpqError(`--device must be one of ${PARTS.map((q) => q.name).join(', ')}, got ${JSON.stringify(name.slice(0, 40))}`);
  return p;
}
