import { engineModule, type EnginePlan } from '../src/hw/engines/index.js';
import type { HwPlan } from '../src/hw/plan.js';
import type { EngineModel } from './engine-model.js';
import type { WasmArena } from './wasm.js';

export type { BufferData, EngineActivity, EngineModel } from './engine-model.js';

/**
 * The transaction-level model of one engine, from its module (src/hw/engines/<kind>/sim.ts);
 * engines that run on the WebAssembly kernels place their data in `arena` when one is given.
 */
export function engineModel(plan: HwPlan, e: EnginePlan, arena: WasmArena | null = null): EngineModel {
  return engineModule(e).model(e, plan.buffers, arena);
}
