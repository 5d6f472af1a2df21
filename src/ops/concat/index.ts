import { FxpqError, UnsupportedError } from '../../errors.js';
import { type FxFormat, maxInt, minInt, requantizeArray, signedBitsForRange } from '../../fixed/format.js';
import type { AccRange } from '../../quant/accumulator.js';
import type { OpModule } from '../op-module.js';

/**
 * Concatenation along channels (Inception, DenseNet, SqueezeNet): [C1, H, W] ++ [C2, H, W] ->
 * [C1 + C2, H, W], or [F1] ++ [F2] -> [F1 + F2]. Quantized, every input is requantized to the
 * output's format the way a residual add aligns its operands: shifted to the finest fraction
 * length among the inputs, then rounded (half up) and saturated to the output format.
 */
export interface ConcatOp {
  kind: 'concat';
}
export interface QConcat {
  kind: 'concat';
}

declare module '../../ir/types.js' {
  interface OpTypes {
    concat: ConcatOp;
  }
}
declare module '../../quant/qgraph.js' {
  interface QOpTypes {
    concat: QConcat;
  }
}

/** Inputs a Concat may join: enough for Inception blocks, a bound on the generated multiplexer. */
export const MAX_CONCAT_INPUTS = 8;

/** Output shape: the inputs agree in every dimension but the channels (the first per sample). */
function concatShape(ins: number[][], where: string): number[] {
  const x = ins[0];
  for (const y of ins) {
    if (y.length !== x.length || y.some((v, i) => i > 0 && v !== x[i])) {
      throw new FxpqError(`${where}: inputs [${x.join(', ')}] and [${y.join(', ')}] differ in a dimension other than the channels`);
    }
  }
  return [ins.reduce((s, y) => s + y[0], 0), ...x.slice(1)];
}

/** The finest fraction length among the inputs: each is shifted left to it, exactly. */
export const concatAlignFl = (fs: FxFormat[]): number => Math.max(...fs.map((f) => f.fl));

/** The range of the inputs aligned to the finest fraction length (what the hardware requantizes). */
export function concatAccRange(fs: FxFormat[]): AccRange {
  const fl = concatAlignFl(fs);
  const lo = Math.min(...fs.map((f) => minInt(f) * 2 ** (fl - f.fl))),
    hi = Math.max(...fs.map((f) => maxInt(f) * 2 ** (fl - f.fl)));
  return { lo, hi, bits: signedBitsForRange(lo, hi), fl };
}

/** Channel-block copy: each sample's output is its inputs' blocks one after another. */
function join(ins: Float64Array[], batch: number, f: (x: Float64Array, k: number) => Float64Array = (x) => x): Float64Array {
  const per = ins.map((x) => x.length / batch);
  const total = per.reduce((a, b) => a + b, 0);
  const y = new Float64Array(batch * total);
  ins.forEach((x0, k) => {
    const x = f(x0, k);
    const off = per.slice(0, k).reduce((a, b) => a + b, 0);
    for (let n = 0; n < batch; n++) y.set(x.subarray(n * per[k], (n + 1) * per[k]), n * total + off);
  });
  return y;
}

export const concat: OpModule<'concat'> = {
  kind: 'concat',
  onnx: {
    Concat(c) {
      const { where, at, ins, xShape } = c;
      if (c.dynamic.length !== ins.length)
        throw new UnsupportedError(`${where}: Concat of computed tensors and constants is not supported`);
      if (ins.length < 2 || ins.length > MAX_CONCAT_INPUTS)
        throw new UnsupportedError(`${where}: Concat of ${ins.length} tensors is not supported (2 to ${MAX_CONCAT_INPUTS})`);
      const axis = at.int('axis', 1);
      // Axis 1 of NCHW or of [batch, features]: the channels.
      if (axis !== 1 && axis !== -xShape.length)
        throw new UnsupportedError(`${where}: only Concat along the channels (axis 1) is supported, got axis=${axis}`);
      c.emit({ kind: 'concat' }, [...ins]);
    },
  },
  shape: (_op, ins, where) => concatShape(ins, where),
  float: (_op, ins, batch) => join(ins, batch),
  exactBound: (_op, ins) => Math.max(...ins),
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: false,
    arity: [2, MAX_CONCAT_INPUTS],
    build: () => ({ kind: 'concat' }),
    accRange: (_op, fs) => concatAccRange(fs),
    // requantizeArray works in place: on a copy, the input may have other readers.
    intref: (_op, c) => ({
      f: join(
        c.ins.map((_, k) => c.f64(k)),
        c.batch,
        (x, k) => requantizeArray(x.slice(), c.inFormats[k].fl, c.outFormat),
      ),
    }),
    shape: (_op, ins, where) => concatShape(ins, `${where} field inputs`),
    file: { attrs: {}, write: () => {}, read: () => ({ kind: 'concat' }) },
  },
};
