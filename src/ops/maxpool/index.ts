import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { poolOutHW } from '../../ir/geometry.js';
import type { OpTypes } from '../../ir/types.js';
import { needRank, type OpModule } from '../op-module.js';
import { poolGeometry } from '../../onnx/import-kit.js';
import { checkAlloc } from '../../util/limits.js';
import * as I from '../../intref/ops.js';
import { fileRank, need } from '../../io/fxp-kit.js';

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
  role: 'layer',
  quant: {
    passThrough: true,
    fusesActivation: false,
    arity: [1, 1],
    build: (src) => ({ ...src, kind: 'maxpool' }),
    intref: (op, c) => (c.ins[0].r && c.resident(I.maxpoolResidentOp(op, c.ins[0].r))) ?? { f: I.maxpool(op, c.f64(0), c.batch, c.inShapes[0]) },
    shape(op, [x], where) {
      fileRank(x, 3, where);
      const [ho, wo] = poolOutHW(x[1], x[2], op);
      return [x[0], ho, wo];
    },
    checkWork(op, _ins, out, where) {
      const [kh, kw] = op.kernel;
      checkAlloc(out[1] * out[2] * kh * kw, 4, `${where}: its ${out[1]}x${out[2]} outputs of ${kh}x${kw} taps`);
    },
    file: {
      attrs: { kernel: 'pair', strides: 'pair', pads: 'pads', dilations: 'pair' },
      write: (op, fl) => { Object.assign(fl.attrs, { kernel: op.kernel, strides: op.strides, pads: op.pads, dilations: op.dilations }); },
      read(L, _ins, where) {
        const a = L.attrs as { kernel?: [number, number]; strides?: [number, number]; pads?: [number, number, number, number]; dilations?: [number, number] };
        return { kind: 'maxpool', kernel: need(a.kernel, where, 'attrs.kernel'), strides: a.strides ?? [1, 1], pads: a.pads ?? [0, 0, 0, 0], dilations: a.dilations ?? [1, 1], ceilMode: false };
      },
    },
  },
};

function poolShape(op: OpTypes['maxpool'] | OpTypes['avgpool'], [x]: number[][], where: string): number[] {
  needRank(x, 3, where);
  const [ho, wo] = poolOutHW(x[1], x[2], op);
  if (ho < 1 || wo < 1) throw new FxpqError(`${where}: window larger than the padded input [${x.join(', ')}]`);
  return [x[0], ho, wo];
}
