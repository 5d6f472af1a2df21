import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { poolOutHW } from '../../ir/geometry.js';
import type { OpTypes } from '../../ir/types.js';
import { needRank, type OpModule } from '../op-module.js';

/** Average pooling over a window (count_include_pad either way). */
export const avgpool: OpModule<'avgpool'> = {
  kind: 'avgpool',
  shape: poolShape,
  float: (op, [x], batch, [inShape]) => K.avgpool(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
};

function poolShape(op: OpTypes['maxpool'] | OpTypes['avgpool'], [x]: number[][], where: string): number[] {
  needRank(x, 3, where);
  const [ho, wo] = poolOutHW(x[1], x[2], op);
  if (ho < 1 || wo < 1) throw new FxpqError(`${where}: window larger than the padded input [${x.join(', ')}]`);
  return [x[0], ho, wo];
}
