#!/usr/bin/env node
import chalk from 'chalk';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { environmentError, FxpqError, isSystemError } from '../errors.js';
import { installSignalHandlers, runCleanups } from '../util/cleanup.js';
import { DEFAULT_MAX_MEMORY_GIB, setMemoryLimitGiB } from '../util/limits.js';
import { checkNumericOptions } from './options.js';
import { installOutputGuard } from './output-guard.js';
import type { FloatEngine } from '../engine/ort.js';
import { PARTS } from '../device/parts.js';
import { TARGETS } from '../synth/yosys.js';
import { DEFAULT_REFERENCE_BITS, DEFAULT_SENSITIVITY_IMAGES } from '../search/quantize.js';
import { cosimCommand } from './commands/cosim.js';
import { estimateCommand } from './commands/estimate.js';
import { evalCommand } from './commands/eval.js';
import { generateCommand } from './commands/generate.js';
import { inferCommand } from './commands/infer.js';
import { implementCommand } from './commands/implement.js';
import { infoCommand } from './commands/info.js';
import { quantizeCommand } from './commands/quantize.js';
import { runCommand } from './commands/run.js';
import { simulateCommand } from './commands/simulate.js';
import { sweepCommand } from './commands/sweep.js';
import { synthCommand } from './commands/synth.js';

/** --force, the same on every command that writes an output folder. */
const WEIGHTS_OPTION = {
  type: 'string',
  choices: ['rom', 'load'],
  describe:
    'Weights in ROMs of the bitstream (rom, the default), or in one memory loaded through s_axis after reset (load: SPRAM on an iCE40 UltraPlus); with --device, default: whichever fits',
} as const;
const FORCE_OPTION = {
  type: 'boolean',
  default: false,
  describe: 'Replace an existing path that fxpq did not write (never the working folder, its parents or a folder holding an input)',
} as const;

const debug = process.argv.includes('--debug');
installOutputGuard();
installSignalHandlers();
// `fxpq info ... | head`: a closed pipe ends the output, not the program with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      runCleanups();
      process.exit(0);
    }
  });
}

/** One line for users; the stack only with --debug. */
function fail(err: unknown): never {
  runCleanups();
  if (isSystemError(err)) err = environmentError(err);
  else if (err instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length/.test(err.message)) {
    err = new FxpqError(`out of memory: ${err.message} (a size fxpq did not check in advance; please report it)`, 74);
  }
  if (err instanceof FxpqError) {
    console.error(chalk.red('fxpq: error: ') + err.message);
    if (debug && err.stack) console.error(err.stack);
    process.exit(err.exitCode);
  }
  const e = err as Error;
  console.error(
    chalk.red('fxpq: internal error: ') + (e?.message ?? String(err)) + (debug ? '' : ' (run with --debug for the stack trace)'),
  );
  if (debug && e?.stack) console.error(e.stack);
  process.exit(70);
}

const run =
  <T>(f: (a: T) => void | Promise<void>) =>
  async (a: T): Promise<void> => {
    try {
      await f(a);
    } catch (e) {
      fail(e);
    }
  };

await yargs(hideBin(process.argv))
  .scriptName('fxpq')
  .usage('$0 <command> [options]\n\nPost-training dynamic fixed-point quantization of ONNX networks into verified FPGA hardware.')
  .option('debug', { type: 'boolean', default: false, describe: 'Show stack traces on errors' })
  .option('max-memory', {
    type: 'number',
    describe: `GiB that a model, data file or design may ask for; larger declared sizes are refused before allocation (default ${DEFAULT_MAX_MEMORY_GIB}, or FXPQ_MAX_MEMORY)`,
  })
  .middleware((a) => {
    try {
      checkNumericOptions(a);
      if (a['max-memory'] !== undefined) setMemoryLimitGiB(a['max-memory'] as number);
    } catch (e) {
      fail(e);
    }
  })
  .command(
    'info <model>',
    'Layers, shapes, parameters and MACs of an ONNX model',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file' })
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' }),
    run((a) => infoCommand(a.model as string, a.json)),
  )
  .command(
    'eval <model>',
    'Top-1 accuracy and throughput on a .npy data set (float for .onnx, integer reference for .fxp.json)',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file or quantized model (.fxp.json)' })
        .option('data', { type: 'string', demandOption: true, describe: 'Images, .npy float32 NCHW (or uint8 with --scale)' })
        .option('labels', { type: 'string', describe: 'Labels, .npy int64/uint8' })
        .option('limit', { type: 'number', describe: 'Use only the first N images' })
        .option('scale', { type: 'string', describe: 'Multiply uint8 pixels by this, e.g. 1/255' })
        .option('workers', { type: 'number', describe: 'Worker threads (default: 2, or 1 on a single core)' })
        .option('float-engine', {
          type: 'string',
          default: 'auto',
          choices: ['auto', 'fxpq', 'onnxruntime'],
          describe:
            "Float model (the .onnx, or the agreement of a .fxp.json): onnxruntime-node when installed (auto), or fxpq's own float64 engine",
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print {"images","top1","ties","seconds","float_engine"} (plus "agreement" for .fxp.json)',
        }),
    run((a) =>
      evalCommand({
        model: a.model as string,
        data: a.data,
        labels: a.labels,
        limit: a.limit,
        scale: a.scale,
        workers: a.workers,
        floatEngine: a['float-engine'] as FloatEngine,
        json: a.json,
      }),
    ),
  )
  .command(
    'quantize <model>',
    'Quantize an ONNX model to dynamic fixed point; writes DIR/model.fxp.json and DIR/report.json',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file' })
        .option('calib', { type: 'string', demandOption: true, describe: 'Calibration images (.npy), no labels needed' })
        .option('calib-scale', { type: 'string', describe: 'Scale for uint8 calibration images, e.g. 1/255' })
        .option('calib-labels', { type: 'string', describe: 'Optional labels: the budget becomes labelled top-1 accuracy' })
        .option('method', {
          type: 'string',
          default: 'fxpqnet',
          choices: ['fxpqnet', 'uniform', 'ristretto'],
          describe: 'fxpqnet search, smallest uniform word length, or the Ristretto baseline',
        })
        .option('uniform', { type: 'number', describe: 'No search: every data structure at N bits, fraction lengths by the max rule' })
        .option('max-drop', {
          type: 'number',
          default: 1,
          describe: 'Allowed top-1 drop in percentage points, checked on both halves of the calibration images (search and held-back)',
        })
        .option('reference-bits', {
          type: 'number',
          default: DEFAULT_REFERENCE_BITS,
          describe:
            'fxpqnet: never less faithful (mean KL to the float model on the held-back images) than every data structure at N bits; 0 = off',
        })
        .option('min-bits', { type: 'number', default: 2, describe: 'Smallest word length the search may use' })
        .option('start-bits', { type: 'number', default: 16, describe: 'Word length every data structure starts at' })
        .option('objective', {
          type: 'string',
          choices: ['params', 'overall', 'bops', 'fps', 'lut'],
          describe:
            'What the search minimises: parameter bits (default), all memory bits, bit operations; with --device, the fastest design that fits the part (fps, the default there) or the share of the part used (lut)',
        })
        .option('device', {
          type: 'string',
          describe: `FPGA part (${PARTS.map((p) => p.name).join(', ')}): the result must fit it, and the search ranks its steps by what they save there`,
        })
        .option('macs', {
          type: 'number',
          describe: 'With --device: a fixed multiplier budget (lut: the budget priced; fps: the largest tried)',
        })
        .option('weights', WEIGHTS_OPTION)
        .option('clock', { type: 'number', default: 100, describe: "Clock in MHz for the device report's images/s" })
        .option('rounding', {
          type: 'string',
          default: 'gptq',
          choices: ['gptq', 'nearest'],
          describe:
            'Weight rounding: gptq compensates each rounding error on the weights not yet rounded (calibration statistics); nearest rounds each weight alone',
        })
        .option('schedule', {
          type: 'string',
          default: 'sensitivity',
          choices: ['sensitivity', 'greedy'],
          describe:
            'fxpqnet: sensitivity measures each data structure once and checks the predicted order with a few full evaluations; greedy re-scores every candidate at every step (cost grows with network x steps)',
        })
        .option('sensitivity-images', {
          type: 'number',
          default: DEFAULT_SENSITIVITY_IMAGES,
          describe:
            "fxpqnet, sensitivity schedule: search images each data structure's sensitivity is measured on (what is kept is checked on all of them)",
        })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the search/validation split' })
        .option('workers', {
          type: 'number',
          describe: 'Worker threads for the search (default: 2, or 1 on a single core); results do not depend on it',
        })
        .option('out', { type: 'string', default: 'out/quantized', describe: 'Output folder (written atomically)' })
        .option('force', FORCE_OPTION)
        .option('json', { type: 'boolean', default: false, describe: 'Print report.json instead of the table' }),
    run((a) =>
      quantizeCommand({
        model: a.model as string,
        calib: a.calib,
        calibScale: a['calib-scale'],
        calibLabels: a['calib-labels'],
        uniform: a.uniform,
        method: a.method,
        maxDrop: a['max-drop'],
        referenceBits: a['reference-bits'],
        minBits: a['min-bits'],
        startBits: a['start-bits'],
        objective: a.objective ?? (a.device === undefined ? 'params' : 'fps'),
        device: a.device,
        macs: a.macs,
        weights: a.weights,
        clock: a.clock,
        rounding: a.rounding,
        schedule: a.schedule,
        sensitivityImages: a['sensitivity-images'],
        seed: a.seed,
        workers: a.workers,
        out: a.out,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .command(
    'infer <model>',
    'Run one image through the integer reference, optionally tracing every layer',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('data', { type: 'string', demandOption: true, describe: 'Images (.npy)' })
        .option('index', { type: 'number', default: 0, describe: 'Which image' })
        .option('scale', { type: 'string', describe: 'Scale for uint8 images' })
        .option('trace', { type: 'string', describe: 'Folder for one .npy per layer output plus trace.json with formats' })
        .option('force', FORCE_OPTION)
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON' }),
    run((a) =>
      inferCommand({
        model: a.model as string,
        data: a.data,
        index: a.index,
        scale: a.scale,
        trace: a.trace,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .command(
    'generate <model>',
    'Verilog for a mixed-precision accelerator of a .fxp.json, with ROM images, a self-checking test bench and its vectors',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('out', { type: 'string', describe: 'Output folder (default rtl-out/<model>; written atomically)' })
        .option('macs', { type: 'number', describe: 'Multiplier budget spread over the layers (default 64)' })
        .option('weights', WEIGHTS_OPTION)
        .option('device', {
          type: 'string',
          describe: 'FPGA part: refuse a design the estimator says does not fit; without --macs, the fastest budget that fits',
        })
        .option('top', { type: 'string', describe: 'Top module name (default fxpq_<model>)' })
        .option('data', { type: 'string', describe: 'Images (.npy) for the test vectors (default: random input words)' })
        .option('scale', { type: 'string', describe: 'Scale for uint8 images' })
        .option('limit', { type: 'number', describe: 'Images in the test vectors (default 16 from --data, else 8 random)' })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the random test vectors' })
        .option('force', FORCE_OPTION)
        .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON' }),
    run((a) =>
      generateCommand({
        model: a.model as string,
        out: a.out,
        macs: a.macs,
        weights: a.weights,
        device: a.device,
        top: a.top,
        data: a.data,
        scale: a.scale,
        limit: a.limit,
        seed: a.seed,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .command(
    'cosim <model>',
    'Simulate the generated RTL (Icarus or Verilator) and compare every output with the integer reference',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('data', { type: 'string', demandOption: true, describe: 'Images (.npy)' })
        .option('scale', { type: 'string', describe: 'Scale for uint8 images' })
        .option('limit', { type: 'number', describe: 'Images to simulate (default 100)' })
        .option('sim', { type: 'string', default: 'verilator', choices: ['icarus', 'verilator'], describe: 'RTL simulator' })
        .option('macs', { type: 'number', describe: 'Multiplier budget (default 64)' })
        .option('weights', WEIGHTS_OPTION)
        .option('vcd', { type: 'string', describe: 'Write a waveform to this file' })
        .option('stall', { type: 'boolean', default: false, describe: 'Random gaps on s_axis_tvalid and m_axis_tready' })
        .option('keep', { type: 'string', describe: 'Keep the generated design and logs in this folder' })
        .option('force', FORCE_OPTION)
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print {"images","mismatches","cycles_per_image","sim","seconds",...}',
        }),
    run((a) =>
      cosimCommand({
        model: a.model as string,
        data: a.data,
        scale: a.scale,
        limit: a.limit,
        sim: a.sim,
        macs: a.macs,
        weights: a.weights,
        vcd: a.vcd,
        stall: a.stall,
        keep: a.keep,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .command(
    'simulate <model>',
    'Run the cycle simulator of the generated accelerator on images: cycles, counters, and every logit checked against the integer reference',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('data', { type: 'string', demandOption: true, describe: 'Images (.npy)' })
        .option('scale', { type: 'string', describe: 'Scale for uint8 images' })
        .option('limit', { type: 'number', describe: 'Images to simulate (default: all)' })
        .option('macs', { type: 'number', describe: 'Multiplier budget (default 64)' })
        .option('weights', WEIGHTS_OPTION)
        .option('stall', {
          type: 'boolean',
          default: false,
          describe: "Gaps on s_axis_tvalid and m_axis_tready from the test bench's +stall pattern",
        })
        .option('clock', { type: 'number', default: 100, describe: 'Clock in MHz for the images/s figure' })
        .option('workers', { type: 'number', describe: 'Threads (default: 2, or 1 on a single core)' })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print {"images","cycles_per_image","mismatches_vs_reference","utilization","layers","seconds",...}',
        }),
    run((a) =>
      simulateCommand({
        model: a.model as string,
        data: a.data,
        scale: a.scale,
        limit: a.limit,
        macs: a.macs,
        weights: a.weights,
        stall: a.stall,
        clock: a.clock,
        workers: a.workers,
        json: a.json,
      }),
    ),
  )
  .command(
    'estimate <model>',
    'FPGA resources of the generated accelerator from the analytical model, per block and in total',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('target', { type: 'string', default: 'xc7', choices: TARGETS, describe: 'FPGA family' })
        .option('device', {
          type: 'string',
          describe: `FPGA part (${PARTS.map((p) => p.name).join(', ')}): its family's estimate, checked against the part; without --macs, the fastest budget that fits`,
        })
        .option('macs', { type: 'number', describe: 'Multiplier budget (default 64)' })
        .option('weights', WEIGHTS_OPTION)
        .option('synth', { type: 'boolean', default: false, describe: 'Also synthesize with Yosys and show both, with the error' })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print {"target","lut","ff","dsp","bram","layers","synth"} (and "device" with --device)',
        }),
    run((a) =>
      estimateCommand({
        model: a.model as string,
        target: a.target,
        device: a.device,
        macs: a.macs,
        weights: a.weights,
        synth: a.synth,
        json: a.json,
      }),
    ),
  )
  .command(
    'implement <model>',
    'Synthesize, place and route the accelerator for an iCE40 part (Yosys and nextpnr-ice40, WebAssembly): utilization, Fmax, images/s and a bitstream',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('device', {
          type: 'string',
          demandOption: true,
          describe: `iCE40 part (${PARTS.filter((p) => p.nextpnr)
            .map((p) => p.name)
            .join(', ')})`,
        })
        .option('macs', { type: 'number', describe: 'Multiplier budget (default: the fastest design the estimator says fits)' })
        .option('weights', WEIGHTS_OPTION)
        .option('freq', {
          type: 'number',
          default: 12,
          describe: "Clock in MHz nextpnr's placement aims at (the reported Fmax is what it reached)",
        })
        .option('seed', { type: 'number', default: 1, describe: "nextpnr's placement seed" })
        .option('gate-sim', {
          type: 'number',
          default: 2,
          describe: "Images through the synthesized netlist in Icarus with the RTL's test bench (0: skip)",
        })
        .option('out', { type: 'string', describe: 'Output folder (default rtl-out/<model>_<device>; written atomically)' })
        .option('force', FORCE_OPTION)
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print {"device","fits","lut","ff","dsp","bram","fmax_mhz","images_per_second","bitstream",...}',
        }),
    run((a) =>
      implementCommand({
        model: a.model as string,
        device: a.device,
        macs: a.macs,
        weights: a.weights,
        freq: a.freq,
        seed: a.seed,
        gateSim: a['gate-sim'],
        out: a.out,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .command(
    'synth <model>',
    'Synthesize the generated RTL with Yosys (WebAssembly) and report LUT/FF/DSP/BRAM',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'Quantized model (.fxp.json)' })
        .option('target', { type: 'string', default: 'xc7', choices: TARGETS, describe: 'FPGA family' })
        .option('macs', { type: 'number', describe: 'Multiplier budget (default 64)' })
        .option('weights', WEIGHTS_OPTION)
        .option('json', { type: 'boolean', default: false, describe: 'Print {"target","lut","ff","dsp","bram",...}' }),
    run((a) => synthCommand({ model: a.model as string, target: a.target, macs: a.macs, weights: a.weights, json: a.json })),
  )
  .command(
    'sweep <model>',
    'Design-space sweep: quantization configurations x MAC budgets, with accuracy, memory, resources and speed; table, JSON and HTML report',
    (y) =>
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file' })
        .option('calib', { type: 'string', demandOption: true, describe: 'Calibration images (.npy), no labels needed' })
        .option('calib-scale', { type: 'string', describe: 'Scale for uint8 calibration images, e.g. 1/255' })
        .option('calib-labels', { type: 'string', describe: 'Optional calibration labels (budgets become labelled accuracy)' })
        .option('test', { type: 'string', describe: 'Test images (.npy) for the accuracy of each configuration (integer reference)' })
        .option('test-labels', { type: 'string', describe: 'Test labels: accuracy is top-1; without them, agreement with the float model' })
        .option('test-scale', { type: 'string', describe: 'Scale for uint8 test images' })
        .option('test-limit', { type: 'number', describe: 'Use only the first N test images' })
        .option('target', {
          type: 'string',
          default: 'xc7',
          choices: TARGETS,
          describe: 'FPGA family of the resource estimates',
        })
        .option('device', {
          type: 'string',
          describe: 'FPGA part: estimates for its family, and whether each design fits it (a column, and sweep.json\'s "fits")',
        })
        .option('macs', { type: 'string', default: '64,256,1024', describe: 'MAC budgets, comma-separated' })
        .option('clock', { type: 'number', default: 100, describe: 'Clock in MHz for images/s' })
        .option('uniform-bits', { type: 'string', default: '16,8,6,4', describe: 'Uniform word lengths to include (none for none)' })
        .option('max-drops', { type: 'string', default: '0.5,1,2', describe: 'FxP-QNet --max-drop budgets to include (none for none)' })
        .option('ristretto', {
          type: 'boolean',
          default: true,
          describe: 'Include the Ristretto baseline (--no-ristretto to leave it out)',
        })
        .option('choose-drop', {
          type: 'number',
          default: 1,
          describe: 'The chosen configuration: least parameter memory within this drop (pp)',
        })
        .option('min-bits', { type: 'number', default: 2, describe: 'Smallest word length the searches may use' })
        .option('start-bits', { type: 'number', default: 16, describe: 'Word length the searches start at' })
        .option('objective', {
          type: 'string',
          default: 'params',
          choices: ['params', 'overall', 'bops', 'fps', 'lut'],
          describe: 'What the FxP-QNet searches minimise (fps and lut: on the --device part, as quantize --device does)',
        })
        .option('reference-bits', {
          type: 'number',
          default: DEFAULT_REFERENCE_BITS,
          describe: 'FxP-QNet searches: never less faithful (mean KL on the held-back images) than every data structure at N bits; 0 = off',
        })
        .option('rounding', {
          type: 'string',
          default: 'gptq',
          choices: ['gptq', 'nearest'],
          describe:
            'Weight rounding: gptq compensates each rounding error on the weights not yet rounded (calibration statistics); nearest rounds each weight alone',
        })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the search/validation split' })
        .option('workers', { type: 'number', describe: 'Threads: configurations run side by side (default: 2)' })
        .option('cache', {
          type: 'string',
          default: '.fxpq-cache/sweep',
          describe: 'Result cache folder, keyed by content hash (--no-cache to disable)',
        })
        .option('out', { type: 'string', describe: 'Output folder (default out/sweep-NAME; written atomically)' })
        .option('force', FORCE_OPTION)
        .option('json', { type: 'boolean', default: false, describe: 'Print sweep.json instead of the table' }),
    run((a) =>
      sweepCommand({
        model: a.model as string,
        calib: a.calib,
        calibScale: a['calib-scale'],
        calibLabels: a['calib-labels'],
        test: a.test,
        testLabels: a['test-labels'],
        testScale: a['test-scale'],
        testLimit: a['test-limit'],
        device: a.device,
        target: a.target,
        macs: a.macs,
        clock: a.clock,
        uniformBits: a['uniform-bits'],
        maxDrops: a['max-drops'],
        ristretto: a.ristretto,
        chooseDrop: a['choose-drop'],
        seed: a.seed,
        minBits: a['min-bits'],
        startBits: a['start-bits'],
        objective: a.objective,
        rounding: a.rounding,
        referenceBits: a['reference-bits'],
        workers: a.workers,
        cache: a.cache as string | false,
        out: a.out,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .command(
    'run [model]',
    'The whole flow on one model (default: the bundled LeNet-5): quantize, generate RTL, simulate, co-simulate a sample, estimate, report',
    (y) =>
      y
        .positional('model', { type: 'string', describe: 'ONNX file (default: models/lenet5.onnx of this package)' })
        .option('calib', {
          type: 'string',
          describe: 'Calibration images (default: the bundled Fashion-MNIST images when the input is [1, 28, 28])',
        })
        .option('data', { type: 'string', describe: 'Test images (default: the bundled 1,000 test images)' })
        .option('labels', { type: 'string', describe: 'Test labels (default: the bundled ones with the bundled images)' })
        .option('max-drop', { type: 'number', default: 1, describe: 'FxP-QNet budget in percentage points of top-1' })
        .option('macs', {
          type: 'number',
          describe: 'Multiplier budget of the accelerator (default 256; with --device, the fastest budget that fits)',
        })
        .option('device', {
          type: 'string',
          describe:
            'FPGA part: the estimate for its family, a design that fits it (or one line on what does not), and on iCE40 parts place and route with a bitstream',
        })
        .option('target', {
          type: 'string',
          default: 'xc7',
          choices: TARGETS,
          describe: 'FPGA family of the resource estimate',
        })
        .option('clock', { type: 'number', default: 100, describe: 'Clock in MHz for images/s' })
        .option('sim', {
          type: 'string',
          default: 'auto',
          choices: ['auto', 'verilator', 'icarus', 'none'],
          describe: 'RTL simulator for the co-simulation sample',
        })
        .option('cosim-images', { type: 'number', default: 100, describe: 'Images co-simulated in RTL (Icarus: at most 10)' })
        .option('out', { type: 'string', describe: 'Report folder (default out/NAME)' })
        .option('rtl-out', { type: 'string', describe: 'RTL folder (default rtl-out/NAME)' })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the search/validation split' })
        .option('workers', { type: 'number', describe: 'Threads (default: 2)' })
        .option('cache', {
          type: 'string',
          default: '.fxpq-cache',
          describe: 'Cache folder for quantizations and Verilator builds (--no-cache to disable)',
        })
        .option('force', FORCE_OPTION)
        .option('json', { type: 'boolean', default: false, describe: 'Print run.json instead of the summary' }),
    run((a) =>
      runCommand({
        model: a.model,
        calib: a.calib,
        data: a.data,
        labels: a.labels,
        maxDrop: a['max-drop'],
        macs: a.macs,
        device: a.device,
        target: a.target,
        clock: a.clock,
        sim: a.sim,
        cosimImages: a['cosim-images'],
        out: a.out,
        rtlOut: a['rtl-out'],
        seed: a.seed,
        workers: a.workers,
        cache: a.cache as string | false,
        force: a.force,
        json: a.json,
      }),
    ),
  )
  .demandCommand(1, 'Name a command: run, info, eval, quantize, infer, generate, simulate, cosim, estimate, synth, sweep')
  .strict()
  .fail((msg, err) => {
    if (err) fail(err);
    console.error(chalk.red('fxpq: error: ') + msg.replace(/:?\s*\n\s*/g, ': ') + ' (see fxpq --help)');
    process.exit(1);
  })
  .help()
  .version()
  .parseAsync();
