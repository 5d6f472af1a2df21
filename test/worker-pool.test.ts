import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkerPool, runOnWorkers } from '../src/util/worker-pool.js';

/** Jobs are { op, x, delay?, code? }: see the helper for what each op does. */
type Job = { op: string; x: number; delay?: number; code?: number };
type Result = { y: number; thread: number };
const SCRIPT = fileURLToPath(new URL('./helpers/pool-worker.mjs', import.meta.url));

/** Runs `jobs` on a pool of `n` workers; returns the pool too, to look at its threads afterwards. */
async function run(jobs: Job[], n = 3, o: Parameters<WorkerPool<Job, Result, number>['map']>[2] = {}) {
  const pool = new WorkerPool<Job, Result, number>(SCRIPT, n);
  const result = pool.map(jobs.length, (k) => jobs[k], o);
  return { pool, result };
}

describe('worker pool', () => {
  it('returns results in job order whatever order the workers finish in, and progress per job', async () => {
    // Early jobs are the slowest, so they finish last.
    const jobs = Array.from({ length: 12 }, (_, k) => ({ op: 'square', x: k, delay: (12 - k) * 5 }));
    const finished: number[] = [];
    const progress: [number, number][] = [];
    const { pool, result } = await run(jobs, 3, { onResult: (k) => finished.push(k), onProgress: (k, p) => progress.push([k, p]) });
    const rs = await result;
    expect(rs.map((r) => r.y)).toEqual(jobs.map((j) => j.x * j.x));
    expect(finished).not.toEqual([...finished].sort((a, b) => a - b)); // they did finish out of order
    expect(new Set(rs.map((r) => r.thread)).size).toBe(3); // on every worker
    expect(progress.sort((a, b) => a[0] - b[0])).toEqual(jobs.map((j, k) => [k, j.x]));
    expect(pool.alive()).toBe(3);
    await pool.close();
    expect(pool.alive()).toBe(0);
  }, 10_000);

  it('runOnWorkers gives the same answer on any worker count, and starts no worker for no job', async () => {
    const jobs = Array.from({ length: 7 }, (_, k) => ({ op: 'square', x: k + 1 }));
    for (const n of [1, 2, 5, 20]) {
      const rs = await runOnWorkers<Job, Result>(SCRIPT, n, jobs.length, (k) => jobs[k]);
      expect(rs.map((r) => r.y)).toEqual([1, 4, 9, 16, 25, 36, 49]);
    }
    expect(
      await runOnWorkers<Job, Result>(SCRIPT, 2, 0, () => {
        throw new Error('no job to build');
      }),
    ).toEqual([]);
  }, 10_000);

  it('a job that fails in its worker rejects the run with its message, and stops every worker', async () => {
    const jobs = [
      { op: 'square', x: 1 },
      { op: 'throw', x: 2, delay: 20 },
      { op: 'square', x: 3, delay: 200 },
      { op: 'square', x: 4, delay: 200 },
    ];
    const { pool, result } = await run(jobs);
    await expect(result).rejects.toThrow('job 2 failed');
    expect(pool.alive()).toBe(0);
    // With a caller's own error for it (the sweep names the configuration).
    const again = await run(jobs, 2, { jobError: (k, m) => new Error(`job #${k}: ${m}`) });
    await expect(again.result).rejects.toThrow('job #1: job 2 failed');
    expect(again.pool.alive()).toBe(0);
  }, 10_000);

  it('a worker that throws outside any job (its error event) rejects with the error', async () => {
    const { pool, result } = await run([
      { op: 'square', x: 1 },
      { op: 'crash', x: 2 },
      { op: 'square', x: 3, delay: 500 },
    ]);
    await expect(result).rejects.toThrow('worker crashed on job 2');
    expect(pool.alive()).toBe(0);
  }, 10_000);

  // The hang of 998ec19's kind: without the pool's 'exit' handling these never settle, and the
  // short test timeout fails them instead of waiting for good.
  for (const [op, code] of [
    ['exit', 3],
    ['exit', 0],
    ['silent-exit', 0],
  ] as const) {
    it(`a worker whose thread ends mid-job (${op}, code ${code}) rejects the run instead of hanging`, async () => {
      const { pool, result } = await run(
        [
          { op: 'square', x: 1 },
          { op, x: 2, code, delay: 10 },
          { op: 'square', x: 3, delay: 300 },
        ],
        2,
      );
      await expect(result).rejects.toThrow(`exit code ${code}`);
      expect(pool.alive()).toBe(0);
    }, 5_000);
  }

  it("a throw in the caller's callback, or an answer to no job, rejects instead of hanging", async () => {
    const jobs = Array.from({ length: 6 }, (_, k) => ({ op: 'square', x: k }));
    for (const o of [
      {
        onResult: () => {
          throw new Error('result callback failed');
        },
      },
      {
        onProgress: () => {
          throw new Error('progress callback failed');
        },
      },
    ]) {
      const { pool, result } = await run(jobs, 2, o);
      await expect(result).rejects.toThrow(/callback failed/);
      expect(pool.alive()).toBe(0);
    }
    const { pool, result } = await run([{ op: 'stranger', x: 0 }], 1);
    await expect(result).rejects.toThrow('a worker answered a job it was not given');
    expect(pool.alive()).toBe(0);
  }, 5_000);

  it('call runs a job on the worker named; a job failing rejects only its call, a dead worker the pool', async () => {
    const pool = new WorkerPool<Job, Result, number>(SCRIPT, 2);
    const [a, b] = await Promise.all([pool.call(0, { op: 'square', x: 5 }), pool.call(1, { op: 'square', x: 6 })]);
    expect([a.y, b.y]).toEqual([25, 36]);
    expect(a.thread).not.toBe(b.thread);
    // A job's own failure rejects that call only.
    await expect(pool.call(0, { op: 'throw', x: 7 })).rejects.toThrow('job 7 failed');
    expect((await pool.call(0, { op: 'square', x: 2 })).y).toBe(4);
    // A dead worker fails the pool: the outstanding call on the other worker too, and later ones.
    const other = pool.call(1, { op: 'square', x: 3, delay: 1000 });
    await expect(pool.call(0, { op: 'exit', x: 0, code: 1 })).rejects.toThrow('exit code 1');
    await expect(other).rejects.toThrow('exit code 1');
    await expect(pool.call(1, { op: 'square', x: 1 })).rejects.toThrow('exit code 1');
    await pool.close();
    expect(pool.alive()).toBe(0);
  }, 5_000);
});
