import { basename, isAbsolute, join, relative } from 'node:path';
import { asciiJson } from '../util/text.js';
import { cosim, type CosimResult } from '../cosim/cosim.js';
import { hasTool, type SimName } from '../cosim/simulators.js';
import { FxpqError } from '../errors.js';
import { estimatePlan, type DesignEstimate } from '../estimate/estimate.js';
import { generateDesign, verilogName } from '../hw/generate.js';
import type { HwPlan } from '../hw/plan.js';
import { type FitReport, placementOf, planForPart } from '../device/fit.js';
import type { Part } from '../device/parts.js';
import { type ImplementReport, type Implemented, implementPlan } from '../pnr/implement.js';
import { checkOutputPath, safeFolderName, writeFolderAtomic } from '../io/atomic.js';
import { loadImages } from '../io/dataset.js';
import { parseFxp } from '../io/fxpjson.js';
import { quantizeInput } from '../intref/ops.js';
import { importOnnxFile } from '../onnx/import.js';
import { esc, n0, sweepHtml } from '../report/html.js';
import type { Target } from '../synth/yosys.js';
import { FAMILIES } from '../estimate/families.js';
import { sweepConfigs } from '../sweep/configs.js';
import { runSweep, type SweepResult } from '../sweep/sweep.js';
import { packageRoot } from '../util/package-root.js';
import { simulateParallel, type SimulateResult } from '../../sim/simulate.js';

export interface RunOptions {
  model?: string;
  calib?: string;
  data?: string;
  labels?: string;
  maxDrop: number;
  /** Multiplier budget; default 256, or with a device the fastest budget that fits it. */
  macs?: number;
  target: Target;
  /** A part: the estimate is its family's, the design must fit it, and iCE40 parts are placed and routed. */
  device?: Part;
  clockMhz: number;
  /** Which RTL simulator co-simulates the sample: auto picks Verilator, else Icarus, else none. */
  sim: 'auto' | SimName | 'none';
  cosimImages: number;
  out?: string;
  rtlOut?: string;
  seed: number;
  workers: number;
  /** Cache root: quantization results under sweep/, Verilator builds under verilator/. */
  cacheDir: string | null;
  /** Replace existing output paths that fxpq did not write (see io/atomic.ts). */
  force?: boolean;
  onStage?: (stage: string, done: number, total: number) => void;
}

export interface RunResult {
  model: string;
  modelFile: string;
  sweep: SweepResult;
  plan: HwPlan;
  estimate: DesignEstimate;
  simulate: { images: number; mismatches: number; cycles_per_image: number; interval_cycles: number; seconds: number; utilization: number };
  cosim:
    | { sim: SimName; images: number; mismatches: number; cycles_per_image: number; expected_cycles: number; seconds: number }
    | { skipped: string };
  /** The part's fit report, and place and route where the part has nextpnr. */
  device: { fit: FitReport; implement: ImplementReport | null } | null;
  out: string;
  rtlOut: string;
  seconds: number;
}

/** Input shape of the bundled Fashion-MNIST images (models/data). */
const BUNDLED_SHAPE = [1, 28, 28];
export const DEFAULT_RUN_MODEL = 'lenet5';
/** --macs of `fxpq run` without a part. */
export const DEFAULT_RUN_MACS = 256;

/**
 * The whole flow on one model: FxP-QNet quantization (with the test accuracy), RTL, the cycle
 * simulator over every test image, an RTL co-simulation sample, the resource estimate, and the
 * HTML report. The quantization goes through the sweep machinery, so it is cached.
 */
export async function runFlow(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  // Paths under the working folder are written relative, so reports do not depend on where it is.
  const here = (p: string) => {
    const r = relative(process.cwd(), p);
    return r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  const root = here(packageRoot()) || '.';
  const modelFile = o.model ?? join(root, 'models', `${DEFAULT_RUN_MODEL}.onnx`);
  const g = importOnnxFile(modelFile);
  const name = basename(modelFile).replace(/\.onnx$/i, '');
  const rtlOut = o.rtlOut ?? join('rtl-out', safeFolderName(verilogName(name)));
  const out = o.out ?? join('out', safeFolderName(name));
  // Both outputs are checked before hours of work, and again when they are written.
  const guard = { force: o.force, protect: [modelFile, o.calib, o.data, o.labels] };
  checkOutputPath(rtlOut, { ...guard, option: '--rtl-out' });
  checkOutputPath(out, guard);
  const bundled = g.input.shape.length === 3 && g.input.shape.every((d, i) => d === BUNDLED_SHAPE[i]);
  const calib = o.calib ?? (bundled ? join(root, 'models/data/calib_x.npy') : null);
  if (!calib)
    throw new FxpqError(
      `${modelFile}: its input is [${g.input.shape.join(', ')}], not the bundled images' [1, 28, 28]; give --calib (and --data for test images)`,
    );
  const data = o.data ?? (bundled ? join(root, 'models/data/test_x.npy') : undefined);
  const labels = o.labels ?? (o.data === undefined && bundled ? join(root, 'models/data/test_y.npy') : undefined);
  if (!Number.isInteger(o.cosimImages) || o.cosimImages < 1)
    throw new FxpqError(`--cosim-images must be a positive integer, got ${o.cosimImages}`);

  // 1. Quantize (cached), with the accuracy of the integer reference on the test images.
  const budgets = [...new Set([64, 256, 1024, ...(o.macs === undefined ? [] : [o.macs])])].sort((a, b) => a - b);
  const target = o.device?.estimator ?? o.target;
  const { result: sweep, files } = await runSweep({
    model: modelFile,
    calib,
    test: data ? { data, labels } : undefined,
    configs: sweepConfigs({ uniformBits: [], maxDrops: [o.maxDrop], ristretto: false }),
    macs: budgets,
    target,
    device: o.device,
    clockMhz: o.clockMhz,
    seed: o.seed,
    minBits: 2,
    startBits: 16,
    // On a named part the search ranks its steps by what they buy there (src/search/device-cost.ts):
    // the fastest design that fits. The activation buffers and the stream pins count as the weights
    // do (the bundled LeNet-5 with the paper's weights-only objective keeps 10-bit activations and
    // needs 31 of the UP5K's 30 block RAMs and 43 of its 39 pins). Without a part, the weights
    // alone, as the paper reports.
    objective: o.device ? 'fps' : 'params',
    // The design generated below is built at --macs when given: the search prices that budget's ladder.
    searchMacs: o.device ? o.macs : undefined,
    workers: o.workers,
    cacheDir: o.cacheDir ? join(o.cacheDir, 'sweep') : null,
    chooseDrop: 100,
    onProgress: (d, t) => o.onStage?.('quantize', d, t),
  });
  const cfg = sweep.configs[0];
  const q = parseFxp(files[0]).q;

  // 2. RTL, at the budget the part allows when one is named (or one line on what does not fit).
  const chosen = o.device ? planForPart(q, o.device, { macs: o.macs, model: name, standalone: Boolean(o.device.nextpnr) }) : null;
  const macs = chosen?.plan.macBudget ?? o.macs ?? DEFAULT_RUN_MACS;
  const weights = chosen ? placementOf(chosen.plan) : 'rom';
  const top = verilogName(`fxpq_${name}`);
  const inV = q.values[q.input];
  const test = data ? loadImages(data, inV.shape) : null;
  const inputs = test ? quantizeInput(test.data, inV.format) : null;
  const perImage = test ? test.data.length / test.count : 0;
  // The test bench written next to the RTL checks its first 16 test images on its own.
  const vecImages = test ? Math.min(16, test.count) : 8;
  const d = generateDesign(q, {
    model: name,
    source: basename(modelFile),
    macs,
    weights,
    top,
    inputs: inputs?.subarray(0, vecImages * perImage),
    images: vecImages,
    seed: o.seed,
  });
  const plan = d.plan;

  // 3. Cycle simulator over every test image, checked against the integer reference.
  let simulate: RunResult['simulate'];
  if (test && inputs) {
    const ts = performance.now();
    const r: SimulateResult = await simulateParallel(q, plan, inputs, test.count, {
      workers: o.workers,
      onImage: (k) => o.onStage?.('simulate', k, test.count),
    });
    simulate = {
      images: test.count,
      mismatches: r.mismatches,
      cycles_per_image: r.counters.latency_cycles.max,
      interval_cycles: r.counters.interval_cycles,
      seconds: (performance.now() - ts) / 1000,
      utilization: r.counters.utilization,
    };
  } else {
    simulate = { images: 0, mismatches: 0, cycles_per_image: plan.latency, interval_cycles: plan.interval, seconds: 0, utilization: 0 };
  }

  // 4. RTL co-simulation of a sample in a real simulator, when one is installed.
  let co: RunResult['cosim'];
  const sim: SimName | null =
    o.sim === 'none' ? null : o.sim !== 'auto' ? o.sim : hasTool('verilator') ? 'verilator' : hasTool('iverilog') ? 'icarus' : null;
  if (!sim) {
    co = {
      skipped:
        o.sim === 'none'
          ? 'skipped (--sim none)'
          : 'skipped: neither Verilator nor Icarus Verilog is installed (sudo apt-get install -y verilator iverilog)',
    };
  } else if (!test || !inputs) {
    co = { skipped: 'skipped: no test images (give --data)' };
  } else {
    // Icarus runs about a hundred times slower than Verilator; keep its sample small.
    const n = Math.min(test.count, sim === 'icarus' ? Math.min(o.cosimImages, 10) : o.cosimImages);
    const r: CosimResult = await cosim(q, {
      sim,
      macs,
      weights,
      model: name,
      source: basename(modelFile),
      inputs: inputs.subarray(0, n * perImage),
      images: n,
      cacheDir: o.cacheDir ? join(o.cacheDir, 'verilator') : undefined,
      onImage: (k) => o.onStage?.(`cosim ${sim}`, k, n),
    });
    co = {
      sim,
      images: r.images,
      mismatches: r.mismatches,
      cycles_per_image: r.cycles_per_image,
      expected_cycles: r.expected_cycles,
      seconds: r.seconds,
    };
  }

  // 5. Place and route on an iCE40 part, with the netlist under the test bench; the bitstream goes with the RTL.
  let implemented: Implemented | null = null;
  if (o.device?.nextpnr && chosen) {
    o.onStage?.('implement', 0, 1);
    implemented = await implementPlan(q, {
      part: o.device,
      plan,
      fit: chosen.fit,
      model: name,
      source: basename(modelFile),
      top,
      out: rtlOut,
      // fxpq implement's defaults; it takes other seeds and target clocks.
      freqMhz: 12,
      seed: 1,
      // One image: gate-level Icarus runs about 1,500 cycles per second on LeNet-5 (4 minutes per image at --macs 6).
      gateImages: hasTool('iverilog') ? 1 : 0,
    });
    o.onStage?.('implement', 1, 1);
  }
  writeFolderAtomic(rtlOut, { ...d.files, ...implemented?.files }, { ...guard, option: '--rtl-out' });

  // 6. Resources, 7. report.
  const estimate = estimatePlan(plan, target);
  const result: RunResult = {
    model: name,
    modelFile,
    sweep,
    plan,
    estimate,
    simulate,
    cosim: co,
    device: chosen ? { fit: chosen.fit, implement: implemented?.report ?? null } : null,
    out,
    rtlOut,
    seconds: (performance.now() - t0) / 1000,
  };
  writeFolderAtomic(
    out,
    {
      'model.fxp.json': asciiJson(files[0]) + '\n',
      'run.json': asciiJson(runJson(result), 2) + '\n',
      'report.html': sweepHtml(
        { ...sweep, chosen: cfg.id },
        { title: `fxpq run: ${name}`, extra: runSection(result), chosenNote: 'The configuration this run built.' },
      ),
    },
    guard,
  );
  return result;
}

/** What `fxpq run` writes to run.json: the flow's figures, without the sweep's tables repeated. */
export function runJson(r: RunResult): unknown {
  const c = r.sweep.configs[0];
  const t = r.estimate.total;
  return {
    model: r.model,
    model_file: r.modelFile,
    out: r.out,
    rtl: r.rtlOut,
    quantize: {
      label: c.label,
      top1: c.top1,
      float_top1: r.sweep.float.top1,
      agreement: c.agreement,
      drop: c.drop,
      compression: c.compression,
      seconds: c.quantize_seconds,
      cached: c.cached,
    },
    hardware: {
      multipliers: r.plan.macs,
      macs_budget: r.plan.macBudget,
      engines: r.plan.engines.length,
      cycles_per_image: r.plan.latency,
      interval_cycles: r.plan.interval,
      clock_mhz: r.sweep.clock_mhz,
      images_per_second: (r.sweep.clock_mhz * 1e6) / r.plan.interval,
      memory_bits: r.plan.memoryBits,
    },
    simulate: r.simulate,
    cosim: r.cosim,
    estimate: { target: r.sweep.target, lut: t.lut, ff: t.ff, dsp: t.dsp, bram: t.bram, lutram: t.lutram, blocks: r.estimate.blocks },
    device: r.device
      ? {
          name: r.device.fit.part.name,
          part: r.device.fit.part.vendor,
          fits: r.device.fit.fits,
          resources: r.device.fit.rows,
          implement: r.device.implement,
        }
      : null,
    seconds: r.seconds,
  };
}

/** The run-specific part of the HTML report: what was built and how it was checked. */
function runSection(r: RunResult): string {
  const t = r.estimate.total;
  const co =
    'skipped' in r.cosim
      ? esc(r.cosim.skipped)
      : `${r.cosim.sim}, ${r.cosim.images} images, ${r.cosim.mismatches} mismatches, ${n0(r.cosim.cycles_per_image)} cycles per image (plan ${n0(r.cosim.expected_cycles)})`;
  const blocks = r.estimate.blocks
    .filter((b) => b.lut + b.ff + b.dsp + b.bram + b.lutram > 0)
    .map(
      (b) =>
        `<tr><td>${esc(b.block)}</td><td>${esc(b.kind)}</td><td>${esc(b.layer)}</td><td>${n0(b.lut)}</td><td>${n0(b.ff)}</td><td>${b.dsp}</td><td>${b.bram}</td><td>${b.lutram}</td></tr>`,
    )
    .join('\n');
  return `<h2>This run</h2>
<table><tbody>
<tr><td>RTL</td><td>${esc(r.rtlOut)}: ${r.plan.engines.length} engines, ${r.plan.macs} multipliers (--macs ${r.plan.macBudget}), ${n0(r.plan.latency)} cycles per image, ${n0((r.sweep.clock_mhz * 1e6) / r.plan.interval)} images/s at ${r.sweep.clock_mhz} MHz</td></tr>
<tr><td>cycle simulator</td><td>${r.simulate.images} images, ${r.simulate.mismatches} mismatches against the integer reference, ${n0(r.simulate.cycles_per_image)} cycles per image</td></tr>
<tr><td>RTL co-simulation</td><td>${co}</td></tr>
<tr><td>resources (${esc(r.sweep.target)})</td><td>${n0(t.lut)} LUT, ${n0(t.ff)} FF, ${t.dsp} DSP, ${t.bram} BRAM, ${t.lutram} ${FAMILIES[r.sweep.target as Target].lutramName} (analytical estimate)</td></tr>
${r.device ? `<tr><td>device</td><td>${esc(r.device.fit.part.vendor)}: ${r.device.fit.rows.map((x) => `${esc(x.resource)} ${n0(x.need)} of ${n0(x.have)}`).join(', ')}</td></tr>` : ''}
${
  r.device?.implement
    ? `<tr><td>place and route</td><td>nextpnr-ice40: ${n0(r.device.implement.lut)} logic cells, ${r.device.implement.dsp} DSP, ${r.device.implement.bram} BRAM, Fmax ${r.device.implement.fmax_mhz} MHz, ${n0(r.device.implement.images_per_second)} images/s; bitstream ${esc(r.device.implement.bitstream)}</td></tr>`
    : ''
}
</tbody></table>
<table><thead><tr><th>block</th><th>kind</th><th>layer</th><th>LUT</th><th>FF</th><th>DSP</th><th>BRAM</th><th>${FAMILIES[r.sweep.target as Target].lutramName}</th></tr></thead><tbody>
${blocks}
</tbody></table>`;
}
