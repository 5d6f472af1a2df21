import { type IntKernels, newIntKernels } from '../src/engine/gemm.js';

/**
 * The integer reference's WebAssembly kernels (wasm/gemm.ts, the same `convInt` that
 * src/intref/ops.ts calls) in an instance of their own, with a bump allocator over its memory: each
 * engine places its packed weights and its input block once; the work areas (indirection table,
 * accumulators, output) are one scratch block that all engines share, as they run one after
 * another. One arena per Simulator, so worker threads never share memory.
 */
export class WasmArena {
  private top = 1024;
  private scratchBytes = 0;
  private scratchAt = -1;
  private constructor(readonly k: IntKernels) {}

  static create(): WasmArena | null {
    const k = newIntKernels();
    return k ? new WasmArena(k) : null;
  }

  /** Byte offset of a fresh 16-byte-aligned block of `bytes` bytes (and 16 bytes of slack), zeroed. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 16 + 15) & ~15;
    const have = this.k.memory.buffer.byteLength;
    if (this.top > have) this.k.memory.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }

  /** Asks for a scratch block of at least `bytes` bytes. */
  reserve(bytes: number): void {
    if (bytes <= this.scratchBytes) return;
    this.scratchBytes = bytes;
    this.scratchAt = -1; // placed again, larger, on next use
  }

  /** Byte offset of the shared scratch block (placed on first use, after every engine has reserved). */
  scratch(): number {
    if (this.scratchAt < 0) this.scratchAt = this.alloc(this.scratchBytes);
    return this.scratchAt;
  }

  /** The whole memory (a new view after an alloc has grown it). */
  get buffer(): ArrayBuffer {
    return this.k.memory.buffer;
  }
}
