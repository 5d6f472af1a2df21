import { describe, expect, it } from 'vitest';
import { gemm, gemmJs, wasmAvailable } from '../src/engine/gemm.js';
import { rng } from '../src/onnx/builder.js';

describe('GEMM kernels', () => {
  it('the WebAssembly SIMD kernel is in use on this machine', () => {
    expect(wasmAvailable()).toBe(true);
  });

  it('WebAssembly and JavaScript kernels give bit-identical float64 results, with offsets and remainders', () => {
    const r = rng(11);
    for (const [M, N, K] of [
      [1, 1, 600],
      [3, 5, 7],
      [4, 4, 4],
      [5, 9, 13],
      [8, 64, 9],
      [17, 70, 33],
      [64, 130, 144],
      [7, 200, 1],
    ]) {
      for (const accumulate of [false, true]) {
        const A = Float64Array.from({ length: M * K + 3 }, () => r() * 2 - 1);
        const B = Float64Array.from({ length: K * N + 5 }, () => r() * 2 - 1);
        const C0 = Float64Array.from({ length: M * N + 2 }, () => r());
        const C1 = C0.slice();
        const Cinit = C0.slice();
        gemm(M, N, K, A, 3, B, 5, C0, 2, accumulate);
        gemmJs(M, N, K, A, 3, B, 5, C1, 2, accumulate);
        let same = 0;
        for (let i = 0; i < C0.length; i++) if (Object.is(C0[i], C1[i])) same++;
        expect(same, `M=${M} N=${N} K=${K} acc=${accumulate}`).toBe(C0.length);
        // And both equal a plain triple loop in the same summation order.
        const i = M - 1,
          j = N - 1;
        let s = accumulate ? Cinit[2 + i * N + j] : 0;
        for (let k = 0; k < K; k++) s += A[3 + i * K + k] * B[5 + k * N + j];
        expect(C0[2 + i * N + j]).toBe(s);
      }
    }
  });
});

describe('convolution in WebAssembly', () => {
  it('im2col + GEMM in WebAssembly equals the JavaScript im2col + GEMM bit for bit, over random geometries', async () => {
    const { convGroupWasm } = await import('../src/engine/gemm.js');
    const { im2col } = await import('../src/engine/kernels.js');
    const { convOutHW } = await import('../src/ir/geometry.js');
    const r = rng(5);
    const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
    for (let t = 0; t < 200; t++) {
      const cinG = int(1, 4),
        h = int(1, 9),
        w = int(1, 9),
        kh = int(1, 4),
        kw = int(1, 4),
        coutG = int(1, 6);
      const sh = int(1, 3),
        sw = int(1, 3),
        dh = int(1, 2),
        dw = int(1, 2);
      const pads: [number, number, number, number] = [int(0, 3), int(0, 3), int(0, 3), int(0, 3)];
      const [ho, wo] = convOutHW(h, w, [kh, kw], [sh, sw], pads, [dh, dw]);
      if (ho < 1 || wo < 1) continue;
      const K = cinG * kh * kw;
      const W = Float64Array.from({ length: coutG * K + 2 }, () => r() - 0.5);
      const X = Float64Array.from({ length: cinG * h * w + 3 }, () => r() - 0.5);
      const a = new Float64Array(coutG * ho * wo + 1),
        b = new Float64Array(coutG * ho * wo + 1);
      expect(convGroupWasm(coutG, W, 2, X, 3, { cinG, h, w, kh, kw, ho, wo, sh, sw, pt: pads[0], pl: pads[1], dh, dw }, a, 1)).toBe(true);
      const col = new Float64Array(K * ho * wo);
      im2col(X, 3, cinG, h, w, kh, kw, ho, wo, sh, sw, pads[0], pads[1], dh, dw, col);
      gemmJs(coutG, ho * wo, K, W, 2, col, 0, b, 1, false);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});
