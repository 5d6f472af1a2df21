/**
 * C[M x N] (+)= A[M x K] * B[K x N], all row-major float64, with offsets so callers can work on
 * slices of larger buffers without copying.
 *
 * Exactness: every product and every partial sum is formed in float64. For integer-valued operands
 * the result is exact while sum_k |A[i,k]| * |B[k,j]| (plus whatever C held) stays below 2^53;
 * `checkExactRange` in exact.ts verifies that bound for a whole graph.
 *
 * Four rows of A are processed together so each element of B loaded from memory feeds four
 * multiply-adds; the inner loop runs along contiguous rows of B and C.
 */
export function gemm(
  M: number, N: number, K: number,
  A: Float64Array, aOff: number,
  B: Float64Array, bOff: number,
  C: Float64Array, cOff: number,
  accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, cOff, cOff + M * N);
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    for (let k = 0; k < K; k++) {
      const v0 = A[a0 + k], v1 = A[a1 + k], v2 = A[a2 + k], v3 = A[a3 + k];
      if (v0 === 0 && v1 === 0 && v2 === 0 && v3 === 0) continue;
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) {
        const bv = B[b + j];
        C[c0 + j] += v0 * bv;
        C[c1 + j] += v1 * bv;
        C[c2 + j] += v2 * bv;
        C[c3 + j] += v3 * bv;
      }
    }
  }
  for (; i < M; i++) {
    const c0 = cOff + i * N, a0 = aOff + i * K;
    for (let k = 0; k < K; k++) {
      const v0 = A[a0 + k];
      if (v0 === 0) continue;
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) C[c0 + j] += v0 * B[b + j];
    }
  }
}
