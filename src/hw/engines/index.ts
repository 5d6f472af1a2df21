import type { QLayer } from '../../quant/qgraph.js';
import type { EngineModule } from '../engine-module.js';
import { type AddEngine, addEngine } from './add/index.js';
import { type ConcatEngine, concatEngine } from './concat/index.js';
import { type DepthwiseEngine, depthwiseEngine } from './depthwise/index.js';
import { type LinearEngine, linearEngine } from './linear/index.js';
import { type PoolEngine, poolEngine } from './pool/index.js';

/**
 * The registry of hardware engines: one line per kind. The mapped type below makes the compiler
 * reject a kind in EnginePlan without a module, or a module of the wrong kind.
 */
export type EnginePlan = LinearEngine | PoolEngine | AddEngine | DepthwiseEngine | ConcatEngine;
export type EngineKind = EnginePlan['kind'];
export type { AddEngine, ConcatEngine, DepthwiseEngine, LinearEngine, PoolEngine };

const ENGINES: { readonly [K in EngineKind]: EngineModule<Extract<EnginePlan, { kind: K }>> } = {
  depthwise: depthwiseEngine,
  linear: linearEngine,
  pool: poolEngine,
  add: addEngine,
  concat: concatEngine,
};

/** `engineFor` tries them in registration order: a specialised engine goes before the general one it refines. */
const ORDER = Object.keys(ENGINES) as EngineKind[];

/** Every registered engine module, in registration order. */
export const engineModules = (): readonly EngineModule<EnginePlan>[] => ORDER.map((k) => ENGINES[k] as unknown as EngineModule<EnginePlan>);

/** The module of an engine, typed for it. */
export const engineModule = <E extends EnginePlan>(e: E): EngineModule<E> => ENGINES[e.kind as E['kind']] as unknown as EngineModule<E>;

/** The engine that implements a quantized layer, or null when none does. */
export function engineFor(l: QLayer): EngineModule<EnginePlan> | null {
  for (const k of ORDER) if (ENGINES[k].accepts(l)) return ENGINES[k] as unknown as EngineModule<EnginePlan>;
  return null;
}

/** Taps an engine issues per image: one per cycle. */
export const engineTaps = (e: EnginePlan): number => engineModule(e).taps(e);

/** Cycles from an engine's start pulse to its done pulse, both included. */
export const engineCycles = (e: EnginePlan): number => engineModule(e).taps(e) + engineModule(e).pipelineDepth;

export const engineSummary = (e: EnginePlan): string => engineModule(e).summary(e);
