/**
 * The Yosys figures of the zoo designs (src/calibration/data/zoo-yosys.json): written by
 * bench/synth-zoo.ts after each synthesis, read by bench/estimator-zoo.ts and the estimator test,
 * so a changed estimator is checked against every design without synthesizing again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Resources } from '../estimate/estimate.js';
import type { Target } from '../estimate/families.js';
import type { ZooConfig } from './zoo.js';

export const ZOO_YOSYS_FILE = 'src/calibration/data/zoo-yosys.json';

export interface ZooSynthesis extends Resources {
  model: string;
  config: ZooConfig;
  target: Target;
  seconds?: number;
}
export interface ZooYosys {
  note?: string;
  macs: number;
  designs: ZooSynthesis[];
}

export const loadZooYosys = (): ZooYosys => JSON.parse(readFileSync(ZOO_YOSYS_FILE, 'utf8')) as ZooYosys;

/** Records (or replaces) one design's figures. */
export function recordZooYosys(r: ZooSynthesis): void {
  const all = loadZooYosys();
  const i = all.designs.findIndex((x) => x.model === r.model && x.config === r.config && x.target === r.target);
  if (i >= 0) all.designs[i] = r;
  else all.designs.push(r);
  writeFileSync(ZOO_YOSYS_FILE, JSON.stringify(all, null, 1) + '\n');
}
