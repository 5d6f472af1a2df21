import type * as Ort from 'onnxruntime-node';
import { FxpqError } from '../errors.js';
import { argmaxRows, tiedRows } from './run.js';

/**
 * Float inference through onnxruntime-node, the ONNX runtime of the field, when it is installed
 * (it is fxpq's test oracle, an optional dependency for users). fxpq's own float64 engine stays the
 * exact reference and the fallback; see docs/float-engine.md for when each is used and why.
 */
export type FloatEngine = 'auto' | 'fxpq' | 'onnxruntime';
export const FLOAT_ENGINES: FloatEngine[] = ['auto', 'fxpq', 'onnxruntime'];

let loaded: typeof Ort | null | undefined;

/** The onnxruntime-node module, or null when it is not installed (or does not load here). */
export async function onnxRuntime(): Promise<typeof Ort | null> {
  if (loaded !== undefined) return loaded;
  try {
    loaded = await import('onnxruntime-node');
  } catch {
    loaded = null;
  }
  return loaded;
}

/** Which engine runs: `auto` takes onnxruntime when it loads, else fxpq's own. */
export async function resolveFloatEngine(e: FloatEngine): Promise<'fxpq' | 'onnxruntime'> {
  if (e === 'fxpq') return 'fxpq';
  const ort = await onnxRuntime();
  if (ort) return 'onnxruntime';
  if (e === 'onnxruntime')
    throw new FxpqError(
      '--float-engine onnxruntime: onnxruntime-node is not installed (npm install onnxruntime-node), or use --float-engine fxpq',
    );
  return 'fxpq';
}

export interface OrtPredictions {
  pred: Int32Array;
  tied: Uint8Array;
}

/**
 * Top-1 class (and ties) of `count` images through onnxruntime, `threads` intra-op threads,
 * sequential execution. The model bytes must already have passed fxpq's importer, which checks
 * every size a hostile file declares before onnxruntime sees it.
 */
export async function predictOrt(
  model: Uint8Array,
  data: Float64Array,
  count: number,
  inShape: number[],
  o: { threads?: number; batch?: number; onProgress?: (done: number) => void } = {},
): Promise<OrtPredictions> {
  const ort = await onnxRuntime();
  if (!ort) throw new FxpqError('onnxruntime-node is not installed');
  const per = inShape.reduce((a, b) => a * b, 1);
  const batch = o.batch ?? 64;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Math.max(1, o.threads ?? 1),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const pred = new Int32Array(count),
    tied = new Uint8Array(count);
  const x32 = new Float32Array(Math.min(batch, count) * per);
  try {
    for (let s = 0; s < count; s += batch) {
      const n = Math.min(batch, count - s);
      const x = x32.subarray(0, n * per);
      for (let i = 0; i < x.length; i++) x[i] = data[s * per + i];
      const r = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [n, ...inShape]) });
      const y = Float64Array.from(r[session.outputNames[0]].data as Float32Array);
      pred.set(argmaxRows(y, n), s);
      tied.set(tiedRows(y, n), s);
      o.onProgress?.(s + n);
    }
  } finally {
    await session.release();
  }
  return { pred, tied };
}
