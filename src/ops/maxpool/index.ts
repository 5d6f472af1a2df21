import * as K from '../../engine/kernels.js';
import * as I from '../../intref/ops.js';
import { poolGeometry } from '../../onnx/import-kit.js';
import type { OpModule } from '../op-module.js';
import { checkWindowWork, readWindow, WINDOW_ATTRS, windowFileShape, windowShape, writeWindow } from '../window-kit.js';

/** Max pooling over a window. */
export const maxpool: OpModule<'maxpool'> = {
  kind: 'maxpool',
  onnx: { MaxPool: (c) => c.emit({ kind: 'maxpool', ...poolGeometry(c.at, c.xShape, c.where) }) },
  checkWork: checkWindowWork,
  shape: windowShape,
  float: (op, [x], batch, [inShape]) => K.maxpool(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
  role: 'layer',
  quant: {
    passThrough: true,
    fusesActivation: false,
    arity: [1, 1],
    build: (src) => ({ ...src, kind: 'maxpool' }),
    intref: (op, c) =>
      (c.ins[0].r && c.resident(I.maxpoolResidentOp(op, c.ins[0].r))) ?? { f: I.maxpool(op, c.f64(0), c.batch, c.inShapes[0]) },
    shape: windowFileShape,
    checkWork: checkWindowWork,
    file: {
      attrs: WINDOW_ATTRS,
      write: writeWindow,
      read: (L, _ins, where) => ({ kind: 'maxpool', ...readWindow(L, where) }),
    },
  },
};
