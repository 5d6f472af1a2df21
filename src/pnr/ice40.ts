import { FxpqError } from '../errors.js';
import type { Part } from '../device/parts.js';
import { Worker } from 'node:worker_threads';
import { synthesize } from '../synth/yosys.js';
import { workerScript } from '../util/worker-script.js';

/**
 * Place and route for iCE40 parts with nextpnr-ice40 and IceStorm's icepack compiled to
 * WebAssembly (@yowasp/nextpnr-ice40, the same runtime as @yowasp/yosys): Yosys maps the design
 * to iCE40 cells and writes a JSON netlist, nextpnr places and routes it and times it with the
 * part's delay model, icepack turns the placed design into a bitstream.
 */
export interface PnrInput {
  /** File name -> contents: the generated sources and ROM images. */
  files: Record<string, string>;
  sources: string[];
  top: string;
  part: Part;
  /** Clock nextpnr aims at, in MHz (its timing-driven placement optimises towards it). */
  freqMhz: number;
  /** nextpnr's placer seed: the same seed gives the same placement. */
  seed: number;
  /** Also return the synthesized netlist as Verilog, for gate-level simulation (gate-sim.ts). */
  gateVerilog?: boolean;
  /** Seconds nextpnr may take before it is stopped (default PNR_TIMEOUT_S). */
  timeoutSeconds?: number;
  /** nextpnr's log lines as they come. */
  onLog?: (text: string) => void;
  /** nextpnr's placer (default heap, nextpnr's own default for iCE40). */
  placer?: 'heap' | 'sa';
}

/** Placement and routing of the largest designs that fit an UltraPlus 5K take minutes; a router stuck on congestion is stopped after this. */
export const PNR_TIMEOUT_S = 1200;

export interface PnrResult {
  part: string;
  /** Logic cells (one LUT4, one flip-flop and a carry each) used after packing, of the part's. */
  lc: number;
  lcAvailable: number;
  /** Flip-flops in the mapped netlist (placement neither adds nor removes any). */
  ff: number;
  /** SB_LUT4s in the mapped netlist, before nextpnr's packing into logic cells. */
  lut: number;
  ram: number;
  /** SB_SPRAM256KA blocks (UltraPlus; the weight store). */
  spram: number;
  dsp: number;
  io: number;
  /** Highest clock the routed design meets on nextpnr's timing analysis. */
  fmaxMhz: number;
  /** Paths nextpnr reports but leaves out of fmaxMhz (untimedDspPaths), or null. */
  untimedDsp: UntimedDsp | null;
  bitstream: Uint8Array;
  seconds: { synth: number; pnr: number; pack: number };
  /** nextpnr's log, for the report folder. */
  log: string;
  /** The netlist nextpnr placed, as Verilog of iCE40 cells (PnrInput.gateVerilog). */
  gateVerilog?: string;
}

interface NextpnrReport {
  utilization?: Record<string, { used: number; available: number }>;
  fmax?: Record<string, { achieved: number; constraint: number }>;
}

type Tree = { [name: string]: Tree | string | Uint8Array };
let mod: typeof import('@yowasp/nextpnr-ice40') | null = null;

const text = (v: Tree[string] | undefined): string | undefined =>
  typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : undefined;

/** The first of nextpnr's ERROR lines, which say why a design cannot be placed or routed. */
export function nextpnrError(log: string): string | null {
  const m = /^ERROR: (.*)$/m.exec(log);
  return m ? m[1].trim() : null;
}

/** nextpnr in a worker thread (nextpnr-worker.ts), stopped after `timeout` seconds. */
function runWorker(
  args: string[],
  files: Record<string, string>,
  timeout: number,
  onLog: ((t: string) => void) | undefined,
  part: string,
): Promise<{ log: string; placed: { report?: Tree[string]; asc?: Tree[string] } }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerScript(import.meta.url, 'nextpnr-worker'), { workerData: { args, files } });
    let log = '';
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void w.terminate();
      f();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new FxpqError(
              `nextpnr-ice40 did not place and route the design on ${part} within ${timeout} s (a nearly full part can keep its router busy; try a smaller --macs)`,
            ),
          ),
        ),
      timeout * 1000,
    );
    w.on('message', (m: { log?: string; done?: { report?: Tree[string]; asc?: Tree[string] }; failed?: string }) => {
      if (m.log !== undefined) {
        log += m.log;
        onLog?.(m.log);
      } else if (m.done) {
        const placed = m.done;
        finish(() => resolve({ log, placed }));
      } else if (m.failed !== undefined) {
        // A design that does not fit ends in nextpnr's ERROR line, then a WebAssembly trap.
        const why = nextpnrError(log) ?? m.failed;
        finish(() => reject(new FxpqError(`nextpnr-ice40 could not place and route the design on ${part}: ${why}`)));
      }
    });
    w.on('error', (e) => finish(() => reject(new FxpqError(`nextpnr-ice40 failed: ${e.message}`))));
    w.on('exit', (code) => finish(() => reject(new FxpqError(`nextpnr-ice40 stopped (exit ${code}) before it finished`))));
  });
}

/** The worst routed path into an unregistered SB_MAC16's inputs, and out of its outputs, in ns. */
export interface UntimedDsp {
  intoNs: number;
  outOfNs: number;
}

/**
 * nextpnr-ice40 0.8 times an SB_MAC16 whose input and output registers are off as if it were
 * clocked by its clock pin, which Yosys ties low: a path from a register through the multiplier
 * to a register is cut in two, reported as cross-domain paths into and out of the
 * `$PACKER_GND_NET` clock, and neither counts in the clock's Fmax. The two worst halves, from the
 * routed design's report (the last one in the log); null when the design has no such paths.
 */
export function untimedDspPaths(log: string): UntimedDsp | null {
  const lines = log.split('\n');
  const worst = (from: string, to: string): number | null => {
    let start = -1;
    const head = new RegExp(`Critical path report for cross-domain path 'posedge ${from}[^']*' -> 'posedge ${to}[^']*'`);
    lines.forEach((l, i) => {
      if (head.test(l)) start = i;
    });
    if (start < 0) return null;
    // Each step of the path is "<type> <delay> <running total> <name>"; the last total is the path's.
    let total: number | null = null;
    for (let i = start + 1; i < lines.length && !/ ns logic, [\d.]+ ns routing/.test(lines[i]); i++) {
      const m = /^Info:\s+[a-z-]+\s+[\d.]+\s+([\d.]+)\s/.exec(lines[i]);
      if (m) total = Number(m[1]);
    }
    return total;
  };
  const gnd = '\\$PACKER_GND_NET';
  const intoNs = worst('clk', gnd),
    outOfNs = worst(gnd, 'clk');
  return intoNs === null || outOfNs === null ? null : { intoNs, outOfNs };
}

export async function placeAndRoute(inp: PnrInput): Promise<PnrResult> {
  const p = inp.part;
  if (!p.nextpnr) throw new FxpqError(`no place-and-route tool for ${p.name} is reachable from npm (nextpnr-ice40 covers the iCE40 parts)`);
  const s = await synthesize({
    files: inp.files,
    sources: inp.sources,
    top: inp.top,
    target: p.dsp === 0 ? 'ice40hx' : 'ice40up',
    netlist: true,
    gateVerilog: inp.gateVerilog,
  });
  if (!s.netlist) throw new FxpqError('yosys wrote no netlist');
  const args = [
    p.nextpnr.arch,
    '--package',
    p.nextpnr.package,
    '--json',
    'netlist.json',
    '--asc',
    'design.asc',
    '--report',
    'report.json',
    // Pins are the board's business; nextpnr may put the ports on any free I/O.
    '--pcf-allow-unconstrained',
    '--freq',
    String(inp.freqMhz),
    '--seed',
    String(inp.seed),
    '--placer',
    inp.placer ?? 'heap',
  ];
  const t0 = performance.now();
  const timeout = inp.timeoutSeconds ?? PNR_TIMEOUT_S;
  const { log, placed } = await runWorker(args, { 'netlist.json': s.netlist }, timeout, inp.onLog, p.name);
  const tPnr = (performance.now() - t0) / 1000;
  const reportText = text(placed.report);
  const asc = placed.asc;
  if (!reportText || asc === undefined) throw new FxpqError(`nextpnr-ice40 wrote no ${reportText ? 'design' : 'report'}`);
  const report = JSON.parse(reportText) as NextpnrReport;
  const use = (k: string) => report.utilization?.[k] ?? { used: 0, available: 0 };
  // The design's one clock is the top's `clk` (nextpnr names it after its global buffer).
  const clk = Object.entries(report.fmax ?? {}).find(([k]) => /^clk(\$|$)/.test(k));
  if (!clk) throw new FxpqError('nextpnr-ice40 reported no timing for the clock clk');
  const t1 = performance.now();
  mod ??= await import('@yowasp/nextpnr-ice40');
  let packed: Tree;
  try {
    packed = (await mod.runIcepack(
      ['design.asc', 'design.bin'],
      { 'design.asc': asc },
      { stdout: null, stderr: null, decodeASCII: false },
    )) as Tree;
  } catch (e) {
    throw new FxpqError(`icepack failed: ${(e as Error).message}`);
  }
  const bin = packed['design.bin'];
  if (!(bin instanceof Uint8Array)) throw new FxpqError('icepack wrote no bitstream');
  const lc = use('ICESTORM_LC');
  return {
    part: p.name,
    lc: lc.used,
    lcAvailable: lc.available,
    ff: s.ff,
    lut: s.lut,
    ram: use('ICESTORM_RAM').used,
    spram: use('ICESTORM_SPRAM').used,
    dsp: use('ICESTORM_DSP').used,
    io: use('SB_IO').used,
    fmaxMhz: clk[1].achieved,
    untimedDsp: untimedDspPaths(log),
    bitstream: bin,
    seconds: { synth: s.seconds, pnr: tPnr, pack: (performance.now() - t1) / 1000 },
    log,
    gateVerilog: s.gateVerilog,
  };
}
