import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';

/** Clip(min, max) (ReLU6 and the like); fused into the requantizer before it when quantized. */
export const clip: OpModule<'clip'> = {
  kind: 'clip',
  shape: (_op, [x]) => [...x],
  float: (op, [x]) => K.clip(op, x),
  exactBound: (op, [b0]) => Math.min(b0, Math.max(Math.abs(op.min), Math.abs(op.max))),
};
