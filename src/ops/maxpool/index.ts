import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { poolOutHW } from '../../ir/geometry.js';
import type { OpTypes } from '../../ir/types.js';
import { needRank, type OpModule } from '../op-module.js';
import { poolGeometry } from '../../onnx/import-kit.js';
import { checkAlloc } from '../../util/limits.js';

/** Max pooling over a window. */
export const maxpool: OpModule<'maxpool'> = {
  kind: 'maxpool',
  onnx: { MaxPool: (c) => c.emit({ kind: 'maxpool', ...poolGeometry(c.at, c.xShape, c.where) }) },
  checkWork(op, _ins, out, where) {
    // Work per sample (and the simulator's window table) grows with outputs x window taps.
    const [kh, kw] = op.kernel;
    checkAlloc(out[1] * out[2] * kh * kw, 4, `${where}: its ${out[1]}x${out[2]} outputs of ${kh}x${kw} taps`);
  },
  shape: poolShape,
  float: (op, [x], batch, [inShape]) => K.maxpool(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
};

function poolShape(op: OpTypes['maxpool'] | OpTypes['avgpool'], [x]: number[][], where: string): number[] {
  needRank(x, 3, where);
  const [ho, wo] = poolOutHW(x[1], x[2], op);
  if (ho < 1 || wo < 1) throw new FxpqError(`${where}: window larger than the padded input [${x.join(', ')}]`);
  return [x[0], ho, wo];
}
