/**
 * Synthesizes the generated RTL of every zoo model (8-bit and mixed configurations) with Yosys
 * (WebAssembly) for xc7 and iCE40 UltraPlus, and writes the table to docs/hardware-results.md.
 * One synthesis of a whole network takes minutes (weight ROM contents dominate); the full matrix
 * takes about an hour on one core. Prints the analytical estimate and its error next to Yosys. Usage: node dist/bench/synth-zoo.js [--macs 64] [--targets xc7,ice40up] [--models mlp,...]
 * [--configs u8,mixed] [--write]
 */
import { calibrations, estimatePlan } from '../src/estimate/estimate.js';
import { generateDesign, synthesisFiles } from '../src/hw/generate.js';
import { synthesize, type Target } from '../src/synth/yosys.js';
import { ZOO, type ZooConfig, zooQGraph } from '../src/calibration/zoo.js';
import { writeSection } from './readme-section.js';
import { loadZooYosys, recordZooYosys } from '../src/calibration/zoo-yosys.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const macs = Number(arg('macs', '64'));
const targets = arg('targets', 'xc7,ice40up').split(',') as Target[];
const models = arg('models', ZOO.map((z) => z.name).join(',')).split(',');
const configs = arg('configs', 'u8,mixed').split(',') as ZooConfig[];

const rows: string[] = [];
for (const z of ZOO.filter((m) => models.includes(m.name))) {
  for (const config of configs) {
    const q = zooQGraph(z.name, config);
    const d = generateDesign(q, { model: z.name, source: `${z.name}.onnx`, macs, images: 1 });
    const files = synthesisFiles(d);
    for (const target of targets) {
      try {
        const s = await synthesize({ files, sources: d.sources, top: d.top, target });
        // Recorded for bench/estimator-zoo.ts, which checks the estimator without synthesizing again.
        if (macs === loadZooYosys().macs)
          recordZooYosys({
            model: z.name,
            config,
            target,
            lut: s.lut,
            ff: s.ff,
            dsp: s.dsp,
            bram: s.bram,
            lutram: s.lutram,
            seconds: Math.round(s.seconds),
          });
        // The analytical estimate next to each figure (where the family is calibrated), with its error.
        const est = calibrations[target] ? estimatePlan(d.plan, target).total : null;
        const cmp = (e: number | undefined, y: number) =>
          e === undefined
            ? `${y}`
            : `${y} / ${e} (${y === 0 ? (e === 0 ? '0' : 'n/a') : `${e >= y ? '+' : ''}${((100 * (e - y)) / y).toFixed(0)} %`})`;
        const row = `| ${z.name} | ${config} | ${target} | ${d.plan.macs} | ${cmp(est?.lut, s.lut)} | ${cmp(est?.ff, s.ff)} | ${cmp(est?.dsp, s.dsp)} | ${cmp(est?.bram, s.bram)} | ${cmp(est?.lutram, s.lutram)} | ${s.seconds.toFixed(0)} s |`;
        console.log(row);
        rows.push(row);
      } catch (e) {
        const row = `| ${z.name} | ${config} | ${target} | ${d.plan.macs} | error: ${(e as Error).message.slice(0, 80)} | | | | | |`;
        console.log(row);
        rows.push(row);
      }
    }
  }
}
if (process.argv.includes('--write'))
  writeSection(
    'docs/hardware-results.md',
    `Yosys synthesis of the zoo (--macs ${macs})`,
    `Yosys 0.55 (@yowasp/yosys): \`synth_xilinx -family xc7 -noiopad -flatten\` and \`synth_ice40 -dsp -flatten\`; \`bench/synth-zoo.ts\`.
BRAM is RAMB36E1 (RAMB18E1 count as halves) on xc7 and SB_RAM40_4K on iCE40; the weight ROMs hold every weight on chip, so the
iCE40 counts exceed what an UltraPlus part has (30 EBR): those designs would keep weights in SPRAM or off chip.

Each figure is Yosys / analytical estimate (error of the estimate) where the family is calibrated.

| model | config | target | multipliers | LUT | FF | DSP | BRAM | LUTRAM | time |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}`,
  );
