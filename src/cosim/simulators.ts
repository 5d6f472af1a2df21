import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FxpqError } from '../errors.js';
import { removeOnInterrupt, trackChild } from '../util/cleanup.js';

/**
 * Drivers for the real RTL simulators: Icarus Verilog (iverilog + vvp) and Verilator (--binary).
 * Both run the same generated test bench in its folder, so $readmemh finds the ROM and vector files.
 */
export type SimName = 'icarus' | 'verilator';

const PACKAGES: Record<string, string> = { iverilog: 'iverilog', vvp: 'iverilog', verilator: 'verilator' };

export function hasTool(tool: string): boolean {
  return (
    spawnSync(tool, ['-V'], { stdio: 'ignore' }).error === undefined ||
    spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined
  );
}

export function requireTool(tool: string): void {
  if (!hasTool(tool))
    throw new FxpqError(`'${tool}' is not installed; install the Debian package: sudo apt-get install -y ${PACKAGES[tool] ?? tool}`);
}

export interface SimRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command, handing each stdout line to onLine as it arrives. */
export function runProcess(cmd: string, args: string[], cwd: string, onLine?: (line: string) => void): Promise<SimRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Its own process group, so an interrupt kills the whole tree (make and g++ under verilator).
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    trackChild(p);
    let out = '',
      err = '',
      partial = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
      if (!onLine) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine(l);
    });
    p.stderr.on('data', (d: string) => {
      err += d;
    });
    p.on('error', (e) => reject(new FxpqError(`cannot run ${cmd}: ${e.message}`)));
    p.on('close', (code) => resolve({ code: code ?? 1, stdout: out, stderr: err, seconds: (performance.now() - t0) / 1000 }));
  });
}

export interface BuildResult {
  run: (plusargs: string[], onLine?: (l: string) => void) => Promise<SimRun>;
  buildSeconds: number;
  cached: boolean;
}

const tail = (s: string, n = 6) => s.trim().split('\n').slice(-n).join(' | ');

/** Compiles the test bench in `dir` with iverilog; -Wall must stay silent for generated designs. */
export async function buildIcarus(dir: string): Promise<BuildResult> {
  requireTool('iverilog');
  requireTool('vvp');
  const b = await runProcess('iverilog', ['-g2012', '-Wall', '-o', 'tb.vvp', '-c', 'files.f', 'tb.v'], dir);
  if (b.code !== 0) throw new FxpqError(`iverilog failed: ${tail(b.stderr + b.stdout)}`);
  return {
    buildSeconds: b.seconds,
    cached: false,
    run: (plusargs, onLine) => runProcess('vvp', ['-n', 'tb.vvp', ...plusargs], dir, onLine),
  };
}

/**
 * Builds the test bench with Verilator into `dir`/obj_dir. Builds are cached by the hash of the
 * sources (not the vectors, which are read at run time) under `cacheDir`, since a C++ build of a
 * whole network takes tens of seconds.
 */
export async function buildVerilator(dir: string, opts: { trace?: boolean; cacheDir?: string } = {}): Promise<BuildResult> {
  requireTool('verilator');
  const sources = readFileSync(join(dir, 'files.f'), 'utf8').trim().split('\n');
  const h = createHash('sha256');
  for (const f of [...sources, 'tb.v']) h.update(f).update(readFileSync(join(dir, f)));
  h.update(opts.trace ? 'trace' : 'notrace');
  const key = h.digest('hex').slice(0, 24);
  const exe = join(dir, 'obj_dir', 'Vtb');
  const cached = opts.cacheDir ? join(opts.cacheDir, key) : null;
  let buildSeconds = 0,
    hit = false;
  if (cached && existsSync(join(cached, 'Vtb'))) {
    mkdirSync(join(dir, 'obj_dir'), { recursive: true });
    cpSync(join(cached, 'Vtb'), exe);
    hit = true;
  } else {
    const args = ['--binary', '--timing', '-O3', '-Wno-fatal', '-j', '2', '--top-module', 'tb', '-f', 'files.f', 'tb.v', '-o', 'Vtb'];
    if (opts.trace) args.push('--trace');
    const b = await runProcess('verilator', args, dir);
    if (b.code !== 0 || !existsSync(exe)) throw new FxpqError(`verilator build failed: ${tail(b.stderr + b.stdout)}`);
    buildSeconds = b.seconds;
    if (cached) {
      mkdirSync(opts.cacheDir!, { recursive: true });
      const tmp = `${cached}.tmp-${process.pid}`;
      const unregister = removeOnInterrupt(tmp);
      mkdirSync(tmp, { recursive: true });
      cpSync(exe, join(tmp, 'Vtb'));
      rmSync(cached, { recursive: true, force: true });
      renameSync(tmp, cached);
      unregister();
    }
  }
  return { buildSeconds, cached: hit, run: (plusargs, onLine) => runProcess(exe, plusargs, dir, onLine) };
}

export async function buildSim(sim: SimName, dir: string, opts: { trace?: boolean; cacheDir?: string } = {}): Promise<BuildResult> {
  return sim === 'icarus' ? buildIcarus(dir) : buildVerilator(dir, opts);
}
