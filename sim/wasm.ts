import { SIMCONV_WASM_BASE64 } from './conv-wasm.generated.js';

/**
 * The WebAssembly int32 conv/dense kernel (wasm/simconv.ts) with its own linear memory, and a bump
 * allocator over it: each engine places its weights and tap lists once, and all engines share the
 * scratch areas. One arena per Simulator, so worker threads never share memory.
 */
interface SimconvExports {
  memory: WebAssembly.Memory;
  conv: (x: number, elem: number, row: number, offs: number, pix: number, w: number, bias: number, cout: number, acc: number, xs: number, rs: number) => void;
}

let module: WebAssembly.Module | null | undefined;
function compiled(): WebAssembly.Module | null {
  if (module === undefined) {
    try {
      module = process.env.FXPQ_NO_WASM === '1' ? null : new WebAssembly.Module(Buffer.from(SIMCONV_WASM_BASE64, 'base64'));
    } catch {
      module = null; // no SIMD support: the simulator's JavaScript kernels give the same results
    }
  }
  return module;
}

export class WasmArena {
  readonly k: SimconvExports;
  private top = 1024;
  private constructor(inst: WebAssembly.Instance) { this.k = inst.exports as unknown as SimconvExports; }

  static create(): WasmArena | null {
    const m = compiled();
    return m ? new WasmArena(new WebAssembly.Instance(m, {})) : null;
  }

  /** Byte offset of a fresh 16-byte-aligned block of `n` int32. */
  alloc(n: number): number {
    const at = this.top;
    this.top = (at + 4 * n + 15) & ~15;
    const have = this.k.memory.buffer.byteLength;
    if (this.top > have) this.k.memory.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }

  /** A view of the whole memory (valid until the next alloc grows it). */
  i32(): Int32Array { return new Int32Array(this.k.memory.buffer); }
}
