import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The options of `fxpq` and `fxpqAwait`. */
const fxpqOptions = () => ({ env: { ...process.env, FORCE_COLOR: '0' }, timeout: 300_000 });

/** Runs the built CLI (npm test builds it first) as a user would. */
export function fxpq(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', ...fxpqOptions() });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `fxpq` with the same options and exit code, awaited instead of blocking the test worker. */
export async function fxpqAwait(...args: string[]): Promise<CliResult> {
  const r = await spawnAsync(process.execPath, [CLI, ...args], fxpqOptions());
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A new folder under the system's temporary folder, removed after the tests of the file (or of the
 * describe block) that made it, so a full run leaves nothing behind. Made inside a test, where no
 * hook can be added, it is left to the system.
 */
export function tempDir(prefix = 'fxpq-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  try {
    afterAll(() => {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* a test left something unremovable: the system's to clean */
      }
    });
  } catch {
    // called inside a running test
  }
  return d;
}

/** The same as `fxpq`, without blocking the test worker (long runs would starve vitest's RPC). */
export function fxpqAsync(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 600_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
  maxBuffer?: number;
}
/** What `spawnSync(..., { encoding: 'utf8' })` returns, less what these tests never read. */
export interface SpawnResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/**
 * `spawnSync(cmd, args, { ...o, encoding: 'utf8' })` without blocking the test worker: back-to-back
 * synchronous spawns keep vitest's progress RPC waiting ("Timeout calling onTaskUpdate"). The same
 * result: stdin closed at once, the child killed with SIGTERM after `timeout` ms or when a stream
 * passes `maxBuffer` bytes (spawnSync's default, 1 MiB), and `status` null with `signal` set when
 * a signal ended it.
 */
export function spawnAsync(cmd: string, args: string[], o: SpawnOptions = {}): Promise<SpawnResult> {
  const maxBuffer = o.maxBuffer ?? 1024 * 1024;
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: 'pipe' });
    const out: Buffer[] = [],
      err: Buffer[] = [];
    let outLen = 0,
      errLen = 0,
      error: Error | undefined,
      settled = false;
    const stop = (e: Error) => {
      error ??= e;
      p.kill('SIGTERM');
    };
    const timer = o.timeout
      ? setTimeout(() => stop(Object.assign(new Error(`spawnAsync ${cmd} ETIMEDOUT`), { code: 'ETIMEDOUT' })), o.timeout)
      : undefined;
    p.stdin.on('error', () => {
      /* a child that exits before reading stdin */
    });
    p.stdin.end();
    p.stdout.on('data', (b: Buffer) => {
      if ((outLen += b.length) > maxBuffer) stop(Object.assign(new Error(`spawnAsync ${cmd} ENOBUFS`), { code: 'ENOBUFS' }));
      else out.push(b);
    });
    p.stderr.on('data', (b: Buffer) => {
      if ((errLen += b.length) > maxBuffer) stop(Object.assign(new Error(`spawnAsync ${cmd} ENOBUFS`), { code: 'ENOBUFS' }));
      else err.push(b);
    });
    const done = (status: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(error ? { error } : {}),
      });
    };
    p.on('error', (e) => {
      error ??= e;
      if (p.pid === undefined) done(null, null);
    });
    p.on('close', done);
  });
}
