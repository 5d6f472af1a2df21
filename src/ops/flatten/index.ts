import { size } from '../../ir/types.js';
import { type OpModule } from '../op-module.js';
import { UnsupportedError } from '../../errors.js';
import { BATCH_SENTINEL } from '../../onnx/import-kit.js';

/** [C, H, W] viewed as [C*H*W]: no data moves. */
export const flatten: OpModule<'flatten'> = {
  kind: 'flatten',
  onnx: {
    Flatten(c) {
      const { where, at, xShape } = c;
      const axis = at.int('axis', 1);
      if (axis !== 1 && !(axis === -xShape.length && xShape.length === 1)) {
        throw new UnsupportedError(`${where}: only Flatten with axis=1 (keep the batch) is supported, got axis=${axis}`);
      }
      if (xShape.length === 1) c.alias(c.ins[0]);
      else c.emit({ kind: 'flatten' });
    },
    Reshape(c) {
      const { where, xShape } = c;
      const spec = Array.from(c.needConst(1, 'the target shape').data);
      const feats = size(xShape);
      const batchOk = (v: number) => v === 0 || v === -1 || v === BATCH_SENTINEL;
      const ok = spec.length === 2 && batchOk(spec[0]) && (spec[1] === feats || spec[1] === -1) && !(spec[0] === -1 && spec[1] === -1);
      if (!ok) {
        const shown = spec.map((v) => (v === BATCH_SENTINEL ? 'N' : String(v))).join(', ');
        throw new UnsupportedError(`${where}: only Reshape to [batch, ${feats}] is supported, got [${shown}]`);
      }
      if (xShape.length === 1) c.alias(c.ins[0]);
      else c.emit({ kind: 'flatten' });
    },
  },
  shape: (_op, [x]) => [size(x)],
  float: (_op, [x]) => x,
  exactBound: (_op, [b0]) => b0,
  role: 'layer',
  quant: {
    passThrough: true,
    fusesActivation: false,
    arity: [1, 1],
    build: () => ({ kind: 'flatten' }),
    intref: (_op, c) => c.ins[0],
    shape: (_op, [x]) => [size(x)],
    file: { attrs: {}, write: () => {}, read: () => ({ kind: 'flatten' }) },
  },
};
