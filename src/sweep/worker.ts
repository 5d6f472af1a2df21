import { parentPort } from 'node:worker_threads';
import { type QuantJob, runQuantJob } from './job.js';

/** A sweep worker: runs quantization jobs one at a time and reports their progress. */
parentPort!.on('message', async (m: { id: number; job: QuantJob }) => {
  try {
    const value = await runQuantJob(m.job, (stage, done, total) => parentPort!.postMessage({ id: m.id, progress: { stage, done, total } }));
    parentPort!.postMessage({ id: m.id, ok: true, value });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: (e as Error).message });
  }
});
