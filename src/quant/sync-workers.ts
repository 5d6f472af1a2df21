import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

/**
 * Independent jobs run on worker threads from synchronous code (the compensation statistics are
 * computed inside synchronous callers). The jobs are split between the calling thread and up to
 * `threads - 1` workers; the calling thread runs its share, then blocks on a shared flag until
 * each worker has posted its results (read with receiveMessageOnPort, so no event loop turn is
 * needed). A job's result depends on the job alone, never on which thread ran it, so the results
 * are the same bytes for any number of threads.
 */

/** Threads to use by default: both cores of the target machine. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** Jobs whose results came from worker threads so far (tests check the workers really ran). */
export const workerStats = { jobs: 0 };

/** What a worker is given (workerData). */
export interface WorkerInput<J> {
  jobs: J[];
  port: MessagePort;
  flag: Int32Array;
}
/** What a worker posts back on its port. */
export type WorkerOutput<R> = { ok: true; results: R[] } | { ok: false; error: string };

/** Longest-processing-time assignment of jobs to threads (deterministic). */
export function assign(costs: number[], threads: number): number[][] {
  const order = costs.map((_, i) => i).sort((x, y) => costs[y] - costs[x] || x - y);
  const load = new Array<number>(threads).fill(0);
  const bins: number[][] = Array.from({ length: threads }, () => []);
  for (const i of order) {
    let best = 0;
    for (let t = 1; t < threads; t++) if (load[t] < load[best]) best = t;
    load[best] += costs[i];
    bins[best].push(i);
  }
  for (const b of bins) b.sort((x, y) => x - y);
  return bins;
}

/**
 * Runs `jobs` (results in job order). `script`: the compiled worker module, whose `serve` runs a
 * WorkerInput (see `serveJobs`); `transfer` lists the buffers a job or result may hand over
 * without a copy (a job's buffers are then detached here).
 */
export function runJobsSync<J, R>(o: {
  jobs: J[];
  costs: number[];
  threads: number;
  script: string;
  run: (j: J) => R;
  transferJob?: (j: J) => ArrayBuffer[];
}): R[] {
  const { jobs } = o;
  const threads = Math.max(1, Math.min(Math.floor(o.threads) || 1, jobs.length));
  // The compiled worker may be missing (sources run without a build): the calling thread does all.
  if (threads === 1 || !existsSync(o.script)) return jobs.map(o.run);
  const bins = assign(o.costs, threads);
  const workers = bins.slice(1).map((bin) => {
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const mine = bin.map((i) => jobs[i]);
    const input: WorkerInput<J> = { jobs: mine, port: port2, flag };
    const transfer = [port2, ...(o.transferJob ? mine.flatMap(o.transferJob) : [])];
    // A bootstrap that reports a failure to load the module, which would otherwise leave this
    // thread waiting for good.
    const boot = `const { workerData: d } = require('node:worker_threads');
import(${JSON.stringify(pathToFileURL(o.script).href)}).then((m) => m.serve(d), (e) => {
  d.port.postMessage({ ok: false, error: String((e && e.stack) || e) });
  Atomics.store(d.flag, 0, 1); Atomics.notify(d.flag, 0);
});`;
    const worker = new Worker(boot, { eval: true, workerData: input, transferList: transfer as never[] });
    worker.unref();
    return { bin, port1, flag, worker };
  });
  const results = new Array<R>(jobs.length);
  let failure: string | undefined;
  try {
    for (const i of bins[0]) results[i] = o.run(jobs[i]);
  } finally {
    for (const w of workers) {
      while (Atomics.load(w.flag, 0) === 0) Atomics.wait(w.flag, 0, 0, 1000);
      const m = receiveMessageOnPort(w.port1)?.message as WorkerOutput<R> | undefined;
      w.port1.close();
      void w.worker.terminate();
      if (!m) failure ??= 'a compensation worker ended without an answer';
      else if (!m.ok) failure ??= m.error;
      else {
        w.bin.forEach((i, k) => {
          results[i] = m.results[k];
        });
        workerStats.jobs += w.bin.length;
      }
    }
  }
  if (failure !== undefined) throw new Error(`compensation worker: ${failure}`);
  return results;
}

/** Worker side: runs the jobs, posts the results (handing over `transfer`'s buffers), raises the flag. */
export function serveJobs<J, R>(d: WorkerInput<J>, run: (j: J) => R, transfer: (r: R) => ArrayBuffer[]): void {
  try {
    const results = d.jobs.map(run);
    d.port.postMessage({ ok: true, results } satisfies WorkerOutput<R>, results.flatMap(transfer));
  } catch (e) {
    d.port.postMessage({ ok: false, error: String((e as Error).stack ?? e) } satisfies WorkerOutput<R>);
  }
  Atomics.store(d.flag, 0, 1);
  Atomics.notify(d.flag, 0);
  d.port.close();
}
