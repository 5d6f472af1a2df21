import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runQGraph } from '../src/intref/run.js';
import { loadImages } from '../src/io/dataset.js';
import { parseFxp, readFxpFile } from '../src/io/fxpjson.js';
import { fxpq, tempDir } from './helpers/cli.js';

const dir = tempDir();
const model = join(dir, 'q8', 'model.fxp.json');
let base: Record<string, any>;

beforeAll(() => {
  const r = fxpq(
    'quantize',
    'models/lenet5.onnx',
    '--calib',
    'models/data/calib_x.npy',
    '--uniform',
    '8',
    '--out',
    join(dir, 'q8'),
    '--json',
  );
  expect(r.code, r.stderr).toBe(0);
  base = JSON.parse(readFileSync(model, 'utf8'));
});

/** Writes a mutated copy of the good file and returns fxpq eval's result on it. */
function evalMutated(name: string, mutate: (f: any) => void) {
  const f = structuredClone(base);
  mutate(f);
  const p = join(dir, `${name}.fxp.json`);
  writeFileSync(p, JSON.stringify(f));
  return fxpq('eval', p, '--data', 'models/data/test_x.npy', '--limit', '2');
}

function expectError(r: { code: number; stderr: string }, ...parts: RegExp[]) {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  for (const p of parts) expect(lines[0]).toMatch(p);
}

describe('.fxp.json', () => {
  it('is versioned, names its source and options, and round-trips to the same integers', () => {
    expect(base.format).toBe('fxpq.quantized-model');
    expect(base.version).toBe(1);
    expect(base.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(base.options).toMatchObject({ method: 'uniform', bits: 8 });
    expect(base.tool.name).toBe('fxpq');
    const a = readFxpFile(model).q;
    const b = parseFxp(JSON.parse(JSON.stringify(base))).q;
    const imgs = loadImages('models/data/test_x.npy', [1, 28, 28], { limit: 16 });
    expect(Array.from(runQGraph(a, imgs.data, 16).output)).toEqual(Array.from(runQGraph(b, imgs.data, 16).output));
  });

  it('quantize is deterministic: same inputs, same bytes', () => {
    const r = fxpq(
      'quantize',
      'models/lenet5.onnx',
      '--calib',
      'models/data/calib_x.npy',
      '--uniform',
      '8',
      '--out',
      join(dir, 'q8b'),
      '--json',
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'q8b', 'model.fxp.json'), 'utf8')).toBe(readFileSync(model, 'utf8'));
  });

  it('eval of a .fxp.json reports agreement with the float model', () => {
    const r = fxpq('eval', model, '--data', 'models/data/test_x.npy', '--labels', 'models/data/test_y.npy', '--limit', '200', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o).sort()).toEqual(['agreement', 'float_engine', 'images', 'seconds', 'ties', 'top1']);
    expect(o.agreement).toBeGreaterThan(95);
    expect(Number.isInteger(o.ties) && o.ties >= 0 && o.ties <= o.images).toBe(true);
  });

  it('infer --trace writes every layer as .npy with its format', () => {
    const t = join(dir, 'trace');
    const r = fxpq('infer', model, '--data', 'models/data/test_x.npy', '--index', '5', '--trace', t, '--json');
    expect(r.code).toBe(0);
    const tr = JSON.parse(readFileSync(join(t, 'trace.json'), 'utf8'));
    expect(tr.tensors).toHaveLength(base.layers.length + 1);
    const last = tr.tensors[tr.tensors.length - 1];
    expect(last.format).toEqual(base.layers[base.layers.length - 1].formats.output);
    const npy = readFileSync(join(t, last.file));
    expect(npy.subarray(1, 6).toString()).toBe('NUMPY');
    expect(JSON.parse(r.stdout).top1).toBe(tr.top1);
  });

  describe('bad files: one line naming the layer and field, non-zero exit', () => {
    it('schema: word length outside 1..32', () => {
      expectError(
        evalMutated('wl40', (f) => {
          f.layers[2].formats.weights.wl = 40;
        }),
        /layer '\/net\/net.3\/Conv' \(layers\[2\]\) field formats.weights.wl/,
        /32/,
      );
    });
    it('schema: word length 0', () => {
      expectError(
        evalMutated('wl0', (f) => {
          f.layers[0].formats.output.wl = 0;
        }),
        /layers\[0\]\) field formats.output.wl/,
      );
    });
    it('schema: a missing field and an unknown version', () => {
      expectError(
        evalMutated('noname', (f) => {
          delete f.layers[1].name;
        }),
        /layers\[1\]\) field name/,
      );
      expectError(
        evalMutated('v9', (f) => {
          f.version = 9;
        }),
        /field version/,
      );
    });
    it("a consumer whose input format differs from its producer's output", () => {
      expectError(
        evalMutated('mismatch', (f) => {
          f.layers[2].formats.inputs[0].fl += 1;
        }),
        /layer '\/net\/net.3\/Conv' field formats.inputs\[0\]: u8\.7 differs from the format u8\.6/,
      );
    });
    it('weights that do not fit their declared word length', () => {
      expectError(
        evalMutated('fit', (f) => {
          f.layers[0].formats.weights.wl = 3;
        }),
        /layer '\/net\/net.0\/Conv' field weights.data: value -?\d+ at index \d+ does not fit s3\.7/,
      );
    });
    it('weights that are not base64 int32', () => {
      expectError(
        evalMutated('b64', (f) => {
          f.layers[0].weights.data = 'abc';
        }),
        /field weights.data: data is not base64/,
      );
    });
    it('not JSON at all', () => {
      const p = join(dir, 'junk.fxp.json');
      writeFileSync(p, '{ not json');
      expectError(fxpq('eval', p, '--data', 'models/data/test_x.npy'), /not valid JSON/);
    });
  });
});
