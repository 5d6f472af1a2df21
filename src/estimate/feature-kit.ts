import { signedBitsForRange } from '../fixed/format.js';
import type { BufferPlan, Window } from '../hw/plan-types.js';
import { counterBits } from '../hw/verilog.js';
import type { DspRule } from './families.js';

/**
 * Structural features of each hardware block: counts of the things synthesis turns into LUTs and
 * flip-flops (bits of adders, comparators, registers, LUT-built multipliers), read off the plan
 * with the same widths the templates use (each engine's widths.ts). The estimator multiplies them
 * by per-family coefficients fitted to Yosys results (bench/estimator-fit.ts); multipliers that go
 * to DSP blocks and memories that go to block RAM are counted by rule, not fitted. Each engine's
 * folder counts its own features with the helpers here; features.ts adds the top and the buffers.
 */
export const FEATURES = [
  'engines',
  'ctlBits',
  'mulLut',
  'csdBits',
  'addBits',
  'csaBits',
  'csaWideBits',
  'constBits',
  'accBits',
  'rqBits',
  'cmpBits',
  'regBits',
  'muxBits',
  'ffBits',
] as const;
export type Feature = (typeof FEATURES)[number];
/**
 * Flip-flops are fitted on the template's register count (plus a constant per engine) alone: the
 * registers are counted exactly, and what the fit learns is what Yosys absorbs or trims. Given
 * every feature, iCE40's fit priced flip-flops through control and accumulator bits instead and
 * missed registers that are neither (a max-pooling engine's running maxima: lenet5's 128).
 */
export const FF_FEATURES: readonly Feature[] = ['engines', 'ffBits'];
export type FeatureVector = Record<Feature, number>;

export const zeroFeatures = (): FeatureVector => Object.fromEntries(FEATURES.map((f) => [f, 0])) as FeatureVector;
export function addFeatures(a: FeatureVector, b: FeatureVector): FeatureVector {
  const r = zeroFeatures();
  for (const f of FEATURES) r[f] = a[f] + b[f];
  return r;
}

/**
 * DSP blocks one a x b signed multiply takes (0: built from LUTs), as Yosys's mul2dsp.v decides:
 * the wider operand goes on the A port; an operand wider than its port is cut into slices of the
 * partial width (less one sign bit on signed-only DSPs) and a remainder, and each slice product is
 * mapped again on its own, so a remainder too narrow for a DSP (one bit, or a product under the
 * minimum width) stays in LUTs while the other slices take a DSP each.
 */
export function dspFor(a: number, b: number, rule: DspRule): number {
  if (a < b) [a, b] = [b, a];
  if (a < rule.minA || b < rule.minB || b <= 1 || a + b < rule.minY) return 0;
  const head = rule.signedOnly ? 1 : 0;
  const slices = (n: number, max: number, partial: number) => {
    const k = Math.floor((n - max + partial - head - 1) / (partial - head));
    return [...Array(k).fill(partial), n - k * (partial - head)] as number[];
  };
  if (a > rule.aMax) return slices(a, rule.aMax, rule.aPartial ?? rule.aMax).reduce((s, x) => s + dspFor(x, b, rule), 0);
  if (b > rule.bMax) return slices(b, rule.bMax, rule.bMax).reduce((s, y) => s + dspFor(a, y, rule), 0);
  return 1;
}

/**
 * Loop counters and the window's address registers with their adders (templates/window.v.hbs).
 * Only registers that change count: with a single output row, column, kernel row or column (every
 * dense layer, every 1x1 kernel), a register's next value is always its reset value, and Yosys
 * removes it together with its adder.
 */
export function windowBits(
  win: Window,
  inB: BufferPlan,
  outB: BufferPlan,
  groups: number,
  chanInTaps: boolean,
  keepDead = false,
  grouped?: { perGroup: number; words: number },
): number {
  const cwords = inB.c / inB.lanes;
  const span = (cwords + 1) * (win.h + win.pt + win.kh * win.dh + win.sh + 1) * (win.w + win.pl + win.kw * win.dw + win.sw + 1);
  const sw = signedBitsForRange(-span, span);
  // A grouped convolution's taps walk the words of one group, counted by gq per output group.
  const tapWords = grouped ? grouped.words : cwords;
  // keepDead: registers that never change stay too (Family.keepsDeadRegisters), counters of one
  // step as one bit.
  const counters = [
    groups,
    win.ho,
    win.wo,
    win.kh,
    win.kw,
    ...(chanInTaps ? [tapWords, inB.lanes] : []),
    ...(grouped ? [grouped.perGroup] : []),
  ].reduce((s, n) => s + (keepDead ? Math.max(1, counterBits(n)) : counterBits(n)), 0);
  // iy0, rowb | ix0 | pix | kyv, kyo | kxv, then cof, then a grouped convolution's gbase
  const origin = keepDead ? 7 : 2 * +(win.ho > 1) + +(win.wo > 1) + +(win.ho > 1 || win.wo > 1) + 2 * +(win.kh > 1) + +(win.kw > 1);
  const live = origin + +((chanInTaps ? cwords : groups) > 1) + (grouped ? 1 : 0);
  return counters + live * sw + outB.addrBits;
}

export interface MemoryShape {
  kind: 'rom' | 'ram';
  depth: number;
  width: number;
  columns?: () => number;
  /** Non-constant bit columns of a ROM (known contents). */
  varying?: () => number;
  /**
   * Data bits of every word that need no storage of their own: always zero, or the same signal as
   * another bit of their lane (requantSharedBits).
   */
  sharedBits?: number;
  /** An engine's weight ROM, which a plan with a weight store replaces by its region of the store. */
  weights?: boolean;
  /**
   * The multipliers register every word read once more (operand registers left in the fabric):
   * one flip-flop per bit that varies, as the memory's own read register has.
   */
  operandRegister?: boolean;
}

/**
 * Bit columns of a ROM that vary across its words: `varying` counts each, `distinct` counts
 * identical columns once. Yosys drops constant data bits before choosing where a memory goes (a
 * lane left empty by a layer with fewer channels than lanes is all zeros), and in logic it also
 * merges equal columns (a bias shifted to the accumulator is mostly constant zeros and sign copies).
 */
export function romColumns(
  depth: number,
  lanes: number,
  bits: number,
  value: (word: number, lane: number) => number,
): { varying: number; distinct: number } {
  // Each word's value is read once per lane, a column's bits are packed 32 to an integer, and equal
  // columns are found by a hash with an exact comparison on a hit (no string per column): a
  // device-aware search counts the columns of thousands of candidate ROMs.
  const vals = new Float64Array(depth);
  const n = Math.ceil(depth / 32);
  const col = new Int32Array(n);
  const seen = new Map<number, Int32Array[]>();
  let varying = 0,
    distinct = 0;
  for (let l = 0; l < lanes; l++) {
    let int32 = true;
    for (let d = 0; d < depth; d++) {
      const v = value(d, l);
      vals[d] = v;
      if (!((v | 0) === v)) int32 = false;
    }
    for (let b = 0; b < bits; b++) {
      col.fill(0);
      let ones = 0;
      // Bit b of the two's complement value: floor(v / 2^b) mod 2, which for an int32 is its
      // arithmetic shift (and its sign from bit 31 on).
      const scale = 2 ** b;
      for (let d = 0; d < depth; d++) {
        const v = vals[d];
        const bit = int32 ? (b < 31 ? (v >> b) & 1 : v < 0 ? 1 : 0) : Math.floor(v / scale) & 1;
        if (bit) {
          ones++;
          col[d >> 5] |= 1 << (d & 31);
        }
      }
      if (ones === 0 || ones === depth) continue;
      varying++;
      let h = 0x811c9dc5;
      for (let w = 0; w < n; w++) h = Math.imul(h ^ col[w], 0x01000193);
      const bucket = seen.get(h);
      if (bucket?.some((c) => c.every((x, w) => x === col[w]))) continue;
      distinct++;
      if (bucket) bucket.push(col.slice());
      else seen.set(h, [col.slice()]);
    }
  }
  return { varying, distinct };
}

/** Column counts already found, per parameter tensor (see romShape). */
const ROM_COLUMNS = new WeakMap<object, Map<string, { varying: number; distinct: number }>>();

/**
 * A ROM shape whose column counts are computed once, on first use. `memo`: the ROM's contents are
 * a function of `source` (a quantized parameter tensor, one object per format in quant/build.ts's
 * cache) and `key` (how the engine lays it out), so they are counted once for all the plans a
 * device-aware search builds from the same tensor.
 */
export function romShape(
  depth: number,
  width: number,
  lanes: number,
  bits: number,
  value: (word: number, lane: number) => number,
  memo?: { source: object; key: string },
): MemoryShape {
  let c: { varying: number; distinct: number } | null = null;
  const count = () => {
    if (!memo) return romColumns(depth, lanes, bits, value);
    let m = ROM_COLUMNS.get(memo.source);
    if (!m) ROM_COLUMNS.set(memo.source, (m = new Map()));
    const key = `${depth},${lanes},${bits},${memo.key}`;
    let r = m.get(key);
    if (!r) m.set(key, (r = romColumns(depth, lanes, bits, value)));
    return r;
  };
  const get = () => (c ??= count());
  return { kind: 'rom', depth, width, columns: () => get().distinct, varying: () => get().varying };
}

/**
 * romShape's memo for a ROM whose contents are small and rebuilt with every plan (an engine's
 * aligned biases): keyed by the contents themselves, under one shared source, and bounded.
 */
const SMALL_ROMS = {};
const SMALL_ROM_KEYS = 20_000;
export function contentMemo(layout: string, values: readonly number[]): { source: object; key: string } {
  const m = ROM_COLUMNS.get(SMALL_ROMS);
  if (m && m.size > SMALL_ROM_KEYS) m.clear();
  return { source: SMALL_ROMS, key: `${layout}|${values.join(',')}` };
}

/** An engine plan's scalar fields (its layout), without its tensors: romShape's memo key. */
export const layoutKey = (e: object): string =>
  JSON.stringify(e, (_k, v: unknown) => (ArrayBuffer.isView(v) || Array.isArray(v) ? undefined : v));

export interface BlockFeatures {
  features: FeatureVector;
  dsp: number;
  /** Memories of the block; a ROM can count its distinct non-constant bit columns (what a LUT table needs). */
  memories: MemoryShape[];
  /**
   * Plain pipeline registers (a memory's or register's word, registered again with no enable or
   * reset: the multipliers' input operand registers left in the fabric): one flip-flop per bit and
   * no LUT, counted as is rather than fitted, like the memories' own registers.
   */
  pipelineFf?: number;
}

/** The requantizer's clamp compares the bits left after the rounding shift. */
export const clampBits = (rq: { width: number; shift: number }) => rq.width - Math.max(0, rq.shift);

/** Nonzero digits of v in canonical signed-digit form (no two adjacent): a constant multiplier's terms. */
export function csdDigits(v: number): number {
  let n = 0;
  for (let x = Math.abs(v); x > 0; x = Math.floor(x / 2)) {
    if (x % 2 === 1) {
      n++;
      // ...11 becomes ...(-1) with a carry: a run of ones is two digits.
      x += x % 4 === 3 ? 1 : -1;
    }
  }
  return n;
}
