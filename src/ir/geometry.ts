import type { PoolGeometry } from './types.js';

/** Output sizes of sliding windows (convolution and pooling), as ONNX defines them (floor mode). */

function windowOut(inp: number, k: number, s: number, padA: number, padB: number, d: number): number {
  return Math.floor((inp + padA + padB - ((k - 1) * d + 1)) / s) + 1;
}

export function convOutHW(
  h: number,
  w: number,
  kernel: [number, number],
  strides: [number, number],
  pads: [number, number, number, number],
  dilations: [number, number],
): [number, number] {
  return [
    windowOut(h, kernel[0], strides[0], pads[0], pads[2], dilations[0]),
    windowOut(w, kernel[1], strides[1], pads[1], pads[3], dilations[1]),
  ];
}

export const poolOutHW = (h: number, w: number, p: PoolGeometry): [number, number] =>
  convOutHW(h, w, p.kernel, p.strides, p.pads, p.dilations);
