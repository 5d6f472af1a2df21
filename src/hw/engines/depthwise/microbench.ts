import { chooser, fmt, type MicroBench, type MicroSpec, relu } from '../../../calibration/micro-kit.js';

/**
 * Depthwise convolutions (seeds from 3000): 2..16 channels, 3x3 and 5x5 kernels, budgets that give
 * the channels 1 to all lanes.
 */
function depthwiseSpecs(count: number, seed = 3): MicroSpec[] {
  const { r, pick } = chooser(seed);
  const wls = [2, 3, 4, 5, 6, 8, 10, 12, 16];
  return Array.from({ length: count }, (_, i) => {
    const cin = pick([2, 4, 8, 16]);
    return {
      kind: 'depthwise',
      seed: 3000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin,
      cout: cin,
      hw: pick([4, 6, 8]),
      k: pick([3, 3, 5]),
      macs: pick([2, 4, 8, 16, 32]),
    };
  });
}

/** A depthwise k x k convolution of the first layer's channels, same-padded. */
export const depthwiseMicrobench: MicroBench = {
  kinds: ['depthwise'],
  sets: { depthwise: depthwiseSpecs },
  build(s, { values, layers, ints, mid, out, wF }) {
    const k = s.k,
      p = (k - 1) >> 1;
    values.y = { shape: [s.cin, s.hw, s.hw], format: out };
    const bF = fmt(Math.min(16, wF.wl + mid.wl), wF.fl + mid.fl, true);
    layers.push({
      name: 'y',
      inputs: ['a'],
      output: 'y',
      op: {
        kind: 'conv',
        weight: { shape: [s.cin, 1, k, k], data: ints(s.cin * k * k, wF) },
        bias: ints(s.cin, bF),
        weightFormat: wF,
        biasFormat: bF,
        strides: [1, 1],
        pads: [p, p, p, p],
        dilations: [1, 1],
        group: s.cin,
        act: relu,
      },
    });
  },
};
