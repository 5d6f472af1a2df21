import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';

/** max(x, 0); fused into the requantizer of the layer before it when quantized. */
export const relu: OpModule<'relu'> = {
  kind: 'relu',
  onnx: { Relu: (c) => c.emit({ kind: 'relu' }) },
  shape: (_op, [x]) => [...x],
  float: (_op, [x]) => K.relu(x),
  exactBound: (_op, [b0]) => b0,
  role: 'activation',
  quant: undefined,
  fusedAct: () => ({ kind: 'relu' }),
};
