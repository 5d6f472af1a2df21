import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FxpqError } from '../errors.js';
import { WEIGHT_STREAM_FILE } from '../hw/render.js';
import { removeOnInterrupt } from '../util/cleanup.js';
import { requireTool, runProcess } from './simulators.js';

/**
 * Gate-level simulation: the netlist Yosys mapped to iCE40 cells (the one nextpnr places and
 * icepack turns into the bitstream) under the same self-checking test bench as the RTL, in Icarus,
 * with Yosys's own simulation models of the cells (share/ice40/cells_sim.v). It shows that
 * synthesis kept the design's behaviour, to the bit and to the cycle.
 */
export interface GateSimResult {
  images: number;
  mismatches: number;
  /** Cycles of each image as the test bench counted them. */
  cycles: number[];
  seconds: number;
}

/** Yosys's simulation models of the iCE40 cells, shipped with @yowasp/yosys. */
export function ice40CellModels(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@yowasp/yosys')), 'share', 'ice40', 'cells_sim.v');
}

const IMAGE = /^FXPQ IMAGE (\d+) cycles=(\d+)/;
const DONE = /^FXPQ DONE images=(\d+) mismatches=(\d+)/;

/**
 * Runs the generated test bench (`files`: tb.v and its vector files, from generateDesign) against
 * `gateVerilog`, the synthesized netlist of the top it instantiates.
 */
export async function gateSim(files: Record<string, string>, gateVerilog: string): Promise<GateSimResult> {
  requireTool('iverilog');
  requireTool('vvp');
  const dir = mkdtempSync(join(tmpdir(), 'fxpq-gatesim-'));
  const unregister = removeOnInterrupt(dir);
  try {
    for (const f of ['tb.v', 'tb_in.hex', 'tb_out.hex', 'tb_class.hex']) {
      if (files[f] === undefined) throw new FxpqError(`gate-level simulation needs the test bench file ${f}`);
      writeFileSync(join(dir, f), files[f]);
    }
    // A design that loads its weights after reset: the test bench streams them from this file.
    if (files[WEIGHT_STREAM_FILE] !== undefined) writeFileSync(join(dir, WEIGHT_STREAM_FILE), files[WEIGHT_STREAM_FILE]);
    writeFileSync(join(dir, 'gate.v'), gateVerilog);
    copyFileSync(ice40CellModels(), join(dir, 'cells_sim.v'));
    const b = await runProcess(
      'iverilog',
      ['-g2012', '-DNO_ICE40_DEFAULT_ASSIGNMENTS', '-DFXPQ_GATE_LEVEL', '-o', 'gate.vvp', '-s', 'tb', 'tb.v', 'gate.v', 'cells_sim.v'],
      dir,
    );
    if (b.code !== 0)
      throw new FxpqError(
        `iverilog could not build the gate-level netlist: ${(b.stderr + b.stdout).trim().split('\n').slice(0, 3).join(' | ')}`,
      );
    const cycles: number[] = [];
    let done: RegExpExecArray | null = null;
    const r = await runProcess('vvp', ['-n', 'gate.vvp'], dir, (line) => {
      const m = IMAGE.exec(line);
      if (m) cycles.push(Number(m[2]));
      done ??= DONE.exec(line);
    });
    const d = done as RegExpExecArray | null;
    if (!d) {
      const why = /FXPQ TIMEOUT.*/.exec(r.stdout)?.[0] ?? (r.stderr.trim().split('\n').slice(-2).join(' | ') || `exit code ${r.code}`);
      throw new FxpqError(`the gate-level simulation did not finish: ${why}`);
    }
    return { images: Number(d[1]), mismatches: Number(d[2]), cycles, seconds: b.seconds + r.seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    unregister();
  }
}
