import * as ort from 'onnxruntime-node';

/** Runs a model with onnxruntime-node, single-threaded, and returns the first output as float64. */
export async function runOrt(model: Uint8Array | string, x: Float32Array, dims: number[]): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(model as Uint8Array, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'disabled',
    logSeverityLevel: 3,
  });
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
  const y = out[session.outputNames[0]].data as Float32Array;
  await session.release();
  return Float64Array.from(y);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
