import { fmtText } from '../fixed/format.js';
import { TOOL_VERSION as VERSION } from '../version.js';
import { commentText } from '../util/text.js';
import { engineModule, engineSummary } from './engines/index.js';
import { type HwPlan, streamBits } from './plan.js';
import type { WeightStore } from './plan-types.js';
import { counter, emit, greater, type RenderCtx, template } from './render-kit.js';
import { counterBits, ext, hexWord, identifierProblem, ulit } from './verilog.js';

export { TEMPLATE_DIR } from './render-kit.js';

/**
 * Renders a hardware plan into Verilog text through the handlebars templates in templates/: the
 * shared memories, each engine's modules (written by its own folder under src/hw/engines/), the
 * top with its controller, and the test bench. Every width, constant and literal is computed from
 * the plan (and through it from fixed/format.ts); the templates only arrange text. Text from the
 * user enters a template only through commentText (render-kit.ts).
 */

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

/** The top module name is an identifier in every file: a caller that did not validate it has a bug. */
function checkedTop(top: string): string {
  const why = identifierProblem(top);
  if (why) throw new Error(`render: the top module name '${commentText(top, 40)}' ${why}`);
  return top;
}

/** Renders the design (no test bench). */
export function renderDesign(plan: HwPlan, opts: RenderOptions): RenderedDesign {
  const top = checkedTop(opts.top);
  const ctx: RenderCtx = { base: { top, version: VERSION, source: commentText(opts.source) }, files: {}, sources: [], top };
  const store = plan.weightStore;
  if (store) ctx.weights = { store, image: new Array<bigint>(store.depth).fill(0n) };
  for (const m of ['rom', 'ram', ...(store ? ['wstore'] : [])]) emit(ctx, `${top}_${m}`, m, {});
  for (const e of plan.engines) engineModule(e).render(ctx, plan.buffers, e);
  emit(ctx, top, 'top', topCtx(plan, top));
  if (ctx.weights) ctx.files[WEIGHT_STREAM_FILE] = weightBeats(ctx.weights.store, ctx.weights.image).join('\n') + '\n';
  return { files: ctx.files, sources: ctx.sources };
}

/** The weight load stream as the design expects it after reset: one TDATA beat per line, in hex. */
export const WEIGHT_STREAM_FILE = 'weights_stream.hex';

/** Each store word as its beats, the low bits first. */
function weightBeats(store: WeightStore, image: readonly bigint[]): string[] {
  const beats: string[] = [];
  const mask = (1n << BigInt(store.beatBits)) - 1n;
  for (const word of image) {
    for (let b = 0; b < store.beatsPerWord; b++) beats.push(hexWord(Number((word >> BigInt(b * store.beatBits)) & mask), store.beatBits));
  }
  return beats;
}

/** The top's fields for the weight store and its load (templates/top.v.hbs), or none without one. */
function storeCtx(plan: HwPlan, curW: number): Record<string, unknown> {
  const store = plan.weightStore;
  if (!store) return { store: false, storeReaders: [] };
  const srW = store.beatsPerWord * store.beatBits;
  const readers = store.regions.map((r) => r.engine);
  let mux = `e${readers[readers.length - 1]}_ws_ra`;
  for (let j = readers.length - 2; j >= 0; j--) mux = `cur == ${ulit(readers[j], curW)} ? e${readers[j]}_ws_ra : ${mux}`;
  const beat = counter(store.beatsPerWord);
  return {
    store,
    storeFile: WEIGHT_STREAM_FILE,
    storeReaders: readers,
    storeMux: `(${mux})`,
    wsAW1: store.addrBits - 1,
    wsWB1: store.wordBits - 1,
    wsAWzero: ulit(0, store.addrBits),
    wsAWone: ulit(1 % 2 ** store.addrBits, store.addrBits),
    ldAddrLast: ulit(store.depth - 1, store.addrBits),
    ldSrW1: srW - 1,
    ldSrUnused: srW > store.wordBits,
    ldBeats: store.beatsPerWord > 1,
    ldBeatW1: beat.w1,
    ldBeatZero: beat.zero,
    ldBeatOne: beat.one,
    ldBeatLast: beat.last,
    ldShift: store.beatsPerWord > 1 ? `{s_axis_tdata, ld_sr[${srW - 1}:${store.beatBits}]}` : 's_axis_tdata',
  };
}

function topCtx(plan: HwPlan, top: string): Record<string, unknown> {
  const nE = plan.engines.length;
  const curW = counterBits(nE);
  const inB = plan.buffers[plan.input.buffer],
    outB = plan.buffers[plan.output.buffer];
  const clsW = counterBits(plan.output.elements);
  const inCntW = counterBits(plan.input.elements);
  const readMux: { buf: number; expr: string }[] = [];
  for (const b of plan.buffers) {
    if (b.id === outB.id) continue;
    const ports = b.consumers.map((i) => {
      const e = plan.engines[i];
      const port = engineModule(e).readPorts(e)[e.inputs.indexOf(b.id)];
      return { i, sig: `e${i}_${port}_ra` };
    });
    let expr = ports[ports.length - 1].sig;
    for (let j = ports.length - 2; j >= 0; j--) expr = `cur == ${ulit(ports[j].i, curW)} ? ${ports[j].sig} : ${expr}`;
    readMux.push({ buf: b.id, expr });
  }
  const outLaneW = counterBits(outB.lanes);
  const outF = plan.output.format;
  const stored = new Set(plan.weightStore?.regions.map((r) => r.engine) ?? []);
  return {
    ...storeCtx(plan, curW),
    model: commentText(plan.model),
    latency: plan.latency,
    inElems: plan.input.elements,
    outElems: plan.output.elements,
    inFmt: fmtText(plan.input.format),
    outFmt: fmtText(outF),
    inW: plan.input.format.wl,
    inW1: plan.input.format.wl - 1,
    inPad: streamBits(plan.input.format.wl) > plan.input.format.wl,
    inTW1: streamBits(plan.input.format.wl) - 1,
    outW: outF.wl,
    outW1: outF.wl - 1,
    outTW: streamBits(outF.wl),
    outTW1: streamBits(outF.wl) - 1,
    outSigned: outF.signed,
    outExt: ext('out_data', outF.wl, streamBits(outF.wl), outF.signed),
    clsW1: clsW - 1,
    buffers: plan.buffers.map((b) => ({
      ...b,
      tensor: commentText(b.tensor),
      fmt: fmtText(b.format),
      aw1: b.addrBits - 1,
      wb1: b.wordBits - 1,
    })),
    engines: plan.engines.map((e) => ({
      index: e.index,
      id: e.id,
      layer: commentText(e.layer),
      module: `${top}_${e.id}`,
      summary: engineSummary(e),
      cycles: e.cycles,
      curLit: ulit(e.index, curW),
      out: e.output,
      store: stored.has(e.index),
      ports: engineModule(e)
        .readPorts(e)
        .map((name, j) => ({ name, buf: e.inputs[j], aw1: plan.buffers[e.inputs[j]].addrBits - 1 })),
    })),
    doneAny: plan.engines.map((e) => `done_${e.index}`).join(' | '),
    curW1: curW - 1,
    curZero: ulit(0, curW),
    curOne: ulit(1 % 2 ** curW, curW),
    curLast: ulit(nE - 1, curW),
    inCntW1: inCntW - 1,
    inCntZero: ulit(0, inCntW),
    inCntOne: ulit(1 % 2 ** inCntW, inCntW),
    inCntLast: ulit(plan.input.elements - 1, inCntW),
    clsZero: ulit(0, clsW),
    clsOne: ulit(1 % 2 ** clsW, clsW),
    clsLast: ulit(plan.output.elements - 1, clsW),
    inBuf: inB.id,
    inWa: 'in_cnt',
    outBuf: outB.id,
    readMux,
    outLaneSelect: outB.lanes > 1,
    outLanes: outB.lanes,
    outLanes1: outB.lanes - 1,
    outLaneW1: outLaneW - 1,
    outLaneZero: ulit(0, outLaneW),
    outLaneOne: ulit(1 % 2 ** outLaneW, outLaneW),
    outLaneLast: ulit(outB.lanes - 1, outLaneW),
    outAW1: outB.addrBits - 1,
    outAWzero: ulit(0, outB.addrBits),
    outAWone: ulit(1 % 2 ** outB.addrBits, outB.addrBits),
    outPixW1: counterBits(outB.h * outB.w) - 1,
    outPixZero: ulit(0, counterBits(outB.h * outB.w)),
    outPixOne: ulit(1 % 2 ** counterBits(outB.h * outB.w), counterBits(outB.h * outB.w)),
    outPixLast: ulit(outB.h * outB.w - 1, counterBits(outB.h * outB.w)),
    outPixExt: ext('o_pix', counterBits(outB.h * outB.w), outB.addrBits, false),
    // With one channel word the base never advances; 0 keeps the literal in range.
    outHW: ulit(outB.words > outB.h * outB.w ? outB.h * outB.w : 0, outB.addrBits),
    outZero: ulit(0, outF.wl),
    outGreater: greater('out_data', 'best_v', outF),
  };
}

export { streamBits };

/** Test vectors: quantized input words, expected logits and classes, one line per word. */
export interface Vectors {
  images: number;
  input: Float64Array;
  output: Float64Array;
  classes: Int32Array;
}

export function renderTestbench(plan: HwPlan, v: Vectors, opts: RenderOptions): Record<string, string> {
  const inF = plan.input.format,
    outF = plan.output.format;
  const clsW = counterBits(plan.output.elements);
  const tb = template('tb.v')({
    top: checkedTop(opts.top),
    version: VERSION,
    source: commentText(opts.source),
    file: 'tb.v',
    images: v.images,
    inElems: plan.input.elements,
    outElems: plan.output.elements,
    inW1: inF.wl - 1,
    outW1: outF.wl - 1,
    outTW1: streamBits(outF.wl) - 1,
    // The test bench drives the padding bits of TDATA with ones: the design must ignore them.
    inWord: streamBits(inF.wl) > inF.wl ? `{{${streamBits(inF.wl) - inF.wl}{1'b1}}, in_data}` : 'in_data',
    outWordExt: ext('out_data', outF.wl, streamBits(outF.wl), outF.signed),
    clsW1: clsW - 1,
    inZero: ulit(0, inF.wl),
    inTW1: streamBits(inF.wl) - 1,
    inTZero: ulit(0, streamBits(inF.wl)),
    store: plan.weightStore ?? false,
    storeFile: WEIGHT_STREAM_FILE,
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
