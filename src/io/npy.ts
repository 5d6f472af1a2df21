import { readFileSync, statSync } from 'node:fs';
import { FxpqError } from '../errors.js';
import { checkAlloc, fmtShape, LimitError, shapeElements } from '../util/limits.js';

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int8' | 'int32' | 'int64';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Values widened to float64: exact for every supported dtype (int64 is checked to be < 2^53). */
  data: Float64Array;
}

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '|i1': 'int8',
  '<i1': 'int8',
  '<i4': 'int32',
  '<i8': 'int64',
};
const BYTES: Record<NpyDtype, number> = { float32: 4, float64: 8, uint8: 1, int8: 1, int32: 4, int64: 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** NumPy writes headers of a few hundred bytes (np.load refuses more than 10,000 by default). */
export const MAX_NPY_HEADER = 1 << 20;

/**
 * Parses a NumPy .npy file (format 1.0-3.0, C order, little endian). The header is untrusted: every
 * dimension must be a whole number written in decimal, and the data must be exactly as long as the
 * shape says, both checked before the float64 copy is allocated (and that copy against the limit).
 */
export function parseNpy(buf: Uint8Array, what = 'array'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new FxpqError(`${what}: not a NumPy .npy file (bad magic)`);
  }
  const major = buf[6];
  if (major < 1 || major > 3) throw new FxpqError(`${what}: unsupported .npy format version ${major}.${buf[7]} (1.0 to 3.0 are supported)`);
  if (major > 1 && buf.length < 12) throw new FxpqError(`${what}: truncated .npy header`);
  const headerLen = major === 1 ? buf[8] | (buf[9] << 8) : new DataView(buf.buffer, buf.byteOffset + 8, 4).getUint32(0, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerLen > MAX_NPY_HEADER)
    throw new LimitError(`${what}: .npy header of ${headerLen} bytes is longer than the ${MAX_NPY_HEADER} allowed`);
  if (buf.length < headerStart + headerLen)
    throw new FxpqError(
      `${what}: truncated .npy header (it claims ${headerLen} bytes, the file has ${buf.length - headerStart} after the preamble)`,
    );
  const header = new TextDecoder('latin1').decode(buf.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FxpqError(`${what}: malformed .npy header`);
  }
  const dtype = DESCR[descr];
  if (!dtype) {
    throw new FxpqError(`${what}: unsupported dtype '${descr}' (supported: float32, float64, uint8, int8, int32, int64, little endian)`);
  }
  if (fortran === 'True') throw new FxpqError(`${what}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const dimTexts = shapeText.split(',').map((s) => s.trim());
  if (dimTexts.length > 1 && dimTexts[dimTexts.length - 1] === '') dimTexts.pop(); // "(5,)"
  if (dimTexts.length === 1 && dimTexts[0] === '') dimTexts.pop(); // "()": a scalar
  const bad = dimTexts.find((d) => !/^\d+L?$/.test(d));
  if (bad !== undefined) {
    throw new FxpqError(
      `${what}: .npy shape (${shortText(shapeText)}) has the dimension '${shortText(bad)}'; every dimension must be a whole, non-negative number`,
    );
  }
  const shape = dimTexts.map((d) => Number(d.replace(/L$/, '')));
  const count = shapeElements(shape, `${what}: .npy shape`);
  const dataStart = headerStart + headerLen;
  const need = count * BYTES[dtype];
  const have = buf.length - dataStart;
  if (have < need) {
    throw new FxpqError(`${what}: truncated .npy data (expected ${need} bytes for shape ${fmtShape(shape)}, found ${have})`);
  }
  if (have > need) {
    throw new FxpqError(`${what}: .npy data holds ${have} bytes, more than the ${need} of shape ${fmtShape(shape)}`);
  }
  checkAlloc(count, 8, `${what}: .npy array of shape ${fmtShape(shape)}`);
  // Copy into an aligned buffer: the data offset inside the file is not guaranteed to be aligned.
  const raw = new Uint8Array(need);
  raw.set(buf.subarray(dataStart, dataStart + need));
  const view = new DataView(raw.buffer);
  const data = new Float64Array(count);
  switch (dtype) {
    case 'float32':
      data.set(new Float32Array(raw.buffer));
      break;
    case 'float64':
      data.set(new Float64Array(raw.buffer));
      break;
    case 'uint8':
      data.set(raw);
      break;
    case 'int8':
      data.set(new Int8Array(raw.buffer));
      break;
    case 'int32':
      data.set(new Int32Array(raw.buffer));
      break;
    case 'int64':
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new FxpqError(`${what}: int64 value ${v} at index ${i} is too large`);
        }
        data[i] = Number(v);
      }
      break;
  }
  return { dtype, shape, data };
}

const shortText = (t: string): string => (t.length > 40 ? `${t.slice(0, 37)}...` : t);

export function readNpy(path: string, what = path): NpyArray {
  const cannot = (e: unknown) => new FxpqError(`${what}: cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  let buf: Buffer;
  try {
    // The file is read whole: one larger than the memory limit is refused before it is read.
    const st = statSync(path);
    if (st.isFile()) checkAlloc(st.size, 1, `${what}: the file`);
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof FxpqError) throw e;
    throw cannot(e);
  }
  return parseNpy(buf, what);
}

/** Serialises an array as .npy version 1.0 (used by traces and by tests). */
export function encodeNpy(dtype: NpyDtype, shape: number[], values: ArrayLike<number>): Uint8Array {
  const descr = Object.entries(DESCR).find(([, d]) => d === dtype)![0];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // NumPy aligns the data to 64 bytes: magic (6) + version (2) + length (2) + header + newline.
  const header = dict + ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(10 + header.length + count * BYTES[dtype]);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  out.set(new TextEncoder().encode(header), 10);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    switch (dtype) {
      case 'float32':
        body.setFloat32(i * 4, v, true);
        break;
      case 'float64':
        body.setFloat64(i * 8, v, true);
        break;
      case 'uint8':
        body.setUint8(i, v);
        break;
      case 'int8':
        body.setInt8(i, v);
        break;
      case 'int32':
        body.setInt32(i * 4, v, true);
        break;
      case 'int64':
        body.setBigInt64(i * 8, BigInt(v), true);
        break;
    }
  }
  return out;
}
