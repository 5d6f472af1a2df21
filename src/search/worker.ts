import { parentPort, workerData } from 'node:worker_threads';
import { type EvalJob, Replica, type ShardData } from './backend.js';
import type { Assignment } from '../quant/build.js';

/** A search worker: both evaluators on one shard of the images, driven by the main thread. */
const backend = new Replica(workerData as ShardData);
parentPort!.on('message', (m: { id: number; type: 'evaluate' | 'commit' | 'stage' | 'commitStaged'; job?: EvalJob; a?: Assignment; from?: number }) => {
  try {
    const value = m.type === 'evaluate' ? backend.evaluateSync(m.job!)
      : m.type === 'commit' ? backend.commitSync(m.a!, m.from!)
        : m.type === 'stage' ? backend.stageValidSync(m.a!, m.from!)
          : backend.commitStagedSync(m.a!, m.from!);
    parentPort!.postMessage({ id: m.id, ok: true, value });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: (e as Error).message });
  }
});
