import { chooser, fmt, type MicroBench, type MicroSpec, relu } from '../../../calibration/micro-kit.js';

/** Grouped convolutions (seeds from 4000): 2 or 4 groups of 1..4 input and output channels. */
function groupedSpecs(count: number, seed = 4): MicroSpec[] {
  const { r, pick } = chooser(seed);
  const wls = [2, 3, 4, 5, 6, 8, 10, 12, 16];
  return Array.from({ length: count }, (_, i) => {
    const group = pick([2, 4]);
    return {
      kind: 'conv',
      seed: 4000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin: group * pick([2, 4]),
      cout: group * pick([1, 2, 4]),
      hw: pick([4, 6, 8]),
      k: pick([1, 3]),
      macs: pick([2, 4, 8, 16, 32]),
      group,
    };
  });
}

/** A convolution (grouped when the spec says so) or a dense layer over the flattened map. */
export const linearMicrobench: MicroBench = {
  kinds: ['conv', 'dense'],
  sets: { grouped: groupedSpecs },
  build(s, n) {
    const { values, layers, ints, mid, out, wF } = n;
    if (s.kind === 'conv') {
      const y = n.conv('y', 'a', s.cin, s.cout, s.k, wF, out, relu);
      const G = s.group ?? 1;
      if (G > 1 && y.op.kind === 'conv') {
        y.op.group = G;
        y.op.weight = { shape: [s.cout, s.cin / G, s.k, s.k], data: ints(s.cout * (s.cin / G) * s.k * s.k, wF) };
      }
      layers.push(y);
      return;
    }
    layers.push({ name: 'f', inputs: ['a'], output: 'f', op: { kind: 'flatten' } });
    const len = s.cin * s.hw * s.hw;
    values.f = { shape: [len], format: mid };
    values.y = { shape: [s.cout], format: out };
    const bF = fmt(16, wF.fl + mid.fl, true);
    layers.push({
      name: 'y',
      inputs: ['f'],
      output: 'y',
      op: {
        kind: 'dense',
        weight: { shape: [s.cout, len], data: ints(s.cout * len, wF) },
        bias: ints(s.cout, bF),
        weightFormat: wF,
        biasFormat: bF,
        act: { kind: 'none' },
      },
    });
  },
};
