import { FxpqError } from '../errors.js';
import type { Node, PoolGeometry } from './types.js';
import { size } from './types.js';

function windowOut(inp: number, k: number, s: number, padA: number, padB: number, d: number): number {
  return Math.floor((inp + padA + padB - ((k - 1) * d + 1)) / s) + 1;
}

export function convOutHW(
  h: number, w: number, kernel: [number, number], strides: [number, number],
  pads: [number, number, number, number], dilations: [number, number],
): [number, number] {
  return [
    windowOut(h, kernel[0], strides[0], pads[0], pads[2], dilations[0]),
    windowOut(w, kernel[1], strides[1], pads[1], pads[3], dilations[1]),
  ];
}

export const poolOutHW = (h: number, w: number, p: PoolGeometry): [number, number] =>
  convOutHW(h, w, p.kernel, p.strides, p.pads, p.dilations);

/** Output shape of one node given its input shapes; throws a clear error on any mismatch. */
export function inferShape(node: Node, ins: number[][]): number[] {
  const where = `node '${node.name}' (${node.op.kind})`;
  const x = ins[0];
  const needRank = (r: number) => {
    if (x.length !== r) throw new FxpqError(`${where}: expected a rank-${r + 1} input (batch included), got [N, ${x.join(', ')}]`);
  };
  const op = node.op;
  switch (op.kind) {
    case 'conv': {
      needRank(3);
      const [cout, cinPerGroup, kh, kw] = op.weight.shape;
      if (x[0] !== cinPerGroup * op.group) {
        throw new FxpqError(`${where}: input has ${x[0]} channels but the weights expect ${cinPerGroup} x group ${op.group}`);
      }
      if (cout % op.group !== 0) throw new FxpqError(`${where}: ${cout} output channels not divisible by group ${op.group}`);
      const [ho, wo] = convOutHW(x[1], x[2], [kh, kw], op.strides, op.pads, op.dilations);
      if (ho < 1 || wo < 1) throw new FxpqError(`${where}: kernel larger than the padded input [${x.join(', ')}]`);
      return [cout, ho, wo];
    }
    case 'dense': {
      needRank(1);
      const [out, inp] = op.weight.shape;
      if (x[0] !== inp) throw new FxpqError(`${where}: input has ${x[0]} features but the weights expect ${inp}`);
      return [out];
    }
    case 'relu': case 'clip': case 'softmax':
      return [...x];
    case 'maxpool': case 'avgpool': {
      needRank(3);
      const [ho, wo] = poolOutHW(x[1], x[2], op);
      if (ho < 1 || wo < 1) throw new FxpqError(`${where}: window larger than the padded input [${x.join(', ')}]`);
      return [x[0], ho, wo];
    }
    case 'gap':
      needRank(3);
      return [x[0], 1, 1];
    case 'add': {
      const y = ins[1];
      if (x.length !== y.length || x.some((v, i) => v !== y[i])) {
        throw new FxpqError(`${where}: operand shapes differ: [${x.join(', ')}] vs [${y.join(', ')}]`);
      }
      return [...x];
    }
    case 'flatten':
      return [size(x)];
    case 'pad':
      needRank(3);
      return [x[0], x[1] + op.pads[0] + op.pads[2], x[2] + op.pads[1] + op.pads[3]];
  }
}
