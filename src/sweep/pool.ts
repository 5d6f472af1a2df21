import { Worker } from 'node:worker_threads';
import { FxpqError } from '../errors.js';
import { workerScript } from '../util/worker-script.js';
import type { QuantJob, QuantJobResult } from './job.js';

export type JobProgress = (job: number, stage: string, done: number, total: number) => void;

/**
 * Runs independent quantization jobs on `count` worker threads, each job whole on one thread.
 * Results come back in job order whatever the scheduling, and every job is a pure function of its
 * inputs, so the sweep's output does not depend on the thread count.
 */
export async function runJobs(jobs: QuantJob[], count: number, onDone: (i: number, r: QuantJobResult) => void, onProgress?: JobProgress): Promise<QuantJobResult[]> {
  const out: QuantJobResult[] = new Array(jobs.length);
  if (jobs.length === 0) return out;
  const n = Math.max(1, Math.min(count, jobs.length));
  const workers = Array.from({ length: n }, () => new Worker(workerScript(import.meta.url, 'worker')));
  let next = 0;
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      const take = () => {
        if (next >= jobs.length) { resolve(); return; }
        const id = next++;
        w.postMessage({ id, job: jobs[id] });
      };
      w.on('message', (m: { id: number; ok?: boolean; value?: QuantJobResult; error?: string; progress?: { stage: string; done: number; total: number } }) => {
        if (m.progress) { onProgress?.(m.id, m.progress.stage, m.progress.done, m.progress.total); return; }
        if (!m.ok) { reject(new FxpqError(`configuration '${jobs[m.id].config.label}': ${m.error}`)); return; }
        out[m.id] = m.value!;
        onDone(m.id, m.value!);
        take();
      });
      w.on('error', reject);
      take();
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return out;
}
