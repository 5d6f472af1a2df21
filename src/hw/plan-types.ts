import type { FxFormat } from '../fixed/format.js';

/**
 * The pieces of the hardware plan that every engine shares: the on-chip buffers it reads and
 * writes, and the window geometry of its tap loop. Kept apart from plan.ts (which imports every
 * engine through the registry) so that engine folders can use them without importing the registry.
 */

/** An on-chip activation buffer. Element (c, y, x) is lane c % lanes of word ((c / lanes) * h + y) * w + x. */
export interface BufferPlan {
  id: number;
  /** The QGraph value it stores (flatten aliases map onto their input's buffer). */
  tensor: string;
  c: number;
  h: number;
  w: number;
  lanes: number;
  format: FxFormat;
  words: number;
  wordBits: number;
  addrBits: number;
  /** Every buffer reads synchronously, the network output too (its streamer holds the read address). */
  kind: 'ram';
  /** Index of the engine that writes it; -1: the input loader. */
  producer: number;
  /** Engines that read it. */
  consumers: number[];
}

/**
 * The one definition of a buffer's word layout, for the renderer, the cycle simulator and the
 * co-simulation's dump reader: channel c of pixel p (= y * w + x) is lane c % lanes of word
 * (c / lanes) * h * w + p, and the simulator keeps lane l of word a at index a * lanes + l.
 */
export const bufferWord = (b: { lanes: number; h: number; w: number }, c: number, p: number): number =>
  Math.floor(c / b.lanes) * b.h * b.w + p;
export const packedIndex = (b: { lanes: number; h: number; w: number }, c: number, p: number): number =>
  bufferWord(b, c, p) * b.lanes + (c % b.lanes);
/** Channel and pixel held by lane l of word a (the inverse of bufferWord). */
export const wordChannel = (b: { lanes: number; h: number; w: number }, a: number, l: number): { c: number; p: number } => ({
  c: Math.floor(a / (b.h * b.w)) * b.lanes + l,
  p: a % (b.h * b.w),
});

/** What every engine of the plan carries, whatever its kind. */
export interface EngineBase {
  kind: string;
  index: number;
  /** Verilog-safe instance/module suffix, e.g. l03_conv. */
  id: string;
  layer: string;
  /** Input buffer ids, one per read port (add: two). */
  inputs: number[];
  output: number;
  /** Cycles from its start pulse to its done pulse (the engine's taps plus its pipeline depth). */
  cycles: number;
  /** Multiply-accumulates per image and multipliers instantiated. */
  macs: number;
  multipliers: number;
}

/** Window geometry over an input of c x h x w, with the tap loop (c, ky, kx) per output pixel. */
export interface Window {
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  ho: number;
  wo: number;
}

/** The window of a layer that reduces its whole input to one pixel (dense, global pooling). */
export const wholeWindow = (h: number, w: number): Window => ({
  h,
  w,
  kh: h,
  kw: w,
  sh: 1,
  sw: 1,
  dh: 1,
  dw: 1,
  pt: 0,
  pl: 0,
  ho: 1,
  wo: 1,
});

/**
 * Weights that the bitstream does not hold (issue 29: an iCE40 UltraPlus's SPRAM cannot be
 * initialised): every conv, dense and depthwise engine reads its weight words from one shared
 * single-port memory, loaded through the input stream after reset, before the first image. The
 * layers run one after another, so the engine that runs owns the read port. Words are
 * `wordBits` wide (the widest engine's word, rounded up to the SPRAM's 16 bits); an engine uses
 * the low bits of the words in its region. The load stream is `beats` TDATA beats: each word in
 * `beatsPerWord` beats of `beatBits`, the low bits first, words in address order.
 */
export interface WeightStore {
  wordBits: number;
  depth: number;
  addrBits: number;
  beatBits: number;
  beatsPerWord: number;
  beats: number;
  /** Each engine's words: at [base, base + words), `bits` low bits used. */
  regions: WeightRegion[];
}

export interface WeightRegion {
  engine: number;
  base: number;
  words: number;
  bits: number;
}

/** SPRAM word width: the shared weight store's words are whole multiples of it. */
export const WEIGHT_STORE_GRAIN = 16;
