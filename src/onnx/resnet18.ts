/**
 * A ResNet-18-sized network (11.2 M parameters) for 1x28x28 inputs, built in memory with random
 * He-initialised weights (BatchNorm already folded into conv biases). Too large to commit as a zoo
 * model (the zoo keeps files under 5 MB); used to time the engines at realistic size.
 */
import { buildModel, type NodeSpec, rng, type TensorSpec } from './builder.js';

export function resnet18Onnx(seed = 1, classes = 10): Uint8Array {
  const r = rng(seed);
  const gauss = () => {
    const u = Math.max(r(), 1e-12),
      v = r();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const inits: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  let k = 0;
  const conv = (x: string, cin: number, cout: number, ks: number, stride: number, relu: boolean): string => {
    const id = k++;
    const n = cout * cin * ks * ks;
    const std = Math.sqrt(2 / (cin * ks * ks));
    inits.push({ name: `w${id}`, dims: [cout, cin, ks, ks], values: Float32Array.from({ length: n }, () => gauss() * std) });
    inits.push({ name: `b${id}`, dims: [cout], values: Float32Array.from({ length: cout }, () => gauss() * 0.01) });
    const p = (ks - 1) / 2;
    nodes.push({
      op: 'Conv',
      inputs: [x, `w${id}`, `b${id}`],
      outputs: [`c${id}`],
      attrs: { pads: [p, p, p, p], strides: [stride, stride], kernel_shape: [ks, ks] },
    });
    if (!relu) return `c${id}`;
    nodes.push({ op: 'Relu', inputs: [`c${id}`], outputs: [`r${id}`] });
    return `r${id}`;
  };
  const block = (x: string, cin: number, cout: number, stride: number): string => {
    const h = conv(conv(x, cin, cout, 3, stride, true), cout, cout, 3, 1, false);
    const sc = stride !== 1 || cin !== cout ? conv(x, cin, cout, 1, stride, false) : x;
    const id = k++;
    nodes.push({ op: 'Add', inputs: [h, sc], outputs: [`s${id}`] });
    nodes.push({ op: 'Relu', inputs: [`s${id}`], outputs: [`a${id}`] });
    return `a${id}`;
  };
  let x = conv('input', 1, 64, 3, 1, true);
  let cin = 64;
  for (const [cout, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ]) {
    x = block(x, cin, cout, stride);
    x = block(x, cout, cout, 1);
    cin = cout;
  }
  nodes.push({ op: 'GlobalAveragePool', inputs: [x], outputs: ['gap'] });
  nodes.push({ op: 'Flatten', inputs: ['gap'], outputs: ['flat'] });
  inits.push({
    name: 'fcw',
    dims: [classes, 512],
    values: Float32Array.from({ length: classes * 512 }, () => gauss() * Math.sqrt(1 / 512)),
  });
  inits.push({ name: 'fcb', dims: [classes], values: new Float32Array(classes) });
  nodes.push({ op: 'Gemm', inputs: ['flat', 'fcw', 'fcb'], outputs: ['logits'], attrs: { transB: 1 } });
  return buildModel({ inputShape: ['N', 1, 28, 28], input: 'input', nodes, inits, opset: 13 });
}
