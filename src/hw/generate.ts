import { createHash } from 'node:crypto';
import { FxpqError } from '../errors.js';
import { fmtText, maxInt, minInt } from '../fixed/format.js';
import { argmaxRows } from '../engine/run.js';
import { runQGraphInt } from '../intref/run.js';
import { rng } from '../onnx/builder.js';
import type { QGraph } from '../quant/qgraph.js';
import { engineModule } from './engines/index.js';
import { buildPlan, type HwPlan, engineSummary, type WeightPlacement } from './plan.js';
import { renderDesign, renderTestbench, streamBits, type Vectors, WEIGHT_STREAM_FILE } from './render.js';
import { identifierProblem, MAX_IDENTIFIER, VERILOG_KEYWORDS } from './verilog.js';
import { asciiJson, commentText, isPrintableAscii, terminalText } from '../util/text.js';

/** Everything `fxpq generate` writes, as file name -> contents. */
export interface GeneratedDesign {
  plan: HwPlan;
  top: string;
  files: Record<string, string>;
  /** Design sources in compile order (also written to files.f). */
  sources: string[];
}

export interface GenerateOptions {
  macs?: number;
  /** Weight ROMs (default) or the shared weight store loaded after reset. */
  weights?: WeightPlacement;
  /** Top module name; default fxpq_<model>. */
  top?: string;
  /** Model name for headers and the README. */
  model: string;
  /** Source file named in the headers. */
  source: string;
  /** Integer input vectors [images x input elements]; default: `randomImages` seeded by `seed`. */
  inputs?: Float64Array;
  images?: number;
  seed?: number;
}

/** Longest name verilogName returns; longer ones keep a prefix and a hash of the whole name. */
const MAX_DERIVED = 64;

/**
 * A Verilog identifier (also a safe file name) made from any text, e.g. a model name: every
 * character outside [A-Za-z0-9_] becomes `_`, runs of `_` shrink to one, a name that does not start
 * with a letter or is a reserved word gets `m_` in front, and a name longer than 64 characters keeps
 * its first 55 and a hash of the whole. Deterministic; never user text verbatim unless it already is
 * such an identifier.
 */
export const verilogName = (s: string): string => {
  let t = s.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
  if (!/^[A-Za-z]/.test(t) || VERILOG_KEYWORDS.has(t)) t = `m_${t}`;
  if (t.length > MAX_DERIVED) t = `${t.slice(0, MAX_DERIVED - 9)}_${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
  return t;
};

/** Throws the user's error for a top module name that is not a legal, unreserved Verilog identifier. */
export function checkTop(top: string): void {
  const why = identifierProblem(top);
  if (why) throw new FxpqError(`--top '${terminalText(top, 60)}' ${why}`);
}

/** Uniformly random words of the input format: a stress test that reaches every code. */
export function randomInputs(q: QGraph, images: number, seed: number): Float64Array {
  const f = q.values[q.input].format;
  const n = images * q.values[q.input].shape.reduce((a, b) => a * b, 1);
  const rnd = rng(seed);
  const lo = minInt(f),
    span = maxInt(f) - lo + 1;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + Math.floor(rnd() * span);
  return x;
}

/** Expected outputs of the integer reference for the test bench. */
export function referenceVectors(q: QGraph, inputs: Float64Array, images: number): Vectors {
  const out = runQGraphInt(q, inputs, images).output;
  return { images, input: inputs, output: out, classes: argmaxRows(out, images) };
}

/** What synthesis reads of a design: its Verilog sources and ROM images, without the test bench and its vectors. */
export function synthesisFiles(d: GeneratedDesign): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.files))
    if (!k.startsWith('tb') && k !== WEIGHT_STREAM_FILE && (k.endsWith('.v') || k.endsWith('.hex'))) files[k] = v;
  return files;
}

export function generateDesign(q: QGraph, opts: GenerateOptions): GeneratedDesign {
  if (opts.top !== undefined) checkTop(opts.top);
  const top = opts.top ?? verilogName(`fxpq_${opts.model}`);
  const plan = buildPlan(q, { macs: opts.macs, model: opts.model, weights: opts.weights });
  const r = renderDesign(plan, { top, source: opts.source });
  const images = opts.images ?? (opts.inputs ? opts.inputs.length / plan.input.elements : 8);
  if (!Number.isInteger(images) || images < 1)
    throw new FxpqError(`test vectors: ${opts.inputs?.length} input values are not a whole number of images of ${plan.input.elements}`);
  const inputs = opts.inputs ?? randomInputs(q, images, opts.seed ?? 0);
  const tb = renderTestbench(plan, referenceVectors(q, inputs, images), { top, source: opts.source });
  const files: Record<string, string> = { ...r.files, ...tb };
  files['files.f'] = r.sources.join('\n') + '\n';
  files['plan.json'] = asciiJson(planJson(plan), 2) + '\n';
  files['README.md'] = readme(plan, top, opts, r.sources, images);
  checkGenerated(files);
  return { plan, top, files, sources: r.sources };
}

/**
 * System tasks the templates (and render.ts) write, per file: the design uses $readmemh and
 * $signed only; the test bench also prints, reads plusargs and writes its dump files.
 */
export const DESIGN_SYSTEM_TASKS: ReadonlySet<string> = new Set(['$readmemh', '$signed']);
export const TB_SYSTEM_TASKS: ReadonlySet<string> = new Set([
  '$display',
  '$dumpfile',
  '$dumpvars',
  '$fatal',
  '$fclose',
  '$finish',
  '$fopen',
  '$fwrite',
  '$readmemh',
  '$test$plusargs',
  '$value$plusargs',
]);
/** Compiler directives the templates write. */
const DIRECTIVES = new Set(['`timescale', '`default_nettype', '`ifndef', '`endif']);
/** The only block comments the templates write: Verilator lint pragmas. */
const BLOCK_COMMENT = /^\/\* verilator lint_(?:on|off) [A-Z]+ \*\/$/;

/**
 * The code of one Verilog line without its comments: `//` to the end of the line and the block
 * comments (one-line Verilator pragmas only; anything else is a generator bug), outside string
 * literals.
 */
function verilogCode(line: string, file: string, n: number): string {
  let code = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) throw new Error(`generated ${file}:${n}: unterminated string literal`);
      code += line.slice(i, j + 1);
      i = j;
    } else if (c === '/' && line[i + 1] === '/') {
      break;
    } else if (c === '/' && line[i + 1] === '*') {
      const end = line.indexOf('*/', i + 2);
      if (end < 0 || !BLOCK_COMMENT.test(line.slice(i, end + 2))) throw new Error(`generated ${file}:${n}: unexpected block comment`);
      i = end + 1;
    } else {
      code += c;
    }
  }
  return code;
}

/**
 * Defence in depth against text from the model reaching the generated files as code (render.ts
 * puts names only into comments, through commentText): every Verilog, ROM image, file list,
 * README and plan file is printable ASCII plus newlines, and outside comments a Verilog line calls
 * only the system tasks and directives the templates use. A failure is a bug in fxpq, not in the
 * user's input, so it throws a plain Error.
 */
export function checkGenerated(files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    if (!/^[A-Za-z0-9_.]+$/.test(name) || name.length > MAX_IDENTIFIER + 40)
      throw new Error(`generated file name '${commentText(name)}' is not a plain file name`);
    if (!/\.(v|hex|f|md|json)$/.test(name)) throw new Error(`generated file ${name} has an unexpected type`);
    if (!isPrintableAscii(text)) {
      const i = text.search(/[^\x20-\x7e\n]/);
      throw new Error(`generated ${name} is not printable ASCII: ${commentText(text.slice(i, i + 1))} at offset ${i}`);
    }
    if (!name.endsWith('.v')) continue;
    const allowed = name === 'tb.v' ? TB_SYSTEM_TASKS : DESIGN_SYSTEM_TASKS;
    text.split('\n').forEach((line, k) => {
      const code = verilogCode(line, name, k + 1);
      for (const m of code.matchAll(/\$[A-Za-z0-9_$]+/g)) {
        if (!allowed.has(m[0])) throw new Error(`generated ${name}:${k + 1}: system task ${m[0]} is not one the templates use`);
      }
      for (const m of code.matchAll(/`[A-Za-z_]*/g)) {
        if (!DIRECTIVES.has(m[0])) throw new Error(`generated ${name}:${k + 1}: directive ${m[0]} is not one the templates use`);
      }
    });
  }
}

/** The plan without weight arrays, for users and tools. */
export function planJson(plan: HwPlan): unknown {
  return {
    model: plan.model,
    macs: plan.macs,
    macBudget: plan.macBudget,
    latency: plan.latency,
    interval: plan.interval,
    memoryBits: plan.memoryBits,
    weights: plan.weightStore ? { placement: 'load', stream: WEIGHT_STREAM_FILE, ...plan.weightStore } : { placement: 'rom' },
    input: { ...plan.input, format: fmtText(plan.input.format) },
    output: { ...plan.output, format: fmtText(plan.output.format) },
    buffers: plan.buffers.map((b) => ({ ...b, format: fmtText(b.format) })),
    engines: plan.engines.map((e) => {
      const j = engineModule(e).json(e);
      return {
        index: e.index,
        id: e.id,
        layer: e.layer,
        kind: e.kind,
        inputs: e.inputs,
        output: e.output,
        lanes: j.lanes,
        cycles: e.cycles,
        macs: e.macs,
        multipliers: e.multipliers,
        summary: engineSummary(e),
        ...(j.accumulator ? { accumulator: j.accumulator } : {}),
      };
    }),
  };
}

const kbit = (bits: number) => `${(bits / 1024).toFixed(1)} kbit`;

/** The generated README's paragraph on the weight load, or nothing for a design whose weights are ROMs. */
function weightLoadText(plan: HwPlan): string {
  const s = plan.weightStore;
  if (!s) return '';
  return `
**Weights are not in the bitstream.** After every reset, before the first image, s_axis takes the
${s.beats} beats of \`${WEIGHT_STREAM_FILE}\` (one ${s.beatBits}-bit TDATA beat per line, in hex, in file order):
${s.depth} words of ${s.wordBits} bits for the weight store (\`u_wstore\`, SPRAM on an iCE40
UltraPlus), ${s.beatsPerWord} beats per word with the low bits first. s_axis_tready is high during the load as
for images; the load takes ${s.beats} cycles without gaps. From a host, a DMA engine or an SPI flash
reader, send the file once after reset, then images.
`;
}

function readme(plan: HwPlan, top: string, opts: GenerateOptions, sources: string[], images: number): string {
  const rows = plan.engines.map((e) => `| ${e.id} | ${commentText(e.layer)} | ${engineSummary(e)} | ${e.cycles} |`);
  const bufRows = plan.buffers.map(
    (b) =>
      `| b${b.id} | ${commentText(b.tensor)} | ${b.c}x${b.h}x${b.w} | ${fmtText(b.format)} | ${b.lanes} | ${b.words} x ${b.wordBits} | ${kbit(b.words * b.wordBits)} |`,
  );
  return `# ${top}: RTL generated by fxpq from ${commentText(opts.source)}

Verilog 2005 (synthesizable subset), one engine per layer with the widths of that layer's formats.
Architecture: docs/architecture.md in the fxpq repository. Do not edit; regenerate with \`fxpq generate\`.

## Interface (module \`${top}\`)
| port | dir | width | meaning |
|---|---|---|---|
| clk | in | 1 | clock; every register changes on the rising edge |
| rst | in | 1 | synchronous reset, active high |
| s_axis_tvalid / s_axis_tready | in / out | 1 | AXI4-Stream input handshake: a word moves when both are high |
| s_axis_tdata | in | ${streamBits(plan.input.format.wl)} | one input element in the low ${plan.input.format.wl} bits, format ${fmtText(plan.input.format)} (value = integer x 2^-fl), CHW order, ${plan.input.elements} per image |
| m_axis_tvalid / m_axis_tready | out / in | 1 | AXI4-Stream output handshake |
| m_axis_tdata | out | ${streamBits(plan.output.format.wl)} | one logit, format ${fmtText(plan.output.format)} ${plan.output.format.signed ? 'sign' : 'zero'}-extended, ${plan.output.elements} per image |
| m_axis_tlast | out | 1 | high with the last logit of an image |
| m_axis_tuser | out | ${Math.max(1, Math.ceil(Math.log2(plan.output.elements)))} | with m_axis_tlast: index of the largest logit (the first one on ties) |

Cycles per image: **${plan.latency}** (input one word per cycle, output never stalled). One image is in
flight at a time: the next image is accepted when the last logit has left, so the initiation interval
is also ${plan.interval} cycles. Multipliers: ${plan.macs} (budget ${plan.macBudget}).
${weightLoadText(plan)}
## On-chip memory
- activation buffers: ${kbit(plan.memoryBits.activations)}
- weights and biases: ${kbit(plan.memoryBits.weights)}${plan.weightStore ? ` (biases in ROMs; the weights in a ${kbit(plan.weightStore.depth * plan.weightStore.wordBits)} weight store loaded after reset, its words as wide as the widest engine's)` : ' (ROMs)'}
- total: **${kbit(plan.memoryBits.activations + plan.memoryBits.weights)}**

| engine | layer | datapath | cycles |
|---|---|---|---|
${rows.join('\n')}

| buffer | tensor | shape | format | lanes | words x bits | size |
|---|---|---|---|---|---|---|
${bufRows.join('\n')}

## Files
- \`files.f\`: the design sources in compile order (${sources.length} files); ROM images \`*_w.hex\`, \`*_b.hex\` are read by \`$readmemh\` from the working directory.
- \`tb.v\` with \`tb_in.hex\`, \`tb_out.hex\`, \`tb_class.hex\`: a self-checking test bench over ${images} images whose expected outputs come from fxpq's integer reference. It ends with \`$fatal\` on any mismatch.
- \`plan.json\`: the hardware plan (engines, lanes, buffers, cycles).${plan.weightStore ? `\n- \`${WEIGHT_STREAM_FILE}\`: the weight load stream (above); the test bench sends it before its first image.` : ''}

Run the test bench alone, from this folder:

    iverilog -g2012 -o tb.vvp -c files.f tb.v && vvp -n tb.vvp
    verilator --binary --timing -O3 -Wno-fatal --top-module tb -f files.f tb.v && ./obj_dir/Vtb

Plusargs: \`+stall\` (random gaps in both handshakes), \`+dump=K\` (buffer writes of image K to tb_dump.txt), \`+vcd=FILE\`.
`;
}
