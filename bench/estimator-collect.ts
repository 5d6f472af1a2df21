/**
 * Collects the calibration data of the resource estimator: synthesizes microbenchmark designs
 * (src/calibration/microbench.ts) with Yosys, keeping the hierarchy (except on iCE40, below), and
 * records per spec the resources of every module (engines, requantizers, ROMs, buffers, top) and
 * the total. Appends to
 * src/calibration/data/<target>.jsonl and skips specs already there, so it can be resumed and sharded
 * over processes (one per core).
 * Usage: node dist/bench/estimator-collect.js --target xc7 [--count 120] [--set spread|simd|depthwise|grouped|concat] [--shard 0/2]
 *        [--redo avgpool,gap]
 * --redo synthesizes the recorded specs of the listed kinds (or `all`) again, whatever set wrote
 * them (after a template change), and replaces their lines where they stand, so the order that
 * --fit-count relies on is kept. Shards rewrite the file under a lock directory, one at a time.
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { generateDesign } from '../src/hw/generate.js';
import { microGraph, microSets, type MicroSpec } from '../src/calibration/microbench.js';
import { recordedSeeds, synthesizedHierarchically } from '../src/calibration/micro-kit.js';
import { synthesize, type Target } from '../src/synth/yosys.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const target = arg('target', 'xc7') as Target;
const count = Number(arg('count', '120'));
const [shard, shards] = arg('shard', '0/1').split('/').map(Number);
mkdirSync('src/calibration/data', { recursive: true });
const file = `src/calibration/data/${target}.jsonl`;
const done = recordedSeeds(file);

const res = (s: Awaited<ReturnType<typeof synthesize>>) => ({
  lut: s.lut,
  ff: s.ff,
  dsp: s.dsp,
  bram: s.bram,
  lutram: s.lutram,
  cells: s.cells,
});
// --set NAME: one of microSets() (the general spread by default; simd, and each engine's own sets).
const redo = new Set(arg('redo', '').split(',').filter(Boolean));
const set = arg('set', 'spread');
const sets = microSets();
if (!sets[set]) {
  console.error(`--set ${set}: not one of ${Object.keys(sets).join(', ')}`);
  process.exit(2);
}
const recorded = (): MicroSpec[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { spec: MicroSpec }).spec);
const specs = (
  redo.size ? recorded().filter((s) => redo.has('all') || redo.has(s.kind)) : sets[set](count).filter((s) => !done.has(s.seed))
).filter((_s, i) => i % shards === shard);
console.log(`${target}: ${specs.length} specs to synthesize${redo.size ? ' again' : ''} (shard ${shard}/${shards})`);
const record = (seed: number, line: string) => {
  if (!redo.size) {
    appendFileSync(file, line + '\n');
    return;
  }
  const lock = `${file}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const i = lines.findIndex((l) => JSON.parse(l).spec.seed === seed);
    lines[i] = line;
    writeFileSync(`${file}.tmp${shard}`, lines.join('\n') + '\n');
    renameSync(`${file}.tmp${shard}`, file);
  } finally {
    rmdirSync(lock);
  }
};
for (const spec of specs) {
  const t0 = performance.now();
  try {
    const q = microGraph(spec);
    const d = generateDesign(q, { model: 'm', source: 'microbench', macs: spec.macs, top: 'm' });
    // iCE40 flat, as users synthesize it: the iCE40 data holds totals of the flattened design.
    const r = await synthesize({ files: d.files, sources: d.sources, top: 'm', target, hierarchical: synthesizedHierarchically(target) });
    const modules: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(r.modules ?? {}))
      modules[name] = { lut: m.lut, ff: m.ff, dsp: m.dsp, bram: m.bram, lutram: m.lutram, cells: m.cells };
    record(spec.seed, JSON.stringify({ spec, total: res(r), modules }));
    console.log(
      `${spec.kind} seed ${spec.seed}: ${r.lut} LUT ${r.ff} FF ${r.dsp} DSP ${r.bram} BRAM, ${Object.keys(modules).length} modules (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  } catch (err) {
    console.log(`${spec.kind} seed ${spec.seed}: ${(err as Error).message}`);
    record(spec.seed, JSON.stringify({ spec, error: (err as Error).message }));
  }
}
