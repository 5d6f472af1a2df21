import { fmtText } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { emit, placeWeights, type RenderCtx, requantParams, windowCtx } from '../../render-kit.js';
import { counterBits, packHex, ulit } from '../../verilog.js';
import { type DepthwiseEngine, depthwiseTaps, depthwiseWeightAt, depthwiseWidths } from './plan.js';

export function renderDepthwise(ctx: RenderCtx, buffers: readonly BufferPlan[], e: DepthwiseEngine): void {
  const inBuf = buffers[e.inputs[0]],
    outBuf = buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.c / e.lanes,
    kk = e.win.kh * e.win.kw;
  const wW = e.weightFormat.wl;
  const { pW, accW, wDepth, wWidth, bDepth, bWidth } = depthwiseWidths(e);
  const wFile = `${module}_w.hex`,
    bFile = `${module}_b.hex`;
  const lane = new Int32Array(e.lanes);
  const wLines: string[] = [];
  for (let word = 0; word < wDepth; word++) {
    for (let l = 0; l < e.lanes; l++) lane[l] = depthwiseWeightAt(e, word, l);
    wLines.push(packHex(lane, wW));
  }
  const bLines: string[] = [];
  for (let g = 0; g < groups; g++) bLines.push(packHex(e.alignedBias.slice(g * e.lanes, (g + 1) * e.lanes), accW));
  const { wAW, fields: weightPort } = placeWeights(ctx, e.index, wFile, wLines);
  ctx.files[bFile] = bLines.join('\n') + '\n';
  emit(ctx, module, 'depthwise', {
    rqParams: requantParams(ctx, accW, e.acc.fl, e.outFormat, e.actLo, e.actHi),
    ...windowCtx(e.win, inBuf, outBuf, groups, false),
    module,
    lanes: e.lanes,
    taps: depthwiseTaps(e),
    cycles: e.cycles,
    wFmt: fmtText(e.weightFormat),
    xFmt: fmtText(e.inFormat),
    bFmt: fmtText(e.biasFormat),
    yFmt: fmtText(e.outFormat),
    pW,
    accFl: e.acc.fl,
    accW,
    yW: e.outFormat.wl,
    wAW,
    wAW1: wAW - 1,
    wAWzero: ulit(0, wAW),
    ...weightPort,
    wAWone: ulit(1 % 2 ** wAW, wAW),
    // With one channel word the 'next word' branch is dead; 0 keeps its literal in range.
    kLit: ulit(groups > 1 ? kk : 0, wAW),
    wWB: wWidth,
    wWB1: wWidth - 1,
    wDepth,
    bWB: bWidth,
    bWB1: bWidth - 1,
    bDepth,
    bAW: counterBits(groups),
    bFile,
    xZero: ulit(0, inBuf.wordBits),
    wW,
    xW: e.inFormat.wl,
    xSigned: e.inFormat.signed ? 1 : 0,
  });
}
