import type { EngineBase, Window } from '../src/hw/plan-types.js';

/**
 * What the transaction-level model of every engine provides (each engine's folder under
 * src/hw/engines/ has its own): it executes its engine's loop nest over the packed on-chip buffers
 * (lane l of word a is element a * lanes + l of the buffer's array), in the order the RTL issues
 * taps, with the arithmetic of fixed/format.ts. What does not depend on the image (the tap address
 * of every window position, weights reordered into ROM word order) is computed once per engine.
 */

/** A buffer's contents: lane l of word a at index a * lanes + l. */
export type BufferData = Float64Array;

/** Per-image activity of one engine, the same for every image (the schedule is data-independent). */
export interface EngineActivity {
  /** Taps issued: one per busy cycle between start and the pipeline drain. */
  taps: number;
  /** Taps that fall inside the image (the rest are zero padding). */
  validTaps: number;
  /** Useful multiply-accumulates (padding excluded). */
  macs: number;
  /** Words read from each input buffer (one per tap: the read port is driven every tap). */
  reads: number[];
  /** Words written to the output buffer. */
  writes: number;
  /** Weight and bias ROM words read (conv/dense only). */
  weightReads: number;
  biasReads: number;
}

export interface EngineModel {
  engine: EngineBase;
  activity: EngineActivity;
  /** Reads the input buffers and writes the output buffer of one image. */
  run(bufs: BufferData[]): void;
  /**
   * Conv/dense: how the engine computes: the integer reference's WebAssembly kernel on int16 or
   * int32 operands, with the window walked by the kernel or each pixel's window gathered as
   * channels ('flat'), or the JavaScript float64 loop.
   */
  kernel?: 'int16' | 'int32' | 'int16 flat' | 'int32 flat' | 'float64';
}

/**
 * For every output pixel (oy, ox) and kernel position (ky, kx), the input word address of the tap,
 * or -1 when it lies in the padding. Address of channel word cw: cw * h * w + this.
 */
export function windowTable(win: Window): Int32Array {
  const t = new Int32Array(win.ho * win.wo * win.kh * win.kw);
  let i = 0;
  for (let oy = 0; oy < win.ho; oy++) {
    for (let ox = 0; ox < win.wo; ox++) {
      const iy0 = oy * win.sh - win.pt,
        ix0 = ox * win.sw - win.pl;
      for (let ky = 0; ky < win.kh; ky++) {
        const iy = iy0 + ky * win.dh;
        for (let kx = 0; kx < win.kw; kx++, i++) {
          const ix = ix0 + kx * win.dw;
          t[i] = iy < 0 || iy >= win.h || ix < 0 || ix >= win.w ? -1 : iy * win.w + ix;
        }
      }
    }
  }
  return t;
}
