/**
 * The full Fashion-MNIST test split (10,000 images) from the IDX files the zoo was trained from,
 * for benches that need a finer accuracy figure than the 1,000 bundled test images give (one image
 * is 0.01 pp instead of 0.1 pp). Scaled as models/data/test_x.npy was: float32(pixel) / float32(255).
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Images, loadImages, loadLabels } from '../src/io/dataset.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

function idx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const b = gunzipSync(readFileSync(path));
  const m = b.readUInt32BE(0);
  if (m !== magic) throw new Error(`${path}: IDX magic ${m}, expected ${magic}`);
  const nd = m & 0xff;
  const dims = Array.from({ length: nd }, (_, i) => b.readUInt32BE(4 + 4 * i));
  return {
    dims,
    data: new Uint8Array(
      b.buffer,
      b.byteOffset + 4 + 4 * nd,
      dims.reduce((a, c) => a * c, 1),
    ),
  };
}

/** The 10,000 test images and labels, or null when the IDX files are not on this machine. */
export function fashionMnistTest(dir = FASHION_MNIST_DIR): { images: Images; labels: Int32Array } | null {
  const xi = `${dir}/t10k-images-idx3-ubyte.gz`,
    yi = `${dir}/t10k-labels-idx1-ubyte.gz`;
  if (!existsSync(xi) || !existsSync(yi)) return null;
  const x = idx(xi, 2051),
    y = idx(yi, 2049);
  const [n, h, w] = x.dims;
  const data = new Float64Array(n * h * w);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(Math.fround(x.data[i]) / Math.fround(255));
  return { images: { count: n, total: n, data, shape: [1, h, w] }, labels: Int32Array.from(y.data) };
}

/**
 * The test images a bench reports on: the 1,000 bundled ones (models/data/test_x.npy), or with
 * `full` the whole 10,000-image split, checked to begin with the bundled 1,000 so the two agree.
 */
export function benchTestSet(full: boolean): { images: Images; labels: Int32Array; name: string } {
  const b = loadImages('models/data/test_x.npy', [1, 28, 28]);
  const bl = loadLabels('models/data/test_y.npy', b, 10);
  if (!full) return { images: b, labels: bl, name: 'the 1,000 bundled test images' };
  const t = fashionMnistTest();
  if (!t)
    throw new Error(`--test full: the Fashion-MNIST IDX files are not in ${FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)`);
  if (b.data.some((v, i) => v !== t.images.data[i]) || bl.some((v, i) => v !== t.labels[i]))
    throw new Error('--test full: data/test_x.npy is not the first 1,000 images of the IDX test split');
  return { ...t, name: 'the 10,000 Fashion-MNIST test images' };
}
