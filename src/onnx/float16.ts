import { onnx } from './proto.js';

/**
 * ONNX models stored with float16 initializers (the big tier of the zoo keeps its weights that
 * way, at half the bytes) widened to float32, the type fxpq's importer and onnxruntime's float
 * kernels take. Every float16 value is exactly a float32 value, so nothing is rounded.
 */

/** IEEE half to single precision (exact: every half is a single). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const FLOAT = 1,
  FLOAT16 = 10;

/** NAME.f16.onnx bytes -> the same model with float32 initializers. */
export function widenModel(buf: Uint8Array): Uint8Array {
  const m = onnx.ModelProto.decode(buf);
  for (const t of m.graph?.initializer ?? []) {
    if (t.dataType !== FLOAT16) continue;
    const raw = t.rawData && t.rawData.length ? t.rawData : null;
    const halves = raw
      ? new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
      : Uint16Array.from(t.int32Data ?? []);
    const f = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) f[i] = halfToFloat(halves[i]);
    t.dataType = FLOAT;
    t.rawData = new Uint8Array(f.buffer);
    t.int32Data = [];
  }
  return onnx.ModelProto.encode(m).finish();
}
