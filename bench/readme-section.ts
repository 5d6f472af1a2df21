import { readFileSync, writeFileSync } from 'node:fs';

/** Replaces (or appends) the section `## heading` of a markdown file with `body`. */
export function writeSection(path: string, heading: string, body: string): void {
  const text = readFileSync(path, 'utf8');
  const head = `## ${heading}`;
  const at = text.indexOf(head);
  const before = at >= 0 ? text.slice(0, at) : text.trimEnd() + '\n\n';
  const rest = at >= 0 ? text.slice(at + head.length) : '';
  const next = rest.search(/\n## /);
  // A last section ends the file with exactly one newline.
  const after = next >= 0 ? rest.slice(next) : '';
  writeFileSync(path, `${before}${head}\n\n${body.trim()}\n${after}`);
  console.log(`updated ${path} (${heading})`);
}
