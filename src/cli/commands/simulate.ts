import chalk from 'chalk';
import { FxpqError } from '../../errors.js';
import { buildPlan } from '../../hw/plan.js';
import { readFxpFile } from '../../io/fxpjson.js';
import { availableParallelism } from 'node:os';
import { simulateParallel } from '../../../sim/simulate.js';
import { alwaysReady, TbStall } from '../../../sim/handshake.js';
import { Progress } from '../progress.js';
import { fmtInt, table } from '../table.js';
import { checkMacs, checkWeights, modelName, vectorInputs } from './generate.js';
import { asciiJson } from '../../util/text.js';

export interface SimulateArgs {
  model: string;
  data: string;
  scale?: string;
  limit?: number;
  macs?: number;
  weights?: string;
  stall: boolean;
  clock: number;
  workers?: number;
  json: boolean;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Runs the cycle simulator on images and checks every logit against the integer reference. */
export async function simulateCommand(a: SimulateArgs): Promise<void> {
  checkMacs(a.macs);
  if (!(a.clock > 0)) throw new FxpqError(`--clock must be a positive number of MHz, got ${a.clock}`);
  if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 1))
    throw new FxpqError(`--limit must be a positive integer, got ${a.limit}`);
  if (a.workers !== undefined && (!Number.isInteger(a.workers) || a.workers < 1))
    throw new FxpqError(`--workers must be a positive integer, got ${a.workers}`);
  const f = readFxpFile(a.model);
  const plan = buildPlan(f.q, { macs: a.macs, model: modelName(a.model, f), weights: checkWeights(a.weights) });
  const { inputs, images } = vectorInputs(f, a.data, a.scale, a.limit);
  const bar = new Progress('simulate', images, 'images', !a.json);
  const t0 = performance.now();
  const r = await simulateParallel(f.q, plan, inputs, images, {
    handshake: a.stall ? new TbStall() : alwaysReady,
    workers: a.workers ?? Math.min(2, availableParallelism()),
    onImage: (d) => bar.update(d),
  });
  const seconds = (performance.now() - t0) / 1000;
  bar.done();
  const c = r.counters;
  const hwRate = (a.clock * 1e6) / c.interval_cycles;
  if (a.json) {
    console.log(
      asciiJson({
        images: r.counters.images,
        cycles_per_image: c.latency_cycles.max,
        mismatches_vs_reference: r.mismatches,
        utilization: c.utilization,
        layers: c.layers,
        seconds: Number(seconds.toFixed(3)),
        latency_cycles: c.latency_cycles,
        interval_cycles: c.interval_cycles,
        planned_latency: plan.latency,
        stalls: { input: c.input_stall_cycles, output: c.output_stall_cycles, pattern: a.stall ? 'tb-lfsr' : 'none' },
        phases: { load: c.load_cycles, compute: c.compute_cycles, send: c.send_cycles },
        multipliers: c.multipliers,
        macs_per_image: c.macs_per_image,
        buffers: c.buffers,
        memory: c.memory,
        clock_mhz: a.clock,
        hardware_images_per_second: hwRate,
        simulated_images_per_second: images / seconds,
        seconds_split: r.seconds,
        first_mismatch: r.firstMismatch,
      }),
    );
  } else {
    console.log(
      table(
        ['engine', 'layer', 'mults', 'busy cycles', 'idle', 'MACs', 'util', 'weight reads'],
        c.layers.map((l) => [
          l.engine,
          l.layer,
          l.multipliers || '-',
          fmtInt(l.busy_cycles),
          fmtInt(Math.round(l.idle_cycles)),
          fmtInt(l.macs),
          l.multipliers ? pct(l.utilization) : '-',
          l.weight_rom_reads ? fmtInt(l.weight_rom_reads) : '-',
        ]),
      ),
    );
    const ok = r.mismatches === 0;
    const lat =
      c.latency_cycles.min === c.latency_cycles.max
        ? fmtInt(c.latency_cycles.max)
        : `${fmtInt(c.latency_cycles.min)}..${fmtInt(c.latency_cycles.max)}`;
    console.log(
      `${ok ? chalk.green('PASS') : chalk.red('FAIL')} ${c.images} images, ${r.mismatches} mismatches against the integer reference; ` +
        `${lat} cycles per image (load ${fmtInt(Math.round(c.load_cycles))}, compute ${fmtInt(c.compute_cycles)}, send ${fmtInt(Math.round(c.send_cycles))}${a.stall ? `, ${c.input_stall_cycles.toFixed(0)} + ${c.output_stall_cycles.toFixed(0)} stalled` : ''}), interval ${fmtInt(Math.round(c.interval_cycles))}`,
    );
    console.log(
      `${c.multipliers} multipliers, ${pct(c.utilization)} utilized; ${fmtInt(Math.round(hwRate))} images/s at ${a.clock} MHz; ` +
        `activations ${(c.memory.allocated_bits / 8192).toFixed(1)} KiB allocated, at most ${(c.memory.peak_live_bits / 8192).toFixed(1)} KiB live (during ${c.memory.peak_during}); ` +
        `simulated ${(images / seconds).toFixed(0)} images/s`,
    );
    const fm = r.firstMismatch;
    if (fm) console.log(`first mismatch: image ${fm.image}, logit ${fm.element}: simulator ${fm.got}, reference ${fm.expected}`);
  }
  if (r.mismatches > 0) throw new FxpqError(`${r.mismatches} mismatches between the simulator and the integer reference`, 1);
}
