import { type FxFormat, maxInt, minInt, requantBounds, signedBitsForRange } from '../fixed/format.js';

/** Small helpers that turn plan numbers into lint-clean Verilog text. */

export const clog2 = (n: number): number => (n <= 1 ? 1 : Math.ceil(Math.log2(n)));

/** Bits of an unsigned counter that counts 0..n-1 (at least 1). */
export const counterBits = (n: number): number => clog2(n);

/** Unsigned literal of width w. */
export function ulit(v: number, w: number): string {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** w) throw new RangeError(`${v} does not fit ${w} unsigned bits`);
  return `${w}'d${v}`;
}

/** Two's-complement hex literal of a signed value in w bits (no unary minus, so no width surprises). */
export function slit(v: number, w: number): string {
  if (!Number.isInteger(v) || v < -(2 ** (w - 1)) || v >= 2 ** (w - 1)) throw new RangeError(`${v} does not fit ${w} signed bits`);
  const u = v < 0 ? BigInt(v) + (1n << BigInt(w)) : BigInt(v);
  return `${w}'sh${u.toString(16)}`;
}

/** A signed literal of w bits in decimal (a negative value as the negation of its magnitude), for named constants. */
export function sdec(v: number, w: number): string {
  slit(v, w);
  return v < 0 ? `-${w}'sd${-v}` : `${w}'sd${v}`;
}

/** Sign-extends (or, when `signed` is false, zero-extends) an expression of width from to width to. */
export function ext(expr: string, from: number, to: number, signed: boolean, msb = `${expr}[${from - 1}]`): string {
  if (to < from) throw new RangeError(`cannot extend ${from} bits to ${to}`);
  if (to === from) return expr;
  return signed ? `{{${to - from}{${msb}}}, ${expr}}` : `{${ulit(0, to - from)}, ${expr}}`;
}

/** Two's-complement hex digits of v in w bits, for $readmemh files. */
export function hexWord(v: number, w: number): string {
  const u = v < 0 ? BigInt(v) + (1n << BigInt(w)) : BigInt(v);
  return u.toString(16).padStart(Math.ceil(w / 4), '0');
}

/** Packs lane values (lane 0 in the low bits) into one hex word. */
export function packHex(values: ArrayLike<number>, w: number): string {
  let acc = 0n;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    const u = v < 0 ? BigInt(v) + (1n << BigInt(w)) : BigInt(v);
    acc = (acc << BigInt(w)) | u;
  }
  return acc.toString(16).padStart(Math.ceil((w * values.length) / 4), '0');
}

/** Width of a signed value holding format f (unsigned formats gain a zero sign bit). */
export const signedWidth = (f: FxFormat): number => f.wl + (f.signed ? 0 : 1);

/**
 * The requantizer's constants, derived from fixed/format.ts: the rounding shift s = accFl - out.fl,
 * its half-LSB, the folded clamp bounds [A, B] and a working width that holds every intermediate.
 * The RTL computes t = (acc + half) >>> s (or acc <<< -s), then y = t < A ? A : t > B ? B : t.
 */
export interface RequantRtl {
  accBits: number;
  shift: number;
  width: number;
  half: string | null;
  lo: string;
  hi: string;
  loOut: string;
  hiOut: string;
  outBits: number;
}

export function requantRtl(accBits: number, accFl: number, out: FxFormat, lo = -Infinity, hi = Infinity): RequantRtl {
  const s = accFl - out.fl;
  const [a, b] = requantBounds(out, lo, hi);
  const width = Math.max(accBits + 1, accBits - s + 1, s + 2, signedBitsForRange(minInt(out), maxInt(out)) + 1);
  return {
    accBits,
    shift: s,
    width,
    half: s > 0 ? slit(2 ** (s - 1), width) : null,
    lo: slit(a, width),
    hi: slit(b, width),
    loOut: hexLit(a, out.wl),
    hiOut: hexLit(b, out.wl),
    outBits: out.wl,
  };
}

/**
 * Whether the requantizer's top output bit is zero in a way synthesis sees from the structure
 * alone, so that flip-flops storing it are removed (Yosys on iCE40: an add engine's output
 * buffer in flip-flops keeps 7 of 8 bits per lane). With the lower bound 0, `t < 0` is the sign of t;
 * when the top output bit t[wl-1] is a copy of that sign (the shifted value is at most wl bits
 * wide) and neither clamp value has its top bit set, the bit is `sign ? 0 : sign`. A top bit that
 * is zero only because of the upper clamp needs a proof Yosys does not make, and is kept.
 */
export function requantTopBitZero(accBits: number, accFl: number, out: FxFormat, lo = -Infinity, hi = Infinity): boolean {
  return topBitZero(requantRtl(accBits, accFl, out, lo, hi), out, lo, hi);
}

function topBitZero(r: RequantRtl, out: FxFormat, lo: number, hi: number): boolean {
  const [a, b] = requantBounds(out, lo, hi);
  if (a !== 0 || b < 0 || b >= 2 ** (out.wl - 1)) return false;
  return r.shift > 0 ? r.width - r.shift <= out.wl : r.accBits - r.shift <= out.wl;
}

/**
 * Output bits of the requantizer that need no storage of their own, as synthesis sees them from
 * the structure: the top bit where requantTopBitZero holds, and, after a left shift by L, the L
 * low bits of t are zero, so those output bits are all the same signal (the clamp's) and merge
 * into one.
 */
export function requantSharedBits(accBits: number, accFl: number, out: FxFormat, lo = -Infinity, hi = Infinity): number {
  const r = requantRtl(accBits, accFl, out, lo, hi);
  const top = topBitZero(r, out, lo, hi) ? 1 : 0;
  const low = r.shift < 0 ? Math.min(-r.shift, out.wl - top) - 1 : 0;
  return top + Math.max(0, low);
}

/** Literal with the bit pattern of v in w bits, as an unsigned vector (the buffers store raw bits). */
export const hexLit = (v: number, w: number): string => `${w}'h${hexWord(v, w)}`;

/**
 * Reserved words of Verilog-2005 and SystemVerilog (IEEE 1800-2017, which Verilator and
 * `iverilog -g2012` read): none may name a module.
 */
export const VERILOG_KEYWORDS: ReadonlySet<string> = new Set(
  `
accept_on alias always always_comb always_ff always_latch and assert assign assume automatic before begin bind
bins binsof bit break buf bufif0 bufif1 byte case casex casez cell chandle checker class clocking cmos config
const constraint context continue cover covergroup coverpoint cross deassign default defparam design disable
dist do edge else end endcase endchecker endclass endclocking endconfig endfunction endgenerate endgroup
endinterface endmodule endpackage endprimitive endprogram endproperty endspecify endsequence endtable endtask
enum event eventually expect export extends extern final first_match for force foreach forever fork forkjoin
function generate genvar global highz0 highz1 if iff ifnone ignore_bins illegal_bins implements implies import
incdir include initial inout input inside instance int integer interconnect interface intersect join join_any
join_none large let liblist library local localparam logic longint macromodule matches medium modport module
nand negedge nettype new nexttime nmos nor noshowcancelled not notif0 notif1 null or output package packed
parameter pmos posedge primitive priority program property protected pull0 pull1 pulldown pullup
pulsestyle_ondetect pulsestyle_onevent pure rand randc randcase randsequence rcmos real realtime ref reg
reject_on release repeat restrict return rnmos rpmos rtran rtranif0 rtranif1 s_always s_eventually s_nexttime
s_until s_until_with scalared sequence shortint shortreal showcancelled signed small soft solve specify
specparam static string strong strong0 strong1 struct super supply0 supply1 sync_accept_on sync_reject_on
table tagged task this throughout time timeprecision timeunit tran tranif0 tranif1 tri tri0 tri1 triand trior
trireg type typedef union unique unique0 unsigned until until_with untyped use uwire var vectored virtual void
wait wait_order wand weak weak0 weak1 while wildcard wire with within wor xnor xor
`
    .trim()
    .split(/\s+/),
);

/** Longest module name accepted: with the longest suffix (`_l99_depthwise_w.hex`) a file name stays short. */
export const MAX_IDENTIFIER = 100;

/**
 * Why `s` cannot name the top module, or null when it can: a simple identifier (a letter, then
 * letters, digits and underscores), at most MAX_IDENTIFIER characters, not a reserved word.
 */
export function identifierProblem(s: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(s)) return 'is not a Verilog identifier';
  if (s.length > MAX_IDENTIFIER) return `is longer than ${MAX_IDENTIFIER} characters`;
  if (VERILOG_KEYWORDS.has(s)) return 'is a reserved word of Verilog/SystemVerilog';
  return null;
}
