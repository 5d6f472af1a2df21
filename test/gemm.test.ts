import { describe, expect, it } from 'vitest';
import { gemm, gemmJs, wasmAvailable } from '../src/engine/gemm.js';
import { rng } from '../src/onnx/builder.js';

describe('GEMM kernels', () => {
  it('the WebAssembly SIMD kernel is in use on this machine', () => {
    expect(wasmAvailable()).toBe(true);
  });

  it('WebAssembly and JavaScript kernels give bit-identical float64 results, with offsets and remainders', () => {
    const r = rng(11);
    for (const [M, N, K] of [[1, 1, 600], [3, 5, 7], [4, 4, 4], [5, 9, 13], [8, 64, 9], [17, 70, 33], [64, 130, 144], [7, 200, 1]]) {
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
        const i = M - 1, j = N - 1;
        let s = accumulate ? Cinit[2 + i * N + j] : 0;
        for (let k = 0; k < K; k++) s += A[3 + i * K + k] * B[5 + k * N + j];
        expect(C0[2 + i * N + j]).toBe(s);
      }
    }
  });
});
