import type { MicroBench } from '../../../calibration/micro-kit.js';

/** Max or average pooling with a k x k window and stride k, or a global average pooling. */
export const poolMicrobench: MicroBench = {
  kinds: ['maxpool', 'avgpool', 'gap'],
  build(s, { values, layers, mid, out }) {
    if (s.kind === 'gap') {
      values.y = { shape: [s.cin, 1, 1], format: out };
      layers.push({ name: 'y', inputs: ['a'], output: 'y', op: { kind: 'gap', recipBits: 12 } });
      return;
    }
    const ho = Math.floor(s.hw / s.k);
    values.y = { shape: [s.cin, ho, ho], format: s.kind === 'maxpool' ? mid : out };
    const g = {
      kernel: [s.k, s.k] as [number, number],
      strides: [s.k, s.k] as [number, number],
      pads: [0, 0, 0, 0] as [number, number, number, number],
      dilations: [1, 1] as [number, number],
      ceilMode: false,
    };
    layers.push({
      name: 'y',
      inputs: ['a'],
      output: 'y',
      op: s.kind === 'maxpool' ? { kind: 'maxpool', ...g } : { kind: 'avgpool', ...g, countIncludePad: true, recipBits: 12 },
    });
  },
};
