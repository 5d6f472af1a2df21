import { FxpqError } from '../errors.js';
import { size } from '../ir/types.js';
import { readNpy } from './npy.js';

export interface Images {
  /** Images used (after --limit). */
  count: number;
  /** Images in the file. */
  total: number;
  /** [count, ...shape] as float64. */
  data: Float64Array;
  shape: number[];
}

/** Parses "1/255", "0.5" or "3" into a number. */
export function parseScale(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'number') return text;
  const m = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+))?\s*$/.exec(text);
  const v = m ? Number(m[1]) / (m[2] !== undefined ? Number(m[2]) : 1) : NaN;
  if (!Number.isFinite(v) || v <= 0) throw new FxpqError(`--scale: '${text}' is not a positive number or fraction like 1/255`);
  return v;
}

/**
 * Loads images for a model whose per-sample input shape is `shape`: float32/float64 NCHW as is,
 * or uint8 multiplied by `scale`. Checks shape, dtype and finiteness.
 */
export function loadImages(path: string, shape: number[], opts: { scale?: number; limit?: number } = {}): Images {
  const a = readNpy(path);
  const want = `[N, ${shape.join(', ')}]`;
  if (a.shape.length !== shape.length + 1 || shape.some((d, i) => a.shape[i + 1] !== d)) {
    throw new FxpqError(`${path}: shape [${a.shape.join(', ')}] does not match the model input ${want}`);
  }
  if (a.shape[0] === 0) throw new FxpqError(`${path}: holds no images`);
  // parseNpy guarantees whole dimensions and data of exactly that size; keep the promise visible.
  if (!Number.isInteger(a.shape[0]) || a.shape[0] < 1 || a.data.length !== a.shape[0] * size(shape)) {
    throw new FxpqError(`${path}: holds ${a.data.length} values, not a whole number of images of ${want}`);
  }
  const isFloat = a.dtype === 'float32' || a.dtype === 'float64';
  if (!isFloat && a.dtype !== 'uint8')
    throw new FxpqError(`${path}: dtype ${a.dtype} is not supported for images (float32 NCHW, or uint8 with --scale)`);
  if (a.dtype === 'uint8' && opts.scale === undefined)
    throw new FxpqError(`${path}: uint8 images need --scale (for example --scale 1/255)`);
  let count = a.shape[0];
  if (opts.limit !== undefined) {
    if (!(Number.isInteger(opts.limit) && opts.limit > 0)) throw new FxpqError(`--limit must be a positive integer, got ${opts.limit}`);
    count = Math.min(count, opts.limit);
  }
  const data = a.data.subarray(0, count * size(shape));
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const img = Math.floor(i / size(shape));
      throw new FxpqError(`${path}: image ${img} holds ${data[i]} (flat index ${i}); inputs must be finite`);
    }
  }
  if (opts.scale !== undefined && opts.scale !== 1) for (let i = 0; i < data.length; i++) data[i] *= opts.scale;
  return { count, total: a.shape[0], data, shape };
}

/** Loads class labels (int64, int32 or uint8, one per image). */
export function loadLabels(path: string, images: Pick<Images, 'count' | 'total'>, classes: number): Int32Array {
  const { count, total } = images;
  const a = readNpy(path);
  if (a.dtype !== 'int64' && a.dtype !== 'int32' && a.dtype !== 'uint8') {
    throw new FxpqError(`${path}: labels must be int64, int32 or uint8, got ${a.dtype}`);
  }
  if (a.shape.length !== 1) throw new FxpqError(`${path}: labels must be a 1-D array, got shape [${a.shape.join(', ')}]`);
  if (a.shape[0] !== total) throw new FxpqError(`${path}: ${a.shape[0]} labels for ${total} images; there must be one label per image`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = a.data[i];
    if (v < 0 || v >= classes) throw new FxpqError(`${path}: label ${v} at index ${i} is outside 0..${classes - 1}`);
    out[i] = v;
  }
  return out;
}
