import type { ChildProcess } from 'node:child_process';
import { rmSync, unlinkSync } from 'node:fs';

/**
 * What a process must undo if it is interrupted: temporary folders, lock files and child
 * processes (simulators, the C++ compiler under Verilator). The CLI installs handlers for SIGINT,
 * SIGTERM and SIGHUP that kill every child's process group, run the cleanups and exit 128+signal.
 * Library users who install their own handlers can call `runCleanups()` themselves.
 */
const cleanups = new Map<number, () => void>();
let nextId = 1;
const children = new Set<ChildProcess>();

/** Registers `fn` to run on interruption; the returned function unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  const id = nextId++;
  cleanups.set(id, fn);
  sync();
  return () => {
    cleanups.delete(id);
    sync();
  };
}

/** A temporary path removed on interruption; call the returned function once it is gone or kept. */
export const removeOnInterrupt = (path: string, kind: 'dir' | 'file' = 'dir'): (() => void) =>
  onInterrupt(() => (kind === 'dir' ? rmSync(path, { recursive: true, force: true }) : unlinkSync(path)));

/**
 * Tracks a child started with `detached: true` (its own process group, so that the whole tree
 * under it, e.g. make and g++ under verilator, can be killed at once) until it exits.
 */
export function trackChild(p: ChildProcess): void {
  children.add(p);
  sync();
  p.once('exit', () => {
    children.delete(p);
    sync();
  });
  p.once('error', () => {
    children.delete(p);
    sync();
  });
}

export function killChildren(): void {
  for (const p of children) {
    if (p.pid === undefined) continue;
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* the group is gone already */
    }
    try {
      p.kill('SIGKILL');
    } catch {
      /* already exited */
    }
  }
  children.clear();
}

/** Kills the children and runs every cleanup, newest first; never throws. */
export function runCleanups(): void {
  killChildren();
  for (const id of [...cleanups.keys()].reverse()) {
    const fn = cleanups.get(id)!;
    cleanups.delete(id);
    try {
      fn();
    } catch {
      /* best effort: one failed removal must not keep the others from running */
    }
  }
}

/*
 * Node delivers signals between turns of the event loop, so a synchronous stretch of code (the
 * renames that swap an output folder in place) is never cut by SIGINT or SIGTERM; only SIGKILL
 * can stop it half-way, and src/io/atomic.ts recovers from that on the next run.
 */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

let enabled = false;
let attached = false;

function handler(s: NodeJS.Signals): void {
  runCleanups();
  try {
    process.stderr.write(`fxpq: interrupted (${s}); stopped the simulators and removed temporary files\n`);
  } catch {
    /* stderr closed */
  }
  process.exit(SIGNAL_EXIT[s] ?? 1);
}

/**
 * The handlers are attached only while there is something to undo. Otherwise the signal's default
 * action ends the process at once, even in the middle of a long synchronous stretch (an import, a
 * Yosys run), where a JavaScript handler would wait until that stretch is over.
 */
function sync(): void {
  const want = enabled && (cleanups.size > 0 || children.size > 0);
  if (want === attached) return;
  for (const sig of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
    if (want) process.on(sig, handler);
    else process.off(sig, handler);
  }
  attached = want;
}

/** SIGINT, SIGTERM, SIGHUP while children run or temporary files exist: kill, clean up, exit 128+signal. */
export function installSignalHandlers(): void {
  enabled = true;
  sync();
}
