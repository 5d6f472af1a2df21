import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { writeFolderAtomic } from '../../src/io/atomic.js';
import { cosim } from '../../src/cosim/cosim.js';
import { generateDesign, type GeneratedDesign, type GenerateOptions, randomInputs } from '../../src/hw/generate.js';
import type { FxFormat } from '../../src/fixed/format.js';
import type { QGraph } from '../../src/quant/qgraph.js';
import type { WeightPlacement } from '../../src/hw/plan.js';
import { alwaysReady, type Handshake, TbStall } from '../../sim/handshake.js';
import { Simulator } from '../../sim/simulator.js';

/** Generates a design into a fresh temporary folder; the caller removes it with `cleanup`. */
export function writeDesign(q: QGraph, opts: Partial<GenerateOptions> = {}): { dir: string; d: GeneratedDesign; cleanup: () => void } {
  const d = generateDesign(q, { model: 't', source: 'test', ...opts });
  const dir = join(mkdtempSync(join(tmpdir(), 'fxpq-rtl-')), 'rtl');
  writeFolderAtomic(dir, d.files);
  return { dir, d, cleanup: () => rmSync(join(dir, '..'), { recursive: true, force: true }) };
}

export interface ToolRun {
  code: number;
  out: string;
}
/** Runs a tool without blocking the event loop (vitest's worker RPC must stay responsive). */
export function tool(cmd: string, args: string[], cwd: string): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** verilator --lint-only -Wall on the design (not the test bench). */
export const lint = (dir: string, top: string): Promise<ToolRun> =>
  tool('verilator', ['--lint-only', '-Wall', '-f', 'files.f', '--top-module', top], dir);

/** iverilog -Wall build of design and test bench; returns the compiler output (must be empty). */
export const icarusBuild = (dir: string): Promise<ToolRun> =>
  tool('iverilog', ['-g2012', '-Wall', '-o', 'tb.vvp', '-c', 'files.f', 'tb.v'], dir);
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
  return readFileSync(join(dir, 'tb_outs.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((h) => {
      const raw = parseInt(h, 16);
      return f.signed && raw >= 2 ** (f.wl - 1) ? raw - 2 ** f.wl : raw;
    });
}

/**
 * One design through every check the generator promises: Verilator -Wall lint and Icarus -Wall
 * silent; the self-checking test bench sees every output equal to the integer reference and the
 * planned cycles, plain and with random handshake stalls; the cycle simulator, under the same
 * handshake pattern, gives the RTL's logits and each image's first-input and last-logit cycle.
 * With `verilator`, the same images also run in Verilator (plain and stalled) with the same result.
 */
export async function expectRtlExact(
  q: QGraph,
  macs: number,
  seed: number,
  opts: { images?: number; verilator?: boolean; weights?: WeightPlacement } = {},
): Promise<GeneratedDesign> {
  const images = opts.images ?? 3;
  const { dir, d, cleanup } = writeDesign(q, { macs, images, seed, weights: opts.weights });
  try {
    const l = await lint(dir, d.top);
    expect(l.out.trim(), 'verilator -Wall').toBe('');
    const b = await icarusBuild(dir);
    expect(b.out.trim(), 'iverilog -Wall').toBe('');
    const inputs = randomInputs(q, images, seed);
    const against = (out: string, hs: Handshake) => {
      const s = new Simulator(d.plan).run(inputs, images, { handshake: hs });
      expect(readOuts(dir, d.plan.output.format), `simulator logits (${hs.name})`).toEqual(Array.from(s.outputs));
      expect(parseSpans(out), `simulator cycles (${hs.name})`).toEqual(s.timing.map((t) => ({ first: t.firstIn, last: t.lastOut })));
    };
    const plain = (await icarusRun(dir, ['+outs'])).out;
    const r = parseLog(plain);
    expect(r.mismatches).toBe(0);
    expect(r.cycles).toEqual(Array(images).fill(d.plan.latency));
    against(plain, alwaysReady);
    // Random gaps in both handshakes: still exact (cycles then depend on the gaps).
    const stalled = (await icarusRun(dir, ['+stall', '+outs'])).out;
    expect(parseLog(stalled).mismatches).toBe(0);
    against(stalled, new TbStall());
  } finally {
    cleanup();
  }
  if (opts.verilator) {
    for (const stall of [false, true]) {
      const v = await cosim(q, {
        sim: 'verilator',
        macs,
        weights: opts.weights,
        model: 't',
        source: 'test',
        inputs: randomInputs(q, images, seed),
        images,
        stall,
        captureOutputs: true,
        cacheDir: '.fxpq-cache/verilator',
      });
      expect(v.mismatches, `Verilator${stall ? ' with stalls' : ''}`).toBe(0);
      const s = new Simulator(v.plan).run(randomInputs(q, images, seed), images, { handshake: stall ? new TbStall() : alwaysReady });
      expect(v.outputs, 'Verilator logits').toEqual(s.outputs);
      expect(v.spans, 'Verilator cycles').toEqual(s.timing.map((t) => ({ first: t.firstIn, last: t.lastOut })));
    }
  }
  return d;
}
