/**
 * The one definition of fxpq's fixed-point arithmetic. The integer reference, the cycle simulator
 * and the Verilog templates all take rounding, saturation, shifts and widths from here.
 *
 * A format (wl, fl, signed) represents the integer q as the real value q * 2^-fl.
 * - wl: word length in bits, 1..32, sign bit included when signed.
 * - fl: fraction length, any integer (negative: coarser than 1; fl > wl: all bits are fraction).
 * - Range of q: signed [-2^(wl-1), 2^(wl-1) - 1], unsigned [0, 2^wl - 1].
 *
 * Rounding is round-half-up (ties toward +infinity): q = floor(v + 1/2). It is what hardware gets
 * from "add half an LSB, then arithmetic shift right", so the real-to-fixed quantizer and the
 * integer requantizer use the same tie rule. Results outside the range saturate; nothing wraps.
 *
 * Integers here are JavaScript numbers. Every function keeps its operands and results below 2^53
 * in magnitude (checked where a caller could exceed it), so all arithmetic is exact.
 */
export interface FxFormat {
  wl: number;
  fl: number;
  signed: boolean;
}

export const MAX_WL = 32;
const SAFE = 2 ** 53;

export function checkFormat(f: FxFormat, where: string): void {
  if (!Number.isInteger(f.wl) || f.wl < 1 || f.wl > MAX_WL) throw new RangeError(`${where}: word length ${f.wl} is outside 1..${MAX_WL}`);
  if (!Number.isInteger(f.fl) || Math.abs(f.fl) > 1024) throw new RangeError(`${where}: fraction length ${f.fl} is not a sane integer`);
  if (f.signed && f.wl < 2) throw new RangeError(`${where}: a signed format needs at least 2 bits`);
}

export const minInt = (f: FxFormat): number => (f.signed ? -(2 ** (f.wl - 1)) : 0);
export const maxInt = (f: FxFormat): number => (f.signed ? 2 ** (f.wl - 1) - 1 : 2 ** f.wl - 1);

export function saturate(q: number, f: FxFormat): number {
  const lo = minInt(f),
    hi = maxInt(f);
  return q < lo ? lo : q > hi ? hi : q;
}

/** floor(v + 1/2) without the double rounding of `Math.floor(v + 0.5)` (0.49999999999999994 + 0.5 === 1). */
export function roundHalfUp(v: number): number {
  const r = Math.floor(v);
  return v - r >= 0.5 ? r + 1 : r;
}

/** Real value -> integer of format f: scale by 2^fl (exact), saturate, round half up. */
export function quantize(x: number, f: FxFormat): number {
  const v = x * 2 ** f.fl;
  const lo = minInt(f),
    hi = maxInt(f);
  // Saturate before rounding so huge values never reach the inexact range of float64.
  if (v >= hi) return hi;
  if (v <= lo) return lo;
  return saturate(roundHalfUp(v), f);
}

export const toReal = (q: number, f: FxFormat): number => q * 2 ** -f.fl;

/**
 * Arithmetic shift of an integer by s bits with rounding: s > 0 divides by 2^s rounding half up
 * (hardware: (q + 2^(s-1)) >>> s); s <= 0 multiplies by 2^-s exactly.
 */
export function shiftRound(q: number, s: number): number {
  if (s <= 0) return q * 2 ** -s + 0;
  return Math.floor((q + 2 ** (s - 1)) / 2 ** s);
}

/**
 * Requantizes an accumulator holding q * 2^-accFl into format `out`, in this order:
 *   1. rounding shift by s = accFl - out.fl (round half up; a left shift when s < 0),
 *   2. clamp to [lo, hi] (the fused activation: ReLU is lo = 0, a bounded ReLU adds hi),
 *   3. saturation to the range of `out`.
 * ReLU before or after the shift is the same thing because rounding is monotonic and maps 0 to 0.
 * The accumulator must be below 2^53 in magnitude (the accumulator bound guarantees it).
 */
export function requantize(q: number, accFl: number, out: FxFormat, lo = -Infinity, hi = Infinity): number {
  const s = accFl - out.fl;
  let r: number;
  if (s < 0 && Math.abs(q) * 2 ** -s > 2 ** (out.wl + 1)) {
    // A left shift far out of range: saturate on the sign so no product beyond 2^53 is formed.
    r = q > 0 ? Infinity : -Infinity;
  } else {
    r = shiftRound(q, s);
  }
  if (r < lo) r = lo;
  if (r > hi) r = hi;
  return saturate(r, out);
}

/**
 * The clamp that steps (2) and (3) of `requantize` amount to: for every integer r,
 * saturate(min(max(r, lo), hi), out) === min(max(r, A), B). Hardware applies it as one clamp with
 * these two constants after the rounding shift.
 */
export function requantBounds(out: FxFormat, lo = -Infinity, hi = Infinity): [number, number] {
  return [saturate(Math.min(lo, hi), out), saturate(hi, out)];
}

/**
 * `requantize` as a function of the accumulator alone, with the shift and the folded clamp of
 * `requantBounds` computed once: what the RTL requantizer does per output, for callers that
 * requantize one value at a time (the cycle simulator). The same operations (a property test
 * checks it against the BigInt oracle); the accumulator must stay below 2^53.
 */
export function requantizer(accFl: number, out: FxFormat, lo = -Infinity, hi = Infinity): (acc: number) => number {
  const s = accFl - out.fl;
  const [a, b] = requantBounds(out, lo, hi);
  if (s <= 0) {
    const k = 2 ** -s;
    // Beyond [a, b] already before the shift: clamp first so no product reaches 2^53.
    const qa = a / k,
      qb = b / k;
    // `+ 0` turns -0 (a zero reciprocal times a negative sum) into the 0 the RTL sends.
    return (q) => (q <= qa ? a : q >= qb ? b : q * k + 0);
  }
  const half = 2 ** (s - 1),
    inv = 2 ** -s;
  return (q) => {
    const r = Math.floor((q + half) * inv);
    return r < a ? a : r > b ? b : r;
  };
}

/** Bits of a signed two's-complement register that holds every integer in [lo, hi]. */
export function signedBitsForRange(lo: number, hi: number): number {
  if (Math.max(-lo, hi) >= SAFE) throw new RangeError(`range [${lo}, ${hi}] reaches beyond 2^53`);
  let bits = 1;
  while (-(2 ** (bits - 1)) > lo || 2 ** (bits - 1) - 1 < hi) bits++;
  return bits;
}

/** Integer length in the Ristretto sense: the smallest IL with max|x| < 2^(IL - sign bit). */
export function integerLength(maxAbs: number, signed: boolean): number {
  if (!(maxAbs > 0)) return signed ? 1 : 0;
  return Math.ceil(Math.log2(maxAbs)) + (signed ? 1 : 0);
}

/** Ristretto's max rule: fl = wl - IL with IL = ceil(log2 max|x|) (+1 sign bit when signed). */
export function maxRuleFormat(maxAbs: number, wl: number, signed: boolean): FxFormat {
  return { wl, fl: wl - integerLength(maxAbs, signed), signed };
}

export const fmtText = (f: FxFormat): string => `${f.signed ? 's' : 'u'}${f.wl}.${f.fl}`;

/**
 * `requantize` over a whole array in place, with the shift, clamp and saturation constants hoisted
 * out of the loop. Same operations as the scalar version (a property test checks it).
 */
export function requantizeArray(acc: Float64Array, accFl: number, out: FxFormat, lo = -Infinity, hi = Infinity): Float64Array {
  const s = accFl - out.fl;
  // The folded clamp of requantBounds: the same result as requantize's clamp, then saturation.
  const [a, b] = requantBounds(out, lo, hi);
  if (s <= 0) {
    // A left shift (exact): values already beyond [a, b] clamp first, so no product reaches 2^53.
    const k = 2 ** -s,
      qa = a / k,
      qb = b / k;
    for (let i = 0; i < acc.length; i++) {
      const q = acc[i];
      acc[i] = q <= qa ? a : q >= qb ? b : q * k + 0;
    }
    return acc;
  }
  const half = 2 ** (s - 1);
  const inv = 2 ** -s;
  for (let i = 0; i < acc.length; i++) {
    // floor((q + 2^(s-1)) * 2^-s): multiplying by a power of two is exact, like the division.
    const r = Math.floor((acc[i] + half) * inv);
    acc[i] = r < a ? a : r > b ? b : r;
  }
  return acc;
}

/**
 * `requantizeArray` of the aligned sum a[i] * ka + b[i] * kb (a residual add; ka, kb powers of two),
 * in one pass into a new array: the same float64 operations in the same order, without the
 * intermediate sum array (a property test checks it against the two steps).
 */
export function requantizeSum(
  a: Float64Array,
  ka: number,
  b: Float64Array,
  kb: number,
  accFl: number,
  out: FxFormat,
  lo = -Infinity,
  hi = Infinity,
): Float64Array {
  const s = accFl - out.fl;
  const [l, u] = requantBounds(out, lo, hi);
  const y = new Float64Array(a.length);
  if (s <= 0) {
    const k = 2 ** -s,
      qa = l / k,
      qb = u / k;
    for (let i = 0; i < y.length; i++) {
      const q = a[i] * ka + b[i] * kb;
      y[i] = q <= qa ? l : q >= qb ? u : q * k + 0;
    }
    return y;
  }
  const half = 2 ** (s - 1),
    inv = 2 ** -s;
  for (let i = 0; i < y.length; i++) {
    const r = Math.floor((a[i] * ka + b[i] * kb + half) * inv);
    y[i] = r < l ? l : r > u ? u : r;
  }
  return y;
}

/** `quantize` over an array, with the range constants hoisted (a property test checks it). */
export function quantizeArray<T extends { length: number; [i: number]: number } = Float64Array>(
  x: ArrayLike<number>,
  f: FxFormat,
  into?: T,
): T {
  const out = into ?? (new Float64Array(x.length) as unknown as T);
  const scale = 2 ** f.fl,
    lo = minInt(f),
    hi = maxInt(f);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] * scale;
    if (v >= hi) out[i] = hi;
    else if (v <= lo) out[i] = lo;
    else {
      const r = Math.floor(v);
      const q = v - r >= 0.5 ? r + 1 : r;
      out[i] = q < lo ? lo : q > hi ? hi : q;
    }
  }
  return out;
}
