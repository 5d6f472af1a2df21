import { FxpqError } from '../errors.js';

/**
 * Ranges of the numeric options, checked once for every command before it runs: yargs turns
 * `--clock abc` into NaN and `--clock 1e400` into Infinity, and neither may reach a figure.
 */
interface Range {
  min: number;
  max: number;
  integer?: boolean;
  minExclusive?: boolean;
}
const RANGES: Record<string, Range> = {
  clock: { min: 0, max: 100_000, minExclusive: true },
  macs: { min: 1, max: 1 << 20, integer: true },
  limit: { min: 1, max: 2 ** 31, integer: true },
  'test-limit': { min: 1, max: 2 ** 31, integer: true },
  'cosim-images': { min: 1, max: 2 ** 31, integer: true },
  index: { min: 0, max: 2 ** 31, integer: true },
  workers: { min: 1, max: 256, integer: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  'max-drop': { min: 0, max: 100 },
  'choose-drop': { min: 0, max: 100 },
  uniform: { min: 1, max: 32, integer: true },
  'reference-bits': { min: 0, max: 32, integer: true },
  'min-bits': { min: 1, max: 32, integer: true },
  'start-bits': { min: 1, max: 32, integer: true },
  'max-memory': { min: 0, max: 1024, minExclusive: true },
};

/** Options whose lower bound and whole-number rule no command checks itself. */
const CHECKED_HERE = new Set(['workers', 'seed', 'max-memory', 'clock', 'index']);

export function checkNumericOptions(a: Record<string, unknown>): void {
  for (const [name, r] of Object.entries(RANGES)) {
    const v = a[name];
    if (v === undefined || typeof v === 'string') continue; // sweep's --macs is a comma list, checked there
    const what = `--${name}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FxpqError(`${what} must be a finite number, got ${String(v)}`);
    if (v > r.max) throw new FxpqError(`${what} must be at most ${r.max}, got ${v}`);
    if (!CHECKED_HERE.has(name)) continue;
    if (r.integer && (!Number.isInteger(v) || v < r.min))
      throw new FxpqError(`${what} must be ${r.min === 0 ? 'a non-negative' : 'a positive'} integer, got ${v}`);
    if (v < r.min || (r.minExclusive && v === r.min))
      throw new FxpqError(`${what} must be a positive number${name === 'clock' ? ' of MHz' : ''}, got ${v}`);
  }
}
