import { parentPort, type TransferListItem, Worker } from 'node:worker_threads';

/**
 * The one worker-thread pool behind every parallel loop (prediction, the cycle simulator, the
 * sweep, the search's evaluators). It replaces four hand-written copies that differed in how they
 * failed: a worker that died without answering, or an answer the caller could not take, left the
 * caller waiting for good (fixed once in eval/predict.ts by 998ec19, still open in the others).
 * Here a worker's error, an exit the pool did not ask for, an unreadable or unexpected answer and a
 * throw in the caller's own callback each reject what is outstanding; `map` then stops every
 * worker. Results come back in job order, so nothing depends on which worker finished first.
 *
 * Protocol: the pool posts { id, job }; the worker (`serve`) posts any number of { id, progress },
 * then { id, ok: true, value } or { id, ok: false, error }.
 */

type Answer<R, P> = { id: number } & ({ progress: P } | { ok: true; value: R } | { ok: false; error: string });
interface Pending<R, P> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
  onProgress?: (p: P) => void;
}

/** A job's own failure: what the worker's handler threw, as its message. */
class JobFailed extends Error {}

export interface MapOptions<J, R, P> {
  /** Buffers of a job to hand over instead of copying (they are detached here). */
  transfer?: (job: J) => TransferListItem[];
  /** Each result as it arrives (completion order; the array `map` returns is in job order). */
  onResult?: (k: number, r: R) => void;
  onProgress?: (k: number, p: P) => void;
  /** The error to reject with when job k itself failed in the worker (default: its message). */
  jobError?: (k: number, message: string) => Error;
  /** Only these workers take the jobs (default: all). */
  workers?: number[];
}

export class WorkerPool<J, R, P = never> {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending<R, P>>();
  private nextId = 0;
  private failure: Error | null = null;
  private closed: Promise<void> | null = null;
  private exited = 0;

  /** `count` threads running `script` (a compiled module that calls `serve`), worker i given workerData(i). */
  constructor(script: string, count: number, workerData?: (i: number) => unknown) {
    for (let i = 0; i < count; i++) {
      const w = new Worker(script, workerData ? { workerData: workerData(i) } : {});
      w.on('message', (m: Answer<R, P>) => this.answer(m));
      w.on('messageerror', (e) => void this.fail(e));
      w.on('error', (e) => void this.fail(e));
      w.on('exit', (code) => {
        this.exited++;
        if (!this.closed) void this.fail(new Error(`a worker thread stopped (exit code ${code}) before its pool was closed`));
      });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }
  /** Workers whose thread has not ended yet. */
  alive(): number {
    return this.workers.length - this.exited;
  }

  /** Runs one job on worker i. A job's own failure rejects this call only; a dead worker fails the pool. */
  call(i: number, job: J, o: { transfer?: TransferListItem[]; onProgress?: (p: P) => void } = {}): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress: o.onProgress });
      try {
        this.workers[i].postMessage({ id, job }, o.transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  /**
   * Runs jobs 0..count-1 (`job(k)` builds each when it is sent), each on the next free worker;
   * results in job order. The first failure stops every worker before this rejects.
   */
  async map(count: number, job: (k: number) => J, o: MapOptions<J, R, P> = {}): Promise<R[]> {
    const out = new Array<R>(count);
    const takers = o.workers ?? this.workers.map((_, i) => i);
    if (count > 0 && takers.length === 0) throw new Error('a worker pool with no workers was given jobs');
    let next = 0;
    const take = async (i: number) => {
      while (next < count) {
        const k = next++;
        const j = job(k);
        const onProgress = o.onProgress && ((p: P) => o.onProgress!(k, p));
        try {
          out[k] = await this.call(i, j, { transfer: o.transfer?.(j), onProgress });
        } catch (e) {
          throw e instanceof JobFailed && o.jobError ? o.jobError(k, e.message) : e;
        }
        o.onResult?.(k, out[k]);
      }
    };
    try {
      await Promise.all(takers.map(take));
    } catch (e) {
      await this.fail(e as Error);
      throw e;
    }
    return out;
  }

  /** Terminates every worker (and rejects any call still outstanding). */
  close(): Promise<void> {
    if (!this.closed) {
      this.rejectAll(this.failure ?? new Error('the worker pool was closed'));
      this.closed = Promise.all(this.workers.map((w) => w.terminate())).then(() => undefined);
    }
    return this.closed;
  }

  private answer(m: Answer<R, P>): void {
    try {
      const p = this.pending.get(m.id);
      // An answer to nothing asked (a worker script from another build, say) would otherwise leave
      // the real job waiting for good.
      if (!p) throw new Error(`a worker answered a job it was not given (${JSON.stringify(m)?.slice(0, 80)})`);
      if ('progress' in m) {
        p.onProgress?.(m.progress);
        return;
      }
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new JobFailed(m.error));
    } catch (e) {
      void this.fail(e as Error);
    }
  }

  private rejectAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private fail(e: Error): Promise<void> {
    if (!this.failure && !this.closed) {
      this.failure = e;
      this.rejectAll(e);
    }
    return this.close();
  }
}

/** A pool of `count` workers (no more than there are jobs) for one `map`, closed afterwards. */
export async function runOnWorkers<J, R, P = never>(
  script: string,
  count: number,
  jobs: number,
  job: (k: number) => J,
  o: MapOptions<J, R, P> & { workerData?: (i: number) => unknown } = {},
): Promise<R[]> {
  if (jobs === 0) return [];
  const pool = new WorkerPool<J, R, P>(script, Math.max(1, Math.min(count, jobs)), o.workerData);
  try {
    return await pool.map(jobs, job, o);
  } finally {
    await pool.close();
  }
}

/**
 * Worker side: answers each job with `run`'s result (handing over `transfer`'s buffers) or with the
 * message of what it threw; `progress` reports part-way.
 */
export function serve<J, R, P = never>(
  run: (job: J, progress: (p: P) => void) => R | Promise<R>,
  transfer?: (r: R) => TransferListItem[],
): void {
  const port = parentPort!;
  port.on('message', async ({ id, job }: { id: number; job: J }) => {
    try {
      const value = await run(job, (progress) => port.postMessage({ id, progress }));
      port.postMessage({ id, ok: true, value }, transfer?.(value));
    } catch (e) {
      port.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
}
