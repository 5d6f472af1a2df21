/**
 * Text from users (ONNX node, tensor and graph names; .fxp.json fields; file names) made safe for
 * the places fxpq writes it. Nothing a user supplies becomes code: in generated Verilog and
 * Markdown a name only ever appears inside a comment or a table cell, through `commentText`; on a
 * terminal it goes through `terminalText`; in JSON through `asciiJson`. All functions are pure and
 * deterministic.
 */

/** The visible escape of one code point: `\xHH` below 0x100, else `\u{H...}` (lower-case hex). */
export const escapeCodePoint = (cp: number): string => (cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`);

/** Joins escaped pieces, cutting at a piece boundary so that the result has at most `max` characters. */
function fit(pieces: string[], max: number): string {
  let total = 0;
  for (const p of pieces) total += p.length;
  if (total <= max) return pieces.join('');
  const ell = '...';
  if (max <= ell.length) return ell.slice(0, Math.max(0, max));
  let out = '',
    n = 0;
  for (const p of pieces) {
    if (n + p.length > max - ell.length) break;
    out += p;
    n += p.length;
  }
  return out + ell;
}

/** Printable ASCII that would end a comment, start a directive, or mean something in Markdown/HTML. */
const COMMENT_SPECIAL = new Set(['\\', '`', '*', '|', '<', '>', '"', '[', ']']);

/**
 * Text for a Verilog `//` comment or a generated Markdown line or table cell. Only printable ASCII
 * (0x20-0x7E) survives; every other code point (newlines, escape sequences, bidi controls, any
 * non-ASCII letter, lone surrogates) and the backslash, backtick, `*` (so neither `/*` nor `*\/` can
 * form), `|`, `<`, `>`, `"`, `[` and `]` (no Markdown link or image) become visible escapes such as `\x0a` or `\u{202e}`. Cut to at most
 * `max` characters, ending in `...` when cut, and never in the middle of an escape, so the result
 * never ends with a backslash.
 */
export function commentText(s: string, max = 96): string {
  const pieces: string[] = [];
  for (const ch of String(s)) {
    const cp = ch.codePointAt(0)!;
    pieces.push(cp >= 0x20 && cp <= 0x7e && !COMMENT_SPECIAL.has(ch) ? ch : escapeCodePoint(cp));
  }
  return fit(pieces, max);
}

/**
 * Code points a terminal must not receive raw from a name: C0 controls (all of them, newline and
 * tab included: a name stays on its line), DEL, C1 controls, line and paragraph separators, format
 * characters (bidi embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the marks
 * U+200E/U+200F/U+061C, zero-width characters, BOM), lone surrogates, private-use and unassigned
 * code points.
 */
const TERMINAL_UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/**
 * A name for a terminal table or an error message: control, bidi and other format characters become
 * visible escapes (`\x1b`, `\u{202e}`); ordinary letters of any script stay. Cut to `max`
 * characters with `...`.
 */
export function terminalText(s: string, max = 120): string {
  const pieces: string[] = [];
  for (const ch of String(s)) pieces.push(TERMINAL_UNSAFE.test(ch) ? escapeCodePoint(ch.codePointAt(0)!) : ch);
  return fit(pieces, max);
}

/**
 * JSON.stringify whose output is pure ASCII: every UTF-16 unit from 0x7F up (so also U+2028 and
 * U+2029, and each half of a surrogate pair) is written as `\uXXXX`. It parses back to the same
 * value. `undefined` (which JSON.stringify does not encode) gives `null`.
 */
export function asciiJson(value: unknown, space?: number): string {
  const s = JSON.stringify(value, null, space) as string | undefined;
  if (s === undefined) return 'null';
  return s.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether s is printable ASCII (0x20-0x7E) plus newlines only. */
export const isPrintableAscii = (s: string): boolean => /^[\x20-\x7e\n]*$/.test(s);
