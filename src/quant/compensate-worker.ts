import { type CompJob, type CompResult, resultBuffers, runCompJob } from './compensate-jobs.js';
import { serveJobs, type WorkerInput } from './sync-workers.js';

/** A compensation worker (quant/sync-workers.ts): runs its share of the jobs and answers once. */
export function serve(d: WorkerInput<CompJob>): void {
  serveJobs<CompJob, CompResult>(d, runCompJob, resultBuffers);
}
