import { fmtText } from '../../../fixed/format.js';
import type { FxFormat } from '../../../fixed/format.js';
import type { BufferPlan } from '../../plan-types.js';
import { emit, type RenderCtx, requantCtx, windowCtx } from '../../render-kit.js';
import { clog2, counterBits, ext, packHex, slit, ulit } from '../../verilog.js';
import { type LinearEngine, linearTaps, linearWeightAt, linearWidths } from './plan.js';

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
  const accResets: string[] = [],
    decls: string[] = [],
    stmts: string[] = [];
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
        if (i + 1 === level.length) {
          next.push(level[i]);
          continue;
        }
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

export function renderLinear(ctx: RenderCtx, buffers: readonly BufferPlan[], e: LinearEngine): void {
  const inBuf = buffers[e.inputs[0]],
    outBuf = buffers[e.output];
  const module = `${ctx.top}_${e.id}`;
  const groups = e.cout / e.pe;
  const wW = e.weightFormat.wl;
  const { pW, accW, treeW, wDepth } = linearWidths(e);
  const wAW = clog2(wDepth);
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
  ctx.files[wFile] = wLines.join('\n') + '\n';
  ctx.files[bFile] = bLines.join('\n') + '\n';
  const mac = macDatapath(e.pe, e.simd, wW, e.inFormat, pW, treeW, accW);
  const rq = requantCtx(module, e.layer, accW, e.acc.fl, e.outFormat, e.actLo, e.actHi);
  emit(ctx, `${module}_rq`, 'requant', rq);
  emit(ctx, module, 'linear', {
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
    wAWone: ulit(1 % 2 ** wAW, wAW),
    // With one group the 'next group' branch is dead; 0 keeps its literal in range.
    kLit: ulit(groups > 1 ? e.k : 0, wAW),
    wWB: e.pe * e.simd * wW,
    wWB1: e.pe * e.simd * wW - 1,
    wDepth,
    wFile,
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
    macDecls: mac.decls,
    macStmts: mac.stmts,
    xWires: mac.xWires,
    laneWires: mac.laneWires,
    accResets: mac.accResets,
    yW: e.outFormat.wl,
  });
}
