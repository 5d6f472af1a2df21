import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;
/** The fxpq package folder (bundled models and data live there), from src/ or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'fxpq') return (root = d);
    const up = dirname(d);
    if (up === d) throw new Error('cannot find the fxpq package folder');
    d = up;
  }
}
