import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { size } from '../ir/types.js';
import { workerScript } from '../util/worker-script.js';
import type { Assignment } from '../quant/build.js';
import type { FusedGraph } from '../quant/fuse.js';
import { Evaluator, type Score } from './evaluator.js';

export type EvalSet = 'search' | 'valid';
export interface EvalJob { set: EvalSet; a: Assignment; from: number; abortAbove: number }

/**
 * Where the search's evaluations run. Jobs of one call are independent; their results do not
 * depend on how they are spread over workers, so the search is deterministic for any worker count.
 */
export interface Backend {
  readonly searchImages: number;
  readonly validImages: number;
  evaluate(jobs: EvalJob[]): Promise<Score[]>;
  commit(a: Assignment, from: number): Promise<{ search: Score; valid: Score }>;
  /** Scores `a` on the validation images and keeps its outputs for `commitStaged`. */
  stageValid(a: Assignment, from: number): Promise<Score>;
  /** Commits the configuration last staged with `stageValid` (the validation part is not recomputed). */
  commitStaged(a: Assignment, from: number): Promise<{ search: Score; valid: Score }>;
  close(): Promise<void>;
}

export interface EvalData {
  fg: FusedGraph;
  search: { images: Float64Array; teacher: Float64Array; labels?: Int32Array };
  valid: { images: Float64Array; teacher: Float64Array; labels?: Int32Array };
}

/** Both evaluators in this thread. */
export class LocalBackend implements Backend {
  readonly s: Evaluator;
  readonly v: Evaluator;
  constructor(d: EvalData) {
    this.s = new Evaluator(d.fg, d.search.images, d.search.teacher, d.search.labels);
    this.v = new Evaluator(d.fg, d.valid.images, d.valid.teacher, d.valid.labels);
  }
  get searchImages(): number { return this.s.n; }
  get validImages(): number { return this.v.n; }
  evaluateSync(j: EvalJob): Score {
    const { q: _q, ...score } = (j.set === 'search' ? this.s : this.v).evaluate(j.a, j.from, j.abortAbove);
    return score;
  }
  commitSync(a: Assignment, from: number): { search: Score; valid: Score } {
    return { search: this.s.commit(a, from), valid: this.v.commit(a, from) };
  }
  stageValidSync(a: Assignment, from: number): Score { return this.v.stage(a, from); }
  commitStagedSync(a: Assignment, from: number): { search: Score; valid: Score } {
    return { search: this.s.commit(a, from), valid: this.v.promote() };
  }
  async evaluate(jobs: EvalJob[]): Promise<Score[]> { return jobs.map((j) => this.evaluateSync(j)); }
  async commit(a: Assignment, from: number) { return this.commitSync(a, from); }
  async stageValid(a: Assignment, from: number) { return this.stageValidSync(a, from); }
  async commitStaged(a: Assignment, from: number) { return this.commitStagedSync(a, from); }
  async close(): Promise<void> { /* nothing to release */ }
}


interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void }

/** One replica of both evaluators per worker thread; commits go to all, jobs to whichever is free. */
export class PoolBackend implements Backend {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(d: EvalData, readonly searchImages: number, readonly validImages: number, count: number) {
    for (let i = 0; i < count; i++) {
      const w = new Worker(workerScript(import.meta.url, 'worker'), { workerData: d });
      w.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value); else p.reject(new Error(m.error));
      });
      w.on('error', (e) => { this.failure = e; for (const p of this.pending.values()) p.reject(e); this.pending.clear(); });
      this.workers.push(w);
    }
  }

  private call<T>(w: Worker, msg: object): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, ...msg });
    });
  }

  async evaluate(jobs: EvalJob[]): Promise<Score[]> {
    const out: Score[] = new Array(jobs.length);
    let next = 0;
    await Promise.all(this.workers.map(async (w) => {
      while (next < jobs.length) {
        const k = next++;
        out[k] = await this.call<Score>(w, { type: 'evaluate', job: jobs[k] });
      }
    }));
    return out;
  }

  async commit(a: Assignment, from: number): Promise<{ search: Score; valid: Score }> {
    const rs = await Promise.all(this.workers.map((w) => this.call<{ search: Score; valid: Score }>(w, { type: 'commit', a, from })));
    return rs[0];
  }

  // Every replica stages and commits, so they stay identical; the work runs side by side.
  async stageValid(a: Assignment, from: number): Promise<Score> {
    const rs = await Promise.all(this.workers.map((w) => this.call<Score>(w, { type: 'stage', a, from })));
    return rs[0];
  }

  async commitStaged(a: Assignment, from: number): Promise<{ search: Score; valid: Score }> {
    const rs = await Promise.all(this.workers.map((w) => this.call<{ search: Score; valid: Score }>(w, { type: 'commitStaged', a, from })));
    return rs[0];
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export function makeBackend(d: EvalData, workers: number): Backend {
  if (workers <= 1) return new LocalBackend(d);
  const per = size(d.fg.graph.shapes[d.fg.input]);
  return new PoolBackend(d, d.search.images.length / per, d.valid.images.length / per, workers);
}
