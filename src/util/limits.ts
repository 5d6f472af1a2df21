import { FxpqError } from '../errors.js';

/**
 * One memory budget for everything sized by untrusted input (ONNX shapes and constants, .npy
 * headers, .fxp.json shapes, hardware plans). Sizes are checked against it before anything is
 * allocated, so a small hostile file ends in one clear line instead of an out-of-memory crash.
 * The CLI sets it from --max-memory (GiB); FXPQ_MAX_MEMORY (GiB) sets it for library users.
 */
export const DEFAULT_MAX_MEMORY_GIB = 8;
const GIB = 2 ** 30;

let limitBytes = fromEnv() ?? DEFAULT_MAX_MEMORY_GIB * GIB;

function fromEnv(): number | null {
  const v = process.env.FXPQ_MAX_MEMORY;
  if (v === undefined || v === '') return null;
  const g = Number(v);
  return Number.isFinite(g) && g > 0 ? g * GIB : null;
}

export function setMemoryLimitGiB(gib: number): void {
  if (!Number.isFinite(gib) || gib <= 0 || gib > 1024) throw new FxpqError(`--max-memory must be a number of GiB in (0, 1024], not ${gib}`);
  limitBytes = gib * GIB;
}

export const memoryLimitBytes = (): number => limitBytes;

export const fmtBytes = (b: number): string =>
  b >= GIB
    ? `${(b / GIB).toFixed(b >= 10 * GIB ? 0 : 1)} GiB`
    : b >= 2 ** 20
      ? `${(b / 2 ** 20).toFixed(1)} MiB`
      : `${Math.ceil(b / 1024)} KiB`;

/** Largest element count a typed array may have here (V8's limit), independent of the budget. */
export const MAX_TYPED_ELEMENTS = 2 ** 32 - 1;

/** Exit code 1 with a line naming the size, the budget and the override. */
export class LimitError extends FxpqError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'LimitError';
  }
}

/**
 * Throws unless `elements` items of `bytesPerElement` bytes are a sane, affordable allocation.
 * `what` names the thing for the user ("constant 'x' of ConstantOfShape", "input .npy shape").
 */
export function checkAlloc(elements: number, bytesPerElement: number, what: string): void {
  if (!Number.isFinite(elements) || !Number.isInteger(elements) || elements < 0) {
    throw new LimitError(`${what}: size ${elements} is not a whole, non-negative number of elements`);
  }
  const bytes = elements * bytesPerElement;
  if (elements > MAX_TYPED_ELEMENTS || bytes > limitBytes) {
    throw new LimitError(
      `${what} needs ${fmtBytes(bytes)} (${elements.toExponential(3)} elements), more than the memory limit of ${fmtBytes(limitBytes)} (raise it with --max-memory GiB)`,
    );
  }
}

/**
 * Element count of a declared shape, checked as it is multiplied so that an overflowing or
 * non-integer dimension is caught before the product loses precision.
 */
export function shapeElements(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new LimitError(`${what}: dimension ${d} of ${fmtShape(shape)} is not a whole, non-negative number`);
    if (d > Number.MAX_SAFE_INTEGER) throw new LimitError(`${what}: shape ${fmtShape(shape)} has more elements than can be counted`);
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) throw new LimitError(`${what}: shape ${fmtShape(shape)} has more elements than can be counted`);
  }
  return n;
}

/** A shape for a one-line message: at most 8 dimensions shown. */
export const fmtShape = (shape: readonly number[]): string =>
  `[${shape.length > 8 ? `${shape.slice(0, 8).join(', ')}, ... (${shape.length} dimensions)` : shape.join(', ')}]`;

/** A name read from a file, cut to a length that keeps an error message on one short line. */
export const shortName = (s: string, max = 80): string => {
  const t = s.replace(/[\r\n\t]/g, ' ');
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
};

/** A running total (constants folded at import, say), checked against the same budget. */
export class Budget {
  private used = 0;
  constructor(private readonly what: string) {}
  take(elements: number, bytesPerElement: number, item: string): void {
    checkAlloc(elements, bytesPerElement, item);
    this.used += elements * bytesPerElement;
    if (this.used > limitBytes)
      throw new LimitError(
        `${this.what} need more than the memory limit of ${fmtBytes(limitBytes)} in all (raise it with --max-memory GiB)`,
      );
  }
}

/** `shapeElements` then `checkAlloc`: the element count of a declared shape that may be allocated. */
export function checkShape(shape: readonly number[], bytesPerElement: number, what: string): number {
  const n = shapeElements(shape, what);
  checkAlloc(n, bytesPerElement, what);
  return n;
}

/** WebAssembly (wasm32) linear memory ends at 4 GiB whatever the limit; the engines' kernels run there. */
export const WASM_MAX_BYTES = 2 ** 32;

/**
 * One image of a convolution: its im2col buffer (taps x output pixels, float64 in JavaScript and
 * again in WebAssembly) against the limit, and everything the WebAssembly kernel holds for that image
 * (weights, input, columns, output) against the 4 GiB that wasm32 can address.
 */
export function checkConvWork(
  g: { cout: number; cinG: number; kh: number; kw: number; inElements: number; outPixels: number },
  what: string,
): void {
  const k = g.cinG * g.kh * g.kw;
  checkAlloc(k * g.outPixels, 16, `${what}: its im2col buffer (${k} taps x ${g.outPixels} outputs)`);
  const wasm = 8 * (g.cout * k + 2 * g.inElements + k * g.outPixels + 2 * g.cout * g.outPixels);
  if (!(wasm <= WASM_MAX_BYTES - 2 ** 20)) {
    throw new LimitError(`${what}: one image needs ${fmtBytes(wasm)} of WebAssembly memory, more than the 4 GiB it can address`);
  }
}
