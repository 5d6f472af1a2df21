import { fmtText } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { alignedLane, emit, type RenderCtx, requantParams } from '../../render-kit.js';
import { ulit } from '../../verilog.js';
import { type AddEngine, addTaps, addWidths } from './plan.js';

export function renderAdd(ctx: RenderCtx, buffers: readonly BufferPlan[], e: AddEngine): void {
  const outBuf = buffers[e.output],
    aBuf = buffers[e.inputs[0]],
    bBuf = buffers[e.inputs[1]];
  const module = `${ctx.top}_${e.id}`;
  const F = e.acc.fl;
  const { ka, kb, accW } = addWidths(e);
  const aAW = outBuf.addrBits;
  emit(ctx, module, 'add', {
    rqParams: requantParams(ctx, accW, F, e.outFormat, e.actLo, e.actHi),
    module,
    lanes: e.lanes,
    taps: addTaps(e),
    cycles: e.cycles,
    accFl: F,
    accW,
    accW1: accW - 1,
    aFmt: fmtText(e.aFormat),
    bFmt: fmtText(e.bFormat),
    yFmt: fmtText(e.outFormat),
    aAW1: aAW - 1,
    aWB1: aBuf.wordBits - 1,
    bWB1: bBuf.wordBits - 1,
    outWB1: outBuf.wordBits - 1,
    iLast: ulit(e.words - 1, aAW),
    aAWzero: ulit(0, aAW),
    aAWone: ulit(1 % 2 ** aAW, aAW),
    aW: e.aFormat.wl,
    aW1: e.aFormat.wl - 1,
    bW: e.bFormat.wl,
    bW1: e.bFormat.wl - 1,
    aAligned: alignedLane('a', e.aFormat, ka, accW),
    bAligned: alignedLane('b', e.bFormat, kb, accW),
    yW: e.outFormat.wl,
  });
}
