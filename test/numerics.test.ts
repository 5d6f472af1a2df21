import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FxFormat,
  maxInt,
  minInt,
  quantize,
  quantizeArray,
  requantBounds,
  requantize,
  requantizeArray,
  requantizeSum,
  requantizer,
  roundHalfUp,
  saturate,
  signedBitsForRange,
} from '../src/fixed/format.js';
import { linearAccRange } from '../src/quant/accumulator.js';
import type { QDense } from '../src/quant/qgraph.js';
import * as I from '../src/intref/ops.js';

// ---- An independent model of the arithmetic in BigInt rationals --------------------------------

/** A finite double as the exact rational num / 2^den2 (den2 may be negative). */
function exactRational(x: number): { num: bigint; exp: number } {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = e === 0 ? frac : frac | (1n << 52n);
  const exp = (e === 0 ? 1 : e) - 1075; // x = mant * 2^exp
  return { num: sign * mant, exp };
}
const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};
const bigMin = (f: FxFormat) => (f.signed ? -(1n << BigInt(f.wl - 1)) : 0n);
const bigMax = (f: FxFormat) => (f.signed ? (1n << BigInt(f.wl - 1)) - 1n : (1n << BigInt(f.wl)) - 1n);
const clampBig = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);

/** floor(x * 2^fl + 1/2) saturated, computed on exact rationals. */
function oracleQuantize(x: number, f: FxFormat): bigint {
  const { num, exp } = exactRational(x);
  const e = exp + f.fl; // x * 2^fl = num * 2^e
  // floor(num * 2^e + 1/2) = floor((2 * num * 2^e + 1) / 2)
  let r: bigint;
  if (e >= 0) r = num << BigInt(e);
  else r = floorDiv(2n * num + (1n << BigInt(-e)), 1n << BigInt(1 - e));
  return clampBig(r, bigMin(f), bigMax(f));
}

function oracleRequantize(q: bigint, s: number, f: FxFormat, lo: bigint | null, hi: bigint | null): bigint {
  let r = s > 0 ? floorDiv(q + (1n << BigInt(s - 1)), 1n << BigInt(s)) : q << BigInt(-s);
  if (lo !== null && r < lo) r = lo;
  if (hi !== null && r > hi) r = hi;
  return clampBig(r, bigMin(f), bigMax(f));
}

const format = fc
  .record({ wl: fc.integer({ min: 1, max: 32 }), fl: fc.integer({ min: -24, max: 48 }), signed: fc.boolean() })
  .map((f) => (f.signed && f.wl < 2 ? { ...f, wl: 2 } : f));

describe('fixed-point numerics against an independent BigInt model', () => {
  it('ties round half up; both saturation ends clamp', () => {
    const s8: FxFormat = { wl: 8, fl: 0, signed: true };
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map((x) => quantize(x, s8))).toEqual([1, 2, 3, 0, -1, -2]);
    expect(quantize(0.49999999999999994, s8)).toBe(0); // Math.floor(x + 0.5) would give 1
    expect(quantize(1000, s8)).toBe(127);
    expect(quantize(-1000, s8)).toBe(-128);
    expect(quantize(127.5, s8)).toBe(127);
    expect(quantize(-128.5, s8)).toBe(-128); // rounds to -128: in range
    const u4: FxFormat = { wl: 4, fl: 2, signed: false };
    expect(quantize(-0.1, u4)).toBe(0);
    expect(quantize(3.75, u4)).toBe(15);
    expect(quantize(4, u4)).toBe(15);
    expect(quantize(0.125, u4)).toBe(1); // 0.5 LSB ties up
    // Negative fl: one LSB is 4; fl > wl: every bit is fraction.
    expect(quantize(6, { wl: 4, fl: -2, signed: true })).toBe(2);
    expect(quantize(0.01, { wl: 4, fl: 10, signed: true })).toBe(7);
    expect(saturate(200, s8)).toBe(127);
    expect(saturate(-200, s8)).toBe(-128);
    expect([minInt({ wl: 32, fl: 0, signed: true }), maxInt({ wl: 32, fl: 0, signed: false })]).toEqual([-(2 ** 31), 2 ** 32 - 1]);
  });

  it('requantize: rounding shift ties up, then clamps, then saturates', () => {
    const out: FxFormat = { wl: 8, fl: 0, signed: true };
    expect([5, 6, 7, -5, -6, -7].map((q) => requantize(q, 2, out))).toEqual([1, 2, 2, -1, -1, -2]); // 1.25, 1.5, 1.75, ...
    expect(requantize(-6, 2, out, 0)).toBe(0); // ReLU
    expect(requantize(1000, 2, out, 0, 24)).toBe(24); // bounded ReLU
    expect(requantize(3, -3, out)).toBe(24); // left shift
    expect(requantize(2 ** 52, -40, out)).toBe(127);
    expect(requantize(-(2 ** 52), -40, out)).toBe(-128);
  });

  it('quantize equals floor(x * 2^fl + 1/2) saturated, for random doubles and formats (negative fl, fl > wl)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), format, (x, f) => {
        expect(BigInt(quantize(x, f))).toBe(oracleQuantize(x, f));
      }),
      { numRuns: 5000 },
    );
  });

  it('the array quantizer equals the scalar one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 30 }),
        format,
        (xs, f) => {
          expect(Array.from(quantizeArray(xs, f) as Float64Array)).toEqual(xs.map((x) => quantize(x, f)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('quantize is exact at and next to every tie', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), format, fc.constantFrom(-1, 0, 1), (k, f, nudge) => {
        const tie = (k + 0.5) * 2 ** -f.fl;
        const x =
          nudge === 0
            ? tie
            : nudge > 0
              ? tie + Math.abs(tie) * 2 ** -50 + Number.MIN_VALUE
              : tie - Math.abs(tie) * 2 ** -50 - Number.MIN_VALUE;
        expect(BigInt(quantize(x, f))).toBe(oracleQuantize(x, f));
      }),
      { numRuns: 3000 },
    );
  });

  it('requantize equals the BigInt rounding shift, clamp and saturation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
        fc.integer({ min: -40, max: 60 }),
        format,
        fc.option(fc.integer({ min: -300, max: 300 })),
        fc.option(fc.integer({ min: 0, max: 1000 })),
        (q, s, f, lo, span) => {
          const hi = lo !== null && span !== null ? lo + span : null;
          const got = requantize(q, f.fl + s, f, lo ?? -Infinity, hi ?? Infinity);
          expect(BigInt(got)).toBe(oracleRequantize(BigInt(q), s, f, lo === null ? null : BigInt(lo), hi === null ? null : BigInt(hi)));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('the array requantizer equals the scalar one element for element', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: -40, max: 60 }),
        format,
        fc.option(fc.integer({ min: -300, max: 300 })),
        fc.option(fc.integer({ min: -10, max: 1000 })),
        (qs, s, f, lo, span) => {
          const l = lo ?? -Infinity,
            h = lo !== null && span !== null ? lo + span : Infinity;
          const got = requantizeArray(Float64Array.from(qs), f.fl + s, f, l, h);
          expect(Array.from(got)).toEqual(qs.map((q) => requantize(q, f.fl + s, f, l, h)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the one-pass requantizer of an aligned sum equals the sum followed by the array requantizer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: -40, max: 60 }),
        format,
        fc.option(fc.integer({ min: -300, max: 300 })),
        fc.option(fc.integer({ min: -10, max: 1000 })),
        (pairs, ea, eb, s, f, lo, span) => {
          const l = lo ?? -Infinity,
            h = lo !== null && span !== null ? lo + span : Infinity;
          const a = Float64Array.from(pairs, (p) => p[0]),
            b = Float64Array.from(pairs, (p) => p[1]);
          const ka = 2 ** ea,
            kb = 2 ** eb;
          const sum = Float64Array.from(pairs, (p) => p[0] * ka + p[1] * kb);
          expect(Array.from(requantizeSum(a, ka, b, kb, f.fl + s, f, l, h))).toEqual(Array.from(requantizeArray(sum, f.fl + s, f, l, h)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('requantBounds folds the activation clamp and saturation into one clamp (what the RTL applies)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: 0, max: 30 }),
        format,
        fc.option(fc.integer({ min: -300, max: 300 })),
        fc.option(fc.integer({ min: -400, max: 1000 })),
        (q, s, f, lo, span) => {
          const l = lo ?? -Infinity,
            h = lo !== null && span !== null ? lo + span : Infinity;
          const [a, b] = requantBounds(f, l, h);
          const r = floorDiv(BigInt(q) + (s > 0 ? 1n << BigInt(s - 1) : 0n), 1n << BigInt(s));
          const clamped = r < BigInt(a) ? BigInt(a) : r > BigInt(b) ? BigInt(b) : r;
          expect(clamped).toBe(oracleRequantize(BigInt(q), s, f, lo === null ? null : BigInt(l), Number.isFinite(h) ? BigInt(h) : null));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('the hoisted scalar requantizer (simulator) matches the BigInt oracle', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
        fc.integer({ min: -40, max: 60 }),
        format,
        fc.option(fc.integer({ min: -300, max: 300 })),
        fc.option(fc.integer({ min: -400, max: 1000 })),
        (q, s, f, lo, span) => {
          const l = lo ?? -Infinity,
            h = lo !== null && span !== null ? lo + span : Infinity;
          const got = requantizer(f.fl + s, f, l, h)(q);
          expect(BigInt(got)).toBe(
            oracleRequantize(BigInt(q), s, f, lo === null ? null : BigInt(l), Number.isFinite(h) ? BigInt(h) : null),
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('never returns -0, which the RTL cannot send (a zero reciprocal times a negative window sum is -0)', () => {
    // Found by the random-layer RTL property: a 5 x 7 global average with 4 reciprocal bits has
    // reciprocal round(16/35) = 0, and the simulator sent -0 where the RTL sent 0.
    const f: FxFormat = { wl: 7, fl: 13, signed: true };
    const acc = -5 * 0;
    for (const s of [-6, 0, 3]) {
      expect(Object.is(requantize(acc, f.fl + s, f), 0), `requantize s=${s}`).toBe(true);
      expect(Object.is(requantizer(f.fl + s, f)(acc), 0), `requantizer s=${s}`).toBe(true);
      expect(Object.is(requantizeArray(Float64Array.of(acc), f.fl + s, f)[0], 0), `requantizeArray s=${s}`).toBe(true);
      expect(Object.is(requantizeSum(Float64Array.of(acc), 1, Float64Array.of(acc), 1, f.fl + s, f)[0], 0), `requantizeSum s=${s}`).toBe(
        true,
      );
    }
  });

  it('roundHalfUp matches floor(v + 1/2) on exact rationals', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }), (v) => {
        expect(BigInt(roundHalfUp(v))).toBe(oracleQuantize(v, { wl: 53, fl: 0, signed: true } as FxFormat));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('accumulator width', () => {
  const layer = fc.record({
    outs: fc.integer({ min: 1, max: 4 }),
    ins: fc.integer({ min: 1, max: 40 }),
    wwl: fc.integer({ min: 2, max: 16 }),
    bwl: fc.integer({ min: 2, max: 20 }),
    inF: format.filter((f) => f.wl <= 16),
    bshift: fc.integer({ min: 0, max: 12 }),
    seed: fc.integer(),
  });

  it('the derived range is exact (reached by the worst-case input) and its width is minimal, against BigInt', () => {
    fc.assert(
      fc.property(layer, ({ outs, ins, wwl, bwl, inF, bshift, seed }) => {
        let s = seed >>> 0;
        const rnd = () => {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          return s / 2 ** 32;
        };
        const wF: FxFormat = { wl: wwl, fl: 3, signed: true };
        const bF: FxFormat = { wl: bwl, fl: wF.fl + inF.fl - bshift, signed: true };
        const w = Int32Array.from({ length: outs * ins }, () => minInt(wF) + Math.floor(rnd() * (maxInt(wF) - minInt(wF) + 1)));
        const b = Int32Array.from({ length: outs }, () => minInt(bF) + Math.floor(rnd() * (maxInt(bF) - minInt(bF) + 1)));
        const op: QDense = {
          kind: 'dense',
          weight: { shape: [outs, ins], data: w },
          bias: b,
          weightFormat: wF,
          biasFormat: bF,
          act: { kind: 'none' },
        };
        const acc = linearAccRange(op, inF);
        // BigInt oracle: per channel, the input at the end of its range that maximises (minimises) each product.
        const shift = BigInt(wF.fl + inF.fl - bF.fl);
        let lo = 0n,
          hi = 0n;
        const worstHi: bigint[][] = [];
        for (let o = 0; o < outs; o++) {
          let h = BigInt(b[o]) << shift,
            l = h;
          const xs: bigint[] = [];
          for (let k = 0; k < ins; k++) {
            const wk = BigInt(w[o * ins + k]);
            const a = wk * bigMin(inF),
              c = wk * bigMax(inF);
            h += a > c ? a : c;
            l += a < c ? a : c;
            xs.push(a > c ? bigMin(inF) : bigMax(inF));
          }
          worstHi.push(xs);
          if (h > hi) hi = h;
          if (l < lo) lo = l;
        }
        expect(BigInt(acc.lo)).toBe(lo);
        expect(BigInt(acc.hi)).toBe(hi);
        const fits = (bits: number) => lo >= -(1n << BigInt(bits - 1)) && hi <= (1n << BigInt(bits - 1)) - 1n;
        expect(fits(acc.bits)).toBe(true);
        if (acc.bits > 1) expect(fits(acc.bits - 1)).toBe(false);
        expect(acc.bits).toBe(signedBitsForRange(acc.lo, acc.hi));
        // Drive the worst-case input of channel 0 through the integer reference: an output format
        // exactly as wide as the accumulator must hold the sum without saturating.
        const x = Float64Array.from(worstHi[0], Number);
        const y = I.dense(op, x, 1, inF, { wl: acc.bits, fl: acc.fl, signed: true });
        let exact = BigInt(b[0]) << shift;
        for (let k = 0; k < ins; k++) exact += BigInt(w[k]) * worstHi[0][k];
        expect(BigInt(y[0])).toBe(exact);
      }),
      { numRuns: 500 },
    );
  });
});
