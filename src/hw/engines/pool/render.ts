import { fmtText, minInt } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { emit, greater, laneExt, type RenderCtx, requantCtx, windowCtx } from '../../render-kit.js';
import { clog2, hexLit, slit, ulit } from '../../verilog.js';
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
    countVaries: false,
    recipBits: e.recipBits,
    accFl: e.acc?.fl ?? 0,
  };
  const laneWires: string[] = [],
    laneResets: string[] = [],
    laneStmts: string[] = [];
  for (let l = 0; l < e.lanes; l++) laneWires.push(`wire [${xW - 1}:0] x${l} = in_rd[${(l + 1) * xW - 1}:${l * xW}];`);
  if (e.mode === 'max') {
    const min = hexLit(minInt(e.inFormat), xW);
    for (let l = 0; l < e.lanes; l++) {
      laneWires.push(`reg  [${xW - 1}:0] m${l};`);
      laneResets.push(`m${l} <= ${min};`);
      laneStmts.push(`if (first_b) m${l} <= pad_b ? ${min} : x${l};`);
      laneStmts.push(`else if (!pad_b && ${greater(`x${l}`, `m${l}`, e.inFormat)}) m${l} <= x${l};`);
    }
    Object.assign(data, {
      laneWires,
      laneResets,
      laneStmts,
      outConcat: `{${Array.from({ length: e.lanes }, (_, l) => `m${e.lanes - 1 - l}`).join(', ')}}`,
    });
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
      laneStmts.push(
        `sum${l} <= (first_b ? ${slit(0, sumW)} : sum${l}) + (pad_b ? ${slit(0, sumW)} : ${laneExt(`x${l}`, e.inFormat, sumW)});`,
      );
    }
    laneWires.push(
      `wire [${e.lanes * accW - 1}:0] acc_all = {${Array.from({ length: e.lanes }, (_, l) => `acc${e.lanes - 1 - l}`).join(', ')}};`,
    );
    Object.assign(data, {
      laneWires,
      laneResets,
      laneStmts,
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
    });
    emit(ctx, `${module}_rq`, 'requant', requantCtx(module, e.layer, accW, e.inFormat.fl + e.recipBits, e.outFormat, -Infinity, Infinity));
  }
  emit(ctx, module, 'pool', data);
}
