import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFolderAtomic } from '../../src/io/atomic.js';
import { generateDesign, type GeneratedDesign, type GenerateOptions } from '../../src/hw/generate.js';
import type { FxFormat } from '../../src/fixed/format.js';
import type { QGraph } from '../../src/quant/qgraph.js';

/** Generates a design into a fresh temporary folder; the caller removes it with `cleanup`. */
export function writeDesign(q: QGraph, opts: Partial<GenerateOptions> = {}): { dir: string; d: GeneratedDesign; cleanup: () => void } {
  const d = generateDesign(q, { model: 't', source: 'test', ...opts });
  const dir = join(mkdtempSync(join(tmpdir(), 'fxpq-rtl-')), 'rtl');
  writeFolderAtomic(dir, d.files);
  return { dir, d, cleanup: () => rmSync(join(dir, '..'), { recursive: true, force: true }) };
}

export interface ToolRun { code: number; out: string }
/** Runs a tool without blocking the event loop (vitest's worker RPC must stay responsive). */
export function tool(cmd: string, args: string[], cwd: string): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** verilator --lint-only -Wall on the design (not the test bench). */
export const lint = (dir: string, top: string): Promise<ToolRun> => tool('verilator', ['--lint-only', '-Wall', '-f', 'files.f', '--top-module', top], dir);

/** iverilog -Wall build of design and test bench; returns the compiler output (must be empty). */
export const icarusBuild = (dir: string): Promise<ToolRun> => tool('iverilog', ['-g2012', '-Wall', '-o', 'tb.vvp', '-c', 'files.f', 'tb.v'], dir);
export const icarusRun = (dir: string, plus: string[] = []): Promise<ToolRun> => tool('vvp', ['-n', 'tb.vvp', ...plus], dir);

/** Per-image RTL cycles and the mismatch count from a test bench log. */
export function parseLog(out: string): { cycles: number[]; mismatches: number | null } {
  const cycles = [...out.matchAll(/^FXPQ IMAGE \d+ cycles=(\d+)/gm)].map((m) => Number(m[1]));
  const m = /^FXPQ DONE images=\d+ mismatches=(\d+)/m.exec(out);
  return { cycles, mismatches: m ? Number(m[1]) : null };
}

/** Each image's first-input and last-logit cycle from a test bench log. */
export function parseSpans(out: string): { first: number; last: number }[] {
  return [...out.matchAll(/^FXPQ IMAGE \d+ cycles=\d+ first=(\d+) last=(\d+)/gm)].map((m) => ({ first: Number(m[1]), last: Number(m[2]) }));
}

/** The logits the RTL sent (test bench +outs), decoded from hex words of format f. */
export function readOuts(dir: string, f: FxFormat): number[] {
  return readFileSync(join(dir, 'tb_outs.txt'), 'utf8').trim().split('\n').map((h) => {
    const raw = parseInt(h, 16);
    return f.signed && raw >= 2 ** (f.wl - 1) ? raw - 2 ** f.wl : raw;
  });
}
