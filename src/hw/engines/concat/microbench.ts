import { chooser, fmt, type MicroBench, type MicroSpec } from '../../../calibration/micro-kit.js';

/** Concatenations (seeds from 5000): channel counts that share a factor, so that words hold 1 to 8 lanes. */
function concatSpecs(count: number, seed = 5): MicroSpec[] {
  const { r, pick } = chooser(seed);
  const wls = [2, 3, 4, 5, 6, 8, 10, 12, 16];
  return Array.from({ length: count }, (_, i) => {
    const g = pick([1, 2, 4, 8]);
    return {
      kind: 'concat',
      seed: 5000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin: g * pick([1, 2]),
      cout: g * pick([1, 2]),
      hw: pick([4, 6, 8]),
      k: 1,
      macs: pick([4, 8, 16, 32, 64]),
    };
  });
}

/**
 * The first layer's output joined with a 1x1 convolution of it (cout channels in its own format);
 * a global average pooling reads the result, so that it sits in a buffer that an engine reads, as a
 * concatenation inside a network does.
 */
export const concatMicrobench: MicroBench = {
  kinds: ['concat'],
  sets: { concat: concatSpecs },
  build(s, n) {
    const { values, layers, out } = n;
    layers.push(n.conv('b', 'a', s.cin, s.cout, 1, n.wF, fmt(s.wlW, s.wlW - 3, true), { kind: 'none' }));
    values.c = { shape: [s.cin + s.cout, s.hw, s.hw], format: out };
    layers.push({ name: 'c', inputs: ['a', 'b'], output: 'c', op: { kind: 'concat' } });
    values.y = { shape: [s.cin + s.cout, 1, 1], format: out };
    layers.push({ name: 'y', inputs: ['c'], output: 'y', op: { kind: 'gap', recipBits: 12 } });
  },
};
