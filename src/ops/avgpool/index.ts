import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { poolOutHW } from '../../ir/geometry.js';
import type { OpTypes } from '../../ir/types.js';
import { needRank, type OpModule } from '../op-module.js';
import { poolGeometry } from '../../onnx/import-kit.js';
import { checkAlloc } from '../../util/limits.js';
import * as I from '../../intref/ops.js';
import { fileRank, need } from '../../io/fxp-kit.js';
import { poolAccRange } from '../../quant/accumulator.js';
import { RECIP_BITS } from '../quant-kit.js';

/** Average pooling over a window (count_include_pad either way). */
export const avgpool: OpModule<'avgpool'> = {
  kind: 'avgpool',
  onnx: { AveragePool: (c) => c.emit({ kind: 'avgpool', ...poolGeometry(c.at, c.xShape, c.where), countIncludePad: c.at.int('count_include_pad', 0) === 1 }) },
  checkWork(op, _ins, out, where) {
    // Work per sample (and the simulator's window table) grows with outputs x window taps.
    const [kh, kw] = op.kernel;
    checkAlloc(out[1] * out[2] * kh * kw, 4, `${where}: its ${out[1]}x${out[2]} outputs of ${kh}x${kw} taps`);
  },
  shape: poolShape,
  float: (op, [x], batch, [inShape]) => K.avgpool(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: false,
    arity: [1, 1],
    build: (src) => ({ ...src, kind: 'avgpool', recipBits: RECIP_BITS }),
    accRange: (op, [inF]) => poolAccRange(inF, op.kernel[0] * op.kernel[1], op.recipBits, !op.countIncludePad && op.pads.some((p) => p > 0)),
    intref: (op, c) => ({ f: I.avgpool(op, c.f64(0), c.batch, c.inShapes[0], c.inFormats[0], c.outFormat) }),
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
      attrs: { kernel: 'pair', strides: 'pair', pads: 'pads', dilations: 'pair', countIncludePad: 'bool', recipBits: 'recipBits' },
      write: (op, fl) => { Object.assign(fl.attrs, { kernel: op.kernel, strides: op.strides, pads: op.pads, dilations: op.dilations, countIncludePad: op.countIncludePad, recipBits: op.recipBits }); },
      read(L, _ins, where) {
        const a = L.attrs as { kernel?: [number, number]; strides?: [number, number]; pads?: [number, number, number, number]; dilations?: [number, number]; countIncludePad?: boolean; recipBits?: number };
        return {
          kind: 'avgpool', kernel: need(a.kernel, where, 'attrs.kernel'), strides: a.strides ?? [1, 1], pads: a.pads ?? [0, 0, 0, 0], dilations: a.dilations ?? [1, 1], ceilMode: false,
          countIncludePad: a.countIncludePad ?? false, recipBits: need(a.recipBits, where, 'attrs.recipBits'),
        };
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
