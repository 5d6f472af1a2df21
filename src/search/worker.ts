import { workerData } from 'node:worker_threads';
import { serve } from '../util/worker-pool.js';
import { Replica, type ShardData, type WorkerCall } from './backend.js';

/** A search worker: both evaluators on one shard of the images, driven by the main thread. */
const backend = new Replica(workerData as ShardData);
serve<WorkerCall, unknown>((m) => {
  switch (m.type) {
    case 'evaluate':
      return backend.evaluateSync(m.job);
    case 'commit':
      return backend.commitSync(m.a, m.from);
    case 'stage':
      return backend.stageValidSync(m.a, m.from);
    case 'stageBoth':
      return backend.stageSync(m.a, m.from, m.sets);
    case 'commitStaged':
      return backend.commitStagedSync(m.a, m.from);
    case 'promote':
      return backend.promoteSync();
    case 'discard':
      return backend.discardSync();
  }
});
