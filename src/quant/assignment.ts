import type { FxFormat } from '../fixed/format.js';

/** Formats chosen by a quantizer: the input image's, and per layer its weights, bias and output. */
export interface LayerFormats {
  weights?: FxFormat;
  bias?: FxFormat;
  output?: FxFormat;
  /** Round this layer's weights to nearest even where an error compensation is attached (the search may choose it). */
  nearest?: boolean;
}
export interface Assignment {
  input: FxFormat;
  layers: Record<string, LayerFormats>;
}
