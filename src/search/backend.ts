import { availableParallelism } from 'node:os';
import { size } from '../ir/types.js';
import { shareLargeArrays } from '../util/shared.js';
import { WorkerPool } from '../util/worker-pool.js';
import { workerScript } from '../util/worker-script.js';
import type { Assignment } from '../quant/build.js';
import type { FusedGraph } from '../quant/fuse.js';
import { Evaluator, type Score } from './evaluator.js';

export type EvalSet = 'search' | 'valid';
/**
 * `images`: score only this many images of the set (the first ceil(images / SHARDS) of each shard,
 * so the subset, and the score, do not depend on the worker count); all when absent.
 */
export interface EvalJob {
  set: EvalSet;
  a: Assignment;
  from: number;
  abortAbove: number;
  images?: number;
}

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
  /**
   * Scores `a` on the given sets (both by default) and keeps its outputs: `promote` then commits it
   * without recomputing, `discard` drops it. A set staged earlier stays staged; `promote` commits a
   * configuration only after both sets hold it.
   */
  stage(a: Assignment, from: number, sets?: EvalSet[]): Promise<{ search: Score | null; valid: Score | null }>;
  promote(): Promise<void>;
  discard(): Promise<void>;
  close(): Promise<void>;
}

export interface EvalData {
  /** The graph as it is written: validation images are scored with it. */
  fg: FusedGraph;
  /**
   * Per search shard, the graph to score that shard's search images with: weights compensated on
   * the other shards' images only (quant/compensate.ts, crossFittedCompensations).
   */
  crossFg?: FusedGraph[];
  search: { images: Float64Array; teacher: Float64Array; labels?: Int32Array };
  valid: { images: Float64Array; teacher: Float64Array; labels?: Int32Array };
}

/**
 * The image sets are cut into this many fixed shards, each scored on its own (with its own early
 * drop) and added up in shard order. The number is fixed, not the worker count, so a score, and
 * with it the search's path and output, is the same on any number of cores; with two workers each
 * holds one shard, so a commit costs each of them half the images instead of all of them.
 */
export const SHARDS = 2;

/** Shard `k` of `d`: a contiguous slice of the search images and of the validation images. */
export function shardOf(d: EvalData, k: number): ShardData {
  const per = size(d.fg.graph.shapes[d.fg.input]);
  const classes = size(d.fg.graph.shapes[d.fg.output]);
  const cut = (set: EvalData['search']) => {
    const [a, b] = shardRanges(set.images.length / per)[k];
    return {
      images: set.images.subarray(a * per, b * per),
      teacher: set.teacher.subarray(a * classes, b * classes),
      ...(set.labels ? { labels: set.labels.subarray(a, b) } : {}),
    };
  };
  return { fg: d.fg, searchFg: d.crossFg?.[k] ?? d.fg, search: cut(d.search), valid: cut(d.valid) };
}

/** The image ranges `[start, end)` of the SHARDS shards of a set of n images. */
export function shardRanges(n: number): [number, number][] {
  return Array.from({ length: SHARDS }, (_, k) => [Math.floor((k * n) / SHARDS), Math.floor(((k + 1) * n) / SHARDS)]);
}

/** One shard: its images, and the graph each of its two sets is scored with. */
export interface ShardData {
  fg: FusedGraph;
  searchFg: FusedGraph;
  search: EvalData['search'];
  valid: EvalData['valid'];
}

/** Scores of the shards of one configuration, as one score over all images (sums in shard order). */
export function combine(parts: Score[]): Score {
  let klSum = 0,
    errors = 0,
    images = 0,
    aborted = false;
  for (const p of parts) {
    klSum += p.klSum;
    errors += p.errors;
    images += p.images;
    aborted ||= p.aborted;
  }
  return { kl: images > 0 ? klSum / images : 0, klSum, errors, images, aborted };
}

/** Evaluators on one set of images (a shard, or a whole set) in this thread. */
export class Replica {
  readonly s: Evaluator;
  readonly v: Evaluator;
  constructor(d: ShardData) {
    this.s = new Evaluator(d.searchFg, d.search.images, d.search.teacher, d.search.labels);
    this.v = new Evaluator(d.fg, d.valid.images, d.valid.teacher, d.valid.labels);
  }
  evaluateSync(j: EvalJob): Score {
    const e = j.set === 'search' ? this.s : this.v;
    const { q: _q, ...score } = e.evaluate(j.a, j.from, j.abortAbove, j.images === undefined ? e.n : Math.ceil(j.images / SHARDS));
    return score;
  }
  commitSync(a: Assignment, from: number): { search: Score; valid: Score } {
    return { search: this.s.commit(a, from), valid: this.v.commit(a, from) };
  }
  stageValidSync(a: Assignment, from: number): Score {
    return this.v.stage(a, from);
  }
  commitStagedSync(a: Assignment, from: number): { search: Score; valid: Score } {
    return { search: this.s.commit(a, from), valid: this.v.promote() };
  }
  stageSync(a: Assignment, from: number, sets: EvalSet[] = ['search', 'valid']): { search: Score | null; valid: Score | null } {
    return { search: sets.includes('search') ? this.s.stage(a, from) : null, valid: sets.includes('valid') ? this.v.stage(a, from) : null };
  }
  promoteSync(): void {
    this.s.promote();
    this.v.promote();
  }
  discardSync(): void {
    this.s.discard();
    this.v.discard();
  }
}

const combineStaged = (rs: { search: Score | null; valid: Score | null }[]) => ({
  search: rs[0].search === null ? null : combine(rs.map((r) => r.search!)),
  valid: rs[0].valid === null ? null : combine(rs.map((r) => r.valid!)),
});
const combinePairs = (rs: { search: Score; valid: Score }[]) => ({
  search: combine(rs.map((r) => r.search)),
  valid: combine(rs.map((r) => r.valid)),
});

/** Every shard in this thread, one after the other. */
export class LocalBackend implements Backend {
  private readonly shards: Replica[];
  readonly searchImages: number;
  readonly validImages: number;
  constructor(d: EvalData) {
    this.shards = Array.from({ length: SHARDS }, (_, k) => new Replica(shardOf(d, k)));
    this.searchImages = this.shards.reduce((acc, r) => acc + r.s.n, 0);
    this.validImages = this.shards.reduce((acc, r) => acc + r.v.n, 0);
  }
  async evaluate(jobs: EvalJob[]): Promise<Score[]> {
    return jobs.map((j) => combine(this.shards.map((r) => r.evaluateSync(j))));
  }
  async commit(a: Assignment, from: number) {
    return combinePairs(this.shards.map((r) => r.commitSync(a, from)));
  }
  async stageValid(a: Assignment, from: number) {
    return combine(this.shards.map((r) => r.stageValidSync(a, from)));
  }
  async commitStaged(a: Assignment, from: number) {
    return combinePairs(this.shards.map((r) => r.commitStagedSync(a, from)));
  }
  async stage(a: Assignment, from: number, sets?: EvalSet[]) {
    return combineStaged(this.shards.map((r) => r.stageSync(a, from, sets)));
  }
  async promote() {
    for (const r of this.shards) r.promoteSync();
  }
  async discard() {
    for (const r of this.shards) r.discardSync();
  }
  async close(): Promise<void> {
    /* nothing to release */
  }
}

/** A request to a search worker (worker.ts). */
export type WorkerCall =
  | { type: 'evaluate'; job: EvalJob }
  | { type: 'commit' | 'stage' | 'commitStaged'; a: Assignment; from: number }
  | { type: 'stageBoth'; a: Assignment; from: number; sets?: EvalSet[] }
  | { type: 'promote' | 'discard' };

/**
 * Worker threads, worker i holding a replica of shard i % SHARDS. A job is one task per shard,
 * taken by whichever worker of that shard is free; commits go to every worker.
 */
export class PoolBackend implements Backend {
  private readonly pool: WorkerPool<WorkerCall, unknown>;
  /** The workers holding each shard. */
  private readonly holders: number[][];

  constructor(
    d: EvalData,
    readonly searchImages: number,
    readonly validImages: number,
    count: number,
  ) {
    // Every worker reads the same weights, compensation factors and images: one shared copy.
    shareLargeArrays(d);
    this.pool = new WorkerPool(workerScript(import.meta.url, 'worker'), count, (i) => shardOf(d, i % SHARDS));
    this.holders = Array.from({ length: SHARDS }, (_, k) => Array.from({ length: count }, (_, i) => i).filter((i) => i % SHARDS === k));
  }

  async evaluate(jobs: EvalJob[]): Promise<Score[]> {
    const parts = await Promise.all(
      this.holders.map((workers) => this.pool.map(jobs.length, (k) => ({ type: 'evaluate', job: jobs[k] }), { workers })),
    );
    return jobs.map((_, k) => combine(parts.map((p) => p[k] as Score)));
  }

  /** Sends `msg` to every worker; the result of the first worker of each shard, in shard order. */
  private async all<T>(msg: WorkerCall): Promise<T[]> {
    const rs = await Promise.all(Array.from({ length: this.pool.size }, (_, i) => this.pool.call(i, msg)));
    return this.holders.map((workers) => rs[workers[0]] as T);
  }

  async commit(a: Assignment, from: number): Promise<{ search: Score; valid: Score }> {
    return combinePairs(await this.all<{ search: Score; valid: Score }>({ type: 'commit', a, from }));
  }

  async stageValid(a: Assignment, from: number): Promise<Score> {
    return combine(await this.all<Score>({ type: 'stage', a, from }));
  }

  async commitStaged(a: Assignment, from: number): Promise<{ search: Score; valid: Score }> {
    return combinePairs(await this.all<{ search: Score; valid: Score }>({ type: 'commitStaged', a, from }));
  }

  async stage(a: Assignment, from: number, sets?: EvalSet[]): Promise<{ search: Score | null; valid: Score | null }> {
    return combineStaged(await this.all<{ search: Score | null; valid: Score | null }>({ type: 'stageBoth', a, from, sets }));
  }

  async promote(): Promise<void> {
    await this.all({ type: 'promote' });
  }
  async discard(): Promise<void> {
    await this.all({ type: 'discard' });
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export function makeBackend(d: EvalData, workers: number): Backend {
  if (workers <= 1) return new LocalBackend(d);
  const per = size(d.fg.graph.shapes[d.fg.input]);
  // Fewer workers than shards would leave a shard without a replica.
  return new PoolBackend(d, d.search.images.length / per, d.valid.images.length / per, Math.max(workers, SHARDS));
}
