import { fmt, type MicroBench, relu } from '../../../calibration/micro-kit.js';

/** The residual add of the first layer's output and a 1x1 convolution of it (its own format). */
export const addMicrobench: MicroBench = {
  kinds: ['add'],
  build(s, n) {
    n.layers.push(n.conv('b', 'a', s.cin, s.cin, 1, n.wF, fmt(s.wlW, s.wlW - 3, true), { kind: 'none' }));
    n.values.y = { shape: [s.cin, s.hw, s.hw], format: n.out };
    n.layers.push({ name: 'y', inputs: ['a', 'b'], output: 'y', op: { kind: 'add', act: relu } });
  },
};
