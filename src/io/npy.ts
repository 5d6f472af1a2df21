import { readFileSync } from 'node:fs';
import { FxpqError } from '../errors.js';

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int8' | 'int32' | 'int64';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Values widened to float64: exact for every supported dtype (int64 is checked to be < 2^53). */
  data: Float64Array;
}

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32', '<f8': 'float64', '|u1': 'uint8', '<u1': 'uint8', '|i1': 'int8', '<i1': 'int8',
  '<i4': 'int32', '<i8': 'int64',
};
const BYTES: Record<NpyDtype, number> = { float32: 4, float64: 8, uint8: 1, int8: 1, int32: 4, int64: 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Parses a NumPy .npy file (format 1.0-3.0, C order, little endian). */
export function parseNpy(buf: Uint8Array, what = 'array'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new FxpqError(`${what}: not a NumPy .npy file (bad magic)`);
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf[8] | (buf[9] << 8) : new DataView(buf.buffer, buf.byteOffset + 8, 4).getUint32(0, true);
  const headerStart = major === 1 ? 10 : 12;
  if (buf.length < headerStart + headerLen) throw new FxpqError(`${what}: truncated .npy header`);
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
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const need = count * BYTES[dtype];
  if (buf.length - dataStart < need) {
    throw new FxpqError(`${what}: truncated .npy data (expected ${need} bytes for shape [${shape.join(', ')}], found ${buf.length - dataStart})`);
  }
  // Copy into an aligned buffer: the data offset inside the file is not guaranteed to be aligned.
  const raw = new Uint8Array(need);
  raw.set(buf.subarray(dataStart, dataStart + need));
  const view = new DataView(raw.buffer);
  const data = new Float64Array(count);
  switch (dtype) {
    case 'float32': data.set(new Float32Array(raw.buffer)); break;
    case 'float64': data.set(new Float64Array(raw.buffer)); break;
    case 'uint8': data.set(raw); break;
    case 'int8': data.set(new Int8Array(raw.buffer)); break;
    case 'int32': data.set(new Int32Array(raw.buffer)); break;
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

export function readNpy(path: string, what = path): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new FxpqError(`${what}: cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
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
  out[6] = 1; out[7] = 0;
  out[8] = header.length & 0xff; out[9] = header.length >> 8;
  out.set(new TextEncoder().encode(header), 10);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    switch (dtype) {
      case 'float32': body.setFloat32(i * 4, v, true); break;
      case 'float64': body.setFloat64(i * 8, v, true); break;
      case 'uint8': body.setUint8(i, v); break;
      case 'int8': body.setInt8(i, v); break;
      case 'int32': body.setInt32(i * 4, v, true); break;
      case 'int64': body.setBigInt64(i * 8, BigInt(v), true); break;
    }
  }
  return out;
}
