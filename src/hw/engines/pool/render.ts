import { fmtText, minInt } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { emit, type RenderCtx, requantParams, windowCtx } from '../../render-kit.js';
import { clog2, hexLit, ulit } from '../../verilog.js';
import { type PoolEngine, poolTaps, poolWidths } from './plan.js';

export function renderPool(ctx: RenderCtx, buffers: readonly BufferPlan[], e: PoolEngine): void {
  const inBuf = buffers[e.inputs[0]],
    outBuf = buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.c / e.lanes;
  const xW = e.inFormat.wl;
  const full = e.win.kh * e.win.kw;
  const data: Record<string, unknown> = {
    ...windowCtx(e.win, inBuf, outBuf, groups, false),
    module,
    lanes: e.lanes,
    taps: poolTaps(e),
    cycles: e.cycles,
    avg: e.mode === 'avg',
    modeText: e.mode === 'max' ? 'Max pooling' : 'Average pooling',
    xFmt: fmtText(e.inFormat),
    yFmt: fmtText(e.outFormat),
    xW,
    xW1: xW - 1,
    xSigned: e.inFormat.signed ? 1 : 0,
    countVaries: false,
    recipBits: e.recipBits,
    accFl: e.acc?.fl ?? 0,
  };
  if (e.mode === 'max') {
    data.xMin = hexLit(minInt(e.inFormat), xW);
  } else {
    const { sumW, rW, accW } = poolWidths(e);
    const cntW = clog2(full + 1);
    const byCount = new Map(e.recips.map((r) => [r.count, r.r]));
    Object.assign(data, {
      sumW,
      accW,
      rW1: rW - 1,
      yW: e.outFormat.wl,
      countVaries: e.recips.length > 1,
      recipConst: ulit(byCount.get(full)!, rW),
      cntW1: cntW - 1,
      cntZero: ulit(0, cntW),
      cntOne: ulit(1, cntW),
      recipCases: e.recips.filter((r) => r.count !== full).map((r) => ({ count: ulit(r.count, cntW), r: ulit(r.r, rW) })),
      recipDefault: ulit(byCount.get(full)!, rW),
      rqParams: requantParams(ctx, accW, e.inFormat.fl + e.recipBits, e.outFormat, -Infinity, Infinity),
    });
  }
  emit(ctx, module, 'pool', data);
}
