import type { Assignment } from '../quant/build.js';
import type { ValueStats } from '../quant/calibrate.js';
import type { FusedGraph } from '../quant/fuse.js';
import type { Backend } from './backend.js';
import { uniformAssignment as maxRuleAssignment } from '../quant/uniform.js';
import { dataStructures, getFormat, isActivation, withFormat } from './structures.js';

async function within(b: Backend, a: Assignment, baselineErrors: number, maxDrop: number): Promise<boolean> {
  const [v] = await b.evaluate([{ set: 'valid', a, from: 0, abortAbove: Infinity }]);
  return v.errors - baselineErrors <= (maxDrop / 100) * b.validImages;
}

/**
 * The smallest single word length for every data structure (max-rule fractions) within the budget.
 * Every width down to `minBits` is tried: on a small validation split the drop is not monotonic.
 */
export async function uniformSearch(
  fg: FusedGraph,
  stats: Map<string, ValueStats>,
  b: Backend,
  baselineErrors: number,
  maxDrop: number,
  startBits: number,
  minBits: number,
): Promise<{ assignment: Assignment; bits: number }> {
  let best = { assignment: maxRuleAssignment(fg, stats, startBits), bits: startBits };
  for (let wl = startBits - 1; wl >= Math.max(minBits, 2); wl--) {
    const a = maxRuleAssignment(fg, stats, wl);
    if (await within(b, a, baselineErrors, maxDrop)) best = { assignment: a, bits: wl };
  }
  return best;
}

/**
 * Ristretto's automatic flow: one word length for all conv weights (with their biases), one for
 * all fully connected weights, one for all activations, each swept 16, 8, 4, 2 on its own with the
 * rest at 16 bits, keeping the smallest within the budget; fraction lengths by the max rule. The
 * three choices are then combined as Ristretto does (before its optional fine-tuning).
 */
export async function ristrettoSearch(
  fg: FusedGraph,
  stats: Map<string, ValueStats>,
  b: Backend,
  baselineErrors: number,
  maxDrop: number,
): Promise<{ assignment: Assignment; bits: Record<string, number> }> {
  const base = maxRuleAssignment(fg, stats, 16);
  const ds = dataStructures(fg);
  const kindOf = (layer: string | null) => fg.layers.find((l) => l.name === layer)?.op.kind;
  const parts: Record<string, typeof ds> = {
    conv: ds.filter((d) => (d.kind === 'weights' || d.kind === 'bias') && kindOf(d.layer) === 'conv'),
    fc: ds.filter((d) => (d.kind === 'weights' || d.kind === 'bias') && kindOf(d.layer) === 'dense'),
    activations: ds.filter(isActivation),
  };
  const setPart = (a: Assignment, part: typeof ds, wl: number): Assignment => {
    for (const d of part) {
      const f = getFormat(base, d);
      const bits = Math.max(wl, f.signed ? 2 : 1);
      // Max rule at the new word length: the integer length stays, the fraction shrinks.
      a = withFormat(a, d, { wl: bits, fl: f.fl - (f.wl - bits), signed: f.signed });
    }
    return a;
  };
  const bits: Record<string, number> = {};
  let combined = base;
  for (const [name, part] of Object.entries(parts)) {
    if (part.length === 0) continue;
    let chosen = 16;
    for (const wl of [8, 4, 2]) {
      if (!(await within(b, setPart(base, part, wl), baselineErrors, maxDrop))) break;
      chosen = wl;
    }
    bits[name] = chosen;
    combined = setPart(combined, part, chosen);
  }
  return { assignment: combined, bits };
}
