/** fxpq library API: everything the CLI does is available here for other programs. */
export { FxpqError, UnsupportedError } from './errors.js';
export type * from './ir/types.js';
export { size } from './ir/types.js';
export { graphStats, nodeStats, type LayerStats } from './ir/stats.js';
export { importOnnx, importOnnxFile, SUPPORTED_OPS, MIN_OPSET, MAX_OPSET } from './onnx/import.js';
export { runGraph, argmaxRows, type RunResult } from './engine/run.js';
export { exactnessBound, checkExactRange, EXACT_LIMIT, type ExactnessReport } from './engine/exact.js';
export { parseNpy, readNpy, encodeNpy, type NpyArray, type NpyDtype } from './io/npy.js';
export { loadImages, loadLabels, parseScale, type Images } from './io/dataset.js';
export { evaluate, type EvalResult, type EvalOptions } from './eval/evaluate.js';

// The pipeline after import, in its order: quantize (FxP-QNet or a baseline), the .fxp.json file,
// the integer-only reference, the hardware plan and its Verilog, the cycle simulator, RTL
// co-simulation (needs Icarus or Verilator) and the resource estimate.
export { quantizeModel, type QuantizeModelOptions, type QuantizeModelResult, type Method, type Rounding } from './search/quantize.js';
export { readFxpFile, toFxpFile, type FxpFile, type FxpMeta, type LoadedFxp } from './io/fxpjson.js';
export type { QGraph, QLayer } from './quant/qgraph.js';
export type { FxFormat } from './fixed/format.js';
export { runQGraph, type IntRunResult } from './intref/run.js';
export { quantizeInput } from './intref/ops.js';
export { buildPlan, DEFAULT_MACS, type HwPlan, type PlanOptions } from './hw/plan.js';
export { generateDesign, type GeneratedDesign, type GenerateOptions } from './hw/generate.js';
export { simulate, simulateParallel, type SimulateOptions, type SimulateResult } from '../sim/simulate.js';
export { cosim, type CosimOptions, type CosimResult } from './cosim/cosim.js';
export { estimatePlan, type DesignEstimate, type Resources } from './estimate/estimate.js';
export type { Target } from './estimate/families.js';
