import { terminalText } from '../util/text.js';

/**
 * Plain text table with right-aligned numeric columns. Every cell goes through terminalText: names
 * from a model cannot move the cursor, recolour, retitle the terminal or break a row, and a long
 * name is cut. (So cells carry no colour: chalk's codes would be shown escaped.)
 */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))].map((r) => r.map((v) => terminalText(v)));
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const line = (r: string[]) =>
    r
      .map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmtInt = (n: number): string => n.toLocaleString('en-US');
