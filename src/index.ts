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
