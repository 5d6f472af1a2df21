import { join } from 'node:path';
import { gateSim } from '../cosim/gate-sim.js';
import { FxpqError } from '../errors.js';
import { type FitReport, placementOf, portBits } from '../device/fit.js';
import type { Part } from '../device/parts.js';
import { generateDesign, synthesisFiles } from '../hw/generate.js';
import type { HwPlan, WeightPlacement } from '../hw/plan.js';
import type { QGraph } from '../quant/qgraph.js';
import { asciiJson, terminalText } from '../util/text.js';
import { placeAndRoute } from './ice40.js';

/**
 * One design through to a bitstream, for `fxpq implement` and `fxpq run --device`: synthesis,
 * placement and routing (ice40.ts), then, when asked, the synthesized netlist under the RTL's own
 * test bench (src/cosim/gate-sim.ts), which must give the same logits and the same cycles.
 */
export interface ImplementReport {
  device: string;
  part: string;
  /** nextpnr either places and routes the whole design or fails with an error. */
  fits: true;
  macs: number;
  multipliers: number;
  /** Logic cells after packing (an iCE40's LUT4 + flip-flop unit). */
  lut: number;
  ff: number;
  dsp: number;
  bram: number;
  io: number;
  /** SPRAM blocks used (UltraPlus): the weight store. */
  spram: number;
  /** Where the weights are: in the bitstream (rom) or streamed in after reset (load, weight_load_beats beats). */
  weights: WeightPlacement;
  weight_load_beats: number;
  available: { lut: number; ff: number; dsp: number; bram: number; spram: number; io: number };
  estimate: { lc: number; lut: number; ff: number; dsp: number; bram: number; spram: number };
  fmax_mhz: number;
  /**
   * Paths through SB_MAC16 blocks used without registers, which nextpnr leaves out of fmax_mhz
   * (ice40.ts untimedDspPaths): the worst routed path into one and out of one, in ns, the
   * multiplier's own delay not included. Null when the design has none.
   */
  untimed_dsp_paths: { into_ns: number; out_of_ns: number } | null;
  cycles_per_image: number;
  images_per_second: number;
  /** Path of the bitstream in the output folder. */
  bitstream: string;
  gate_sim: { images: number; mismatches: number; cycles_match: boolean } | null;
  seed: number;
  seconds: { synth: number; pnr: number; pack: number; gate_sim: number };
}

export interface Implemented {
  report: ImplementReport;
  /** The files to write beside the RTL: the bitstream, nextpnr's log, implement.json. */
  files: Record<string, string | Uint8Array>;
}

export async function implementPlan(
  q: QGraph,
  o: {
    part: Part;
    plan: HwPlan;
    fit: FitReport;
    model: string;
    source: string;
    top: string;
    /** Folder the files will be written to (for the report's bitstream path). */
    out: string;
    freqMhz: number;
    seed: number;
    /** Images for the gate-level simulation (0: none). */
    gateImages: number;
    onStep?: (what: string) => void;
  },
): Promise<Implemented> {
  const { part, plan } = o;
  if (portBits(plan) > part.io)
    throw new FxpqError(`${terminalText(o.model, 80)}'s ports need ${portBits(plan)} pins; ${part.vendor} has ${part.io} user I/O`);
  const d = generateDesign(q, {
    model: o.model,
    source: o.source,
    macs: plan.macBudget,
    weights: placementOf(plan),
    top: o.top,
    images: Math.max(o.gateImages, 1),
    seed: 0,
  });
  const files = synthesisFiles(d);
  o.onStep?.(`${o.top} at --macs ${plan.macBudget} (${plan.macs} multipliers): synthesizing, placing and routing for ${part.vendor}`);
  const r = await placeAndRoute({
    files,
    sources: d.sources,
    top: o.top,
    part,
    freqMhz: o.freqMhz,
    seed: o.seed,
    gateVerilog: o.gateImages > 0,
  });
  let gate: ImplementReport['gate_sim'] = null;
  let gateSeconds = 0;
  if (o.gateImages > 0 && r.gateVerilog) {
    o.onStep?.(`gate-level simulation of the synthesized netlist in Icarus, ${o.gateImages} images`);
    const g = await gateSim(d.files, r.gateVerilog);
    gateSeconds = g.seconds;
    gate = {
      images: g.images,
      mismatches: g.mismatches,
      cycles_match: g.cycles.length === g.images && g.cycles.every((c) => c === plan.latency),
    };
    if (g.mismatches > 0 || !gate.cycles_match)
      throw new FxpqError(
        `the synthesized netlist does not behave as the RTL: ${g.mismatches} mismatching logits, cycles per image ${[...new Set(g.cycles)].join('/')} against ${plan.latency} (please report it)`,
      );
  }
  const fmax = Number(r.fmaxMhz.toFixed(2));
  const bin = `${o.top}.bin`;
  const f = o.fit;
  const report: ImplementReport = {
    device: part.name,
    part: part.vendor,
    fits: true,
    macs: plan.macBudget,
    multipliers: plan.macs,
    lut: r.lc,
    ff: r.ff,
    dsp: r.dsp,
    bram: r.ram,
    spram: r.spram,
    io: r.io,
    weights: placementOf(plan),
    weight_load_beats: plan.weightStore?.beats ?? 0,
    available: { lut: part.lut, ff: part.ff, dsp: part.dsp, bram: part.bram, spram: part.spram, io: part.io },
    estimate: {
      lc: f.rows[0].need,
      lut: f.estimate.lut,
      ff: f.estimate.ff,
      dsp: f.estimate.dsp,
      bram: f.estimate.bram,
      spram: f.part.family === 'ice40up' ? f.estimate.lutram : 0,
    },
    fmax_mhz: fmax,
    untimed_dsp_paths: r.untimedDsp ? { into_ns: r.untimedDsp.intoNs, out_of_ns: r.untimedDsp.outOfNs } : null,
    cycles_per_image: plan.interval,
    images_per_second: Math.round((fmax * 1e6) / plan.interval),
    bitstream: join(o.out, bin),
    gate_sim: gate,
    seed: o.seed,
    seconds: {
      synth: Number(r.seconds.synth.toFixed(1)),
      pnr: Number(r.seconds.pnr.toFixed(1)),
      pack: Number(r.seconds.pack.toFixed(1)),
      gate_sim: Number(gateSeconds.toFixed(1)),
    },
  };
  return { report, files: { [bin]: r.bitstream, 'nextpnr.log': r.log, 'implement.json': asciiJson(report) + '\n' } };
}
