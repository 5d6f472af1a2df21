/** Typed arrays at least this large move into shared memory; smaller ones are cheaper to copy. */
const MIN_BYTES = 1 << 16;

type Typed = Exclude<ArrayBufferView, DataView>;
const isTyped = (v: unknown): v is Typed => ArrayBuffer.isView(v) && !(v instanceof DataView);

/**
 * Moves every large typed array reachable from `root` (through plain objects, arrays and Maps) into
 * a SharedArrayBuffer, in place: objects keep their shape, each array is replaced by a shared copy
 * with the same contents (one copy per array, however many places refer to it). Worker threads
 * given such an object then all read the one copy instead of each receiving a clone: a
 * ResNet-18-size search hands each worker 90 MB of float weights and about 200 MB of compensation
 * factors per set of statistics. The arrays must not be written after this (none of the search's
 * inputs are).
 */
export function shareLargeArrays(root: object): void {
  const seen = new Set<object>();
  const copies = new Map<Typed, Typed>();
  const share = (v: Typed): Typed => {
    if (v.buffer instanceof SharedArrayBuffer || v.byteLength < MIN_BYTES) return v;
    let c = copies.get(v);
    if (!c) {
      const Ctor = v.constructor as new (b: SharedArrayBuffer) => Typed;
      c = new Ctor(new SharedArrayBuffer(v.byteLength));
      (c as unknown as { set(a: Typed): void }).set(v);
      copies.set(v, c);
    }
    return c;
  };
  const walk = (o: unknown): void => {
    if (o === null || typeof o !== 'object' || seen.has(o) || isTyped(o)) return;
    seen.add(o);
    if (o instanceof Map) {
      for (const [k, v] of o) {
        if (isTyped(v)) o.set(k, share(v));
        else walk(v);
      }
      return;
    }
    const rec = o as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      const v = rec[k];
      if (isTyped(v)) rec[k] = share(v);
      else walk(v);
    }
  };
  walk(root);
}
