import { signedBitsForRange } from '../fixed/format.js';
import { counterBits, requantRtl, requantSharedBits } from '../hw/verilog.js';
import type { BufferPlan, EnginePlan, HwPlan, Window } from '../hw/plan.js';
import { addWidths, linearWidths, poolWidths } from '../hw/widths.js';
import { type DspRule, type Target, FAMILIES } from './families.js';

/**
 * Structural features of each hardware block: counts of the things synthesis turns into LUTs and
 * flip-flops (bits of adders, comparators, registers, LUT-built multipliers), read off the plan
 * with the same widths the templates use (src/hw/widths.ts). The estimator multiplies them by
 * per-family coefficients fitted to Yosys results (bench/estimator-fit.ts); multipliers that go to
 * DSP blocks and memories that go to block RAM are counted by rule, not fitted.
 */
export const FEATURES = [
  'engines', 'ctlBits', 'mulLut', 'csdBits', 'addBits', 'csaBits', 'csaWideBits', 'constBits', 'accBits', 'rqBits', 'cmpBits', 'regBits', 'muxBits', 'ffBits',
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
function windowBits(win: Window, inB: BufferPlan, outB: BufferPlan, groups: number, chanInTaps: boolean, keepDead = false): number {
  const cwords = inB.c / inB.lanes;
  const span = (cwords + 1) * (win.h + win.pt + win.kh * win.dh + win.sh + 1) * (win.w + win.pl + win.kw * win.dw + win.sw + 1);
  const sw = signedBitsForRange(-span, span);
  // keepDead: registers that never change stay too (Family.keepsDeadRegisters), counters of one
  // step as one bit.
  const counters = [groups, win.ho, win.wo, win.kh, win.kw, ...(chanInTaps ? [cwords, inB.lanes] : [])]
    .reduce((s, n) => s + (keepDead ? Math.max(1, counterBits(n)) : counterBits(n)), 0);
  // iy0, rowb | ix0 | pix | kyv, kyo | kxv, then cof
  const origin = keepDead ? 7 : 2 * +(win.ho > 1) + +(win.wo > 1) + +(win.ho > 1 || win.wo > 1) + 2 * +(win.kh > 1) + +(win.kw > 1);
  const live = origin + +((chanInTaps ? cwords : groups) > 1);
  return counters + live * sw + outB.addrBits;
}

export interface MemoryShape {
  kind: 'rom' | 'ram' | 'regfile';
  depth: number;
  width: number;
  columns?: () => number;
  /** Non-constant bit columns of a ROM (known contents). */
  varying?: () => number;
  /**
   * Register file (asynchronous read) whose read address is a bare register, which Yosys can pull
   * into a synchronous block RAM port on families without distributed RAM.
   */
  regAddress?: boolean;
  /**
   * Data bits of every word that need no storage of their own: always zero, or the same signal as
   * another bit of their lane (requantSharedBits).
   */
  sharedBits?: number;
}

/**
 * Bit columns of a ROM that vary across its words: `varying` counts each, `distinct` counts
 * identical columns once. Yosys drops constant data bits before choosing where a memory goes (a
 * lane left empty by a layer with fewer channels than lanes is all zeros), and in logic it also
 * merges equal columns (a bias shifted to the accumulator is mostly constant zeros and sign copies).
 */
export function romColumns(depth: number, lanes: number, bits: number, value: (word: number, lane: number) => number): { varying: number; distinct: number } {
  const seen = new Set<string>();
  const col = new Uint8Array(depth);
  let varying = 0;
  for (let l = 0; l < lanes; l++) {
    for (let b = 0; b < bits; b++) {
      let ones = 0;
      for (let d = 0; d < depth; d++) { col[d] = Math.floor(value(d, l) / 2 ** b) & 1; ones += col[d]; }
      if (ones === 0 || ones === depth) continue;
      varying++;
      seen.add(col.join(''));
    }
  }
  return { varying, distinct: seen.size };
}

/** A ROM shape whose column counts are computed once, on first use. */
function romShape(depth: number, width: number, lanes: number, bits: number, value: (word: number, lane: number) => number): MemoryShape {
  let c: { varying: number; distinct: number } | null = null;
  const get = () => (c ??= romColumns(depth, lanes, bits, value));
  return { kind: 'rom', depth, width, columns: () => get().distinct, varying: () => get().varying };
}

export interface BlockFeatures {
  features: FeatureVector;
  dsp: number;
  /** Memories of the block; a ROM can count its distinct non-constant bit columns (what a LUT table needs). */
  memories: MemoryShape[];
}

/** The requantizer's clamp compares the bits left after the rounding shift. */
const clampBits = (rq: { width: number; shift: number }) => rq.width - Math.max(0, rq.shift);

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

export function engineFeatures(plan: HwPlan, e: EnginePlan, target: Target): BlockFeatures {
  const rule = FAMILIES[target].dsp;
  const f = zeroFeatures();
  f.engines = 1;
  const inB = plan.buffers[e.inputs[0]], outB = plan.buffers[e.output];
  const memories: BlockFeatures['memories'] = [];
  let dsp = 0;
  if (e.kind === 'linear') {
    const w = linearWidths(e);
    const groups = e.cout / e.pe;
    const a = e.weightFormat.wl, b = e.inFormat.wl + (e.inFormat.signed ? 0 : 1);
    const perMul = dspFor(a, b, rule);
    const mults = e.pe * e.simd;
    if (perMul > 0) dsp += perMul * mults;
    // In LUTs an unsigned input's zero sign bit makes no partial products: the multiplier is
    // a x wl, not a x (wl + 1) as on a DSP port (synth_ice40: 4-bit signed times a zero-extended
    // 3-bit input, 49 LUT4 with its accumulator, as for a 3-bit signed input; 53 for a 4-bit one).
    // A weight ROM of one word holds constants, and a multiplier by a constant is a sum of shifted
    // inputs, one per nonzero digit of the constant's canonical signed-digit form, each as wide as
    // the input (iCE40 conv 1083: sixteen 3-bit constants times 6-bit inputs, priced +17 % as
    // general multipliers).
    else if (w.wDepth === 1) for (let i = 0; i < mults; i++) f.csdBits += csdDigits(e.weights[i]) * e.inFormat.wl;
    else f.mulLut += mults * a * e.inFormat.wl;
    f.ctlBits += windowBits(e.win, inB, outB, groups, true) + 2 * counterBits(w.wDepth);
    // Yosys's alumacc merges a lane's adder tree (and, on some families, its accumulator) into one
    // $macc, which maccmap builds as rows of full adders in plain logic feeding one final adder on
    // the carry chain: the final adder is cheap where the family has a carry chain, each full-adder
    // row costs a LUT or two per bit, so the two are priced apart.
    if (e.simd > 1) f.addBits += e.pe * w.treeW;
    f.csaBits += e.pe * Math.max(0, e.simd - 2) * w.treeW;
    // Full-adder rows beyond the first two (SIMD 8 and 16): on 6-input LUTs ABC maps these deeper
    // trees at about twice the price per bit (with MUXF7s), measured on the wide-SIMD designs.
    f.csaWideBits += e.pe * Math.max(0, e.simd - 4) * w.treeW;
    // A weight ROM of one word holds constants, and synthesis specialises the multipliers and the
    // tree around them (priced per product bit; the fit finds it on ECP5 only).
    if (w.wDepth === 1) f.constBits += e.pe * e.simd * w.pW;
    // With one product per lane, Yosys packs multiply, accumulate and the accumulator register
    // into the DSP block where the family's DSP mapping does so: no adder or register remains.
    const inDsp = perMul > 0 && e.simd === 1 && FAMILIES[target].dspAccumulates;
    if (!inDsp) f.accBits += e.pe * w.accW;
    const rq = requantRtl(w.accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
    f.rqBits += e.pe * clampBits(rq);
    f.cmpBits += e.pe * 2 * rq.width;
    // Pipeline registers of the input word and sub-word selection.
    f.regBits += e.simd * e.inFormat.wl + (inB.lanes > e.simd ? inB.wordBits : 0);
    f.muxBits += inB.lanes > e.simd ? e.simd * e.inFormat.wl * (inB.lanes / e.simd) : 0;
    // ROM words as the renderer packs them: weight word (g, tap) holds lane (p, s) = weight of
    // output g*pe+p, input channel cw*simd+s, kernel position; bias word g holds the pe biases.
    const kk = e.win.kh * e.win.kw, cinK = e.cin * kk;
    const weightAt = (word: number, lane: number) => {
      const g = Math.floor(word / e.k), t = word % e.k, cw = Math.floor(t / kk), r = t % kk;
      const p = Math.floor(lane / e.simd), s2 = lane % e.simd;
      return e.weights[(g * e.pe + p) * cinK + (cw * e.simd + s2) * kk + r];
    };
    memories.push(
      romShape(w.wDepth, w.wWidth, e.pe * e.simd, e.weightFormat.wl, weightAt),
      romShape(w.bDepth, w.bWidth, e.pe, w.accW, (g, p) => e.alignedBias[g * e.pe + p]),
    );
    // Registers as templated: window counters and address registers, ROM address, stage B flags
    // and output address, sub-word select, accumulators, write port.
    f.ffBits += windowBits(e.win, inB, outB, groups, true, FAMILIES[target].keepsDeadRegisters) + 2 * counterBits(w.wDepth) + 6 + 2 * outB.addrBits
      + (inB.lanes > e.simd ? counterBits(inB.lanes / e.simd) : 0) + (inDsp ? 0 : e.pe * w.accW);
  } else if (e.kind === 'pool') {
    const groups = e.c / e.lanes;
    f.ctlBits += windowBits(e.win, inB, outB, groups, false);
    f.ffBits += windowBits(e.win, inB, outB, groups, false, FAMILIES[target].keepsDeadRegisters) + 6 + 2 * outB.addrBits;
    if (e.mode === 'max') {
      f.ffBits += e.lanes * e.inFormat.wl;
      f.cmpBits += e.lanes * e.inFormat.wl;
      f.regBits += e.lanes * e.inFormat.wl;
    } else {
      const w = poolWidths(e);
      // One reciprocal for every window is a constant: a power of two becomes a shift, any other
      // constant a multiply as wide as its significant bits.
      const r = e.recips[0].r;
      const b = w.countVaries ? w.rW + 1 : (r & (r - 1)) === 0 ? 0 : Math.floor(Math.log2(r)) + 2;
      const perMul = b > 0 ? dspFor(w.sumW, b, rule) : 0;
      if (perMul > 0) dsp += perMul * e.lanes;
      else if (b > 0) f.mulLut += e.lanes * w.sumW * b;
      const sumInDsp = perMul > 0 && FAMILIES[target].dspPacksPoolSum;
      f.accBits += e.lanes * w.sumW;
      f.ffBits += (sumInDsp ? 0 : e.lanes * w.sumW) + (w.countVaries ? counterBits(e.win.kh * e.win.kw + 1) : 0);
      const rq = requantRtl(w.accW, e.inFormat.fl + e.recipBits, e.outFormat);
      f.rqBits += e.lanes * clampBits(rq);
      f.cmpBits += e.lanes * 2 * rq.width;
      if (w.countVaries) f.ctlBits += 2 * counterBits(e.win.kh * e.win.kw + 1) + w.rW * e.recips.length;
    }
  } else {
    const w = addWidths(e);
    f.ctlBits += 2 * outB.addrBits;
    f.ffBits += 2 * outB.addrBits + 3;
    f.addBits += e.lanes * w.accW;
    const rq = requantRtl(w.accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
    f.rqBits += e.lanes * clampBits(rq);
    f.cmpBits += e.lanes * 2 * rq.width;
  }
  return { features: f, dsp, memories };
}

/** Controller, input loader, read-port multiplexers and the output streamer with its arg-max. */
export function topFeatures(plan: HwPlan): BlockFeatures {
  const f = zeroFeatures();
  const outB = plan.buffers[plan.output.buffer];
  f.ctlBits += counterBits(plan.input.elements) + counterBits(plan.engines.length) + 2 * counterBits(plan.output.elements) + outB.addrBits;
  f.cmpBits += plan.output.format.wl;
  f.regBits += plan.output.format.wl + counterBits(plan.output.elements);
  f.ffBits += 3 + counterBits(plan.engines.length) + counterBits(plan.input.elements) + 2 * counterBits(plan.output.elements)
    + counterBits(plan.output.elements / outB.lanes) + counterBits(outB.lanes) + outB.addrBits + plan.output.format.wl;
  for (const b of plan.buffers) if (b.consumers.length > 1) f.muxBits += b.addrBits * b.consumers.length;
  if (outB.lanes > 1) f.muxBits += outB.lanes * plan.output.format.wl;
  return { features: f, dsp: 0, memories: [] };
}

/** Data bits per word of a buffer that need no storage of their own (requantSharedBits, per lane). */
function sharedBitsOf(plan: HwPlan, b: BufferPlan): number {
  if (b.producer < 0) return 0;
  const e = plan.engines[b.producer];
  if (e.kind === 'pool') return 0;
  const accW = e.kind === 'linear' ? linearWidths(e).accW : addWidths(e).accW;
  return b.lanes * requantSharedBits(accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
}

export function bufferMemories(plan: HwPlan): BlockFeatures['memories'] {
  // The output streamer reads at o_base + o_pix (templates/top.v.hbs): with every channel in one
  // word o_base stays zero and the address is the o_pix register. With a single pixel it is o_base
  // itself, which Yosys kept out of block RAM in every measured design.
  // Bits the producer always writes as zero, or as copies of one signal, need no flip-flops of
  // their own where the buffer is in logic (add 1008 on iCE40: its 512 x 16 output register file
  // of two s8 lanes keeps 7,168 of 8,192), nor in the write-data registers of iCE40's block RAM
  // emulation (maxpool 1068: 16-bit lanes shifted left by 9 keep 8 registers each).
  return plan.buffers.map((b) => ({
    kind: b.kind, depth: b.words, width: b.wordBits, regAddress: b.kind === 'regfile' && b.c === b.lanes && b.h * b.w > 1,
    sharedBits: sharedBitsOf(plan, b),
  }));
}
