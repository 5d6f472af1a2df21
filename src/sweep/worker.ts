import { serve } from '../util/worker-pool.js';
import { type JobProgress, type QuantJob, type QuantJobResult, runQuantJob } from './job.js';

/** A sweep worker: runs quantization jobs one at a time and reports their progress. */
serve<QuantJob, QuantJobResult, JobProgress>((job, progress) => runQuantJob(job, (stage, done, total) => progress({ stage, done, total })));
