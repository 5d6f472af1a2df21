import { engineModules } from '../hw/engines/index.js';
import type { QGraph } from '../quant/qgraph.js';
import { chooser, type MicroSpec, microNet } from './micro-kit.js';

export type { MicroSpec } from './micro-kit.js';

/**
 * Small quantized networks that exercise one kind of hardware block at chosen word lengths and
 * parallelism, for calibrating the resource estimator against synthesis. The measured layers and
 * the engine-specific spec sets live with each engine (src/hw/engines/<kind>/microbench.ts); the
 * two sets here mix engines.
 */

/** The graph of a spec: the shared first layer (micro-kit.ts), then the engine's measured layers. */
export function microGraph(s: MicroSpec): QGraph {
  const bench = engineModules().find((m) => m.microbench.kinds.includes(s.kind))?.microbench;
  if (!bench) throw new Error(`no engine measures microbenchmark kind '${s.kind}'`);
  const n = microNet(s);
  bench.build(s, n);
  return { input: 'x', output: 'y', layers: n.layers, values: n.values };
}

/** A deterministic spread of specs over word lengths 2..16, parallelism and sizes. */
export function microSpecs(count: number, seed = 1): MicroSpec[] {
  const { r, pick } = chooser(seed);
  const wls = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16];
  const kinds = ['conv', 'conv', 'conv', 'dense', 'dense', 'maxpool', 'avgpool', 'gap', 'add'];
  const specs: MicroSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length];
    const cin = pick([1, 2, 4, 8, 16]);
    specs.push({
      kind,
      seed: 1000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin,
      cout: pick([2, 4, 8, 16]),
      hw: pick([4, 6, 8]),
      k: kind === 'conv' ? pick([1, 3]) : 2,
      macs: pick([2, 4, 8, 16, 32, 64]),
    });
  }
  return specs;
}

/**
 * Wide SIMD lanes (8 and 16 products per output), which the spread above rarely reaches (its
 * multiplier budgets stop at 64): convolutions and dense layers with many input channels and few
 * outputs, so a large budget goes to SIMD. Seeds from 2000.
 */
export function simdSpecs(count: number, seed = 2): MicroSpec[] {
  const { r, pick } = chooser(seed);
  const wls = [3, 4, 5, 6, 8, 10, 12, 16];
  const specs: MicroSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3 === 2 ? 'dense' : 'conv';
    specs.push({
      kind,
      seed: 2000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin: pick([8, 16]),
      cout: pick([2, 4]),
      hw: pick([4, 6]),
      k: kind === 'conv' ? 3 : 2,
      macs: pick([32, 64, 128]),
    });
  }
  return specs;
}

/** Every spec set by name (`estimator-collect --set NAME`): the two above, then each engine's own. */
export function microSets(): Record<string, (count: number) => MicroSpec[]> {
  const sets: Record<string, (count: number) => MicroSpec[]> = { spread: microSpecs, simd: simdSpecs };
  for (const m of engineModules())
    for (const [name, f] of Object.entries(m.microbench.sets ?? {})) {
      if (sets[name]) throw new Error(`two microbenchmark sets named '${name}'`);
      sets[name] = f;
    }
  return sets;
}
