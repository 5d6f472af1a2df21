/* eslint-disable no-control-regex -- this module exists to find and neutralise control characters */
import { StringDecoder } from 'node:string_decoder';

/**
 * The last line of defence between text from a model (node, tensor and graph names, file names,
 * producer strings) and the user's terminal. Tables and messages already pass names through
 * util/text.ts; this catches whatever a message built elsewhere lets through.
 *
 * `installOutputGuard()` wraps `process.stdout.write` and `process.stderr.write`: every C0 control
 * except `\n` and `\t`, DEL, every C1 control and the bidi controls (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069) are written as visible `\uXXXX` escapes. Kept as they are: SGR
 * colour sequences (`ESC [ digits/semicolons m`, what chalk writes) always, and the carriage return
 * and erase-line `ESC [2K` of the progress bars when that stream is a terminal. A write that
 * reports an error (`fxpq: error: ...`, `fxpq: internal error: ...`, as main.ts's `fail` writes it)
 * stays one line: after the prefix, newlines, tabs and colour codes are escaped too. `\u001b` inside a JSON string is still valid JSON, so `--json` output
 * stays parseable.
 */

const CONTROL = /\x1b\[[0-9;]*m|\x1b\[2K|\r|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const ANY_CONTROL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The CLI's error prefix with chalk's colour codes around it (main.ts `fail`). */
const ERROR_PREFIX = /^(?:\x1b\[[0-9;]*m)*fxpq: (?:internal )?error: (?:\x1b\[[0-9;]*m)*/;

/**
 * The colour codes fxpq's own output uses through chalk (reset, bold, dim, red, green, yellow and
 * their ends); anything else, such as conceal (8) or a background, is text from elsewhere.
 */
const CHALK_SGR = /^\x1b\[(?:0|1|2|22|31|32|33|39)m$/;

const hex4 = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The guard's transformation of one chunk of text for a stream (a terminal or not). */
export function guardText(text: string, tty: boolean): string {
  const err = ERROR_PREFIX.exec(text);
  if (err) {
    // An error line: its message may quote names, so after the prefix every control (newline,
    // tab, colour codes included) is escaped; only the final newline stays.
    const rest = text.slice(err[0].length);
    const nl = rest.endsWith('\n');
    return err[0] + (nl ? rest.slice(0, -1) : rest).replace(ANY_CONTROL, hex4) + (nl ? '\n' : '');
  }
  return text.replace(CONTROL, (m, at: number) => {
    if (m.length > 1 && m.endsWith('m') && CHALK_SGR.test(m)) return m;
    // The progress bar's redraw: a carriage return starting the chunk, an erase-line right after it.
    if (tty && ((m === '\r' && at === 0) || (m === '\x1b[2K' && at === 1 && text[0] === '\r'))) return m;
    return m.replace(/[^\x20-\x7e]/g, hex4);
  });
}

const UTF8 = new Set(['utf8', 'utf-8']);
let installed = false;

type WriteCallback = (err?: Error | null) => void;

function guardStream(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: string, encoding: BufferEncoding, cb?: WriteCallback) => boolean;
  const decoder = new StringDecoder('utf8');
  const guarded = (chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean => {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    let text: string;
    if (typeof chunk === 'string' && (encoding === undefined || UTF8.has(encoding.toLowerCase()))) text = chunk;
    else if (typeof chunk === 'string') text = decoder.write(Buffer.from(chunk, encoding));
    else if (chunk instanceof Uint8Array) text = decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else text = String(chunk);
    return write(guardText(text, Boolean(stream.isTTY)), 'utf8', cb);
  };
  stream.write = guarded as typeof stream.write;
}

/** Wraps stdout and stderr once (later calls do nothing). Call it first thing in the CLI. */
export function installOutputGuard(): void {
  if (installed) return;
  installed = true;
  guardStream(process.stdout);
  guardStream(process.stderr);
}
