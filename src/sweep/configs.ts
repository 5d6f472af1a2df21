import { FxpqError } from '../errors.js';
import type { Method } from '../search/quantize.js';

/** One quantization of the model; every hardware budget of the sweep is then planned for it. */
export interface QuantConfig {
  id: string;
  label: string;
  method: Method;
  /** `--uniform N`: every data structure at N bits, no search. */
  uniformBits?: number;
  maxDrop: number;
}

export interface ConfigChoice {
  uniformBits: number[];
  maxDrops: number[];
  ristretto: boolean;
}

export const DEFAULT_CHOICE: ConfigChoice = { uniformBits: [16, 8, 6, 4], maxDrops: [0.5, 1, 2], ristretto: true };
export const DEFAULT_SWEEP_MACS = [64, 256, 1024];

/** The configurations a sweep runs, in report order: uniform, FxP-QNet budgets, Ristretto. */
export function sweepConfigs(c: ConfigChoice): QuantConfig[] {
  const out: QuantConfig[] = [];
  for (const b of c.uniformBits) {
    if (!Number.isInteger(b) || b < 2 || b > 32) throw new FxpqError(`--uniform-bits: ${b} is not an integer in 2..32`);
    out.push({ id: `uniform${b}`, label: `uniform ${b}`, method: 'uniform', uniformBits: b, maxDrop: 0 });
  }
  for (const d of c.maxDrops) {
    if (!(d >= 0) || !Number.isFinite(d)) throw new FxpqError(`--max-drops: ${d} is not a non-negative number of percentage points`);
    out.push({ id: `fxpqnet-${d}`, label: `FxP-QNet (max-drop ${d})`, method: 'fxpqnet', maxDrop: d });
  }
  if (c.ristretto) out.push({ id: 'ristretto', label: 'Ristretto (max-drop 1)', method: 'ristretto', maxDrop: 1 });
  const ids = new Set(out.map((x) => x.id));
  if (ids.size !== out.length) throw new FxpqError('the sweep lists the same configuration twice');
  if (out.length === 0) throw new FxpqError('the sweep has no configuration to run');
  return out;
}

/** Parses a comma-separated list of numbers ("" gives an empty list). */
export function numberList(text: string | number | undefined, what: string): number[] | undefined {
  if (text === undefined) return undefined;
  const s = String(text).trim();
  if (s === '' || s === 'none') return [];
  return s.split(',').map((t) => {
    const v = Number(t.trim());
    if (t.trim() === '' || !Number.isFinite(v))
      throw new FxpqError(`${what}: '${t}' is not a number (expected a comma-separated list such as 16,8,4)`);
    return v;
  });
}
