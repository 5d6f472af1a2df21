import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';
import { BusyError, FxpqError, isSystemError } from '../errors.js';
import { onInterrupt } from '../util/cleanup.js';
import { TOOL_VERSION } from '../version.js';

/**
 * Output folders are written whole or not at all, and never over something fxpq did not write.
 *
 * - Every folder fxpq writes holds a marker file, MANIFEST. An existing path without it (a user's
 *   file, a folder of their own, the working directory) is refused unless --force; even with
 *   --force, the working directory, its parents, the home folder, the root and any folder that holds
 *   an input of the command are never replaced.
 * - Files go to a temporary sibling `.NAME.tmp-PID`, then two renames swap it in; if the second
 *   fails the first is undone. A SIGKILL between them leaves `.NAME.old-PID`, which the next write
 *   to the same path puts back before anything else; stale temporary folders are removed then too.
 * - A lock file `.NAME.fxpq-lock` (created exclusively, holding the PID) makes a second process
 *   writing the same path fail at once with "in use" instead of racing.
 */
export const MANIFEST = '.fxpq-output';

export interface OutputOptions {
  /** Replace an existing path that is not an fxpq output (never the protected ones below). */
  force?: boolean;
  /** Input files of the command: neither they nor any folder holding them is ever replaced. */
  protect?: (string | undefined | null)[];
  /** The option that named the path, for messages (default --out). */
  option?: string;
}

/** A default folder name made from a model's file name: one plain path component, never . or .. */
export function safeFolderName(name: string): string {
  const t = name
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 80);
  return t || 'model';
}

const exists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

/** The real path of p, or of its nearest existing ancestor with the rest appended. */
function realish(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const up = dirname(head);
    if (up === head) break;
    tail.unshift(basename(head));
    head = up;
  }
  let real = head;
  try {
    real = realpathSync(head);
  } catch {
    /* keep the resolved path */
  }
  return tail.length ? join(real, ...tail) : real;
}

const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/** Whether `dir` is a folder fxpq wrote (it carries the marker). */
export function isFxpqOutput(dir: string): boolean {
  try {
    return lstatSync(join(dir, MANIFEST)).isFile() && readFileSync(join(dir, MANIFEST), 'utf8').startsWith('{"tool":"fxpq"');
  } catch {
    return false;
  }
}

/**
 * Throws unless `dir` may be replaced: absent, an empty folder, an fxpq output, or (with force) any
 * other path that is not protected.
 */
export function checkOutputPath(dir: string, o: OutputOptions = {}): void {
  const opt = o.option ?? '--out';
  const target = realish(dir);
  const cwd = realish(process.cwd());
  const never: [string, string][] = [
    [cwd, 'the working directory or a folder above it'],
    [realish(homedir()), 'your home folder or a folder above it'],
  ];
  for (const [p, why] of never) {
    if (within(p, target)) throw new FxpqError(`${opt} ${dir} is ${why}; fxpq never replaces it, even with --force`);
  }
  if (target === parse(target).root) throw new FxpqError(`${opt} ${dir} is the root folder; fxpq never replaces it`);
  for (const input of o.protect ?? []) {
    if (!input) continue;
    if (within(realish(input), target))
      throw new FxpqError(`${opt} ${dir} holds ${input}, an input of this command; fxpq never replaces it, even with --force`);
  }
  if (!exists(target) && hasSetAside(target)) {
    // A run killed between its two renames left the output aside: put it back first.
    const release = lock(target);
    try {
      for (const line of recoverStale(target)) process.stderr.write(`fxpq: ${line}\n`);
    } finally {
      release();
    }
  }
  if (!exists(target)) {
    let up = dirname(target);
    while (!exists(up) && dirname(up) !== up) up = dirname(up);
    if (exists(up) && !statSync(up).isDirectory()) throw new FxpqError(`${opt} ${dir}: ${up} is a file, not a folder`);
    return;
  }
  const st = lstatSync(target);
  if (st.isDirectory() && (readdirSync(target).length === 0 || isFxpqOutput(target))) return;
  if (o.force) return;
  const what = st.isSymbolicLink()
    ? 'a symbolic link'
    : st.isDirectory()
      ? 'a folder that fxpq did not write'
      : st.isFile()
        ? 'an existing file'
        : 'an existing special file';
  throw new FxpqError(
    `${opt} ${dir} is ${what} (no ${MANIFEST} in it); fxpq will not replace it: choose another path, remove it yourself, or add --force`,
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function hasSetAside(target: string): boolean {
  try {
    const base = basename(target);
    return readdirSync(dirname(target)).some((n) => n.startsWith(`.${base}.old-`));
  } catch {
    return false;
  }
}

/** Takes the lock of `target`, or throws "in use"; returns the release function. */
function lock(target: string): () => void {
  const path = join(dirname(target), `.${basename(target)}.fxpq-lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(
        (() => {
          try {
            return readFileSync(path, 'utf8');
          } catch {
            return '';
          }
        })(),
        10,
      );
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new BusyError(`${target} is in use: another fxpq process (pid ${pid}) is writing it; try again when it has finished`);
      }
      // Left by a process that died (or an empty lock from a crash at creation): take it over.
      try {
        unlinkSync(path);
      } catch {
        /* somebody else took it over first; retry tells */
      }
      continue;
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    const unregister = onInterrupt(() => unlinkSync(path));
    return () => {
      unregister();
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    };
  }
  throw new BusyError(`${target} is in use by another fxpq process; try again`);
}

/**
 * Puts back an output left aside by a process killed between its two renames, and removes the
 * temporary folders of earlier crashes. Called with the lock held, so none of them is live.
 * Returns what it did, one line each, for the caller to report.
 */
export function recoverStale(target: string): string[] {
  const parent = dirname(target),
    base = basename(target);
  const said: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return said;
  }
  const mine = (kind: string) =>
    names.filter((n) => n.startsWith(`.${base}.${kind}-`) && /^\d+$/.test(n.slice(base.length + kind.length + 3)));
  // Only real folders of this user's: in a shared folder another user could plant a look-alike
  // (to be "restored" as fxpq's output, or to make every run fail on it).
  const ours = (p: string) => {
    try {
      const st = lstatSync(p);
      return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid());
    } catch {
      return false;
    }
  };
  const attempt = (what: string, f: () => void) => {
    try {
      f();
      said.push(what);
    } catch (e) {
      said.push(`could not clean up (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ${what}`);
    }
  };
  for (const n of mine('old')) {
    const p = join(parent, n);
    if (!ours(p) || !isFxpqOutput(p)) continue;
    if (!exists(target)) attempt(`restored ${target} from ${n}, left by an interrupted run`, () => renameSync(p, target));
    else attempt(`removed ${n}, left by an interrupted run`, () => rmSync(p, { recursive: true, force: true }));
  }
  for (const n of mine('tmp')) {
    const p = join(parent, n);
    // A temporary folder gets the marker before anything else, so one without it is not ours.
    let empty: boolean;
    try {
      empty = readdirSync(p).length === 0;
    } catch {
      continue;
    }
    if (ours(p) && (isFxpqOutput(p) || empty))
      attempt(`removed ${n}, left by an interrupted run`, () => rmSync(p, { recursive: true, force: true }));
  }
  return said;
}

/**
 * Fault injection for the tests of this module (FXPQ_TEST_FAULT): `fail:STAGE:CODE` makes the
 * step STAGE throw the OS error CODE, `pause:STAGE` stops there (writing "FXPQ_PAUSED STAGE" on
 * stderr) so that a test can kill the process at exactly that point. It can only make fxpq fail.
 */
function fault(stage: string): void {
  const f = process.env.FXPQ_TEST_FAULT;
  if (!f) return;
  const [what, at, code] = f.split(':');
  if (at !== stage) return;
  if (what === 'fail') {
    const e = new Error(`injected ${code ?? 'EIO'}`) as NodeJS.ErrnoException;
    e.code = code ?? 'EIO';
    e.syscall = stage.startsWith('rename') ? 'rename' : 'write';
    e.path = stage;
    throw e;
  }
  if (what === 'pause') {
    process.stderr.write(`FXPQ_PAUSED ${stage}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  }
}

const manifest = () =>
  `{"tool":"fxpq","version":${JSON.stringify(TOOL_VERSION)},"note":"written by fxpq; fxpq replaces this folder only while this file is here"}\n`;

/** Writes a whole output folder or nothing; see the module comment for the guarantees. */
export function writeFolderAtomic(dir: string, files: Record<string, string | Uint8Array>, o: OutputOptions = {}): void {
  checkOutputPath(dir, o);
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const release = lock(target);
  try {
    for (const line of recoverStale(target)) process.stderr.write(`fxpq: ${line}\n`);
    // Checked again under the lock: the recovery may have put a folder back.
    checkOutputPath(dir, o);
    const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const unregister = onInterrupt(() => rmSync(tmp, { recursive: true, force: true }));
    try {
      writeFileSync(join(tmp, MANIFEST), manifest());
      for (const [name, content] of Object.entries(files)) {
        if (name === MANIFEST || name.split('/').some((s) => s === '' || s === '.' || s === '..'))
          throw new Error(`bad output file name ${JSON.stringify(name)}`);
        const p = join(tmp, name);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, content);
        fault('write');
      }
      fault('written');
      swapIn(tmp, target);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      unregister();
    }
  } finally {
    release();
  }
}

/** Renames tmp to target, setting an existing target aside first and putting it back on failure. */
function swapIn(tmp: string, target: string): void {
  if (!exists(target)) {
    fault('rename-in');
    renameSync(tmp, target);
    return;
  }
  const old = join(dirname(target), `.${basename(target)}.old-${process.pid}`);
  rmSync(old, { recursive: true, force: true });
  fault('rename-aside');
  renameSync(target, old);
  try {
    fault('swapped-out');
    fault('rename-in');
    renameSync(tmp, target);
  } catch (e) {
    try {
      renameSync(old, target);
    } catch (e2) {
      throw new FxpqError(
        `could not replace ${target} (${(e as Error).message}) nor put the old one back (${(e2 as Error).message}); it is in ${old}`,
      );
    }
    throw e;
  }
  try {
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    // The new output is in place; the old copy is only left over, and the next run removes it.
    if (!isSystemError(e)) throw e;
    process.stderr.write(`fxpq: could not remove ${old} (${e.code}); the next run removes it\n`);
  }
}

/**
 * Copies one produced file (a waveform) to a user's path under the same rule: a new path, or an
 * existing file of the same kind (`looksLike` its first bytes), else only with --force.
 */
export function placeFileAtomic(src: string, dest: string, looksLike: (head: string) => boolean, o: OutputOptions = {}): void {
  const opt = o.option ?? '--out';
  const target = resolve(dest);
  for (const input of o.protect ?? []) {
    if (input && realish(input) === realish(target))
      throw new FxpqError(`${opt} ${dest} is an input of this command; fxpq never replaces it`);
  }
  if (exists(target)) {
    const st = lstatSync(target);
    if (!st.isFile()) throw new FxpqError(`${opt} ${dest} exists and is not a regular file; fxpq will not replace it`);
    let head = '';
    try {
      const b = Buffer.alloc(64);
      const fd = openSync(target, 'r');
      const n = readSync(fd, b);
      closeSync(fd);
      head = b.subarray(0, n).toString('latin1');
    } catch {
      /* unreadable: treated as foreign */
    }
    if (!o.force && !looksLike(head))
      throw new FxpqError(
        `${opt} ${dest} is an existing file of another kind; fxpq will not replace it: choose another path or add --force`,
      );
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
  const unregister = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    // Created exclusively (O_EXCL does not follow a symbolic link planted under this name), so
    // the copy can only ever land in a new file of ours.
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, readFileSync(src));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    unregister();
  }
}
