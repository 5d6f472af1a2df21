/**
 * Small hostile files that declare huge sizes: every one must end in one line on stderr and exit 1
 * (or 2 for an op fxpq does not fold) while the process stays small, because sizes are checked
 * against the memory limit (src/util/limits.ts) before anything is allocated. Peak memory is
 * measured with GNU time (/usr/bin/time -f %M) where it is installed.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npy.js';
import { buildModel, type ModelSpec, randn, rng } from '../src/onnx/builder.js';
import { CLI, spawnAsync, tempDir } from './helpers/cli.js';

const dir = tempDir('fxpq-hostile-');
const p = (f: string) => join(dir, f);
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
/** Every hostile case must stay under this peak resident set (Node alone is about 80 MiB). */
const MAX_RSS_MIB = 400;
const LIMIT_8G = /more than the memory limit of 8\.0 GiB \(raise it with --max-memory GiB\)/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  rssMiB: number | null;
}
const peaks: { what: string; rssMiB: number }[] = [];
let runs = 0;

/**
 * Runs the built CLI under /usr/bin/time (when present) with FXPQ_MAX_MEMORY unset unless given.
 * Awaited, not spawnSync: back-to-back blocking runs starve vitest's progress RPC.
 */
async function fxpqRss(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const rssFile = p(`rss-${runs++}.txt`);
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', ...env };
  if (!('FXPQ_MAX_MEMORY' in env)) delete baseEnv.FXPQ_MAX_MEMORY;
  const [cmd, argv] = TIME ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  const r = await spawnAsync(cmd, argv, { env: baseEnv, timeout: 60_000 });
  let rssMiB: number | null = null;
  if (TIME) {
    // GNU time writes "Command exited with non-zero status N" first, then the format.
    const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!;
    rssMiB = Number(last) / 1024;
    peaks.push({ what: args.map((a) => a.replace(dir + '/', '')).join(' '), rssMiB });
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, rssMiB };
}

/** Exactly one `fxpq: error:` line matching `pattern`, the exit code, no stack trace, bounded memory. */
function expectRefused(r: Run, code: number, pattern: RegExp, ...more: RegExp[]): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fxpq: error: /);
  expect(lines[0]).toMatch(pattern);
  for (const m of more) expect(lines[0]).toMatch(m);
  expect(lines[0].length).toBeLessThan(400);
  expect(r.stderr).not.toMatch(/\s+at\s+\S+\s\(|internal error|out of memory/);
  if (r.rssMiB !== null) expect(r.rssMiB, `peak RSS of fxpq ${r.stderr}`).toBeLessThan(MAX_RSS_MIB);
}

// ---- ONNX models ----------------------------------------------------------------------------

const r = rng(11);
/** A dynamic path x -> Relu -> y, so the hostile constant part is all that is wrong. */
const tail: ModelSpec['nodes'] = [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }];
const withConsts = (nodes: ModelSpec['nodes'], inits: ModelSpec['inits'] = []): Uint8Array =>
  buildModel({ inputShape: ['N', 4], inits, nodes: [...nodes, ...tail], output: 'y' });
const shapeInit = (name: string, dims: number[]) => ({ name, dims: [dims.length], values: dims, type: 'int64' as const });

const ONNX: Record<string, Uint8Array> = {
  'cos-1e5x1e5.onnx': withConsts([{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], name: 'bomb' }], [shapeInit('s', [1e5, 1e5])]),
  'cos-2p40.onnx': withConsts([{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], name: 'bomb' }], [shapeInit('s', [2 ** 40])]),
  'cos-2p60.onnx': withConsts(
    [{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], name: 'bomb' }],
    [shapeInit('s', [2 ** 30, 2 ** 30])],
  ),
  'expand.onnx': withConsts(
    [{ op: 'Expand', inputs: ['one', 's'], outputs: ['c'], name: 'expand' }],
    [{ name: 'one', dims: [1], values: [1] }, shapeInit('s', [1e5, 1e5])],
  ),
  'tile.onnx': withConsts(
    [{ op: 'Tile', inputs: ['one', 's'], outputs: ['c'], name: 'tile' }],
    [{ name: 'one', dims: [1], values: [1] }, shapeInit('s', [1e10])],
  ),
  // Two cheap 1e5-element constants broadcast to 1e10 elements by one Add.
  'broadcast.onnx': withConsts(
    [
      { op: 'ConstantOfShape', inputs: ['sa'], outputs: ['a'] },
      { op: 'ConstantOfShape', inputs: ['sb'], outputs: ['b'] },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['c'], name: 'outer' },
    ],
    [shapeInit('sa', [1e5, 1]), shapeInit('sb', [1, 1e5])],
  ),
  // Gather repeats a 1e4-element row 1e6 times.
  'gather.onnx': withConsts(
    [
      { op: 'ConstantOfShape', inputs: ['si'], outputs: ['idx'] },
      { op: 'Gather', inputs: ['row', 'idx'], outputs: ['c'], name: 'repeat' },
    ],
    [{ name: 'row', dims: [1, 1e4], values: new Float32Array(1e4) }, shapeInit('si', [1e6])],
  ),
  // 12 constants of 1 MiB each against a limit of 10 MiB: each fits, their total does not.
  'many.onnx': withConsts(
    Array.from({ length: 12 }, (_, i) => ({ op: 'ConstantOfShape', inputs: ['s'], outputs: [`c${i}`] })),
    [shapeInit('s', [131072])],
  ),
  'reshape.onnx': withConsts(
    [{ op: 'Reshape', inputs: ['w', 's'], outputs: ['c'], name: 'grow' }],
    [{ name: 'w', dims: [4], values: [1, 2, 3, 4] }, shapeInit('s', [1e6, 1e6])],
  ),
  'init-1e12.onnx': withConsts([], [{ name: 'w', dims: [1e6, 1e6], values: [1] }]),
  'init-1e12-typed.onnx': withConsts([], [{ name: 'w', dims: [1e6, 1e6], values: [1], raw: false }]),
  'init-mismatch.onnx': withConsts([], [{ name: 'w', dims: [2, 3], values: [1, 2, 3, 4, 5] }]),
  'init-negative.onnx': withConsts([], [{ name: 'w', dims: [-1, 4], values: [1, 2, 3, 4] }]),
  'init-2p62.onnx': withConsts([], [{ name: 'w', dims: [2 ** 31, 2 ** 31, 2], values: [1] }]),
  'input-1e10-conv.onnx': buildModel({
    inputShape: ['N', 1, 100000, 100000],
    inits: [{ name: 'w', dims: [2, 1, 3, 3], values: randn(r, 18) }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'conv' }],
  }),
  'input-2p60.onnx': buildModel({ inputShape: ['N', 2 ** 60, 1], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }),
  // A 4x4 input padded by 50,000 on every side: a 1e10-element activation from one attribute.
  'conv-pads.onnx': buildModel({
    inputShape: ['N', 1, 4, 4],
    inits: [{ name: 'w', dims: [2, 1, 3, 3], values: randn(r, 18) }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'padded', attrs: { pads: [50000, 50000, 50000, 50000] } }],
  }),
  // A 51x51 kernel (10 KB of weights) over a 1000x1000 input: 2.6e9 im2col entries per image.
  'conv-im2col.onnx': buildModel({
    inputShape: ['N', 1, 1000, 1000],
    inits: [{ name: 'w', dims: [1, 1, 51, 51], values: new Float32Array(2601) }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'wide', attrs: { pads: [25, 25, 25, 25] } }],
  }),
  // Within the 8 GiB limit (a 0.5 GiB input, a 3.8 GiB output), but not within wasm32's 4 GiB.
  'conv-wasm.onnx': buildModel({
    inputShape: ['N', 1, 8000, 8000],
    inits: [{ name: 'w', dims: [8, 1, 1, 1], values: [1, 2, 3, 4, 5, 6, 7, 8] }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'fan' }],
  }),
  // An empty [0, 20000, 8000] initializer squeezed on its zero axis: dims [20000, 8000] with no data.
  'squeeze-gemm.onnx': buildModel({
    inputShape: ['N', 20000],
    opset: 13,
    inits: [
      { name: 'Z', dims: [0, 20000, 8000], values: [] },
      { name: 'ax', dims: [1], values: [0], type: 'int64' },
    ],
    nodes: [
      { op: 'Squeeze', inputs: ['Z', 'ax'], outputs: ['B'], name: 'sq' },
      { op: 'Gemm', inputs: ['x', 'B'], outputs: ['y'] },
    ],
  }),
  // Folded weights that are not finite: a Div by zero, and a NaN in a Constant node.
  'inf-div.onnx': buildModel({
    inputShape: ['N', 4],
    opset: 13,
    inits: [
      { name: 'W0', dims: [4, 3], values: new Float32Array(12).fill(0.5) },
      { name: 'z', dims: [1], values: [0] },
    ],
    nodes: [
      { op: 'Div', inputs: ['W0', 'z'], outputs: ['W'], name: 'div' },
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] },
    ],
  }),
  'nan-const.onnx': buildModel({
    inputShape: ['N', 4],
    opset: 13,
    nodes: [
      {
        op: 'Constant',
        inputs: [],
        outputs: ['W'],
        name: 'k',
        attrs: { value: { tensor: { name: 'W', dims: [4, 3], values: [1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12] } } },
      },
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] },
    ],
  }),
  'pool-bigpad.onnx': buildModel({
    inputShape: ['N', 1, 4, 4],
    nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], name: 'mp', attrs: { kernel_shape: [2, 2], pads: [8, 8, 8, 8] } }],
  }),
  'conv-negpad.onnx': buildModel({
    inputShape: ['N', 1, 8, 8],
    inits: [{ name: 'w', dims: [2, 1, 3, 3], values: randn(r, 18) }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'neg', attrs: { pads: [-3, -3, -3, -3] } }],
  }),
  'zero-k.onnx': buildModel({
    inputShape: ['N', 1, 6, 6],
    inits: [{ name: 'w', dims: [2, 1, 0, 0], values: [] }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'zk' }],
  }),
  'zero-out.onnx': buildModel({
    inputShape: ['N', 4],
    inits: [{ name: 'W', dims: [4, 0], values: [] }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'], name: 'mm' }],
  }),
  'zero-cout.onnx': buildModel({
    inputShape: ['N', 1, 6, 6],
    inits: [{ name: 'w', dims: [0, 1, 3, 3], values: [] }],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], name: 'zc' },
      { op: 'Flatten', inputs: ['c'], outputs: ['y'] },
    ],
  }),
  'noout.onnx': buildModel({ inputShape: ['N', 4], nodes: [{ op: 'Relu', inputs: ['x'], outputs: [] }], output: 'x' }),
  // Tensor and node names that are also names on Object.prototype.
  'proto-names.onnx': buildModel({
    inputShape: ['N', 4],
    input: 'constructor',
    inits: [
      { name: 'toString', dims: [4, 3], values: randn(r, 12) },
      { name: 'hasOwnProperty', dims: [3, 3], values: randn(r, 9) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['constructor', 'toString'], outputs: ['__proto__'], name: '__proto__' },
      { op: 'Relu', inputs: ['__proto__'], outputs: ['valueOf'], name: 'constructor' },
      { op: 'MatMul', inputs: ['valueOf', 'hasOwnProperty'], outputs: ['toString_out'], name: 'toString' },
    ],
    output: 'toString_out',
  }),
  'proto-out.onnx': buildModel({
    inputShape: ['N', 4],
    inits: [{ name: 'W', dims: [4, 3], values: randn(r, 12) }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['toString'] }],
    output: 'toString',
  }),
  // A 5x5 output whose every window has 3.6e9 taps.
  'pool-window.onnx': buildModel({
    inputShape: ['N', 1, 4, 4],
    nodes: [
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['y'],
        name: 'wide',
        attrs: { kernel_shape: [60000, 60000], pads: [30000, 30000, 30000, 30000] },
      },
    ],
  }),
};

// ---- .npy data ------------------------------------------------------------------------------

/** A .npy file with the header written by hand (NumPy itself would refuse these shapes). */
function rawNpy(shapeText: string, data: Uint8Array, o: { descr?: string; major?: number; headerLen?: number } = {}): Uint8Array {
  const major = o.major ?? 1;
  const pre = major === 1 ? 10 : 12;
  let header = `{'descr': '${o.descr ?? '<f4'}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const len = o.headerLen ?? header.length;
  if (major === 1) {
    out[8] = len & 0xff;
    out[9] = (len >> 8) & 0xff;
  } else new DataView(out.buffer).setUint32(8, len, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, pre + header.length);
  return out;
}
const f32 = (n: number) => new Uint8Array(Float32Array.from(randn(r, n)).buffer);

const NPY: Record<string, Uint8Array> = {
  'nan.npy': rawNpy('nan, 1, 4, 4', f32(80)),
  'negative.npy': rawNpy('-5, 1, 4, 4', f32(80)),
  'fraction.npy': rawNpy('2.5, 1, 4, 4', f32(80)),
  'huge.npy': rawNpy('100000000000, 1, 4, 4', f32(80)),
  '2p62.npy': rawNpy('4611686018427387904,', f32(4)),
  'header-past-end.npy': rawNpy('5, 1, 4, 4', f32(2), { headerLen: 60000 }),
  'header-4g.npy': rawNpy('5, 1, 4, 4', f32(2), { major: 2, headerLen: 0xffffffff }),
  'trailing.npy': rawNpy('5, 1, 4, 4', f32(81)),
};

// ---- .fxp.json ------------------------------------------------------------------------------

let base: Record<string, any>;
/** Writes a mutated copy of the small good .fxp.json. */
function fxp(name: string, mutate: (f: any) => void): string {
  const f = structuredClone(base);
  mutate(f);
  writeFileSync(p(name), JSON.stringify(f));
  return p(name);
}
/** The input tensor followed by one global average pool: a file of about 1 KB. */
const gapOnly = (shape: number[]) => (f: any) => {
  f.input.shape = shape;
  f.output = 'g';
  f.layers = [
    {
      name: 'gap',
      kind: 'gap',
      inputs: [f.input.name],
      output: 'g',
      outputShape: [shape[0], 1, 1],
      formats: { inputs: [f.input.format], output: { wl: 16, fl: 8, signed: true } },
      attrs: { recipBits: 16 },
    },
  ];
};

beforeAll(async () => {
  for (const [name, bytes] of Object.entries(ONNX)) writeFileSync(p(name), bytes);
  for (const [name, bytes] of Object.entries(NPY)) writeFileSync(p(name), bytes);
  writeFileSync(
    p('good.onnx'),
    buildModel({
      inputShape: ['N', 1, 4, 4],
      inits: [
        { name: 'w', dims: [2, 1, 3, 3], values: randn(r, 18) },
        { name: 'fw', dims: [3, 8], values: randn(r, 24) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
        { op: 'Flatten', inputs: ['c'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    }),
  );
  writeFileSync(p('x.npy'), encodeNpy('float32', [5, 1, 4, 4], randn(r, 80)));
  writeFileSync(p('x4.npy'), encodeNpy('float32', [5, 4], randn(r, 20)));
  const q = await fxpqRss(['quantize', p('good.onnx'), '--calib', p('x.npy'), '--uniform', '8', '--out', p('q8'), '--json']);
  expect(q.code, q.stderr).toBe(0);
  base = JSON.parse(readFileSync(p('q8/model.fxp.json'), 'utf8'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (peaks.length === 0) return;
  const worst = peaks.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));
  console.log(`hostile-sizes: ${peaks.length} runs, worst peak RSS ${worst.rssMiB.toFixed(0)} MiB (fxpq ${worst.what})`);
});

describe('hostile sizes: one line, exit 1 (2 for what is not folded), bounded memory', () => {
  it('the fixtures are sound: the good model, data and .fxp.json work', async () => {
    expect(base.layers.map((l: any) => l.kind)).toEqual(['conv', 'flatten', 'dense']);
    const e = await fxpqRss(['eval', p('good.onnx'), '--data', p('x.npy'), '--json']);
    expect(e.code, e.stderr).toBe(0);
    const s = await fxpqRss(['simulate', p('q8/model.fxp.json'), '--data', p('x.npy'), '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ images: 5, mismatches_vs_reference: 0 });
    if (!TIME) console.warn('hostile-sizes: /usr/bin/time is not installed; peak memory is not asserted');
  });

  describe('ONNX constant folding', () => {
    it('ConstantOfShape [1e5, 1e5]: refused before allocating 75 GiB (info, eval, quantize)', async () => {
      const m = p('cos-1e5x1e5.onnx');
      const msg = /node 'bomb' \(ConstantOfShape\): folded constant of shape \[100000, 100000\] needs 75 GiB \(1\.000e\+10 elements\)/;
      expectRefused(await fxpqRss(['info', m]), 1, msg, LIMIT_8G);
      expectRefused(await fxpqRss(['eval', m, '--data', p('x.npy')]), 1, msg);
      expectRefused(await fxpqRss(['quantize', m, '--calib', p('x.npy'), '--uniform', '8', '--out', p('never')]), 1, msg);
      expect(existsSync(p('never'))).toBe(false);
    });
    it('ConstantOfShape [2^40]: beyond the typed-array limit, still exit 1 (not 70)', async () => {
      expectRefused(
        await fxpqRss(['info', p('cos-2p40.onnx')]),
        1,
        /node 'bomb' \(ConstantOfShape\): folded constant of shape \[1099511627776\] needs 8192 GiB/,
      );
    });
    it('ConstantOfShape [2^30, 2^30]: a count beyond 2^53 is refused as uncountable', async () => {
      expectRefused(
        await fxpqRss(['info', p('cos-2p60.onnx')]),
        1,
        /folded constant of shape \[1073741824, 1073741824\]: shape \[1073741824, 1073741824\] has more elements than can be counted/,
      );
    });
    it('Expand and Tile are not folded: exit 2 at once, naming the op', async () => {
      expectRefused(
        await fxpqRss(['info', p('expand.onnx')]),
        2,
        /node 'expand' \(Expand\): op 'Expand' on constant inputs cannot be folded/,
      );
      expectRefused(
        await fxpqRss(['quantize', p('tile.onnx'), '--calib', p('x.npy'), '--uniform', '8', '--out', p('never')]),
        2,
        /node 'tile' \(Tile\): op 'Tile' on constant inputs cannot be folded/,
      );
    });
    it('a broadcasting Add of [1e5, 1] and [1, 1e5] is refused from the shapes', async () => {
      expectRefused(
        await fxpqRss(['info', p('broadcast.onnx')]),
        1,
        /node 'outer' \(Add\): folded constant of shape \[100000, 100000\] needs 75 GiB/,
        LIMIT_8G,
      );
    });
    it('a Gather that repeats a row a million times is refused from the shapes', async () => {
      expectRefused(
        await fxpqRss(['eval', p('gather.onnx'), '--data', p('x.npy')]),
        1,
        /node 'repeat' \(Gather\): folded constant of shape \[1000000, 10000\] needs 75 GiB/,
      );
    });
    it('the running total of folded constants is bounded, not only each one', async () => {
      expectRefused(
        await fxpqRss(['info', p('many.onnx')], { FXPQ_MAX_MEMORY: String(10 / 1024) }),
        1,
        /many\.onnx: the constants and one sample's activations need more than the memory limit of 10\.0 MiB in all \(raise it with --max-memory GiB\)/,
      );
      // Each of them alone fits: with the default limit the model imports.
      expect((await fxpqRss(['info', p('many.onnx')])).code).toBe(0);
    });
    it('a Reshape of 4 values to [1e6, 1e6] is an inconsistent shape, not a size', async () => {
      expectRefused(
        await fxpqRss(['info', p('reshape.onnx')]),
        1,
        /node 'grow' \(Reshape\): cannot reshape a constant of shape \[4\] \(4 elements\) to \[1000000, 1000000\]/,
      );
    });
  });

  describe('ONNX constants, attributes and names that are wrong, not big', () => {
    it('a Squeeze of an empty constant on an axis that is not 1 (info, eval, quantize)', async () => {
      const m = p('squeeze-gemm.onnx');
      const msg = /node 'sq' \(Squeeze\): cannot squeeze axis 0 of \[0, 20000, 8000\], whose size is 0, not 1/;
      expectRefused(await fxpqRss(['info', m]), 1, msg);
      expectRefused(await fxpqRss(['eval', m, '--data', p('x4.npy')]), 1, msg);
      expectRefused(await fxpqRss(['quantize', m, '--calib', p('x4.npy'), '--uniform', '8', '--out', p('never')]), 1, msg);
    });
    it('folded constants that are not finite: Div by zero, NaN in a Constant node', async () => {
      expectRefused(
        await fxpqRss(['info', p('inf-div.onnx')]),
        1,
        /node 'div' \(Div\): folded constant 'W' holds Infinity at flat index 0; constants .* must be finite/,
      );
      expectRefused(
        await fxpqRss(['eval', p('nan-const.onnx'), '--data', p('x4.npy')]),
        1,
        /node 'k' \(Constant\): folded constant 'W' holds NaN at flat index 2/,
      );
    });
    it('pool pads not smaller than the kernel, negative conv pads, a zero-size kernel', async () => {
      expectRefused(
        await fxpqRss(['eval', p('pool-bigpad.onnx'), '--data', p('x.npy')]),
        1,
        /node 'mp' \(MaxPool\): pads \[8,8,8,8\] must each be smaller than the kernel 2x2/,
      );
      expectRefused(
        await fxpqRss(['info', p('conv-negpad.onnx')]),
        1,
        /node 'neg' \(Conv\): pads \[-3,-3,-3,-3\] must be non-negative integers/,
      );
      expectRefused(
        await fxpqRss(['info', p('zero-k.onnx')]),
        1,
        /node 'zk' \(Conv\): the weight of shape \[2, 1, 0, 0\] has a zero-size dimension/,
      );
    });
    it('zero-size weights and a graph without layers', async () => {
      expectRefused(
        await fxpqRss(['info', p('zero-out.onnx')]),
        1,
        /node 'mm' \(MatMul\): the weight of shape \[4, 0\] has a zero-size dimension/,
      );
      expectRefused(
        await fxpqRss(['quantize', p('zero-cout.onnx'), '--calib', p('x.npy'), '--uniform', '8', '--out', p('never')]),
        1,
        /node 'zc' \(Conv\): the weight of shape \[0, 1, 3, 3\] has a zero-size dimension/,
      );
      expectRefused(await fxpqRss(['info', p('noout.onnx')]), 2, /noout\.onnx: the graph has no layers/);
    });
    it('names like __proto__, constructor and toString are just names (info, eval, quantize, generate, simulate)', async () => {
      for (const f of ['proto-names.onnx', 'proto-out.onnx']) {
        const m = p(f);
        const info = await fxpqRss(['info', m, '--json']);
        expect(info.code, info.stderr).toBe(0);
        expect(JSON.parse(info.stdout).layers.length).toBeGreaterThan(0);
        const e = await fxpqRss(['eval', m, '--data', p('x4.npy')]);
        expect(e.code, e.stderr).toBe(0);
        const out = p(`q-${f}`);
        const q = await fxpqRss(['quantize', m, '--calib', p('x4.npy'), '--uniform', '8', '--out', out]);
        expect(q.code, q.stderr).toBe(0);
        const qm = join(out, 'model.fxp.json');
        for (const c of [
          ['eval', qm, '--data', p('x4.npy')],
          ['simulate', qm, '--data', p('x4.npy')],
          ['generate', qm, '--out', p(`rtl-${f}`)],
        ]) {
          const res = await fxpqRss(c);
          expect(res.code, `${c.join(' ')}: ${res.stderr}`).toBe(0);
        }
      }
    });
  });

  describe('ONNX initializers', () => {
    it('dims claiming 1e12 elements over 4 bytes of raw_data (info, eval, quantize)', async () => {
      const m = p('init-1e12.onnx');
      const msg = /initializer 'w': raw_data holds 4 bytes, expected 4000000000000 for dims \[1000000, 1000000\]/;
      expectRefused(await fxpqRss(['info', m]), 1, msg);
      expectRefused(await fxpqRss(['eval', m, '--data', p('x.npy')]), 1, msg);
      expectRefused(await fxpqRss(['quantize', m, '--calib', p('x.npy'), '--uniform', '8', '--out', p('never')]), 1, msg);
    });
    it('dims claiming 1e12 elements over one typed value', async () => {
      expectRefused(
        await fxpqRss(['info', p('init-1e12-typed.onnx')]),
        1,
        /initializer 'w': holds 1 values, expected 1000000000000 for dims \[1000000, 1000000\]/,
      );
    });
    it('raw_data one element short of its dims', async () => {
      expectRefused(
        await fxpqRss(['info', p('init-mismatch.onnx')]),
        1,
        /initializer 'w': raw_data holds 20 bytes, expected 24 for dims \[2, 3\]/,
      );
    });
    it('a negative dimension', async () => {
      expectRefused(
        await fxpqRss(['info', p('init-negative.onnx')]),
        1,
        /initializer 'w': dimension -1 of \[-1, 4\] is not a whole, non-negative number/,
      );
    });
    it('dims whose product is beyond 2^53', async () => {
      expectRefused(
        await fxpqRss(['info', p('init-2p62.onnx')]),
        1,
        /initializer 'w': shape \[2147483648, 2147483648, 2\] has more elements than can be counted/,
      );
    });
  });

  describe('ONNX activation shapes', () => {
    it('an input of 1x1x100000x100000 followed by a Conv (info, eval, quantize)', async () => {
      const m = p('input-1e10-conv.onnx');
      const msg = /input 'x' of per-sample shape \[1, 100000, 100000\] needs 75 GiB/;
      expectRefused(await fxpqRss(['info', m]), 1, msg, LIMIT_8G);
      expectRefused(await fxpqRss(['eval', m, '--data', p('x.npy')]), 1, msg);
      expectRefused(await fxpqRss(['quantize', m, '--calib', p('x.npy'), '--uniform', '8', '--out', p('never')]), 1, msg);
    });
    it('an input dimension of 2^60', async () => {
      expectRefused(
        await fxpqRss(['info', p('input-2p60.onnx')]),
        1,
        /input 'x' of per-sample shape \[1152921504606847000, 1\]: shape .* has more elements than can be counted/,
      );
    });
    it('a Conv padded by 50,000 on each side of a 4x4 input', async () => {
      expectRefused(
        await fxpqRss(['eval', p('conv-pads.onnx'), '--data', p('x.npy')]),
        1,
        /node 'padded' \(Conv\): its per-sample output \[2, 100002, 100002\] needs 149 GiB/,
      );
    });
    it('a Conv whose im2col buffer would hold 2.6e9 values per image (info, eval)', async () => {
      const msg = /node 'wide' \(Conv\): its im2col buffer \(2601 taps x 1000000 outputs\) needs 39 GiB/;
      expectRefused(await fxpqRss(['info', p('conv-im2col.onnx')]), 1, msg, LIMIT_8G);
      expectRefused(await fxpqRss(['eval', p('conv-im2col.onnx'), '--data', p('x.npy')]), 1, msg);
    });
    it('a Conv whose one image does not fit the 4 GiB of WebAssembly memory', async () => {
      expectRefused(
        await fxpqRss(['info', p('conv-wasm.onnx')]),
        1,
        /node 'fan' \(Conv\): one image needs 9\.1 GiB of WebAssembly memory, more than the 4 GiB it can address/,
      );
    });
    it('a MaxPool window of 60000x60000 taps', async () => {
      expectRefused(
        await fxpqRss(['info', p('pool-window.onnx')]),
        1,
        /node 'wide' \(MaxPool\): its 5x5 outputs of 60000x60000 taps needs 335 GiB/,
      );
    });
  });

  describe('.npy headers', () => {
    const onnxEval = (f: string) => fxpqRss(['eval', p('good.onnx'), '--data', p(f)]);
    const simulate = (f: string) => fxpqRss(['simulate', p('q8/model.fxp.json'), '--data', p(f)]);
    it('a NaN dimension (eval, simulate)', async () => {
      const msg = /nan\.npy: \.npy shape \(nan, 1, 4, 4\) has the dimension 'nan'; every dimension must be a whole, non-negative number/;
      expectRefused(await onnxEval('nan.npy'), 1, msg);
      expectRefused(await simulate('nan.npy'), 1, msg);
    });
    it('a negative dimension (eval, simulate)', async () => {
      const msg = /negative\.npy: \.npy shape \(-5, 1, 4, 4\) has the dimension '-5'/;
      expectRefused(await onnxEval('negative.npy'), 1, msg);
      expectRefused(await simulate('negative.npy'), 1, msg);
    });
    it('a fractional dimension (eval, simulate)', async () => {
      const msg = /fraction\.npy: \.npy shape \(2\.5, 1, 4, 4\) has the dimension '2\.5'/;
      expectRefused(await onnxEval('fraction.npy'), 1, msg);
      expectRefused(await simulate('fraction.npy'), 1, msg);
    });
    it('a huge dimension over 320 bytes of data (eval, simulate)', async () => {
      const msg = /huge\.npy: truncated \.npy data \(expected 6400000000000 bytes for shape \[100000000000, 1, 4, 4\], found 320\)/;
      expectRefused(await onnxEval('huge.npy'), 1, msg);
      expectRefused(await simulate('huge.npy'), 1, msg);
    });
    it('shape (2^62,)', async () => {
      expectRefused(
        await onnxEval('2p62.npy'),
        1,
        /2p62\.npy: \.npy shape: shape \[4611686018427388000\] has more elements than can be counted/,
      );
    });
    it('a header length pointing past the end of the file (eval, simulate)', async () => {
      const msg = /header-past-end\.npy: truncated \.npy header \(it claims 60000 bytes/;
      expectRefused(await onnxEval('header-past-end.npy'), 1, msg);
      expectRefused(await simulate('header-past-end.npy'), 1, msg);
    });
    it('a version 2 header length of 4 GiB', async () => {
      expectRefused(
        await onnxEval('header-4g.npy'),
        1,
        /header-4g\.npy: \.npy header of 4294967295 bytes is longer than the 1048576 allowed/,
      );
    });
    it('data longer than the shape says', async () => {
      expectRefused(
        await simulate('trailing.npy'),
        1,
        /trailing\.npy: \.npy data holds 324 bytes, more than the 320 of shape \[5, 1, 4, 4\]/,
      );
    });
  });

  describe('.fxp.json', () => {
    const commands = (m: string): string[][] => [
      ['eval', m, '--data', p('x.npy')],
      ['generate', m, '--out', p('never-rtl')],
      ['simulate', m, '--data', p('x.npy')],
      ['estimate', m],
    ];
    it('an input shape of [1, 100000, 100000] in a 1 KB file (eval, generate, simulate, estimate)', async () => {
      const m = fxp('huge-input.fxp.json', gapOnly([1, 100000, 100000]));
      expect(readFileSync(m).length).toBeLessThan(2048);
      for (const c of commands(m))
        expectRefused(
          await fxpqRss(c),
          1,
          /huge-input\.fxp\.json: field input\.shape: per-sample input \[1, 100000, 100000\] needs 75 GiB/,
          LIMIT_8G,
        );
      expect(existsSync(p('never-rtl'))).toBe(false);
    });
    it('an input of [1, 4000, 4000]: one sample fits, the hardware plan does not (generate, simulate, estimate)', async () => {
      const m = fxp('big-plan.fxp.json', gapOnly([1, 4000, 4000]));
      for (const c of commands(m).slice(1)) {
        expectRefused(
          await fxpqRss(c),
          1,
          /^fxpq: error: the hardware plan of 'good': the input buffer \[1, 4000, 4000\] with its test vectors needs 12 GiB \(1\.600e\+7 elements\)/,
          LIMIT_8G,
        );
      }
      expect(existsSync(p('never-rtl'))).toBe(false);
    });
    it('a weight array shorter than its declared shape (eval, generate, simulate, estimate)', async () => {
      const m = fxp('short-w.fxp.json', (f) => {
        f.layers[0].weights.data = Buffer.from(f.layers[0].weights.data, 'base64')
          .subarray(0, 17 * 4)
          .toString('base64');
      });
      for (const c of commands(m))
        expectRefused(await fxpqRss(c), 1, /layer '[^']+' field weights\.data: 17 values for shape \[2, 1, 3, 3\]/);
    });
    it('a weight array longer than its declared shape', async () => {
      const m = fxp('long-w.fxp.json', (f) => {
        f.layers[2].weights.data = Buffer.concat([Buffer.from(f.layers[2].weights.data, 'base64'), Buffer.alloc(8)]).toString('base64');
      });
      expectRefused(await fxpqRss(['generate', m, '--out', p('never-rtl')]), 1, /field weights\.data: 26 values for shape \[3, 8\]/);
    });
    it('a huge output channel count over a short weight array (eval, generate, simulate, estimate)', async () => {
      const m = fxp('huge-cout.fxp.json', (f) => {
        f.layers[2].weights.shape = [1e9, 8];
        f.layers[2].outputShape = [1e9];
      });
      for (const c of commands(m))
        expectRefused(await fxpqRss(c), 1, /field weights\.shape \[1000000000, 8\] needs 30 GiB \(8\.000e\+9 elements\)/, LIMIT_8G);
    });
    it('a conv padded by 50,000 on each side', async () => {
      const m = fxp('huge-pads.fxp.json', (f) => {
        f.layers[0].attrs.pads = [50000, 50000, 50000, 50000];
        f.layers[0].outputShape = [2, 100002, 100002];
      });
      expectRefused(
        await fxpqRss(['eval', m, '--data', p('x.npy')]),
        1,
        /field outputShape: per-sample output \[2, 100002, 100002\] needs 149 GiB/,
      );
    });
    it('negative and fractional dimensions (eval, generate)', async () => {
      const neg = fxp('neg.fxp.json', (f) => {
        f.input.shape = [1, -4, 4];
      });
      const frac = fxp('frac.fxp.json', (f) => {
        f.layers[0].weights.shape = [2, 1, 1.5, 3];
      });
      expectRefused(
        await fxpqRss(['eval', neg, '--data', p('x.npy')]),
        1,
        /neg\.fxp\.json: field input\.shape\.1: Too small: expected number to be >0/,
      );
      expectRefused(
        await fxpqRss(['generate', frac, '--out', p('never-rtl')]),
        1,
        /frac\.fxp\.json: layer '[^']+' \(layers\[0\]\) field weights\.shape\.2: Invalid input: expected int, received number/,
      );
    });
    it('six pad layers of 1.2e8 elements in a 2 KB file: refused by their total (eval, simulate)', async () => {
      const m = fxp('padchain.fxp.json', (f) => {
        f.input.shape = [1, 1, 1];
        f.output = 'p5';
        const fm = f.input.format;
        f.layers = Array.from({ length: 6 }, (_, i) => ({
          name: `p${i}`,
          kind: 'pad',
          inputs: [i === 0 ? f.input.name : `p${i - 1}`],
          output: `p${i}`,
          outputShape: [1, 11001, 11001],
          formats: { inputs: [fm], output: fm },
          attrs: { pads: i === 0 ? [0, 0, 11000, 11000] : [0, 0, 0, 0] },
        }));
      });
      expect(readFileSync(m).length).toBeLessThan(4096);
      const msg = /padchain\.fxp\.json: the weights and one sample's activations need more than the memory limit of 1\.0 GiB in all/;
      expectRefused(await fxpqRss(['eval', m, '--data', p('x.npy')], { FXPQ_MAX_MEMORY: '1' }), 1, msg);
      expectRefused(await fxpqRss(['simulate', m, '--data', p('x.npy'), '--max-memory', '1']), 1, msg);
    });
    it('clip bounds beyond 2^32 do not wrap into range', async () => {
      const m = fxp('actwrap.fxp.json', (f) => {
        f.layers[2].attrs.act = { kind: 'clip', min: 0, max: 1, lo: 2 ** 32 + 3, hi: 2 ** 32 + 200 };
      });
      expectRefused(
        await fxpqRss(['eval', m, '--data', p('x.npy')]),
        1,
        /layer '[^']+' field attrs\.act: value 4294967299 at index 0 does not fit/,
      );
    });
    it('tensor names __proto__, constructor, toString, hasOwnProperty (eval, simulate, generate)', async () => {
      const m = fxp('proto-names.fxp.json', (f) => {
        const names = ['__proto__', 'toString', 'hasOwnProperty'];
        const rename = new Map<string, string>([
          [f.input.name, 'constructor'],
          ...f.layers.map((l: any, i: number) => [l.output, names[i]] as [string, string]),
        ]);
        f.input.name = 'constructor';
        f.output = rename.get(f.output);
        f.layers.forEach((l: any, i: number) => {
          l.inputs = l.inputs.map((x: string) => rename.get(x) ?? x);
          l.output = names[i];
          l.name = ['constructor', '__proto__', 'valueOf'][i];
        });
      });
      for (const c of [
        ['eval', m, '--data', p('x.npy')],
        ['simulate', m, '--data', p('x.npy')],
        ['generate', m, '--out', p('rtl-proto')],
      ]) {
        const res = await fxpqRss(c);
        expect(res.code, `${c.join(' ')}: ${res.stderr}`).toBe(0);
      }
    });
    it('a dimension beyond 2^53', async () => {
      const m = fxp('2p60.fxp.json', (f) => {
        f.input.shape = [2 ** 60, 1, 1];
      });
      expectRefused(
        await fxpqRss(['estimate', m]),
        1,
        /2p60\.fxp\.json: field input\.shape\.0: Too big: expected int to be <=9007199254740991/,
      );
    });
  });

  describe('the limit itself', () => {
    it('the default lets every zoo model through', async () => {
      const models = readdirSync('models').filter((f) => f.endsWith('.onnx'));
      expect(models.length).toBeGreaterThanOrEqual(4);
      for (const m of models) {
        const res = await fxpqRss(['info', join('models', m), '--json']);
        expect(res.code, `${m}: ${res.stderr}`).toBe(0);
      }
    });
    it('FXPQ_MAX_MEMORY=0.001 (1 MiB) stops a zoo model at import with the limit message', async () => {
      expectRefused(
        await fxpqRss(['info', 'models/vgg_bn.onnx'], { FXPQ_MAX_MEMORY: '0.001' }),
        1,
        /models\/vgg_bn\.onnx: the constants and one sample's activations need more than the memory limit of 1\.0 MiB in all \(raise it with --max-memory GiB\)/,
      );
    });
  });
});
