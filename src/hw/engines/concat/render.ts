import { fmtText } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { alignedLane, emit, type RenderCtx, requantParams } from '../../render-kit.js';
import { counterBits, ulit } from '../../verilog.js';
import { type ConcatEngine, concatTaps, concatWidths } from './plan.js';

/** Read-port name of input k. */
export const concatPort = (k: number): string => `i${k}`;

export function renderConcat(ctx: RenderCtx, buffers: readonly BufferPlan[], e: ConcatEngine): void {
  const outBuf = buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const F = e.acc.fl;
  const { shifts, accW } = concatWidths(e);
  const n = e.inputs.length;
  const inBufs = e.inputs.map((b) => buffers[b]);
  const iW = Math.max(...inBufs.map((b) => b.addrBits));
  const kW = counterBits(n);
  const oW = outBuf.addrBits;
  const ins = e.inFormats.map((f, k) => ({
    k,
    port: concatPort(k),
    w: f.wl,
    w1: f.wl - 1,
    aligned: alignedLane(`x${k}`, f, shifts[k], accW),
  }));
  let sel = `a${n - 1}`;
  for (let k = n - 2; k >= 0; k--) sel = `k_b == ${ulit(k, kW)} ? a${k} : ${sel}`;
  let last = ulit(e.words[n - 1] - 1, iW);
  for (let k = n - 2; k >= 0; k--) last = `k == ${ulit(k, kW)} ? ${ulit(e.words[k] - 1, iW)} : ${last}`;
  emit(ctx, module, 'concat', {
    rqParams: requantParams(ctx, accW, F, e.outFormat, -Infinity, Infinity),
    module,
    lanes: e.lanes,
    n,
    taps: concatTaps(e),
    cycles: e.cycles,
    accFl: F,
    accW,
    inFmts: e.inFormats.map(fmtText).join(' ++ '),
    yFmt: fmtText(e.outFormat),
    yW: e.outFormat.wl,
    ports: inBufs.map((b, k) => ({ name: concatPort(k), aw1: b.addrBits - 1, wb1: b.wordBits - 1 })),
    iW1: iW - 1,
    iZero: ulit(0, iW),
    iOne: ulit(1 % 2 ** iW, iW),
    last,
    kW1: kW - 1,
    kZero: ulit(0, kW),
    kOne: ulit(1 % 2 ** kW, kW),
    kLast: ulit(n - 1, kW),
    oW1: oW - 1,
    oZero: ulit(0, oW),
    oOne: ulit(1 % 2 ** oW, oW),
    outWB1: outBuf.wordBits - 1,
    ins,
    sel,
  });
}
