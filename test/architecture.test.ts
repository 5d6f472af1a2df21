import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

/** Every TypeScript source under the given top-level folders, relative to the repository root. */
function sources(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d))) {
      const p = join(d, e);
      if (statSync(join(ROOT, p)).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
    }
  };
  dirs.forEach(walk);
  return out.sort();
}

/**
 * Relative imports of each file, type-only ones included (a type cycle is still two modules that
 * cannot be understood apart): `import ... from`, `export ... from`, `import '...'` and `import()`.
 */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const spec =
    /(?:^|\n)\s*(?:import|export)\s[^'";]*?\sfrom\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g;
  return new Map(
    files.map((f) => {
      const text = readFileSync(join(ROOT, f), 'utf8');
      const deps = new Set<string>();
      for (const m of text.matchAll(spec)) {
        const target = normalize(join(dirname(f), m[1] ?? m[2] ?? m[3])).replace(/\.js$/, '.ts');
        if (known.has(target)) deps.add(target);
      }
      return [f, [...deps]];
    }),
  );
}

/** Strongly connected components of more than one module (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(),
    low = new Map<string, number>(),
    stack: string[] = [],
    on = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    on.add(v);
    for (const w of g.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('module structure', () => {
  const files = sources(['src', 'sim', 'bench', 'test']);

  it('has no import cycles, type-only imports included', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(cycles(importGraph(files))).toEqual([]);
  });

  it('the cycle check finds a cycle when there is one', () => {
    // Two real modules that import one another, as src/quant/fuse.ts and compensate.ts once did.
    const g = importGraph(files);
    const fuse = 'src/quant/fuse.ts',
      comp = 'src/quant/compensate.ts';
    expect(g.get(comp)).toContain(fuse);
    g.set(fuse, [...g.get(fuse)!, comp]);
    const found = cycles(g);
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual(expect.arrayContaining([comp, fuse]));
  });

  it('reads type-only and re-export imports as edges', () => {
    const g = importGraph(files);
    expect(g.get('src/quant/fuse.ts')).toContain('src/quant/compensation.ts'); // import type
    expect(g.get('src/quant/compensate.ts')).toContain('src/quant/compensation.ts'); // export type ... from
  });

  it('keeps benchmarks and tests apart: neither imports the other, and nothing in src or sim imports either', () => {
    const g = importGraph(files);
    const crossing: string[] = [];
    for (const [f, deps] of g) {
      for (const d of deps) {
        const from = f.split('/')[0],
          to = d.split('/')[0];
        if (
          (from === 'test' && to === 'bench') ||
          (from === 'bench' && to === 'test') ||
          ((from === 'src' || from === 'sim') && (to === 'test' || to === 'bench'))
        )
          crossing.push(`${f} -> ${d}`);
      }
    }
    expect(crossing).toEqual([]);
  });
});
