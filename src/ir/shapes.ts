import { opShape } from '../ops/index.js';
import type { Node } from './types.js';

export { convOutHW, poolOutHW } from './geometry.js';

/** Output shape of one node given its input shapes (its op's module); throws a clear error on any mismatch. */
export function inferShape(node: Node, ins: number[][]): number[] {
  return opShape(node.op, ins, `node '${node.name}' (${node.op.kind})`);
}
