import { FxpqError } from '../errors.js';
import { need, fileRank, type FileLayer } from '../io/fxp-kit.js';
import { poolOutHW } from '../ir/geometry.js';
import type { PoolGeometry } from '../ir/types.js';
import { checkAlloc } from '../util/limits.js';
import { needRank } from './op-module.js';

/** What the windowed pooling ops (max and average) share: shapes, work checks and file attributes. */

/** Per-sample output shape of a pooling window over a [C, H, W] input. */
export function windowShape(op: PoolGeometry, [x]: number[][], where: string): number[] {
  needRank(x, 3, where);
  const [ho, wo] = poolOutHW(x[1], x[2], op);
  if (ho < 1 || wo < 1) throw new FxpqError(`${where}: window larger than the padded input [${x.join(', ')}]`);
  return [x[0], ho, wo];
}

/** The same in a .fxp.json, whose loader reports the input field. */
export function windowFileShape(op: PoolGeometry, [x]: number[][], where: string): number[] {
  fileRank(x, 3, where);
  const [ho, wo] = poolOutHW(x[1], x[2], op);
  return [x[0], ho, wo];
}

/** Work per sample (and the simulator's window table) grows with outputs x window taps. */
export function checkWindowWork(op: PoolGeometry, _ins: number[][], out: number[], where: string): void {
  const [kh, kw] = op.kernel;
  checkAlloc(out[1] * out[2] * kh * kw, 4, `${where}: its ${out[1]}x${out[2]} outputs of ${kh}x${kw} taps`);
}

/** The window's attributes in a .fxp.json. */
export const WINDOW_ATTRS = { kernel: 'pair', strides: 'pair', pads: 'pads', dilations: 'pair' } as const;

export const writeWindow = (op: PoolGeometry, fl: FileLayer): void => {
  Object.assign(fl.attrs, { kernel: op.kernel, strides: op.strides, pads: op.pads, dilations: op.dilations });
};

export function readWindow(L: FileLayer, where: string): PoolGeometry {
  const a = L.attrs as {
    kernel?: [number, number];
    strides?: [number, number];
    pads?: [number, number, number, number];
    dilations?: [number, number];
  };
  return {
    kernel: need(a.kernel, where, 'attrs.kernel'),
    strides: a.strides ?? [1, 1],
    pads: a.pads ?? [0, 0, 0, 0],
    dilations: a.dilations ?? [1, 1],
    ceilMode: false,
  };
}
