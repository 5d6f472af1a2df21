import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { type FxFormat, signedBitsForRange } from '../fixed/format.js';
import type { BufferPlan, WeightStore, Window } from './plan-types.js';
import { clog2, counterBits, ext, requantRtl, sdec, slit, ulit } from './verilog.js';

/**
 * What every engine's renderer shares: the handlebars templates of templates/, the file list being
 * written, and the contexts of the two partials most engines use (the window's tap loop and the
 * requantizer). Templates are compiled without escaping, so text from the user (model, source,
 * layer and tensor names) enters a context only through commentText, which keeps it inside its
 * `//` comment; identifiers are generated (the top module name is validated by generate.ts, engine
 * ids are l<index>_<op>).
 */

/** templates/ at the package root: two levels above src/hw, three above dist/src/hw. */
const HERE = dirname(fileURLToPath(import.meta.url));
export const TEMPLATE_DIR =
  [join(HERE, '..', '..', 'templates'), join(HERE, '..', '..', '..', 'templates')].find((d) => existsSync(join(d, 'top.v.hbs'))) ??
  join(HERE, '..', '..', 'templates');

let hb: typeof Handlebars | null = null;
const compiled = new Map<string, HandlebarsTemplateDelegate>();
export function template(name: string): HandlebarsTemplateDelegate {
  if (!hb) {
    hb = Handlebars.create();
    for (const p of ['header', 'window']) hb.registerPartial(p, readFileSync(join(TEMPLATE_DIR, `${p}.v.hbs`), 'utf8'));
  }
  let t = compiled.get(name);
  if (!t) {
    t = hb.compile(readFileSync(join(TEMPLATE_DIR, `${name}.hbs`), 'utf8'), { noEscape: true, strict: true });
    compiled.set(name, t);
  }
  return t;
}

/** The design being rendered: header fields every file shows, and the files written so far. */
export interface RenderCtx {
  base: Record<string, unknown>;
  files: Record<string, string>;
  sources: string[];
  top: string;
  /** The shared weight store, when the plan has one: engines with a region write their words into `image`. */
  weights?: { store: WeightStore; image: bigint[] };
}

/**
 * An engine's weight words: into its ROM image file, or, when the plan has a weight store with a
 * region for it, into the store's load image. Returns the weight address width and the template
 * fields of its weight port: whether it is shared, the ROM file, the address its weight pointer
 * starts from, and the store's word width (whose bits above the engine's are read and not used).
 */
export function placeWeights(ctx: RenderCtx, engine: number, file: string, words: readonly string[]) {
  const w = ctx.weights;
  const region = w?.store.regions.find((r) => r.engine === engine);
  if (!w || !region) {
    ctx.files[file] = words.join('\n') + '\n';
    const wAW = clog2(words.length);
    return { wAW, fields: { shared: false, wFile: file, wBase: 0, wBaseLit: ulit(0, wAW), storeWB1: -1, storeUnused: false } };
  }
  if (words.length !== region.words)
    throw new Error(`render: engine ${engine} has ${words.length} weight words, its region ${region.words}`);
  words.forEach((x, i) => (w.image[region.base + i] = BigInt(`0x${x}`)));
  const wAW = w.store.addrBits;
  return {
    wAW,
    fields: {
      shared: true,
      wFile: '',
      wBase: region.base,
      wBaseLit: ulit(region.base, wAW),
      storeWB1: w.store.wordBits - 1,
      storeUnused: w.store.wordBits > region.bits,
    },
  };
}

/** Renders template `tpl` into `<name>.v` and adds it to the file list. */
export function emit(ctx: RenderCtx, name: string, tpl: string, data: Record<string, unknown>): void {
  const file = `${name}.v`;
  ctx.files[file] = template(`${tpl}.v`)({ ...ctx.base, ...data, file });
  ctx.sources.push(file);
}

export const counter = (n: number) => {
  const w = counterBits(n);
  return { w1: w - 1, last: ulit(n - 1, w), zero: ulit(0, w), one: ulit(1 % 2 ** w, w) };
};

/** Raw-bits lane value as a signed expression of width `to` (zero-extended when unsigned). */
export const laneExt = (expr: string, f: FxFormat, to: number) => ext(expr, f.wl, to, f.signed, `${expr}[${f.wl - 1}]`);
/** A lane shifted left by `shift` bits (to a finer fraction length) in `to` bits: the residual add's and concat's alignment. */
export const alignedLane = (expr: string, f: FxFormat, shift: number, to: number) =>
  shift === 0 ? laneExt(expr, f, to) : `{${laneExt(expr, f, to - shift)}, ${ulit(0, shift)}}`;
export const greater = (a: string, b: string, f: FxFormat) => (f.signed ? `$signed(${a}) > $signed(${b})` : `${a} > ${b}`);

/**
 * The window partial's context. `grouped` (grouped convolutions): every `perGroup` output groups
 * the taps move on to the next `words` input channel words instead of starting again at word 0.
 */
export function windowCtx(
  win: Window,
  inBuf: BufferPlan,
  outBuf: BufferPlan,
  groups: number,
  chanInTaps: boolean,
  simd = inBuf.lanes,
  grouped?: { perGroup: number; words: number },
) {
  const cwords = inBuf.c / inBuf.lanes;
  const span = (cwords + 1) * (win.h + win.pt + win.kh * win.dh + win.sh + 1) * (win.w + win.pl + win.kw * win.dw + win.sw + 1);
  const sw = signedBitsForRange(-span, span);
  const s = (v: number) => slit(v, sw);
  // The named constants (localparams) in decimal.
  const d = (v: number) => sdec(v, sw);
  return {
    chanInTaps,
    c: {
      g: counter(groups),
      oy: counter(win.ho),
      ox: counter(win.wo),
      cw: counter(grouped ? grouped.words : cwords),
      cl: counter(inBuf.lanes / simd),
      ky: counter(win.kh),
      kx: counter(win.kw),
      gq: counter(grouped?.perGroup ?? 1),
    },
    grouped: grouped !== undefined,
    sGHW: d((grouped?.words ?? 0) * win.h * win.w),
    sw1: sw - 1,
    s0: s(0),
    sH: d(win.h),
    sW: d(win.w),
    iy0Init: d(-win.pt),
    ix0Init: d(-win.pl),
    rowInit: d(-win.pt * win.w - win.pl),
    sDH: d(win.dh),
    sDW: d(win.dw),
    sDHW: d(win.dh * win.w),
    sHW: d(win.h * win.w),
    sSH: d(win.sh),
    sSW: d(win.sw),
    sSHW: d(win.sh * win.w),
    inAW1: inBuf.addrBits - 1,
    inWB1: inBuf.wordBits - 1,
    outAW1: outBuf.addrBits - 1,
    outWB1: outBuf.wordBits - 1,
    outAWzero: ulit(0, outBuf.addrBits),
    outAWone: ulit(1 % 2 ** outBuf.addrBits, outBuf.addrBits),
  };
}

/**
 * The parameters of the shared requantizer module (templates/requant.v.hbs) for one engine, as a
 * Verilog parameter list; the module itself is written into the design with its first user.
 */
export function requantParams(ctx: RenderCtx, accW: number, accFl: number, out: FxFormat, lo: number, hi: number): string {
  const name = `${ctx.top}_requant`;
  if (!ctx.files[`${name}.v`]) emit(ctx, name, 'requant', {});
  const r = requantRtl(accW, accFl, out, lo, hi);
  return `.ACC_W(${accW}), .T_W(${r.width}), .SHIFT(${r.shift}), .Y_W(${out.wl}), .LO(${r.lo}), .HI(${r.hi})`;
}
