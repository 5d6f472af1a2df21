/**
 * What drives the accelerator's two handshakes: when the source offers an input word (s_axis_tvalid)
 * and when the sink takes a logit (m_axis_tready). The simulator predicts the RTL's cycles under the
 * same pattern the test bench drives, so both count the same stalls.
 *
 * Cycle k is the k-th rising clock edge of the test bench (its `cycle` counter). The test bench's
 * stimulus block releases reset on the third falling edge, so edge 4 is the design's first cycle
 * out of reset and the first at which the source can offer a word (templates/tb.v.hbs).
 */
export const FIRST_DESIGN_CYCLE = 4;
export const FIRST_VALID_CYCLE = 4;

export interface Handshake {
  readonly name: string;
  /** Is s_axis_tvalid high at rising edge k (k >= FIRST_VALID_CYCLE, words still to send)? */
  inValid(k: number): boolean;
  /** Is m_axis_tready high at rising edge k? */
  outReady(k: number): boolean;
}

/** Source and sink never stall: the RTL's planned latency. */
export const alwaysReady: Handshake = { name: 'none', inValid: () => true, outReady: () => true };

/** One step of the test bench's 32-bit Fibonacci LFSR: shift left, feed back bits 31, 21, 1, 0. */
export const lfsrStep = (s: number): number => ((s << 1) | (((s >>> 31) ^ (s >>> 21) ^ (s >>> 1) ^ s) & 1)) >>> 0;

/**
 * The LFSR as a linear map over GF(2): column j of M^(2^i) is the state reached in 2^i steps from
 * the single bit j. Jumping n steps multiplies by the matrices of n's set bits, so skipping a
 * million-cycle compute phase costs at most 32 x 32 bit operations.
 */
class LfsrJump {
  private readonly pow: Uint32Array[] = [];
  constructor() {
    let cols = new Uint32Array(32);
    for (let j = 0; j < 32; j++) cols[j] = lfsrStep((1 << j) >>> 0);
    for (let i = 0; i < 53; i++) {
      this.pow.push(cols);
      const sq = new Uint32Array(32);
      for (let j = 0; j < 32; j++) sq[j] = LfsrJump.apply(cols, cols[j]);
      cols = sq;
    }
  }
  private static apply(cols: Uint32Array, s: number): number {
    let r = 0;
    for (let j = 0; s !== 0; j++, s >>>= 1) if (s & 1) r ^= cols[j];
    return r >>> 0;
  }
  advance(s: number, n: number): number {
    for (let i = 0; n > 0; i++, n = Math.floor(n / 2)) if (n % 2 === 1) s = LfsrJump.apply(this.pow[i], s);
    return s;
  }
}
let jump: LfsrJump | null = null;

/**
 * The test bench's `+stall` pattern: on falling edge j the LFSR steps once (from 1 at time 0), then
 * s_axis_tvalid for rising edge j + 1 is low when its bits [2:0] are 0 and m_axis_tready when bits [5:3]
 * are 0. Lookups move forward in k; a jump backwards or far ahead uses the GF(2) jump.
 */
export class TbStall implements Handshake {
  readonly name = 'tb-lfsr';
  /** Invariant: s is the LFSR state after k - 1 falling edges, the one rising edge k sees. */
  private k = 1;
  private s = 1;
  private stateAt(k: number): number {
    if (k < this.k || k - this.k > 64) {
      jump ??= new LfsrJump();
      this.s = jump.advance(1, k - 1);
      this.k = k;
    }
    while (this.k < k) {
      this.s = lfsrStep(this.s);
      this.k++;
    }
    return this.s;
  }
  inValid(k: number): boolean {
    return (this.stateAt(k) & 7) !== 0;
  }
  outReady(k: number): boolean {
    return ((this.stateAt(k) >>> 3) & 7) !== 0;
  }
}
