import { parentPort, workerData } from 'node:worker_threads';
import { type EvalJob, type EvalSet, Replica, type ShardData } from './backend.js';
import type { Assignment } from '../quant/build.js';

/** A search worker: both evaluators on one shard of the images, driven by the main thread. */
const backend = new Replica(workerData as ShardData);
parentPort!.on('message', (m: { id: number; type: 'evaluate' | 'commit' | 'stage' | 'commitStaged' | 'stageBoth' | 'promote' | 'discard'; job?: EvalJob; a?: Assignment; from?: number; sets?: EvalSet[] }) => {
  try {
    const value = m.type === 'evaluate' ? backend.evaluateSync(m.job!)
      : m.type === 'commit' ? backend.commitSync(m.a!, m.from!)
        : m.type === 'stage' ? backend.stageValidSync(m.a!, m.from!)
          : m.type === 'stageBoth' ? backend.stageSync(m.a!, m.from!, m.sets)
            : m.type === 'promote' ? backend.promoteSync()
              : m.type === 'discard' ? backend.discardSync()
                : backend.commitStagedSync(m.a!, m.from!);
    parentPort!.postMessage({ id: m.id, ok: true, value });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: (e as Error).message });
  }
});
