import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Stable JSON (sorted keys) so equal content always hashes the same. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const contentKey = (v: unknown): string => createHash('sha256').update(canonical(v)).digest('hex');

export const fileHash = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

let codeHash: string | null = null;
/**
 * Hash of the tool's own code (every module under src/, compiled or not), so a cached result is
 * never served to a build whose quantizer or reference differs, even at the same version number.
 */
export function codeFingerprint(): string {
  if (codeHash) return codeHash;
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts|json)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.map'))
        h.update(e.name).update(readFileSync(p));
    }
  };
  walk(root);
  return (codeHash = h.digest('hex'));
}

/**
 * A folder of JSON results keyed by the hash of everything they depend on (tool version, input
 * file contents, options), so a re-run recomputes only what changed. Entries are written to a
 * temporary name and renamed, so an interrupted run never leaves a torn entry.
 */
export class ResultCache {
  constructor(readonly dir: string | null) {}

  get<T>(key: string): T | null {
    if (!this.dir) return null;
    try {
      return JSON.parse(readFileSync(join(this.dir, `${key}.json`), 'utf8')) as T;
    } catch {
      return null; // absent or unreadable: compute again
    }
  }

  put(key: string, value: unknown): void {
    if (!this.dir) return;
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${key}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, join(this.dir, `${key}.json`));
  }
}
