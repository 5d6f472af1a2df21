// A worker for test/worker-pool.test.ts, speaking the pool's protocol by hand (no build needed):
// each job says what to do, so one script can answer, fail, or die in the middle of a job.
import { parentPort, threadId } from 'node:worker_threads';

parentPort.on('message', ({ id, job }) => {
  const answer = () => {
    switch (job.op) {
      case 'square':
        parentPort.postMessage({ id, progress: job.x });
        parentPort.postMessage({ id, ok: true, value: { y: job.x * job.x, thread: threadId } });
        return;
      case 'throw':
        parentPort.postMessage({ id, ok: false, error: `job ${job.x} failed` });
        return;
      case 'crash':
        throw new Error(`worker crashed on job ${job.x}`); // uncaught: the worker's 'error'
      case 'exit':
        process.exit(job.code);
        return; // ends the thread without a word
      case 'silent-exit':
        parentPort.close();
        return; // the thread ends (code 0) with the job unanswered
      case 'stranger':
        parentPort.postMessage({ pred: [1, 2, 3] });
        return; // an answer in another shape
    }
  };
  setTimeout(answer, job.delay ?? 0);
});
