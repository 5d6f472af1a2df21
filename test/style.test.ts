import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const DIRS = ['src', 'sim', 'bench', 'test', 'templates', 'docs', 'scripts', 'models'];
const TEXT = /\.(ts|mjs|js|hbs|md|sh|py|json)$/;

/** Every tracked-style text file of the source folders (generated WebAssembly bindings and data excluded). */
function textFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d))) {
      const p = join(d, e);
      if (statSync(join(ROOT, p)).isDirectory()) {
        if (e !== 'data' && e !== 'node_modules') walk(p);
      } else if (TEXT.test(p) && !p.endsWith('.generated.ts') && !p.endsWith('.jsonl')) out.push(p);
    }
  };
  DIRS.forEach(walk);
  return out;
}

/**
 * The whitespace rules every file keeps (the TypeScript build itself rejects unused locals and
 * parameters: tsconfig.json). A failure names the file and line.
 */
describe('source style', () => {
  it('LF line endings, no tabs, no trailing whitespace, one final newline', () => {
    const files = textFiles();
    expect(files.length).toBeGreaterThan(150);
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      if (text.includes('\r')) bad.push(`${f}: CR line ending`);
      if (text.length > 0 && (!text.endsWith('\n') || text.endsWith('\n\n'))) bad.push(`${f}: not exactly one final newline`);
      text.split('\n').forEach((line, i) => {
        if (line.includes('\t')) bad.push(`${f}:${i + 1}: tab`);
        if (/[ \t]+$/.test(line)) bad.push(`${f}:${i + 1}: trailing whitespace`);
      });
    }
    expect(bad).toEqual([]);
  });
});
