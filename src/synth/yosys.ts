import { FxpqError } from '../errors.js';

/**
 * Synthesis with Yosys compiled to WebAssembly (@yowasp/yosys): the generated sources and ROM
 * images go into Yosys's virtual file system, `synth_<family>` maps them, and `stat -json` gives
 * the cell counts that become LUT/FF/DSP/BRAM figures.
 */
/** ice40up: UltraPlus, with SB_MAC16 DSP blocks; ice40hx: LP/HX, whose multiplies are all logic. */
export type Target = 'xc7' | 'ice40up' | 'ice40hx' | 'ecp5';
export const TARGETS: Target[] = ['xc7', 'ice40up', 'ice40hx', 'ecp5'];

export interface SynthStats {
  target: Target;
  lut: number;
  ff: number;
  dsp: number;
  /** Block RAMs in the family's unit: RAMB36E1 + RAMB18E1/2 on xc7, SB_RAM40_4K on iCE40, DP16KD on ECP5. */
  bram: number;
  /** Distributed-RAM and SPRAM cells, counted separately. */
  lutram: number;
  cells: Record<string, number>;
  seconds: number;
  log: string;
  /** Hierarchical runs only: each module's own resources (its submodule instances not included). */
  modules?: Record<string, Resources>;
  /** The mapped netlist (SynthInput.netlist). */
  netlist?: string;
  /** The mapped netlist as Verilog (SynthInput.gateVerilog). */
  gateVerilog?: string;
}

export interface Resources {
  lut: number;
  ff: number;
  dsp: number;
  bram: number;
  lutram: number;
  cells: Record<string, number>;
}

const SYNTH: Record<Target, string> = {
  // -noiopad: the core is measured without IO buffers, as it will sit inside a larger design.
  xc7: 'synth_xilinx -family xc7 -noiopad -flatten',
  // -spram: the weight store (templates/wstore.v.hbs) goes to SPRAM; no other memory is single-port.
  ice40up: 'synth_ice40 -dsp -spram -flatten',
  ice40hx: 'synth_ice40 -flatten',
  ecp5: 'synth_ecp5 -flatten',
};

/** Cell-type -> family resource, per target. */
function classify(target: Target, cell: string): 'lut' | 'ff' | 'dsp' | 'bram' | 'bram_half' | 'lutram' | 'carry' | null {
  if (target === 'xc7') {
    if (/^LUT[1-6]$/.test(cell)) return 'lut';
    if (/^FD[RSCP]E?$/.test(cell) || cell === 'FDRE' || cell === 'FDSE' || cell === 'FDCE' || cell === 'FDPE') return 'ff';
    if (cell === 'DSP48E1') return 'dsp';
    if (cell === 'RAMB36E1') return 'bram';
    if (cell === 'RAMB18E1') return 'bram_half';
    if (/^RAM(32|64|128|256)X1[SD]/.test(cell) || /^RAM32M/.test(cell) || /^RAM64M/.test(cell)) return 'lutram';
    if (cell === 'CARRY4') return 'carry';
    return null;
  }
  if (target === 'ice40up' || target === 'ice40hx') {
    if (cell === 'SB_LUT4') return 'lut';
    if (/^SB_DFF/.test(cell)) return 'ff';
    if (cell === 'SB_MAC16') return 'dsp';
    if (/^SB_RAM40_4K/.test(cell)) return 'bram';
    if (cell === 'SB_SPRAM256KA') return 'lutram';
    if (cell === 'SB_CARRY') return 'carry';
    return null;
  }
  if (cell === 'LUT4') return 'lut';
  if (/^TRELLIS_FF$/.test(cell) || /^FD/.test(cell)) return 'ff';
  if (cell === 'MULT18X18D') return 'dsp';
  if (cell === 'DP16KD') return 'bram';
  if (cell === 'TRELLIS_DPR16X4') return 'lutram';
  if (cell === 'CCU2C') return 'carry';
  return null;
}

export interface SynthInput {
  /** File name -> contents (sources and $readmemh files). */
  files: Record<string, string>;
  sources: string[];
  top: string;
  target: Target;
  /** Keep the hierarchy (for per-module figures; the default flattens, as `fxpq synth` reports). */
  hierarchical?: boolean;
  /** Also write the mapped netlist as JSON (nextpnr's input), returned as `netlist`. */
  netlist?: boolean;
  /** Also write the mapped netlist as Verilog of the family's cells (gate-level simulation), returned as `gateVerilog`. */
  gateVerilog?: boolean;
}

let yosysMod: typeof import('@yowasp/yosys') | null = null;

export async function synthesize(inp: SynthInput): Promise<SynthStats> {
  yosysMod ??= await import('@yowasp/yosys');
  const synth = inp.hierarchical ? SYNTH[inp.target].replace(' -flatten', inp.target === 'xc7' ? '' : ' -noflatten') : SYNTH[inp.target];
  const script =
    [
      ...inp.sources.map((f) => `read_verilog -defer -noautowire ${f}`),
      `hierarchy -check -top ${inp.top}`,
      // synth_ice40 and synth_ecp5 flatten unless told not to; synth_xilinx keeps the hierarchy.
      `${synth} -top ${inp.top}`,
      'tee -q -o stat.json stat -json',
      ...(inp.netlist ? ['write_json netlist.json'] : []),
      ...(inp.gateVerilog ? ['write_verilog -noattr gate.v'] : []),
    ].join('\n') + '\n';
  const t0 = performance.now();
  let log = '';
  const dec = new TextDecoder();
  const sink = (b: Uint8Array | null) => {
    if (b) log += dec.decode(b);
  };
  let out: Record<string, unknown>;
  try {
    out = (await yosysMod.runYosys(
      ['-q', '-s', 'synth.ys'],
      { ...inp.files, 'synth.ys': script },
      { stdout: sink, stderr: sink },
    )) as Record<string, unknown>;
  } catch (e) {
    const msg =
      log
        .split('\n')
        .filter((l) => /ERROR|Error/.test(l))
        .slice(0, 3)
        .join(' | ') || (e as Error).message;
    throw new FxpqError(`yosys ${SYNTH[inp.target]} failed: ${msg}`);
  }
  const statText = out['stat.json'];
  if (typeof statText !== 'string' && !(statText instanceof Uint8Array)) throw new FxpqError('yosys wrote no stat.json');
  const stat = JSON.parse(typeof statText === 'string' ? statText : dec.decode(statText)) as {
    design?: { num_cells_by_type?: Record<string, number> };
    modules?: Record<string, { num_cells_by_type?: Record<string, number> }>;
  };
  const count = (byType: Record<string, number>): Resources => {
    const cells: Record<string, number> = {};
    const r = { lut: 0, ff: 0, dsp: 0, bram: 0, lutram: 0 };
    let halves = 0;
    for (const [cell, n] of Object.entries(byType)) {
      if (cell.startsWith('$') || cell.startsWith('\\')) continue;
      cells[cell] = n;
      const k = classify(inp.target, cell);
      if (k === 'bram_half') halves += n;
      else if (k && k !== 'carry') r[k] += n;
    }
    // Two RAMB18E1 share one RAMB36E1 site.
    r.bram += halves / 2;
    return { ...r, cells };
  };
  const { cells, ...r } = count(stat.design?.num_cells_by_type ?? stat.modules?.[`\\${inp.top}`]?.num_cells_by_type ?? {});
  let modules: Record<string, Resources> | undefined;
  if (inp.hierarchical) {
    modules = {};
    for (const [name, m] of Object.entries(stat.modules ?? {})) modules[name.replace(/^\\/, '')] = count(m.num_cells_by_type ?? {});
  }
  const textOf = (v: unknown) => (v === undefined ? undefined : typeof v === 'string' ? v : dec.decode(v as Uint8Array));
  return {
    target: inp.target,
    ...r,
    cells,
    seconds: (performance.now() - t0) / 1000,
    log,
    modules,
    netlist: textOf(out['netlist.json']),
    gateVerilog: textOf(out['gate.v']),
  };
}
