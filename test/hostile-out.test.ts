import { spawn } from 'node:child_process';
import { chownSync } from 'node:fs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CLI, spawnAsync, tempDir } from './helpers/cli.js';
import { placeFileAtomic } from '../src/io/atomic.js';
import { guardText } from '../src/cli/output-guard.js';

/**
 * Hostile and unlucky runs against the outputs and processes fxpq owns: --out on paths it did not
 * write, kills and I/O errors in the middle of replacing an output, two runs on one output, and
 * interrupts while simulators run. Every case checks the exit code, the one line, and that nothing
 * of the user's is gone and nothing of fxpq's is left behind.
 */

const ROOT = resolve(import.meta.dirname, '..');
const MODELS = join(ROOT, 'models');
const base = tempDir('fxpq-hostile-out-');
let fxp = '';

interface Res {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Awaited, not spawnSync: back-to-back blocking runs starve vitest's progress RPC. */
async function run(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): Promise<Res> {
  const r = await spawnAsync(process.execPath, [CLI, ...args], {
    cwd: o.cwd ?? base,
    timeout: 120_000,
    env: { ...process.env, FORCE_COLOR: '0', ...o.env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(r: Res, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fxpq: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Every file under dir with its contents, to prove a folder untouched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name),
        r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else out[r] = readFileSync(p, 'latin1');
    }
  };
  walk(dir, '');
  return out;
}

/** A folder of the user's: files and a sub-folder fxpq must never delete. */
function userFolder(name: string): string {
  const d = join(base, name);
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(d, 'notes.txt'), 'my notes\n');
  writeFileSync(join(d, 'sub', 'data.bin'), Buffer.from([1, 2, 3]));
  return d;
}

const generate = (out: string, ...extra: string[]) => ['generate', fxp, '--out', out, ...extra];
const leftovers = (parent: string, name: string) => readdirSync(parent).filter((n) => n.startsWith(`.${name}.`));

beforeAll(async () => {
  const q = join(base, 'q8');
  const r = await run(['quantize', join(MODELS, 'mlp.onnx'), '--calib', join(MODELS, 'data', 'calib_x.npy'), '--uniform', '8', '--out', q]);
  expect(r.code, r.stderr).toBe(0);
  fxp = join(q, 'model.fxp.json');
});

describe('--out never deletes what fxpq did not write', () => {
  it('refuses an existing regular file and leaves it as it was', async () => {
    const f = join(base, 'precious.txt');
    writeFileSync(f, 'precious\n');
    oneLine(await run(generate(f)), 1, /is an existing file .*add --force/);
    expect(readFileSync(f, 'utf8')).toBe('precious\n');
  });

  it('refuses a folder of unrelated files, for every command that writes one', async () => {
    const d = userFolder('mine');
    const before = snapshot(d);
    oneLine(await run(generate(d)), 1, /a folder that fxpq did not write/);
    oneLine(
      await run(['quantize', join(MODELS, 'mlp.onnx'), '--calib', join(MODELS, 'data', 'calib_x.npy'), '--uniform', '8', '--out', d]),
      1,
      /--out .* folder that fxpq did not write/,
    );
    oneLine(
      await run(['infer', fxp, '--data', join(MODELS, 'data', 'test_x.npy'), '--trace', d]),
      1,
      /--trace .* folder that fxpq did not write/,
    );
    oneLine(
      await run(['cosim', fxp, '--data', join(MODELS, 'data', 'test_x.npy'), '--limit', '1', '--keep', d]),
      1,
      /--keep .* folder that fxpq did not write/,
    );
    oneLine(
      await run(['sweep', join(MODELS, 'mlp.onnx'), '--calib', join(MODELS, 'data', 'calib_x.npy'), '--out', d, '--no-cache']),
      1,
      /--out .* folder that fxpq did not write/,
    );
    oneLine(await run(['run', join(MODELS, 'mlp.onnx'), '--out', d]), 1, /--out .* folder that fxpq did not write/);
    oneLine(await run(['run', join(MODELS, 'mlp.onnx'), '--rtl-out', d]), 1, /--rtl-out .* folder that fxpq did not write/);
    expect(snapshot(d)).toEqual(before);
  });

  it('refuses the working directory, with and without --force', async () => {
    const d = userFolder('project');
    const before = snapshot(d);
    oneLine(await run(generate('.'), { cwd: d }), 1, /working directory .* never replaces it, even with --force/);
    oneLine(await run(generate('.', '--force'), { cwd: d }), 1, /working directory/);
    oneLine(await run(generate(d, '--force'), { cwd: d }), 1, /working directory/);
    oneLine(
      await run(
        ['quantize', join(MODELS, 'mlp.onnx'), '--calib', join(MODELS, 'data', 'calib_x.npy'), '--uniform', '8', '--out', '.', '--force'],
        { cwd: d },
      ),
      1,
      /working directory/,
    );
    expect(snapshot(d)).toEqual(before);
  });

  it('refuses a parent of the working directory and the root, even with --force', async () => {
    const d = userFolder('deep');
    const before = snapshot(d);
    oneLine(await run(generate('..', '--force'), { cwd: join(d, 'sub') }), 1, /working directory or a folder above it/);
    oneLine(await run(generate('/', '--force'), { cwd: join(d, 'sub') }), 1, /working directory or a folder above it|root/);
    expect(snapshot(d)).toEqual(before);
  });

  it('refuses a folder holding an input, and the input itself, even with --force', async () => {
    const d = join(base, 'inputs');
    mkdirSync(d, { recursive: true });
    const model = join(d, 'model.fxp.json');
    writeFileSync(model, readFileSync(fxp));
    oneLine(await run(['generate', model, '--out', d, '--force']), 1, /holds .*model\.fxp\.json, an input of this command/);
    oneLine(await run(['generate', model, '--out', model, '--force']), 1, /an input of this command/);
    expect(readFileSync(model)).toEqual(readFileSync(fxp));
  });

  it("refuses a symbolic link to a folder of the user's and leaves both", async () => {
    const d = userFolder('linked');
    const before = snapshot(d);
    const link = join(base, 'link-out');
    symlinkSync(d, link);
    oneLine(await run(generate(link)), 1, /fxpq did not write|symbolic link/);
    expect(snapshot(d)).toEqual(before);
  });

  it('names a file in the way of the output folder as a user error, not a crash', async () => {
    const f = join(base, 'afile');
    writeFileSync(f, 'x');
    oneLine(await run(generate(join(f, 'rtl'))), 1, /is a file, not a folder/);
  });

  it('writes into a new or empty folder, marks it, and replaces its own output on a re-run', async () => {
    const d = join(base, 'fresh');
    mkdirSync(d);
    expect((await run(generate(d))).code).toBe(0);
    expect(readFileSync(join(d, '.fxpq-output'), 'utf8')).toMatch(/^\{"tool":"fxpq"/);
    writeFileSync(join(d, 'stale.txt'), 'from an older run');
    expect((await run(generate(d, '--macs', '16'))).code).toBe(0);
    expect(existsSync(join(d, 'stale.txt'))).toBe(false);
    expect(readFileSync(join(d, 'README.md'), 'utf8')).toMatch(/budget 16/);
    expect(leftovers(base, 'fresh')).toEqual([]);
  });

  it('replaces a foreign folder only with --force', async () => {
    const d = userFolder('forced');
    expect((await run(generate(d, '--force'))).code).toBe(0);
    expect(existsSync(join(d, 'notes.txt'))).toBe(false);
    expect(existsSync(join(d, 'tb.v'))).toBe(true);
  });

  it('writes --vcd only over a waveform, never over another file', async () => {
    const f = join(base, 'wave-precious.txt');
    writeFileSync(f, 'not a waveform\n');
    const args = ['cosim', fxp, '--data', join(MODELS, 'data', 'test_x.npy'), '--limit', '1', '--sim', 'icarus'];
    oneLine(await run([...args, '--vcd', f]), 1, /--vcd .* existing file of another kind/);
    expect(readFileSync(f, 'utf8')).toBe('not a waveform\n');
    const w = join(base, 'wave.vcd');
    expect((await run([...args, '--vcd', w])).code).toBe(0);
    expect(readFileSync(w, 'utf8')).toMatch(/^\s*\$(date|version|timescale)/);
    expect((await run([...args, '--vcd', w])).code).toBe(0);
  }, 120_000);
});

/** Starts a run that stops at `stage` (FXPQ_TEST_FAULT=pause:STAGE), then kills it with SIGKILL there. */
async function killAt(stage: string, args: string[]): Promise<void> {
  const p = spawn(process.execPath, [CLI, ...args], {
    cwd: base,
    env: { ...process.env, FXPQ_TEST_FAULT: `pause:${stage}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((res, rej) => {
    let err = '';
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`never reached ${stage}: ${err}`));
    }, 60_000);
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`FXPQ_PAUSED ${stage}`)) {
        clearTimeout(t);
        p.kill('SIGKILL');
      }
    });
    p.on('exit', (_c, sig) => {
      clearTimeout(t);
      if (sig === 'SIGKILL') res();
      else rej(new Error(`exited before the kill: ${err}`));
    });
  });
}

describe('replacing an output is atomic under kills and I/O errors', () => {
  it('kill -9 between the two renames: the next run puts the old output back, then replaces it', async () => {
    const d = join(base, 'k-swap');
    expect((await run(generate(d))).code).toBe(0);
    const before = snapshot(d);
    await killAt('swapped-out', generate(d, '--macs', '16'));
    expect(existsSync(d)).toBe(false);
    expect(leftovers(base, 'k-swap').some((n) => /^\.k-swap\.old-\d+$/.test(n))).toBe(true);
    const ok = await run(generate(d));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/restored .*k-swap from \.k-swap\.old-\d+/);
    expect(snapshot(d)).toEqual(before);
    expect(leftovers(base, 'k-swap')).toEqual([]);
  });

  it('kill -9 while writing: the old output stays whole and the next run removes the temporary folder', async () => {
    const d = join(base, 'k-write');
    expect((await run(generate(d))).code).toBe(0);
    const before = snapshot(d);
    await killAt('write', generate(d, '--macs', '16'));
    expect(snapshot(d)).toEqual(before);
    expect(leftovers(base, 'k-write').some((n) => /^\.k-write\.tmp-\d+$/.test(n))).toBe(true);
    const ok = await run(generate(d, '--macs', '16'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/removed \.k-write\.tmp-\d+/);
    expect(leftovers(base, 'k-write')).toEqual([]);
  });

  it.each([
    ['rename-in', 'EIO', /input\/output error \(EIO\)/],
    ['rename-aside', 'EBUSY', /resource busy \(EBUSY\)/],
    ['write', 'ENOSPC', /no space left on device \(ENOSPC\)/],
    ['write', 'EACCES', /permission denied \(EACCES\)/],
    ['write', 'EROFS', /read-only file system \(EROFS\)/],
  ])('an injected %s failure (%s) is an environment error (74) and leaves the old output whole', async (stage, code, msg) => {
    const d = join(base, `f-${stage}-${code}`);
    expect((await run(generate(d))).code).toBe(0);
    const before = snapshot(d);
    oneLine(await run(generate(d, '--macs', '16'), { env: { FXPQ_TEST_FAULT: `fail:${stage}:${code}` } }), 74, msg);
    expect(snapshot(d)).toEqual(before);
    expect(leftovers(base, `f-${stage}-${code}`)).toEqual([]);
  });

  it("a real OS error is one line with the system's reason and exit 74", async () => {
    oneLine(await run(generate('/proc/self/fxpq-out')), 74, /\((ENOENT|EACCES|EPERM|EROFS)\)$/);
  });

  it('a second run on an output in use fails at once with "in use" (75); a dead holder\'s lock is taken over', async () => {
    const d = join(base, 'busy');
    const p = spawn(process.execPath, [CLI, ...generate(d)], {
      cwd: base,
      env: { ...process.env, FXPQ_TEST_FAULT: 'pause:written' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((res) => {
      let err = '';
      p.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('FXPQ_PAUSED')) res();
      });
    });
    oneLine(await run(generate(d)), 75, new RegExp(`in use: another fxpq process \\(pid ${p.pid}\\)`));
    p.kill('SIGKILL');
    await new Promise((res) => p.on('exit', res));
    const ok = await run(generate(d));
    expect(ok.code, ok.stderr).toBe(0);
    expect(leftovers(base, 'busy')).toEqual([]);
  });

  it('two runs racing on one output both end well: each succeeds or says "in use", and the output is whole', async () => {
    const d = join(base, 'race');
    const go = () =>
      new Promise<Res>((res) => {
        const p = spawn(process.execPath, [CLI, ...generate(d)], { cwd: base, env: { ...process.env, FORCE_COLOR: '0' } });
        let stdout = '',
          stderr = '';
        p.stdout.on('data', (b: Buffer) => {
          stdout += b;
        });
        p.stderr.on('data', (b: Buffer) => {
          stderr += b;
        });
        p.on('close', (code, signal) => res({ code, signal, stdout, stderr }));
      });
    const rs = await Promise.all([go(), go(), go()]);
    for (const r of rs) expect([0, 75], r.stderr).toContain(r.code);
    expect(rs.some((r) => r.code === 0)).toBe(true);
    expect(readFileSync(join(d, 'files.f'), 'utf8').length).toBeGreaterThan(0);
    expect(leftovers(base, 'race')).toEqual([]);
  });
});

/** Live (not zombie) processes whose command line mentions `marker`. */
function liveProcesses(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cwd = (() => {
        try {
          return readFileSync(`/proc/${pid}/environ`, 'latin1');
        } catch {
          return '';
        }
      })();
      if (cmd.includes(marker) || cwd.includes(marker)) found.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

describe('interrupts stop the simulators and remove temporary folders', () => {
  // A private TMPDIR per case: the temporary folders of parallel test files never count, and any
  // child still alive is found by it in its environment.
  it.each([
    ['SIGINT', 'verilator', 130, 'verilator|make|cc1plus'],
    ['SIGTERM', 'verilator', 143, 'verilator|make|cc1plus'],
    ['SIGINT', 'icarus', 130, 'vvp'],
    ['SIGTERM', 'icarus', 143, 'vvp'],
  ])(
    '%s during cosim --sim %s: exit %i, no child left, no temporary folder',
    async (sig, sim, code, busy) => {
      const tmp = mkdtempSync(join(base, `sig-${sim}-`));
      const p = spawn(
        process.execPath,
        [CLI, 'cosim', fxp, '--data', join(MODELS, 'data', 'test_x.npy'), '--limit', sim === 'icarus' ? '1000' : '5', '--sim', sim],
        {
          cwd: tmp,
          env: { ...process.env, TMPDIR: tmp, FORCE_COLOR: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => {
        stderr += b;
      });
      p.stdout.on('data', (b: Buffer) => {
        stderr += b;
      });
      // Wait until the simulator (or its compiler) is running, then interrupt.
      const deadline = Date.now() + 90_000;
      const started = () => liveProcesses(tmp).some((l) => !l.startsWith(`${p.pid} `) && new RegExp(busy).test(l));
      let exited: string | null = null;
      p.on('exit', (c, s) => {
        exited = `exit ${c} ${s}`;
      });
      // A run left behind by a failed check would simulate its 1000 images for minutes: end it.
      onTestFinished(() => {
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      });
      // Check what the loop saw: asking again can fall between the compiler's exit and the simulator's start.
      let seen = false;
      while (Date.now() < deadline && !exited && !(seen = started())) await new Promise((r) => setTimeout(r, 50));
      expect(seen, `the simulator never started (${exited}): ${stderr}`).toBe(true);
      p.kill(sig as NodeJS.Signals);
      const exit = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
      expect(exit).toBe(code);
      expect(stderr.trim().split('\n').pop()).toMatch(new RegExp(`^fxpq: interrupted \\(${sig}\\)`));
      await new Promise((r) => setTimeout(r, 300));
      expect(liveProcesses(tmp)).toEqual([]);
      expect(readdirSync(tmp).filter((n) => n.startsWith('fxpq-cosim-'))).toEqual([]);
    },
    150_000,
  );
});

describe('numeric options and pipes', () => {
  it.each([
    [['--clock', '1e400'], /--clock must be a finite number, got Infinity/],
    [['--clock', 'fast'], /--clock must be a finite number, got NaN/],
    [['--clock', '0'], /--clock must be a positive number of MHz, got 0/],
    [['--workers', '0'], /--workers must be a positive integer, got 0/],
    [['--workers', '1.5'], /--workers must be a positive integer, got 1.5/],
    [['--macs', '1e12'], /--macs must be at most 1048576/],
    [['--limit', '1e400'], /--limit must be a finite number/],
    [['--max-memory', '0'], /--max-memory must be a positive number, got 0/],
    [['--max-memory', '-1'], /--max-memory must be a positive number, got -1/],
  ])('simulate %j is one line and exit 1', async (extra, msg) => {
    oneLine(await run(['simulate', fxp, '--data', join(MODELS, 'data', 'test_x.npy'), ...extra]), 1, msg);
  });

  it('a closed pipe ends the output quietly, with exit 0', async () => {
    const r = await spawnAsync('bash', [
      '-c',
      `set -o pipefail; "${process.execPath}" "${CLI}" info "${join(MODELS, 'resnet8.onnx')}" | head -c 10 >/dev/null`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('what a review found, kept fixed', () => {
  it("a symbolic link planted at the waveform's temporary name is never followed", () => {
    const victim = join(base, 'victim.txt');
    writeFileSync(victim, 'victim\n');
    const src = join(base, 'src.vcd');
    writeFileSync(src, '$date today $end\n');
    const dest = join(base, 'planted.vcd');
    symlinkSync(victim, join(base, `.planted.vcd.tmp-${process.pid}`));
    expect(() => placeFileAtomic(src, dest, () => true)).toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('victim\n');
    expect(existsSync(dest)).toBe(false);
  });

  it('look-alike leftovers of another user, or dangling links, neither block a run nor get restored', async () => {
    const d = join(base, 'shared-out');
    const planted = join(base, '.shared-out.old-1');
    mkdirSync(planted);
    writeFileSync(join(planted, '.fxpq-output'), '{"tool":"fxpq","forged":true}\n');
    writeFileSync(join(planted, 'evil.v'), 'module evil; endmodule\n');
    chownSync(planted, 2001, 2001);
    const blocker = join(base, '.shared-out.tmp-1');
    mkdirSync(blocker, { mode: 0o700 });
    writeFileSync(join(blocker, 'x'), 'x');
    chownSync(blocker, 2001, 2001);
    symlinkSync('/nonexistent', join(base, '.shared-out.tmp-7'));
    const r = await run(generate(d));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(d, 'evil.v'))).toBe(false);
    expect(existsSync(join(d, 'tb.v'))).toBe(true);
    expect(existsSync(planted)).toBe(true);
  });

  it('eval never reads a device named as the source model of a .fxp.json', async () => {
    const f = join(base, 'devzero.fxp.json');
    const j = JSON.parse(readFileSync(fxp, 'utf8'));
    j.source.file = '/dev/zero.onnx';
    writeFileSync(f, JSON.stringify(j));
    const j2 = { ...j, source: { ...j.source, file: '/dev/zero' } };
    const f2 = join(base, 'devzero2.fxp.json');
    writeFileSync(f2, JSON.stringify(j2));
    for (const file of [f, f2]) {
      const t0 = Date.now();
      const r = await run(['eval', file, '--data', join(MODELS, 'data', 'test_x.npy'), '--limit', '5', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).agreement).toBeNull();
      expect(Date.now() - t0).toBeLessThan(20_000);
    }
  });

  it('SIGTERM ends a long synchronous stretch at once (no handler waits behind it)', async () => {
    const p = spawn(process.execPath, [CLI, 'synth', fxp, '--target', 'ice40up'], { cwd: base, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    p.kill('SIGTERM');
    const [code, sig] = await new Promise<[number | null, string | null]>((res) => p.on('exit', (c, s2) => res([c, s2])));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(code === 143 || sig === 'SIGTERM').toBe(true);
  }, 60_000);

  it('the output guard keeps only the colour codes fxpq itself writes', () => {
    expect(guardText('\x1b[1mbold\x1b[22m \x1b[31mred\x1b[39m\n', true)).toBe('\x1b[1mbold\x1b[22m \x1b[31mred\x1b[39m\n');
    expect(guardText('a\x1b[8mhidden\x1b[0m\n', true)).toBe('a\\u001b[8mhidden\x1b[0m\n');
    expect(guardText('top-1 50 %\rtop-1 99 %\n', true)).toBe('top-1 50 %\\u000dtop-1 99 %\n');
    expect(guardText('\r\x1b[2K', true)).toBe('\r\x1b[2K');
  });
});
