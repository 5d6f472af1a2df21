/**
 * An independent model of fxpq's integer semantics: direct loops over BigInt, written from the
 * documented rules (round half up, saturate, align, reciprocal pooling), sharing no code with
 * src/intref. Tests compare the reference against it.
 */
import type { FxFormat } from '../../src/fixed/format.js';
import type { Activation, QGraph, QLayer } from '../../src/quant/qgraph.js';

export const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};
const lo = (f: FxFormat) => (f.signed ? -(1n << BigInt(f.wl - 1)) : 0n);
const hi = (f: FxFormat) => (f.signed ? (1n << BigInt(f.wl - 1)) - 1n : (1n << BigInt(f.wl)) - 1n);
const pow2 = (n: number) => 1n << BigInt(n);

export function requant(acc: bigint, accFl: number, out: FxFormat, act: Activation = { kind: 'none' }): bigint {
  const s = accFl - out.fl;
  let r = s > 0 ? floorDiv(acc + pow2(s - 1), pow2(s)) : acc * pow2(-s);
  if (act.kind === 'relu' && r < 0n) r = 0n;
  if (act.kind === 'clip') {
    if (r < BigInt(act.lo)) r = BigInt(act.lo);
    if (r > BigInt(act.hi)) r = BigInt(act.hi);
  }
  return r < lo(out) ? lo(out) : r > hi(out) ? hi(out) : r;
}

function layer(q: QGraph, l: QLayer, vals: Map<string, bigint[]>): bigint[] {
  const x = vals.get(l.inputs[0])!;
  const inV = q.values[l.inputs[0]];
  const inF = inV.format;
  const out = q.values[l.output];
  const op = l.op;
  const [C, H, W] = inV.shape;
  const y: bigint[] = [];
  switch (op.kind) {
    case 'dense': {
      const [O, I] = op.weight.shape;
      const accFl = op.weightFormat.fl + inF.fl;
      for (let o = 0; o < O; o++) {
        let s = BigInt(op.bias[o]) * pow2(accFl - op.biasFormat.fl);
        for (let i = 0; i < I; i++) s += BigInt(op.weight.data[o * I + i]) * x[i];
        y.push(requant(s, accFl, out.format, op.act));
      }
      return y;
    }
    case 'conv': {
      const [O, Cg, KH, KW] = op.weight.shape;
      const [Ho, Wo] = [out.shape[1], out.shape[2]];
      const accFl = op.weightFormat.fl + inF.fl;
      const og = O / op.group;
      for (let o = 0; o < O; o++) {
        const g = Math.floor(o / og);
        for (let oy = 0; oy < Ho; oy++)
          for (let ox = 0; ox < Wo; ox++) {
            let s = BigInt(op.bias[o]) * pow2(accFl - op.biasFormat.fl);
            for (let c = 0; c < Cg; c++)
              for (let ky = 0; ky < KH; ky++)
                for (let kx = 0; kx < KW; kx++) {
                  const iy = oy * op.strides[0] - op.pads[0] + ky * op.dilations[0];
                  const ix = ox * op.strides[1] - op.pads[1] + kx * op.dilations[1];
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  s += BigInt(op.weight.data[((o * Cg + c) * KH + ky) * KW + kx]) * x[((g * Cg + c) * H + iy) * W + ix];
                }
            y.push(requant(s, accFl, out.format, op.act));
          }
      }
      return y;
    }
    case 'maxpool':
    case 'avgpool': {
      const [Ho, Wo] = [out.shape[1], out.shape[2]];
      for (let c = 0; c < C; c++)
        for (let oy = 0; oy < Ho; oy++)
          for (let ox = 0; ox < Wo; ox++) {
            let m: bigint | null = null,
              s = 0n,
              n = 0;
            for (let ky = 0; ky < op.kernel[0]; ky++)
              for (let kx = 0; kx < op.kernel[1]; kx++) {
                const iy = oy * op.strides[0] - op.pads[0] + ky * op.dilations[0];
                const ix = ox * op.strides[1] - op.pads[1] + kx * op.dilations[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                  if (op.kind === 'avgpool' && op.countIncludePad) n++;
                  continue;
                }
                const v = x[(c * H + iy) * W + ix];
                if (m === null || v > m) m = v;
                s += v;
                n++;
              }
            if (op.kind === 'maxpool') y.push(m!);
            else {
              const R = floorDiv(pow2(op.recipBits + 1) + BigInt(n), 2n * BigInt(n)); // round_half_up(2^r / n)
              y.push(requant(s * R, inF.fl + op.recipBits, out.format));
            }
          }
      return y;
    }
    case 'gap': {
      const n = H * W;
      const R = floorDiv(pow2(op.recipBits + 1) + BigInt(n), 2n * BigInt(n));
      for (let c = 0; c < C; c++) {
        let s = 0n;
        for (let i = 0; i < n; i++) s += x[c * n + i];
        y.push(requant(s * R, inF.fl + op.recipBits, out.format));
      }
      return y;
    }
    case 'add': {
      const b = vals.get(l.inputs[1])!;
      const bF = q.values[l.inputs[1]].format;
      const fl = Math.max(inF.fl, bF.fl);
      return x.map((v, i) => requant(v * pow2(fl - inF.fl) + b[i] * pow2(fl - bF.fl), fl, out.format, op.act));
    }
    case 'flatten':
      return [...x];
    case 'concat':
      // Each input on its own, rounded from its format straight to the output's (the hardware
      // first aligns them to the finest fraction length; the same value).
      return l.inputs.flatMap((t) => vals.get(t)!.map((v) => requant(v, q.values[t].format.fl, out.format)));
    case 'pad': {
      const [t, l0, ,] = op.pads;
      const [Ho, Wo] = [out.shape[1], out.shape[2]];
      for (let c = 0; c < C; c++)
        for (let oy = 0; oy < Ho; oy++)
          for (let ox = 0; ox < Wo; ox++) {
            const iy = oy - t,
              ix = ox - l0;
            y.push(iy >= 0 && iy < H && ix >= 0 && ix < W ? x[(c * H + iy) * W + ix] : 0n);
          }
      return y;
    }
  }
}

/** Runs one sample (integers of the input format) through the graph; returns every tensor. */
export function oracleRun(q: QGraph, xq: ArrayLike<number>): Map<string, bigint[]> {
  const vals = new Map<string, bigint[]>([[q.input, Array.from(xq, (v) => BigInt(v))]]);
  for (const l of q.layers) vals.set(l.output, layer(q, l, vals));
  return vals;
}
