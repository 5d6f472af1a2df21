import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';
import { FxpqError } from '../../errors.js';
import { fmtShape } from '../../util/limits.js';

/** Clip(min, max) (ReLU6 and the like); fused into the requantizer before it when quantized. */
export const clip: OpModule<'clip'> = {
  kind: 'clip',
  onnx: {
    Clip(c) {
      const { where, at, ins } = c;
      let lo = -Infinity,
        hi = Infinity;
      if (c.opset < 11) {
        lo = at.float('min', -Infinity);
        hi = at.float('max', Infinity);
      } else {
        const scalar = (k: number, role: string): number => {
          const t = c.needConst(k, role);
          if (t.data.length !== 1) throw new FxpqError(`${where}: ${role} must be one value, got shape ${fmtShape(t.dims)}`);
          return t.data[0];
        };
        if (ins[1]) lo = scalar(1, 'min');
        if (ins[2]) hi = scalar(2, 'max');
      }
      c.emit(lo === 0 && hi === Infinity ? { kind: 'relu' } : { kind: 'clip', min: lo, max: hi });
    },
  },
  shape: (_op, [x]) => [...x],
  float: (op, [x]) => K.clip(op, x),
  exactBound: (op, [b0]) => Math.min(b0, Math.max(Math.abs(op.min), Math.abs(op.max))),
  role: 'activation',
  quant: undefined,
  fusedAct: (op) => ({ kind: 'clip', min: op.min, max: op.max }),
};
