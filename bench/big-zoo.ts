/**
 * The big tier of the zoo (models/train_big.py): ResNet-18- and VGG-size Fashion-MNIST networks
 * kept in the repository as ONNX files with float16 initializers (models/big/NAME.f16.onnx, half
 * the bytes). This rebuilds NAME.onnx with float32 initializers, the file fxpq and onnxruntime
 * read; every float16 value converts to float32 exactly, so the rebuilt network is the one whose
 * accuracy models/big/NAME.json reports.
 *
 *   npm run build && node dist/bench/big-zoo.js [NAME ...]     (default: every NAME.f16.onnx)
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { widenModel } from '../src/onnx/float16.js';
import { packageRoot } from '../src/util/package-root.js';

export const BIG_DIR = join(packageRoot(), 'models', 'big');

/** Path of the float32 model NAME.onnx, rebuilt when missing or older than its float16 source. */
export function bigModel(name: string): string {
  const src = join(BIG_DIR, `${name}.f16.onnx`),
    out = join(BIG_DIR, `${name}.onnx`);
  if (!existsSync(src)) throw new Error(`${src} is missing: the big tier is made by models/train_big.py`);
  if (!existsSync(out) || readFileSync(out).length === 0) {
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, widenModel(readFileSync(src)));
    renameSync(tmp, out);
  }
  return out;
}

export const bigNames = (): string[] =>
  existsSync(BIG_DIR)
    ? readdirSync(BIG_DIR)
        .filter((f) => f.endsWith('.f16.onnx'))
        .map((f) => f.slice(0, -9))
        .sort()
    : [];

if (process.argv[1]?.endsWith('big-zoo.js')) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : bigNames();
  for (const n of names) console.log(`${n}: ${bigModel(n)}`);
}
