import * as K from '../../engine/kernels.js';
import * as I from '../../intref/ops.js';
import { need } from '../../io/fxp-kit.js';
import { poolGeometry } from '../../onnx/import-kit.js';
import { poolAccRange } from '../../quant/accumulator.js';
import type { OpModule } from '../op-module.js';
import { RECIP_BITS } from '../quant-kit.js';
import { checkWindowWork, readWindow, WINDOW_ATTRS, windowFileShape, windowShape, writeWindow } from '../window-kit.js';

/** Average pooling over a window (count_include_pad either way). */
export const avgpool: OpModule<'avgpool'> = {
  kind: 'avgpool',
  onnx: {
    AveragePool: (c) =>
      c.emit({ kind: 'avgpool', ...poolGeometry(c.at, c.xShape, c.where), countIncludePad: c.at.int('count_include_pad', 0) === 1 }),
  },
  checkWork: checkWindowWork,
  shape: windowShape,
  float: (op, [x], batch, [inShape]) => K.avgpool(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: false,
    arity: [1, 1],
    build: (src) => ({ ...src, kind: 'avgpool', recipBits: RECIP_BITS }),
    accRange: (op, [inF]) =>
      poolAccRange(inF, op.kernel[0] * op.kernel[1], op.recipBits, !op.countIncludePad && op.pads.some((p) => p > 0)),
    intref: (op, c) => ({ f: I.avgpool(op, c.f64(0), c.batch, c.inShapes[0], c.inFormats[0], c.outFormat) }),
    shape: windowFileShape,
    checkWork: checkWindowWork,
    file: {
      attrs: { ...WINDOW_ATTRS, countIncludePad: 'bool', recipBits: 'recipBits' },
      write: (op, fl) => {
        writeWindow(op, fl);
        Object.assign(fl.attrs, { countIncludePad: op.countIncludePad, recipBits: op.recipBits });
      },
      read(L, _ins, where) {
        const a = L.attrs as { countIncludePad?: boolean; recipBits?: number };
        return {
          kind: 'avgpool',
          ...readWindow(L, where),
          countIncludePad: a.countIncludePad ?? false,
          recipBits: need(a.recipBits, where, 'attrs.recipBits'),
        };
      },
    },
  },
};
