import type { MicroBench } from '../calibration/micro-kit.js';
import type { BlockFeatures } from '../estimate/feature-kit.js';
import type { Target } from '../estimate/families.js';
import type { QGraph, QLayer } from '../quant/qgraph.js';
import type { EngineModel } from '../../sim/engine-model.js';
import type { WasmArena } from '../../sim/wasm.js';
import type { BufferPlan, EngineBase } from './plan-types.js';
import type { RenderCtx } from './render-kit.js';

/**
 * Everything fxpq knows about one kind of hardware engine, in one object (as FINN's HWCustomOp
 * carries execution, cycles and resources per hardware layer): which quantized layers it
 * implements, how the plan folds and builds it, its cycles, its Verilog, its transaction-level
 * model and its resource features. Each kind lives in its own folder under src/hw/engines/ and is
 * registered in src/hw/engines/index.ts; the plan, the renderer, the cycle simulator and the
 * estimator call these functions and never switch on the kind (docs/extending.md).
 */
export interface EngineModule<E extends EngineBase> {
  readonly kind: E['kind'];
  /** Whether this engine implements the layer (the first registered engine that does is used). */
  accepts(l: QLayer): boolean;
  /**
   * Lanes: 'free' when the engine writes its output buffer with a lane count of its own choosing
   * (the plan's folding picks it), 'tied' when output and input buffers must share one lane count.
   */
  readonly lanes: 'free' | 'tied';
  /**
   * Numbers the lane counts of its input and output buffers must divide, beyond their channel
   * counts (a grouped convolution's words must not straddle two groups); none when absent.
   */
  laneDivides?(l: QLayer): { input?: number; output?: number };
  /** Whether the engine multiplies with a SIMD width of its own over its input words' lanes. */
  readonly simd: boolean;
  /**
   * Multipliers and cycles for the plan's folding, given the lanes of its input and output buffers
   * and its SIMD width; engines without a folding cost (their cycles do not enter the objective,
   * their multipliers not the --macs budget) leave it out.
   */
  readonly fold?: {
    geometry(l: QLayer, input: Chw, output: Chw): FoldGeometry;
    cost(g: FoldGeometry, inLanes: number, outLanes: number, simd: number): { mults: number; cycles: number };
  };
  /**
   * Sizes the plan will hold for the layer, checked against the memory limit before the plan is
   * built (they come from a .fxp.json): weight and bias values of its ROMs, and entries of the
   * simulator's window table.
   */
  planSizes(l: QLayer, q: QGraph): { weights: number; taps: number };
  /** Builds the engine for one layer; `cycles` is filled in by the plan from `taps`. */
  build(b: BuildContext): E;
  /** Taps issued per image, one per cycle. */
  taps(e: E): number;
  /** Cycles from the last tap to the done pulse. */
  readonly pipelineDepth: number;
  /** One line: formats, lanes and multipliers. */
  summary(e: E): string;
  /** Multipliers that count against the --macs budget (and in the simulator's utilisation). */
  budgetMultipliers(e: E): number;
  /** Bits of the engine's weight and bias ROMs. */
  romBits(e: E): number;
  /**
   * Its weight ROM's shape (one word per tap), for engines that can read their weights from the
   * shared weight store instead (plan-types.ts WeightStore); absent for engines without weights.
   */
  weightWords?(e: E): { words: number; bits: number };
  /** Read-port name of each input buffer, in `inputs` order (templates/top.v.hbs wires them). */
  readPorts(e: E): string[];
  /** What `fxpq generate --json` shows beyond EngineBase: the lanes it computes, its accumulator. */
  json(e: E): { lanes: number; accumulator?: { bits: number; fl: number } };
  /** Writes the engine's Verilog modules (and ROM images) into the design. */
  render(ctx: RenderCtx, buffers: readonly BufferPlan[], e: E): void;
  /** The transaction-level model; engines that can use the WebAssembly kernels place their data in `arena`. */
  model(e: E, buffers: readonly BufferPlan[], arena: WasmArena | null): EngineModel;
  /** Structural features, DSP blocks and memories for the resource estimator. */
  features(e: E, buffers: readonly BufferPlan[], target: Target): BlockFeatures;
  /** Bits per lane of its output words that are constant or copies of another bit (requantSharedBits). */
  sharedBits(e: E): number;
  /** The block's kind in estimates and counters (e.g. conv, maxpool). */
  label(e: E): string;
  /** Its calibration designs: the layers it measures and its spec sets (src/calibration/microbench.ts). */
  readonly microbench: MicroBench;
}

/** What the plan hands an engine's builder. */
export interface BuildContext {
  q: QGraph;
  layer: QLayer;
  base: Pick<EngineBase, 'index' | 'id' | 'layer' | 'inputs' | 'output'>;
  inputs: BufferPlan[];
  output: BufferPlan;
  /** SIMD width chosen by the folding (1 for engines without one). */
  simd: number;
}

/** A buffer's channels, rows and columns ([C] vectors as C x 1 x 1). */
export type Chw = [number, number, number];

/** Shape of a layer as the folding sees it (input channels, output channels, output pixels, kernel positions). */
export interface FoldGeometry {
  cin: number;
  cout: number;
  pix: number;
  kk: number;
}
