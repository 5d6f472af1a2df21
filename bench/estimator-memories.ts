/**
 * Memory mapping data for the resource estimator: one hierarchical Yosys run over a grid of the
 * generated design's storage primitives (activation RAM, weight/bias ROM with random contents,
 * output register file), each as its own module, so `stat` gives every shape's cells. Writes
 * src/calibration/data/<target>-memories.json.
 * Usage: node dist/bench/estimator-memories.js --target xc7 [--max-bits 131072] [--depths 16,32,...] [--widths 1,4,...]
 *        [--kinds ram,rom] [--out FILE]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../src/onnx/builder.js';
import { TEMPLATE_DIR } from '../src/hw/render.js';
import { synthesize, type Target } from '../src/synth/yosys.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const target = arg('target', 'xc7') as Target;
// Families without distributed RAM build small memories from flip-flops, which is slow to
// synthesize at large sizes; their block-RAM threshold lies far below the cap anyway.
const maxBits = Number(arg('max-bits', String(2 ** 17)));
const clog2 = (n: number) => (n <= 1 ? 1 : Math.ceil(Math.log2(n)));

// The primitives exactly as templated, with the module name and parameters fixed per shape.
const body = (tpl: string) =>
  readFileSync(join(TEMPLATE_DIR, `${tpl}.v.hbs`), 'utf8')
    .replace(/\{\{> header\}\}\n?/, '')
    .replace(/`default_nettype wire\n?/, '');
const kinds = { ram: body('ram'), rom: body('rom') };
const list = (name: string, dflt: string) => arg(name, dflt).split(',').map(Number);
const depths = list('depths', '16,32,64,100,128,256,512,1024,2048,4096,8192');
const widths = list('widths', '1,4,8,9,16,18,32,36,64,72,128');
const kindList = arg('kinds', 'ram,rom').split(',') as ('ram' | 'rom')[];
const outFile = arg('out', `src/calibration/data/${target}-memories.json`);
const r = rng(5);
const files: Record<string, string> = {};
const shapes: { module: string; kind: string; depth: number; width: number }[] = [];
const src: string[] = [];
for (const kind of kindList) {
  for (const depth of depths) {
    for (const width of widths) {
      if (depth * width > maxBits) continue;
      const module = `${kind}_${depth}x${width}`;
      const aw = clog2(depth);
      let text = kinds[kind]
        .replace(/module \{\{top\}\}_\w+ #\(/, `module ${module} #(`)
        .replace(/parameter integer W = \d+/, `parameter integer W = ${width}`)
        .replace(/parameter integer DEPTH = \d+/, `parameter integer DEPTH = ${depth}`)
        .replace(/parameter integer AW = \d+/, `parameter integer AW = ${aw}`);
      if (kind === 'rom') {
        const hex = Array.from({ length: depth }, () =>
          Array.from({ length: Math.ceil(width / 4) }, (_, i) => {
            const bits = i === 0 && width % 4 ? width % 4 : 4;
            return Math.floor(r() * 2 ** bits).toString(16);
          }).join(''),
        ).join('\n');
        files[`${module}.hex`] = hex + '\n';
        text = text.replace(/parameter FILE = "[^"]*"/, `parameter FILE = "${module}.hex"`);
      }
      files[`${module}.v`] = text;
      src.push(`${module}.v`);
      shapes.push({ module, kind, depth, width });
    }
  }
}
// A top that instantiates each shape once, every output folded into one bit so nothing is unused.
const lines = ['module mems (input wire clk, input wire we, input wire [31:0] a, input wire [255:0] d, output wire y);'];
const outs: string[] = [];
shapes.forEach((s, i) => {
  const aw = clog2(s.depth);
  lines.push(`  wire [${s.width - 1}:0] o${i};`);
  if (s.kind === 'rom') lines.push(`  ${s.module} u${i} (.clk(clk), .en(we), .addr(a[${aw - 1}:0]), .data(o${i}));`);
  else
    lines.push(
      `  ${s.module} u${i} (.clk(clk), .we(we), .wa(a[${aw - 1}:0]), .wd(d[${s.width - 1}:0]), .ra(a[${31}:${32 - aw}]), .rd(o${i}));`,
    );
  outs.push(`^o${i}`);
});
lines.push(`  assign y = ${outs.join(' ^ ')};`, 'endmodule');
files['mems.v'] = lines.join('\n') + '\n';
src.push('mems.v');
const t0 = performance.now();
const res = await synthesize({ files, sources: src, top: 'mems', target, hierarchical: true });
const missing = shapes.filter((s) => !res.modules?.[s.module]);
if (missing.length) throw new Error(`yosys reported no figures for ${missing.length} memory modules (was the design flattened?)`);
const out = shapes.map((s) => ({ ...s, ...res.modules![s.module] }));
mkdirSync('src/calibration/data', { recursive: true });
writeFileSync(outFile, JSON.stringify({ target, shapes: out }, null, 1) + '\n');
console.log(`${target}: ${shapes.length} memory shapes in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
for (const s of out) console.log(`${s.module.padEnd(16)} LUT ${s.lut} FF ${s.ff} BRAM ${s.bram} LUTRAM ${s.lutram}`);
