import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { type FxFormat, fmtText, maxInt, minInt, signedBitsForRange } from '../fixed/format.js';
import { TOOL_VERSION as VERSION } from '../version.js';
import { engineTaps } from './cycles.js';
import { type AddEngine, type BufferPlan, type EnginePlan, type HwPlan, type LinearEngine, type PoolEngine, type Window, engineSummary } from './plan.js';
import { addWidths, linearWidths, poolWidths } from './widths.js';
import { commentText } from '../util/text.js';
import { clog2, counterBits, ext, hexLit, hexWord, identifierProblem, packHex, requantRtl, slit, ulit } from './verilog.js';

/**
 * Renders a hardware plan into Verilog text through the handlebars templates in templates/.
 * Every width, constant and literal is computed here from the plan (and through it from
 * fixed/format.ts); the templates only arrange text. Templates are compiled without escaping, so
 * text from the user (model, source, layer and tensor names) enters a context only through
 * commentText, which keeps it inside its `//` comment; identifiers are generated (the top module
 * name is validated by generate.ts, engine ids are l<index>_<op>).
 */

/** templates/ at the package root: two levels above src/hw, three above dist/src/hw. */
const HERE = dirname(fileURLToPath(import.meta.url));
export const TEMPLATE_DIR = [join(HERE, '..', '..', 'templates'), join(HERE, '..', '..', '..', 'templates')]
  .find((d) => existsSync(join(d, 'top.v.hbs'))) ?? join(HERE, '..', '..', 'templates');

let hb: typeof Handlebars | null = null;
const compiled = new Map<string, HandlebarsTemplateDelegate>();
function template(name: string): HandlebarsTemplateDelegate {
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

export interface RenderOptions {
  /** Top module name (a Verilog identifier). */
  top: string;
  /** Source model named in every file header. */
  source: string;
}

export interface RenderedDesign {
  /** File name -> contents: Verilog sources, ROM images. */
  files: Record<string, string>;
  /** Verilog sources in compile order (the file list). */
  sources: string[];
}

const counter = (n: number) => {
  const w = counterBits(n);
  return { w1: w - 1, last: ulit(n - 1, w), zero: ulit(0, w), one: ulit(1 % 2 ** w, w) };
};

/** Raw-bits lane value as a signed expression of width `to` (zero-extended when unsigned). */
const laneExt = (expr: string, f: FxFormat, to: number) => ext(expr, f.wl, to, f.signed, `${expr}[${f.wl - 1}]`);
const greater = (a: string, b: string, f: FxFormat) => (f.signed ? `$signed(${a}) > $signed(${b})` : `${a} > ${b}`);

function windowCtx(win: Window, inBuf: BufferPlan, outBuf: BufferPlan, groups: number, chanInTaps: boolean, simd = inBuf.lanes) {
  const cwords = inBuf.c / inBuf.lanes;
  const span = (cwords + 1) * (win.h + win.pt + win.kh * win.dh + win.sh + 1) * (win.w + win.pl + win.kw * win.dw + win.sw + 1);
  const sw = signedBitsForRange(-span, span);
  const s = (v: number) => slit(v, sw);
  return {
    chanInTaps,
    c: { g: counter(groups), oy: counter(win.ho), ox: counter(win.wo), cw: counter(cwords), cl: counter(inBuf.lanes / simd), ky: counter(win.kh), kx: counter(win.kw) },
    sw1: sw - 1, s0: s(0), sH: s(win.h), sW: s(win.w),
    iy0Init: s(-win.pt), ix0Init: s(-win.pl), rowInit: s(-win.pt * win.w - win.pl),
    sDH: s(win.dh), sDW: s(win.dw), sDHW: s(win.dh * win.w), sHW: s(win.h * win.w),
    sSH: s(win.sh), sSW: s(win.sw), sSHW: s(win.sh * win.w),
    inAW1: inBuf.addrBits - 1, inWB1: inBuf.wordBits - 1,
    outAW1: outBuf.addrBits - 1, outWB1: outBuf.wordBits - 1,
    outAWzero: ulit(0, outBuf.addrBits), outAWone: ulit(1 % 2 ** outBuf.addrBits, outBuf.addrBits),
  };
}

function requantCtx(module: string, layer: string, accW: number, accFl: number, out: FxFormat, lo: number, hi: number) {
  const r = requantRtl(accW, accFl, out, lo, hi);
  return {
    module, layer: commentText(layer), shift: r.shift, right: r.shift > 0, left: r.shift < 0, leftShift: -r.shift, half: r.half,
    accW1: accW - 1, tW1: r.width - 1, accExt: ext('acc', accW, r.width, true),
    lo: r.lo, hi: r.hi, loOut: r.loOut, hiOut: r.hiOut, yW1: out.wl - 1, yFmt: fmtText(out),
    loText: String(Math.max(lo, minInt(out))), hiText: String(Math.min(hi, maxInt(out))),
  };
}

interface Ctx { base: Record<string, unknown>; files: Record<string, string>; sources: string[]; top: string }

function emit(ctx: Ctx, name: string, tpl: string, data: Record<string, unknown>): void {
  const file = `${name}.v`;
  ctx.files[file] = template(`${tpl}.v`)({ ...ctx.base, ...data, file });
  ctx.sources.push(file);
}

/**
 * Products of one PE lane and their balanced adder tree, as declarations and blocking statements
 * of the clocked block (inside the PE generate loop, so `p` is the lane).
 */
/**
 * The MAC datapath of a conv/dense engine as Verilog lines: operand wires, accumulators, and the
 * blocking statements (products, adder tree per PE lane) and accumulator updates of the one
 * clocked block. Unrolled here so every index is a constant.
 */
function macDatapath(pe: number, simd: number, wW: number, x: FxFormat, pW: number, treeW: number, accW: number) {
  // Narrow operand wires first: simulators then pick a few bits out of a wide ROM word once, not
  // once per use (Icarus copies whole vectors on every part-select).
  const xWires = Array.from({ length: simd }, (_, s) => `wire [${x.wl - 1}:0] x${s} = x_b[${(s + 1) * x.wl - 1}:${s * x.wl}];`);
  const laneWires: string[] = [];
  const accResets: string[] = [], decls: string[] = [], stmts: string[] = [];
  const accs: string[] = [];
  for (let p = 0; p < pe; p++) {
    for (let s = 0; s < simd; s++) {
      const lo = (p * simd + s) * wW;
      laneWires.push(`wire [${wW - 1}:0] w${p}_${s} = w_rd[${lo + wW - 1}:${lo}];`);
    }
    laneWires.push(`wire signed [${accW - 1}:0] bias${p} = b_rd[${(p + 1) * accW - 1}:${p * accW}];`);
    laneWires.push(`reg  signed [${accW - 1}:0] acc${p};`);
    accResets.push(`acc${p} <= ${slit(0, accW)};`);
    accs.unshift(`acc${p}`);
    let level: string[] = [];
    for (let s = 0; s < simd; s++) {
      decls.push(`reg signed [${pW - 1}:0] m${p}_${s};`);
      stmts.push(`m${p}_${s} = ${ext(`w${p}_${s}`, wW, pW, true)} * ${ext(`x${s}`, x.wl, pW, x.signed)};`);
      level.push(treeW === pW ? `m${p}_${s}` : ext(`m${p}_${s}`, pW, treeW, true));
    }
    for (let d = 1; level.length > 1; d++) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 2) {
        if (i + 1 === level.length) { next.push(level[i]); continue; }
        const n = `t${p}_${d}_${i / 2}`;
        decls.push(`reg signed [${treeW - 1}:0] ${n};`);
        stmts.push(`${n} = ${level[i]} + ${level[i + 1]};`);
        next.push(n);
      }
      level = next;
    }
    stmts.push(`acc${p} <= (first_b ? bias${p} : acc${p}) + ${ext(level[0], treeW, accW, true)};`);
  }
  laneWires.push(`wire [${pe * accW - 1}:0] acc_all = {${accs.join(', ')}};`);
  return { xWires, laneWires, accResets, decls, stmts };
}

function linear(ctx: Ctx, plan: HwPlan, e: LinearEngine): void {
  const inBuf = plan.buffers[e.inputs[0]], outBuf = plan.buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.cout / e.pe;
  const wW = e.weightFormat.wl;
  const { pW, accW, treeW, wDepth } = linearWidths(e);
  const wAW = clog2(wDepth);
  const gBits = counterBits(groups);
  const wFile = `${module}_w.hex`, bFile = `${module}_b.hex`;
  // ROM word (g, tap): lane (p, s) holds weight (o = g*pe + p, c = cw*simd + s, ky, kx).
  const kk = e.win.kh * e.win.kw, cinK = e.cin * kk;
  const wLines: string[] = new Array(wDepth);
  const lane = new Int32Array(e.pe * e.simd);
  for (let g = 0; g < groups; g++) {
    for (let t = 0; t < e.k; t++) {
      const cw = Math.floor(t / kk), r = t % kk;
      for (let p = 0; p < e.pe; p++) {
        for (let s = 0; s < e.simd; s++) lane[p * e.simd + s] = e.weights[(g * e.pe + p) * cinK + (cw * e.simd + s) * kk + r];
      }
      wLines[g * e.k + t] = packHex(lane, wW);
    }
  }
  const bLines: string[] = [];
  for (let g = 0; g < groups; g++) bLines.push(packHex(e.alignedBias.slice(g * e.pe, (g + 1) * e.pe), accW));
  ctx.files[wFile] = wLines.join('\n') + '\n';
  ctx.files[bFile] = bLines.join('\n') + '\n';
  const mac = macDatapath(e.pe, e.simd, wW, e.inFormat, pW, treeW, accW);
  const rq = requantCtx(module, e.layer, accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
  emit(ctx, `${module}_rq`, 'requant', rq);
  emit(ctx, module, 'linear', {
    ...windowCtx(e.win, inBuf, outBuf, groups, true, e.simd),
    module, pe: e.pe, simd: e.simd, mults: e.pe * e.simd, taps: engineTaps(e), cycles: e.cycles,
    wFmt: fmtText(e.weightFormat), xFmt: fmtText(e.inFormat), bFmt: fmtText(e.biasFormat), yFmt: fmtText(e.outFormat),
    pW, treeW, accFl: e.acc.fl, accW, accW1: accW - 1, accZero: slit(0, accW),
    wAW, wAW1: wAW - 1, wAWzero: ulit(0, wAW), wAWone: ulit(1 % 2 ** wAW, wAW),
    // With one group the 'next group' branch is dead; 0 keeps its literal in range.
    kLit: ulit(groups > 1 ? e.k : 0, wAW),
    wWB: e.pe * e.simd * wW, wWB1: e.pe * e.simd * wW - 1, wDepth, wFile,
    bWB: e.pe * accW, bWB1: e.pe * accW - 1, bDepth: groups, bAW: gBits, bFile,
    subWords: inBuf.lanes > e.simd, inLanes: inBuf.lanes, nSub: inBuf.lanes / e.simd, nSub1: inBuf.lanes / e.simd - 1,
    clW1: counterBits(inBuf.lanes / e.simd) - 1, clZero: ulit(0, counterBits(inBuf.lanes / e.simd)),
    xsW: e.simd * e.inFormat.wl, xsW1: e.simd * e.inFormat.wl - 1, xsZero: ulit(0, e.simd * e.inFormat.wl),
    macDecls: mac.decls, macStmts: mac.stmts, xWires: mac.xWires, laneWires: mac.laneWires, accResets: mac.accResets, yW: e.outFormat.wl,
  });
}

function pool(ctx: Ctx, plan: HwPlan, e: PoolEngine): void {
  const inBuf = plan.buffers[e.inputs[0]], outBuf = plan.buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.c / e.lanes;
  const xW = e.inFormat.wl;
  const full = e.win.kh * e.win.kw;
  const data: Record<string, unknown> = {
    ...windowCtx(e.win, inBuf, outBuf, groups, false),
    module, lanes: e.lanes, taps: engineTaps(e), cycles: e.cycles, avg: e.mode === 'avg',
    modeText: e.mode === 'max' ? 'Max pooling' : 'Average pooling',
    xFmt: fmtText(e.inFormat), yFmt: fmtText(e.outFormat), xW, xW1: xW - 1, countVaries: false,
    recipBits: e.recipBits, accFl: e.acc?.fl ?? 0,
  };
  const laneWires: string[] = [], laneResets: string[] = [], laneStmts: string[] = [];
  for (let l = 0; l < e.lanes; l++) laneWires.push(`wire [${xW - 1}:0] x${l} = in_rd[${(l + 1) * xW - 1}:${l * xW}];`);
  if (e.mode === 'max') {
    const min = hexLit(minInt(e.inFormat), xW);
    for (let l = 0; l < e.lanes; l++) {
      laneWires.push(`reg  [${xW - 1}:0] m${l};`);
      laneResets.push(`m${l} <= ${min};`);
      laneStmts.push(`if (first_b) m${l} <= pad_b ? ${min} : x${l};`);
      laneStmts.push(`else if (!pad_b && ${greater(`x${l}`, `m${l}`, e.inFormat)}) m${l} <= x${l};`);
    }
    Object.assign(data, { laneWires, laneResets, laneStmts, outConcat: `{${Array.from({ length: e.lanes }, (_, l) => `m${e.lanes - 1 - l}`).join(', ')}}` });
  } else {
    const { sumW, rW, accW } = poolWidths(e);
    const cntW = clog2(full + 1);
    const byCount = new Map(e.recips.map((r) => [r.count, r.r]));
    for (let l = 0; l < e.lanes; l++) {
      laneWires.push(`reg  signed [${sumW - 1}:0] sum${l};`);
      // A signed product of the sum and the reciprocal (zero-extended by one bit) keeps the multiplier
      // as wide as its operands: written as an unsigned product of accW-bit extensions, Yosys kept
      // the extension for some even reciprocals and built a second DSP.
      laneWires.push(`wire signed [${accW - 1}:0] acc${l} = sum${l} * $signed({1'b0, recip});`);
      laneResets.push(`sum${l} <= ${slit(0, sumW)};`);
      laneStmts.push(`sum${l} <= (first_b ? ${slit(0, sumW)} : sum${l}) + (pad_b ? ${slit(0, sumW)} : ${laneExt(`x${l}`, e.inFormat, sumW)});`);
    }
    laneWires.push(`wire [${e.lanes * accW - 1}:0] acc_all = {${Array.from({ length: e.lanes }, (_, l) => `acc${e.lanes - 1 - l}`).join(', ')}};`);
    Object.assign(data, {
      laneWires, laneResets, laneStmts, accW,
      rW1: rW - 1, yW: e.outFormat.wl,
      countVaries: e.recips.length > 1,
      recipConst: ulit(byCount.get(full)!, rW),
      cntW1: cntW - 1, cntZero: ulit(0, cntW), cntOne: ulit(1, cntW),
      recipCases: e.recips.filter((r) => r.count !== full).map((r) => ({ count: ulit(r.count, cntW), r: ulit(r.r, rW) })),
      recipDefault: ulit(byCount.get(full)!, rW),
    });
    emit(ctx, `${module}_rq`, 'requant', requantCtx(module, e.layer, accW, e.inFormat.fl + e.recipBits, e.outFormat, -Infinity, Infinity));
  }
  emit(ctx, module, 'pool', data);
}

function add(ctx: Ctx, plan: HwPlan, e: AddEngine): void {
  const outBuf = plan.buffers[e.output], aBuf = plan.buffers[e.inputs[0]], bBuf = plan.buffers[e.inputs[1]];
  const module = `${ctx.top}_${e.id}`;
  const F = e.acc.fl;
  const { ka, kb, accW } = addWidths(e);
  const aligned = (x: string, f: FxFormat, k: number) => (k === 0 ? laneExt(x, f, accW) : `{${laneExt(x, f, accW - k)}, ${ulit(0, k)}}`);
  const aAW = outBuf.addrBits;
  emit(ctx, `${module}_rq`, 'requant', requantCtx(module, e.layer, accW, F, e.outFormat, e.actLo, e.actHi));
  emit(ctx, module, 'add', {
    module, lanes: e.lanes, taps: engineTaps(e), cycles: e.cycles, accFl: F, accW, accW1: accW - 1,
    aFmt: fmtText(e.aFormat), bFmt: fmtText(e.bFormat), yFmt: fmtText(e.outFormat),
    aAW1: aAW - 1, aWB1: aBuf.wordBits - 1, bWB1: bBuf.wordBits - 1, outWB1: outBuf.wordBits - 1,
    iLast: ulit(e.words - 1, aAW), aAWzero: ulit(0, aAW), aAWone: ulit(1 % 2 ** aAW, aAW),
    aW: e.aFormat.wl, aW1: e.aFormat.wl - 1, bW: e.bFormat.wl, bW1: e.bFormat.wl - 1,
    aAligned: aligned('a', e.aFormat, ka), bAligned: aligned('b', e.bFormat, kb), yW: e.outFormat.wl,
  });
}

/** The top module name is an identifier in every file: a caller that did not validate it has a bug. */
function checkedTop(top: string): string {
  const why = identifierProblem(top);
  if (why) throw new Error(`render: the top module name '${commentText(top, 40)}' ${why}`);
  return top;
}

/** Renders the design (no test bench). */
export function renderDesign(plan: HwPlan, opts: RenderOptions): RenderedDesign {
  const top = checkedTop(opts.top);
  const ctx: Ctx = { base: { top, version: VERSION, source: commentText(opts.source) }, files: {}, sources: [], top };
  for (const m of ['rom', 'ram', 'regfile']) emit(ctx, `${top}_${m}`, m, {});
  for (const e of plan.engines) {
    if (e.kind === 'linear') linear(ctx, plan, e);
    else if (e.kind === 'pool') pool(ctx, plan, e);
    else add(ctx, plan, e);
  }
  emit(ctx, top, 'top', topCtx(plan, top));
  return { files: ctx.files, sources: ctx.sources };
}

function topCtx(plan: HwPlan, top: string): Record<string, unknown> {
  const nE = plan.engines.length;
  const curW = counterBits(nE);
  const inB = plan.buffers[plan.input.buffer], outB = plan.buffers[plan.output.buffer];
  const clsW = counterBits(plan.output.elements);
  const inCntW = counterBits(plan.input.elements);
  const readMux: { buf: number; expr: string }[] = [];
  for (const b of plan.buffers) {
    if (b.id === outB.id) continue;
    const ports = b.consumers.map((i) => {
      const e = plan.engines[i];
      const port = e.kind === 'add' ? (e.inputs[0] === b.id ? 'a_ra' : 'b_ra') : 'in_ra';
      return { i, sig: `e${i}_${port}` };
    });
    let expr = ports[ports.length - 1].sig;
    for (let j = ports.length - 2; j >= 0; j--) expr = `cur == ${ulit(ports[j].i, curW)} ? ${ports[j].sig} : ${expr}`;
    readMux.push({ buf: b.id, expr });
  }
  const outLaneW = counterBits(outB.lanes);
  const outF = plan.output.format;
  return {
    model: commentText(plan.model), latency: plan.latency,
    inElems: plan.input.elements, outElems: plan.output.elements,
    inFmt: fmtText(plan.input.format), outFmt: fmtText(outF),
    inW1: plan.input.format.wl - 1, outW: outF.wl, outW1: outF.wl - 1, clsW1: clsW - 1,
    buffers: plan.buffers.map((b) => ({ ...b, tensor: commentText(b.tensor), fmt: fmtText(b.format), aw1: b.addrBits - 1, wb1: b.wordBits - 1 })),
    engines: plan.engines.map((e) => ({
      index: e.index, id: e.id, layer: commentText(e.layer), module: `${top}_${e.id}`, summary: engineSummary(e), cycles: e.cycles,
      curLit: ulit(e.index, curW), isAdd: e.kind === 'add', in0: e.inputs[0], in1: e.inputs[1] ?? -1, out: e.output,
      iaw1: plan.buffers[e.inputs[0]].addrBits - 1, oaw1: plan.buffers[e.output].addrBits - 1,
    })),
    doneAny: plan.engines.map((e) => `done_${e.index}`).join(' | '),
    curW1: curW - 1, curZero: ulit(0, curW), curOne: ulit(1 % 2 ** curW, curW), curLast: ulit(nE - 1, curW),
    inCntW1: inCntW - 1, inCntZero: ulit(0, inCntW), inCntOne: ulit(1 % 2 ** inCntW, inCntW), inCntLast: ulit(plan.input.elements - 1, inCntW),
    clsZero: ulit(0, clsW), clsOne: ulit(1 % 2 ** clsW, clsW), clsLast: ulit(plan.output.elements - 1, clsW),
    inBuf: inB.id, inWa: 'in_cnt', outBuf: outB.id, readMux,
    outLaneSelect: outB.lanes > 1, outLanes: outB.lanes, outLanes1: outB.lanes - 1,
    outLaneW1: outLaneW - 1, outLaneZero: ulit(0, outLaneW), outLaneOne: ulit(1 % 2 ** outLaneW, outLaneW), outLaneLast: ulit(outB.lanes - 1, outLaneW),
    outAW1: outB.addrBits - 1, outAWzero: ulit(0, outB.addrBits), outAWone: ulit(1 % 2 ** outB.addrBits, outB.addrBits),
    outPixW1: counterBits(outB.h * outB.w) - 1, outPixZero: ulit(0, counterBits(outB.h * outB.w)),
    outPixOne: ulit(1 % 2 ** counterBits(outB.h * outB.w), counterBits(outB.h * outB.w)), outPixLast: ulit(outB.h * outB.w - 1, counterBits(outB.h * outB.w)),
    outPixExt: ext('o_pix', counterBits(outB.h * outB.w), outB.addrBits, false),
    // With one channel word the base never advances; 0 keeps the literal in range.
    outHW: ulit(outB.words > outB.h * outB.w ? outB.h * outB.w : 0, outB.addrBits),
    outZero: ulit(0, outF.wl), outGreater: greater('out_data', 'best_v', outF),
  };
}

/** Test vectors: quantized input words, expected logits and classes, one line per word. */
export interface Vectors { images: number; input: Float64Array; output: Float64Array; classes: Int32Array }

export function renderTestbench(plan: HwPlan, v: Vectors, opts: RenderOptions): Record<string, string> {
  const inF = plan.input.format, outF = plan.output.format;
  const clsW = counterBits(plan.output.elements);
  const tb = template('tb.v')({
    top: checkedTop(opts.top), version: VERSION, source: commentText(opts.source), file: 'tb.v',
    images: v.images, inElems: plan.input.elements, outElems: plan.output.elements,
    inW1: inF.wl - 1, outW1: outF.wl - 1, clsW1: clsW - 1, inZero: ulit(0, inF.wl),
    timeout: 2 * plan.latency + 1000,
    dumps: plan.buffers.filter((b) => b.producer >= 0).map((b) => b.id),
  });
  const lines = (a: ArrayLike<number>, w: number) => Array.from(a, (x) => hexWord(x, w)).join('\n') + '\n';
  return {
    'tb.v': tb,
    'tb_in.hex': lines(v.input, inF.wl),
    'tb_out.hex': lines(v.output, outF.wl),
    'tb_class.hex': lines(v.classes, clsW),
  };
}
