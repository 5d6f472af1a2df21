/* eslint-disable no-control-regex -- the test looks for control characters in the CLI output */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FxpqError } from '../src/errors.js';
import { guardText } from '../src/cli/output-guard.js';
import { checkGenerated, checkTop, DESIGN_SYSTEM_TASKS, TB_SYSTEM_TASKS, verilogName } from '../src/hw/generate.js';
import { renderDesign, TEMPLATE_DIR } from '../src/hw/render.js';
import { encodeNpy } from '../src/io/npy.js';
import { buildModel, randn, rng } from '../src/onnx/builder.js';
import { asciiJson, commentText, terminalText } from '../src/util/text.js';
import { CLI, fxpqAsync, fxpqAwait, spawnAsync, tempDir } from './helpers/cli.js';
import { icarusBuild, lint } from './helpers/rtl.js';

/**
 * Names from an ONNX model and fields of a .fxp.json never become code: in the generated Verilog
 * and Markdown they stay inside their comment or table cell (visible escapes), identifiers are
 * generated, terminal output carries no raw control/bidi characters, --json output is ASCII JSON.
 * The names below tried to run shell commands through Verilator's $system, write files through
 * Icarus's $fopen/$fwrite, end comments, define macros and drive the terminal.
 */

const dir = tempDir('fxpq-hostile-');
const p = (f: string) => join(dir, f);
const SENT = ['SENT_A', 'SENT_B', 'SENT_C', 'SENT_D', 'SENT_E'].map(p);
const LONG = 'L'.repeat(10000);

const N = {
  conv: `conv\ninitial $system("touch ${SENT[0]}");\n// */ /* \`define X 1 \\`,
  relu: 'relu\x1b[31m',
  r: `r\ninteger fd; initial begin fd = $fopen("${SENT[1]}", "w"); $fwrite(fd, "x"); $fclose(fd); end\n//`,
  pool: `pool\x1b]0;title\x07\x1b[2J\x9b\u202e\u0000../../etc/passwd${LONG}`,
  p: '`define fxpq 1\r\n`timescale 1s/1s\u2028\u2029\u200b\u00e9\u4e2d',
  flat: 'flat\\',
  f: 'f*/',
  gemm: 'gemm\n\n',
  y: `y\ninitial $system("touch ${SENT[2]}");\n//`,
};
const LAYER_NAMES = [N.conv, N.relu, N.pool, N.flat, N.gemm];

/** Raw characters a terminal must never receive from a name. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const PRINTABLE = /^[\x20-\x7e\n]*$/;
const sentinelsAbsent = () => SENT.filter((s) => existsSync(s));

beforeAll(async () => {
  const r = rng(3);
  writeFileSync(
    p('h.onnx'),
    buildModel({
      inputShape: ['N', 1, 4, 4],
      inits: [
        { name: 'w\nx', dims: [2, 1, 3, 3], values: randn(r, 18) },
        { name: 'fw', dims: [3, 2], values: randn(r, 6) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w\nx'], outputs: ['c'], name: N.conv },
        { op: 'Relu', inputs: ['c'], outputs: [N.r], name: N.relu },
        { op: 'MaxPool', inputs: [N.r], outputs: [N.p], name: N.pool, attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Flatten', inputs: [N.p], outputs: [N.f], name: N.flat },
        { op: 'Gemm', inputs: [N.f, 'fw'], outputs: [N.y], name: N.gemm, attrs: { transB: 1 } },
      ],
    }),
  );
  writeFileSync(
    p('unsupported.onnx'),
    buildModel({
      inputShape: ['N', 4],
      nodes: [
        { op: 'Tanh', inputs: ['x'], outputs: ['t'], name: 'tanh\n\x1b]0;pwned\x07\x1b[2J\u202e' },
        { op: 'Relu', inputs: ['t'], outputs: ['y'] },
      ],
    }),
  );
  writeFileSync(p('x.npy'), encodeNpy('float32', [8, 1, 4, 4], randn(r, 128)));
  const q = await fxpqAwait('quantize', p('h.onnx'), '--calib', p('x.npy'), '--uniform', '8', '--out', p('q'), '--json');
  if (q.code !== 0) throw new Error(`quantize of the hostile model failed: ${q.stderr}`);
  // The same network with a hostile .fxp.json: source file and layer names.
  const j = JSON.parse(readFileSync(p('q/model.fxp.json'), 'utf8'));
  j.source.file = `../../etc/evil\ninitial $system("touch SENT_D");\n\`define Y.onnx`;
  j.layers[0].name = `c0\ninitial $system("touch ${SENT[3]}");\n//`;
  j.layers[1].name = `m1\ninteger fd; initial begin fd = $fopen("${SENT[4]}", "w"); $fwrite(fd, "x"); end\n//\x1b[2J`;
  j.layers[3].name = `d3\u202e\\`;
  mkdirSync(p('fxp'));
  writeFileSync(p('fxp/model.fxp.json'), JSON.stringify(j));
});

describe('text.ts', () => {
  it('commentText escapes newlines, quotes, comment and directive characters', () => {
    expect(commentText('a\nb\r')).toBe('a\\x0ab\\x0d');
    expect(commentText('x*/y/*z')).toBe('x\\x2a/y/\\x2az');
    expect(commentText('$system("touch s")')).toBe('$system(\\x22touch s\\x22)');
    expect(commentText('`define A | <b>')).toBe('\\x60define A \\x7c \\x3cb\\x3e');
    expect(commentText('end\\')).toBe('end\\x5c');
    expect(commentText('/net/net.0/Conv_output_0')).toBe('/net/net.0/Conv_output_0');
  });
  it('commentText escapes every non-ASCII code point and cuts long text at an escape boundary', () => {
    expect(commentText('\u202e\u00e9\u4e2d\u{1f600}\ud800\x00\x7f\x9b')).toBe('\\u{202e}\\xe9\\u{4e2d}\\u{1f600}\\u{d800}\\x00\\x7f\\x9b');
    expect(commentText(LONG)).toBe('L'.repeat(93) + '...');
    expect(commentText('a'.repeat(92) + '\n')).toBe('a'.repeat(92) + '\\x0a');
    expect(commentText('a'.repeat(91) + '\n\n')).toBe('a'.repeat(91) + '...');
    expect(commentText('abcdef', 5)).toBe('ab...');
  });
  it('commentText: printable ASCII, no *, never ends with a backslash, at most max characters, deterministic', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 4, max: 200 }), (s, max) => {
        const t = commentText(s, max);
        expect(t).toMatch(/^[\x20-\x7e]*$/);
        expect(t).not.toMatch(/[*`|<>"]/);
        expect(t.endsWith('\\')).toBe(false);
        expect(t.length).toBeLessThanOrEqual(max);
        expect(commentText(s, max)).toBe(t);
      }),
      { numRuns: 500 },
    );
  });
  it('terminalText escapes controls, bidi and format characters, keeps letters of any script', () => {
    expect(terminalText('conv\x1b[2J\x1b]0;t\x07')).toBe('conv\\x1b[2J\\x1b]0;t\\x07');
    expect(terminalText('a\u202eb\u2066c\u200bd\u2028')).toBe('a\\u{202e}b\\u{2066}c\\u{200b}d\\u{2028}');
    expect(terminalText('\x9b31m\x7f')).toBe('\\x9b31m\\x7f');
    expect(terminalText('a\nb\tc\0')).toBe('a\\x0ab\\x09c\\x00');
    expect(terminalText('café 中文 ñ /net/0')).toBe('café 中文 ñ /net/0');
    expect(terminalText('x'.repeat(200))).toBe('x'.repeat(117) + '...');
  });
  it('asciiJson is pure ASCII and parses back to the same value', () => {
    expect(asciiJson({ n: '\u00e9\u2028\u{1f600}\x7f\n' })).toBe('{"n":"\\u00e9\\u2028\\ud83d\\ude00\\u007f\\n"}');
    expect(asciiJson({ a: [1, 'b'] }, 2)).toBe(JSON.stringify({ a: [1, 'b'] }, null, 2));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.string({ unit: 'binary' }), (v, s) => {
        for (const x of [v, { [s]: s }]) {
          const t = asciiJson(x, 1);
          expect(t).toMatch(/^[\x20-\x7e\n]*$/);
          expect(JSON.parse(t)).toEqual(JSON.parse(JSON.stringify(x)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('output guard', () => {
  it('escapes controls, C1 and bidi; keeps colour codes, newlines and tabs', () => {
    expect(guardText('a\x1b]0;t\x07b\x1b[2J\n', false)).toBe('a\\u001b]0;t\\u0007b\\u001b[2J\n');
    expect(guardText('\x1b[31mred\x1b[39m\tx\n', false)).toBe('\x1b[31mred\x1b[39m\tx\n');
    expect(guardText('\x9b\u202e\u2066\x00\x7f', false)).toBe('\\u009b\\u202e\\u2066\\u0000\\u007f');
  });
  it("keeps the progress bar's \\r and erase-line on a terminal only", () => {
    expect(guardText('\rbar [###---] 3/6', true)).toBe('\rbar [###---] 3/6');
    expect(guardText('\r\x1b[2K', true)).toBe('\r\x1b[2K');
    // Anywhere else they would let a name overwrite what was printed before it.
    expect(guardText('\rbar\x1b[2K', true)).toBe('\rbar\\u001b[2K');
    expect(guardText('a\rb', true)).toBe('a\\u000db');
    expect(guardText('\rbar\x1b[2K', false)).toBe('\\u000dbar\\u001b[2K');
  });
  it('an error line stays one line: newlines and colour codes in the message are escaped', () => {
    expect(guardText("\x1b[31mfxpq: error: \x1b[39mnode 'a\nb\x1b[31m\r'\n", true)).toBe(
      "\x1b[31mfxpq: error: \x1b[39mnode 'a\\u000ab\\u001b[31m\\u000d'\n",
    );
    expect(guardText('fxpq: internal error: x\ny\n', false)).toBe('fxpq: internal error: x\\u000ay\n');
  });
  it('installOutputGuard wraps string and byte writes on stdout and stderr', async () => {
    const guard = join(CLI, '..', 'output-guard.js');
    const code = `const { installOutputGuard } = await import(${JSON.stringify(`file://${guard}`)}); installOutputGuard(); installOutputGuard();
process.stdout.write('a\\x1b[2Jb\\n'); process.stdout.write(Buffer.from('c\\u202ed\\n')); process.stderr.write('e\\x9bf\\n', () => {}); console.log(JSON.stringify({ k: '\\x1b' }));`;
    const r = await spawnAsync(process.execPath, ['--input-type=module', '-e', code]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('a\\u001b[2Jb\nc\\u202ed\n{"k":"\\u001b"}\n');
    expect(r.stderr).toBe('e\\u009bf\n');
  });
});

describe('generated identifiers and the defence-in-depth check', () => {
  it('verilogName makes identifiers, never keywords, at most 64 characters', () => {
    expect(verilogName('mlp')).toBe('mlp');
    expect(verilogName('fxpq_vgg-bn')).toBe('fxpq_vgg_bn');
    expect(verilogName('module')).toBe('m_module');
    expect(verilogName('9x')).toBe('m_9x');
    expect(verilogName('a\nb$c')).toBe('a_b_c');
    expect(verilogName('../../etc')).toBe('m__etc');
    expect(verilogName(LONG)).toMatch(/^L{55}_[0-9a-f]{8}$/);
    expect(verilogName(LONG)).not.toBe(verilogName(LONG + 'x'));
  });
  it('checkTop accepts identifiers and rejects the rest with one line', () => {
    expect(() => checkTop('my_top')).not.toThrow();
    const msg = (t: string) => {
      try {
        checkTop(t);
        return null;
      } catch (e) {
        expect(e).toBeInstanceOf(FxpqError);
        return (e as Error).message;
      }
    };
    expect(msg('9bad')).toBe("--top '9bad' is not a Verilog identifier");
    expect(msg('module')).toBe("--top 'module' is a reserved word of Verilog/SystemVerilog");
    expect(msg('logic')).toBe("--top 'logic' is a reserved word of Verilog/SystemVerilog");
    expect(msg('a\nb')).toBe("--top 'a\\x0ab' is not a Verilog identifier");
    expect(msg('t'.repeat(101))).toBe(`--top '${'t'.repeat(57)}...' is longer than 100 characters`);
  });
  it('checkGenerated rejects system tasks, directives and block comments outside comments, and non-ASCII', () => {
    const ok =
      '// x.v: $system("touch s") in a comment is text\nmodule m;\n    /* verilator lint_off UNUSEDSIGNAL */\n    wire [3:0] a = $signed(4\'d1);\nendmodule\n';
    expect(() => checkGenerated({ 'x.v': ok })).not.toThrow();
    expect(() => checkGenerated({ 'x.v': 'module m;\n$system("touch s");\nendmodule\n' })).toThrow(
      /^generated x\.v:2: system task \$system is not one the templates use$/,
    );
    expect(() => checkGenerated({ 'x.v': 'initial fd = $fopen("s", "w");\n' })).toThrow(/system task \$fopen/);
    expect(() => checkGenerated({ 'tb.v': 'initial fd = $fopen("s", "w"); // fine in the test bench\n' })).not.toThrow();
    expect(() => checkGenerated({ 'x.v': '`define A 1\n' })).toThrow(/directive `define/);
    expect(() => checkGenerated({ 'x.v': 'wire a; /* x */\n' })).toThrow(/unexpected block comment/);
    expect(() => checkGenerated({ 'README.md': '# caf\u00e9\n' })).toThrow(
      /^generated README\.md is not printable ASCII: \\xe9 at offset 5$/,
    );
    expect(() => checkGenerated({ 'x_w.hex': '00\t\n' })).toThrow(/not printable ASCII/);
    expect(() => checkGenerated({ '../x.v': '\n' })).toThrow(/not a plain file name/);
  });
  it('the renderer refuses a top module name that is not an identifier (a caller bug: plain Error)', () => {
    const plan = { engines: [], buffers: [] } as unknown as Parameters<typeof renderDesign>[0];
    expect(() => renderDesign(plan, { top: 'x;\n$system("y")', source: 's' })).toThrow(
      /^render: the top module name 'x;\\x0a\$system\(\\x22y\\x22\)' is not a Verilog identifier$/,
    );
    expect(() => renderDesign(plan, { top: 'wire', source: 's' })).toThrow(/^render: the top module name 'wire' is a reserved word/);
  });
  it('the allow-lists hold exactly the system tasks the templates use', () => {
    const used = (f: string) => new Set(readFileSync(join(TEMPLATE_DIR, f), 'utf8').match(/\$[A-Za-z0-9_$]+/g) ?? []);
    const design = new Set<string>(['$signed']); // written by render.ts
    for (const f of readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith('.v.hbs') && f !== 'tb.v.hbs'))
      for (const t of used(f)) design.add(t);
    expect([...design].sort()).toEqual([...DESIGN_SYSTEM_TASKS].sort());
    expect([...used('tb.v.hbs')].sort()).toEqual([...TB_SYSTEM_TASKS].sort());
  });
});

describe('hostile names from an ONNX model', () => {
  it('fxpq info: names escaped on their own row, no raw control or bidi character', async () => {
    const r = await fxpqAwait('info', p('h.onnx'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 2 + 5 + 1);
    expect(lines[3]).toMatch(/^conv\\x0ainitial \$system\("touch .*SENT_A"\);\\x0a\/\/ \*\/ \/\* `define X 1 \\ +conv /);
    expect(lines[4]).toMatch(/^relu\\x1b\[31m +relu /);
    expect(lines[5]).toMatch(/^pool\\x1b\]0;title\\x07\\x1b\[2J\\x9b\\u\{202e\}\\x00\.\.\/\.\.\/etc\/passwdL+\.\.\. +maxpool /);
    expect(lines[7]).toMatch(/^gemm\\x0a\\x0a +dense /);
  });
  it('fxpq info --json: ASCII JSON with the names exactly as in the model', async () => {
    const r = await fxpqAwait('info', p('h.onnx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(PRINTABLE);
    expect(JSON.parse(r.stdout).layers.map((l: { name: string }) => l.name)).toEqual(LAYER_NAMES);
  });
  it('fxpq quantize: table rows stay rows, --json is ASCII', async () => {
    const r = await fxpqAwait('quantize', p('h.onnx'), '--calib', p('x.npy'), '--uniform', '8', '--out', p('q2'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2 + 4 + 2);
    const j = await fxpqAwait('quantize', p('h.onnx'), '--calib', p('x.npy'), '--uniform', '8', '--out', p('q3'), '--json');
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout).toMatch(PRINTABLE);
    expect(JSON.parse(j.stdout).layers.map((l: { name: string }) => l.name)).toEqual([N.conv, N.pool, N.flat, N.gemm]);
  });
  it('an error naming a hostile node is one escaped line', async () => {
    const r = await fxpqAwait('info', p('unsupported.onnx'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toMatch(
      /^fxpq: error: unsupported op 'Tanh' in node 'tanh\\u000a\\u001b\]0;pwned\\u0007\\u001b\[2J\\u202e'; supported ops: [^\n]*\n$/,
    );
  });

  let rtl = '';
  it('fxpq generate: identifiers generated, names only inside comments, every file printable ASCII', async () => {
    rtl = p('rtl');
    const r = await fxpqAwait('generate', p('q/model.fxp.json'), '--out', rtl);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2 + 3 + 2);
    const files = readdirSync(rtl).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual([
      'README.md',
      'files.f',
      'fxpq_h.v',
      'fxpq_h_l00_conv.v',
      'fxpq_h_l00_conv_b.hex',
      'fxpq_h_l00_conv_w.hex',
      'fxpq_h_l01_maxpool.v',
      'fxpq_h_l02_dense.v',
      'fxpq_h_l02_dense_b.hex',
      'fxpq_h_l02_dense_w.hex',
      'fxpq_h_ram.v',
      'fxpq_h_requant.v',
      'fxpq_h_rom.v',
      'plan.json',
      'tb.v',
      'tb_class.hex',
      'tb_in.hex',
      'tb_out.hex',
    ]);
    for (const f of files) {
      const text = readFileSync(join(rtl, f), 'utf8');
      expect(text, f).toMatch(PRINTABLE);
      // Every line that carries a hostile name is a comment (Verilog) or a table row (README).
      for (const line of text.split('\n').filter((l) => /SENT_|passwd|define fxpq|gemm/.test(l))) {
        if (f.endsWith('.v')) expect(line.trimStart(), `${f}: ${line}`).toMatch(/^\/\/ /);
        else if (f === 'README.md') expect(line).toMatch(/^\| (l0\d_\w+|b\d) \| /);
        else expect(f).toBe('plan.json');
      }
    }
    const top = readFileSync(join(rtl, 'fxpq_h.v'), 'utf8').split('\n');
    // The temporary folder's path is inside the name; the comment is cut to 96 characters.
    expect(commentText(N.conv, 1000)).toBe(
      `conv\\x0ainitial $system(\\x22touch ${SENT[0]}\\x22);\\x0a// \\x2a/ /\\x2a \\x60define X 1 \\x5c`,
    );
    expect(top).toContain(`//   l00_conv  ${commentText(N.conv)}`);
    expect(top).toContain(
      `//   l01_maxpool  pool\\x1b\\x5d0;title\\x07\\x1b\\x5b2J\\x9b\\u{202e}\\x00../../etc/passwd${'L'.repeat(28)}...`,
    );
    expect(top).toContain(
      '    // b2: \\x60define fxpq 1\\x0d\\x0a\\x60timescale 1s/1s\\u{2028}\\u{2029}\\u{200b}\\xe9\\u{4e2d} [2x1x1] u8.6, 2 lanes per word, 1 words',
    );
    expect(top).toContain(`    // b3: y\\x0ainitial $system(\\x22touch ${SENT[2]}\\x22);\\x0a// [3x1x1] s8.6, 3 lanes per word, 1 words`);
    const plan = JSON.parse(readFileSync(join(rtl, 'plan.json'), 'utf8'));
    expect(plan.engines.map((e: { layer: string }) => e.layer)).toEqual([N.conv, N.pool, N.gemm]);
    expect(plan.buffers.map((b: { tensor: string }) => b.tensor)).toEqual(['x', N.r, N.p, N.y]);
  });
  it('the hostile design passes verilator --lint-only -Wall and iverilog -Wall silently', async () => {
    expect((await lint(rtl, 'fxpq_h')).out.trim()).toBe('');
    expect((await icarusBuild(rtl)).out.trim()).toBe('');
  });
  it('fxpq generate --json: ASCII JSON with the raw names', async () => {
    const r = await fxpqAwait('generate', p('q/model.fxp.json'), '--out', p('rtl-json'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(PRINTABLE);
    const j = JSON.parse(r.stdout);
    expect(j.top).toBe('fxpq_h');
    expect(j.plan.engines[1].layer).toBe(N.pool);
  });
  it('fxpq simulate and fxpq estimate: tables escaped, --json ASCII', async () => {
    const sim = await fxpqAwait('simulate', p('q/model.fxp.json'), '--data', p('x.npy'), '--limit', '2');
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).not.toMatch(RAW_CONTROL);
    expect(sim.stdout.split('\n')[2]).toMatch(/^l00_conv +conv\\x0ainitial \$system\("touch .*SENT_A"\);/);
    const simJ = await fxpqAwait('simulate', p('q/model.fxp.json'), '--data', p('x.npy'), '--limit', '2', '--json');
    expect(simJ.code, simJ.stderr).toBe(0);
    expect(simJ.stdout).toMatch(PRINTABLE);
    expect(JSON.parse(simJ.stdout).mismatches_vs_reference).toBe(0);
    const est = await fxpqAwait('estimate', p('q/model.fxp.json'));
    expect(est.code, est.stderr).toBe(0);
    expect(est.stdout).not.toMatch(RAW_CONTROL);
    expect(est.stdout.trimEnd().split('\n')).toHaveLength(2 + 3 + 4 + 2 + 1);
    const estJ = await fxpqAwait('estimate', p('q/model.fxp.json'), '--json');
    expect(estJ.code, estJ.stderr).toBe(0);
    expect(estJ.stdout).toMatch(PRINTABLE);
    expect(
      JSON.parse(estJ.stdout)
        .layers.map((l: { layer: string }) => l.layer)
        .slice(0, 3),
    ).toEqual([N.conv, N.pool, N.gemm]);
  });
  it('fxpq cosim --sim verilator passes and no $system command ran', async () => {
    const r = await fxpqAsync('cosim', p('q/model.fxp.json'), '--data', p('x.npy'), '--limit', '2', '--sim', 'verilator', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(PRINTABLE);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 2, mismatches: 0, sim: 'verilator' });
    expect(sentinelsAbsent()).toEqual([]);
  });
});

describe('hostile fields of a .fxp.json', () => {
  const top = 'fxpq_evil_initial_system_touch_SENT_D_define_Y';
  it('fxpq cosim --sim icarus passes and neither $system nor $fopen ran', async () => {
    const keep = p('keep');
    const r = await fxpqAsync('cosim', p('fxp/model.fxp.json'), '--data', p('x.npy'), '--limit', '2', '--sim', 'icarus', '--keep', keep);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS icarus: 2 images, 0 mismatches/);
    expect(sentinelsAbsent()).toEqual([]);
    expect(readdirSync(keep).filter((f) => /^SENT_/.test(f))).toEqual([]);
  });
  it('source file and layer names stay in comments; the default top is generated', async () => {
    const out = p('rtl-fxp');
    const r = await fxpqAwait('generate', p('fxp/model.fxp.json'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain(`${top}: 3 engines`);
    const v = readFileSync(join(out, `${top}.v`), 'utf8').split('\n');
    expect(v[0]).toBe(
      `// ${top}.v: generated by fxpq 0.1.0 from evil\\x0ainitial $system(\\x22touch SENT_D\\x22);\\x0a\\x60define Y.onnx; do not edit.`,
    );
    expect(v[3]).toBe(
      "// Top of the evil\\x0ainitial $system(\\x22touch SENT_D\\x22);\\x0a\\x60define Y accelerator. One engine per layer, each with its layer's own widths; the",
    );
    expect(commentText(`m1\ninteger fd; initial begin fd = $fopen("${SENT[4]}", "w"); $fwrite(fd, "x"); end\n//\x1b[2J`, 1000)).toBe(
      `m1\\x0ainteger fd; initial begin fd = $fopen(\\x22${SENT[4]}\\x22, \\x22w\\x22); $fwrite(fd, \\x22x\\x22); end\\x0a//\\x1b\\x5b2J`,
    );
    expect(v).toContain(
      `//   l01_maxpool  ${commentText(`m1\ninteger fd; initial begin fd = $fopen("${SENT[4]}", "w"); $fwrite(fd, "x"); end\n//\x1b[2J`)}`,
    );
    expect(v).toContain('//   l02_dense  d3\\u{202e}\\x5c');
    expect(readFileSync(join(out, 'README.md'), 'utf8').split('\n')[0]).toBe(
      `# ${top}: RTL generated by fxpq from evil\\x0ainitial $system(\\x22touch SENT_D\\x22);\\x0a\\x60define Y.onnx`,
    );
    for (const f of readdirSync(out).filter((f) => !f.startsWith('.'))) expect(readFileSync(join(out, f), 'utf8'), f).toMatch(PRINTABLE);
    expect((await lint(out, top)).out.trim()).toBe('');
  });
});

describe('--top', () => {
  it('a bad identifier is exit 1 and one line, and nothing is written', async () => {
    const cases: [string, string][] = [
      ['9bad', "--top '9bad' is not a Verilog identifier"],
      ['module', "--top 'module' is a reserved word of Verilog/SystemVerilog"],
      ['a;b', "--top 'a;b' is not a Verilog identifier"],
      ['x\n$system("touch y")', '--top \'x\\x0a$system("touch y")\' is not a Verilog identifier'],
      ['t'.repeat(101), `--top '${'t'.repeat(57)}...' is longer than 100 characters`],
    ];
    for (const [t, msg] of cases) {
      const out = p(`rtl-top-${cases.findIndex((c) => c[0] === t)}`);
      const r = await fxpqAwait('generate', p('q/model.fxp.json'), '--out', out, '--top', t);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`fxpq: error: ${msg}\n`);
      expect(existsSync(out)).toBe(false);
    }
  });
  it('a good one names the top module and every file', async () => {
    const out = p('rtl-top-ok');
    const r = await fxpqAwait('generate', p('q/model.fxp.json'), '--out', out, '--top', 'my_accel');
    expect(r.code, r.stderr).toBe(0);
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.v'))
        .sort(),
    ).toEqual([
      'my_accel.v',
      'my_accel_l00_conv.v',
      'my_accel_l01_maxpool.v',
      'my_accel_l02_dense.v',
      'my_accel_ram.v',
      'my_accel_requant.v',
      'my_accel_rom.v',
      'tb.v',
    ]);
  });
});
