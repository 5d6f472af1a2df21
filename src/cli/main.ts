#!/usr/bin/env node
import chalk from 'chalk';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { FxpqError } from '../errors.js';
import { evalCommand } from './commands/eval.js';
import { infoCommand } from './commands/info.js';

const debug = process.argv.includes('--debug');

/** One line for users; the stack only with --debug. */
function fail(err: unknown): never {
  if (err instanceof FxpqError) {
    console.error(chalk.red('fxpq: error: ') + err.message);
    if (debug && err.stack) console.error(err.stack);
    process.exit(err.exitCode);
  }
  const e = err as Error;
  console.error(chalk.red('fxpq: internal error: ') + (e?.message ?? String(err)) + (debug ? '' : ' (run with --debug for the stack trace)'));
  if (debug && e?.stack) console.error(e.stack);
  process.exit(70);
}

const run = <T>(f: (a: T) => void | Promise<void>) => async (a: T): Promise<void> => {
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
  .command('info <model>', 'Layers, shapes, parameters and MACs of an ONNX model', (y) => y
    .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file' })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' }),
  run((a) => infoCommand(a.model as string, a.json)))
  .command('eval <model>', 'Top-1 accuracy and throughput of a model on a .npy data set', (y) => y
    .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file' })
    .option('data', { type: 'string', demandOption: true, describe: 'Images, .npy float32 NCHW (or uint8 with --scale)' })
    .option('labels', { type: 'string', describe: 'Labels, .npy int64/uint8' })
    .option('limit', { type: 'number', describe: 'Use only the first N images' })
    .option('scale', { type: 'string', describe: 'Multiply uint8 pixels by this, e.g. 1/255' })
    .option('json', { type: 'boolean', default: false, describe: 'Print {"images","top1","seconds"}' }),
  run((a) => evalCommand({ model: a.model as string, data: a.data, labels: a.labels, limit: a.limit, scale: a.scale, json: a.json })))
  .demandCommand(1, 'Name a command: info, eval')
  .strict()
  .fail((msg, err) => {
    if (err) fail(err);
    console.error(chalk.red('fxpq: error: ') + msg + ' (see fxpq --help)');
    process.exit(1);
  })
  .help()
  .version()
  .parseAsync();
