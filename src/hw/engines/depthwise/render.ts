import { fmtText } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { emit, type RenderCtx, requantCtx, windowCtx } from '../../render-kit.js';
import { clog2, counterBits, ext, packHex, slit, ulit } from '../../verilog.js';
import { type DepthwiseEngine, depthwiseTaps, depthwiseWeightAt, depthwiseWidths } from './plan.js';

/** Lane l's operand wires, product and accumulator, unrolled so every index is a constant. */
function lanesDatapath(e: DepthwiseEngine, pW: number, accW: number) {
  const wW = e.weightFormat.wl,
    x = e.inFormat;
  const laneWires: string[] = [],
    accResets: string[] = [],
    decls: string[] = [],
    stmts: string[] = [],
    accs: string[] = [];
  for (let l = 0; l < e.lanes; l++) {
    laneWires.push(`wire [${wW - 1}:0] w${l} = w_rd[${(l + 1) * wW - 1}:${l * wW}];`);
    laneWires.push(`wire [${x.wl - 1}:0] x${l} = x_b[${(l + 1) * x.wl - 1}:${l * x.wl}];`);
    laneWires.push(`wire signed [${accW - 1}:0] bias${l} = b_rd[${(l + 1) * accW - 1}:${l * accW}];`);
    laneWires.push(`reg  signed [${accW - 1}:0] acc${l};`);
    accResets.push(`acc${l} <= ${slit(0, accW)};`);
    accs.unshift(`acc${l}`);
    decls.push(`reg signed [${pW - 1}:0] m${l};`);
    stmts.push(`m${l} = ${ext(`w${l}`, wW, pW, true)} * ${ext(`x${l}`, x.wl, pW, x.signed)};`);
    stmts.push(`acc${l} <= (first_b ? bias${l} : acc${l}) + ${ext(`m${l}`, pW, accW, true)};`);
  }
  laneWires.push(`wire [${e.lanes * accW - 1}:0] acc_all = {${accs.join(', ')}};`);
  return { laneWires, accResets, decls, stmts };
}

export function renderDepthwise(ctx: RenderCtx, buffers: readonly BufferPlan[], e: DepthwiseEngine): void {
  const inBuf = buffers[e.inputs[0]],
    outBuf = buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.c / e.lanes,
    kk = e.win.kh * e.win.kw;
  const wW = e.weightFormat.wl;
  const { pW, accW, wDepth, wWidth, bDepth, bWidth } = depthwiseWidths(e);
  const wAW = clog2(wDepth);
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
  ctx.files[wFile] = wLines.join('\n') + '\n';
  ctx.files[bFile] = bLines.join('\n') + '\n';
  const dp = lanesDatapath(e, pW, accW);
  emit(ctx, `${module}_rq`, 'requant', requantCtx(module, e.layer, accW, e.acc.fl, e.outFormat, e.actLo, e.actHi));
  emit(ctx, module, 'depthwise', {
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
    wAWone: ulit(1 % 2 ** wAW, wAW),
    // With one channel word the 'next word' branch is dead; 0 keeps its literal in range.
    kLit: ulit(groups > 1 ? kk : 0, wAW),
    wWB: wWidth,
    wWB1: wWidth - 1,
    wDepth,
    wFile,
    bWB: bWidth,
    bWB1: bWidth - 1,
    bDepth,
    bAW: counterBits(groups),
    bFile,
    xZero: ulit(0, inBuf.wordBits),
    laneWires: dp.laneWires,
    accResets: dp.accResets,
    macDecls: dp.decls,
    macStmts: dp.stmts,
  });
}
