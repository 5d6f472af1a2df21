import { fmtText } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { emit, placeWeights, type RenderCtx, requantParams, windowCtx } from '../../render-kit.js';
import { counterBits, packHex, slit, ulit } from '../../verilog.js';
import { type LinearEngine, linearTaps, linearWeightAt, linearWidths } from './plan.js';

export function renderLinear(ctx: RenderCtx, buffers: readonly BufferPlan[], e: LinearEngine): void {
  const inBuf = buffers[e.inputs[0]],
    outBuf = buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.cout / e.pe;
  const wW = e.weightFormat.wl;
  const { pW, accW, treeW, wDepth } = linearWidths(e);
  const gBits = counterBits(groups);
  const wFile = `${module}_w.hex`,
    bFile = `${module}_b.hex`;
  // ROM word (g, tap): lane (p, s) holds the weight linearWeightAt gives (also what the estimator reads).
  const wLines: string[] = new Array(wDepth);
  const lane = new Int32Array(e.pe * e.simd);
  for (let word = 0; word < wDepth; word++) {
    for (let p = 0; p < e.pe; p++) for (let s = 0; s < e.simd; s++) lane[p * e.simd + s] = linearWeightAt(e, word, p, s);
    wLines[word] = packHex(lane, wW);
  }
  const bLines: string[] = [];
  for (let g = 0; g < groups; g++) bLines.push(packHex(e.alignedBias.slice(g * e.pe, (g + 1) * e.pe), accW));
  const { wAW, fields: weightPort } = placeWeights(ctx, e.index, wFile, wLines);
  ctx.files[bFile] = bLines.join('\n') + '\n';
  emit(ctx, module, 'linear', {
    rqParams: requantParams(ctx, accW, e.acc.fl, e.outFormat, e.actLo, e.actHi),
    ...windowCtx(
      e.win,
      inBuf,
      outBuf,
      groups,
      true,
      e.simd,
      e.groups > 1 ? { perGroup: e.cout / e.groups / e.pe, words: e.cin / e.groups / inBuf.lanes } : undefined,
    ),
    module,
    pe: e.pe,
    simd: e.simd,
    mults: e.pe * e.simd,
    taps: linearTaps(e),
    cycles: e.cycles,
    wFmt: fmtText(e.weightFormat),
    xFmt: fmtText(e.inFormat),
    bFmt: fmtText(e.biasFormat),
    yFmt: fmtText(e.outFormat),
    pW,
    treeW,
    accFl: e.acc.fl,
    accW,
    accW1: accW - 1,
    accZero: slit(0, accW),
    wAW,
    wAW1: wAW - 1,
    wAWzero: ulit(0, wAW),
    ...weightPort,
    wAWone: ulit(1 % 2 ** wAW, wAW),
    // With one group the 'next group' branch is dead; 0 keeps its literal in range.
    kLit: ulit(groups > 1 ? e.k : 0, wAW),
    wWB: e.pe * e.simd * wW,
    wWB1: e.pe * e.simd * wW - 1,
    wDepth,
    bWB: e.pe * accW,
    bWB1: e.pe * accW - 1,
    bDepth: groups,
    bAW: gBits,
    bFile,
    subWords: inBuf.lanes > e.simd,
    inLanes: inBuf.lanes,
    nSub: inBuf.lanes / e.simd,
    nSub1: inBuf.lanes / e.simd - 1,
    clW1: counterBits(inBuf.lanes / e.simd) - 1,
    clZero: ulit(0, counterBits(inBuf.lanes / e.simd)),
    xsW: e.simd * e.inFormat.wl,
    xsW1: e.simd * e.inFormat.wl - 1,
    xsZero: ulit(0, e.simd * e.inFormat.wl),
    simdP2: 2 ** Math.ceil(Math.log2(e.simd)),
    levels: Math.ceil(Math.log2(e.simd)),
    wW,
    xW: e.inFormat.wl,
    xSigned: e.inFormat.signed ? 1 : 0,
    yW: e.outFormat.wl,
  });
}
