import { gemm } from '../engine/gemm.js';
import { packedIndex, packedToDense } from './hessian.js';

/**
 * The factorisation behind error-compensating rounding (quant/compensate.ts): for a block's H
 * (packed lower triangle), the act-order permutation and the upper triangular U with
 * (H_perm + damping)^-1 = U^T U.
 *
 * U is computed as the inverse of the upper triangular R with H_perm = R R^T, which is the lower
 * Cholesky factor of H_perm with rows and columns in reverse order, reversed back: one Cholesky
 * factorisation and one triangular inverse (n^3/3 multiply-adds), both blocked so that nearly all
 * the work is in gemm calls, instead of a Cholesky factorisation, an inverse, the product
 * L^-T L^-1 and a second Cholesky factorisation in scalar loops. The Cholesky factor with a
 * positive diagonal is unique, so this is the same U up to rounding in the last bits.
 */

/** Relative damping added to H's diagonal, as in GPTQ: keeps the factorisation well conditioned. */
export const DAMP = 0.01;

/** Columns per step of the blocked factorisation and inverse. */
const NB = 64;
/** Rows per gemm call of the triangular products. */
const PANEL = 128;

/**
 * Offset of U's element (i, j), j >= i, in its packed form: the upper triangle by rows (row i holds
 * columns i..n-1), half the memory of the square matrix, and row i's elements still at
 * `rowBase(i) + j` with rowBase(i) = i * n - i * (i + 1) / 2.
 */
export const upperIndex = (n: number, i: number, j: number): number => i * n - (i * (i + 1)) / 2 + j;

/**
 * Act-order permutation (largest second moment first, ties by index) and U, packed (upperIndex).
 * U lives in shared memory where the platform has it: the search's worker threads all read the one
 * copy, and it is never copied again on its way there (a ResNet-18-size network has about 100 MB
 * of U per set of statistics).
 */
export function blockFactor(hp: Float64Array, n: number): { perm: Int32Array; u: Float64Array } {
  const diag = Array.from({ length: n }, (_, i) => hp[packedIndex(i, i)]);
  const perm = Int32Array.from(diag.map((_, i) => i).sort((x, y) => diag[y] - diag[x] || x - y));
  let mean = 0;
  for (const d of diag) mean += d;
  mean /= n;
  const damp = DAMP * (mean > 0 ? mean : 1);
  // A = J P^T H P J (J: reversal), lower triangle, row-major n x n, gathered row by row from H.
  const h = packedToDense(hp, n);
  const a = new Float64Array(n * n);
  const rp = Int32Array.from({ length: n }, (_, i) => perm[n - 1 - i]);
  for (let i = 0; i < n; i++) {
    const row = rp[i] * n,
      o = i * n;
    for (let j = 0; j < i; j++) a[o + j] = h[row + rp[j]];
    let d = h[row + rp[i]];
    // A dead input (never non-zero) gets a unit diagonal: its weight is then simply rounded.
    if (d === 0) d = 1;
    a[o + i] = d + damp;
  }
  choleskyLower(a, n);
  const m = invertLower(a, n);
  // A = L L^T, so P^T H P = (J L J)(J L J)^T with J L J upper, and U = (J L J)^-1 = J L^-1 J.
  const len = (n * (n + 1)) / 2;
  const u = typeof SharedArrayBuffer === 'function' ? new Float64Array(new SharedArrayBuffer(len * 8)) : new Float64Array(len);
  for (let i = 0; i < n; i++) {
    const src = (n - 1 - i) * n + (n - 1),
      row = upperIndex(n, i, 0);
    for (let j = i; j < n; j++) u[row + j] = m[src - j];
  }
  return { perm, u };
}

/**
 * In place: the lower Cholesky factor of the symmetric positive definite n x n row-major `a`
 * (only the lower triangle is read or written). Left-looking by blocks of NB columns: each block
 * column is first updated by all columns before it in one gemm, then factored as a tall panel.
 */
export function choleskyLower(a: Float64Array, n: number): void {
  const c = new Float64Array(n * NB);
  let p = new Float64Array(0);
  const bt = new Float64Array(n * NB);
  const inv = new Float64Array(NB * NB),
    invT = new Float64Array(NB * NB),
    l21 = new Float64Array(n * NB);
  for (let k0 = 0; k0 < n; k0 += NB) {
    const k1 = Math.min(n, k0 + NB),
      w = k1 - k0,
      m = n - k0;
    for (let i = 0; i < m; i++) c.set(a.subarray((k0 + i) * n + k0, (k0 + i) * n + k1), i * w);
    if (k0 > 0) {
      // C -= L[k0:n, 0:k0] L[k0:k1, 0:k0]^T
      if (p.length < m * k0) p = new Float64Array(m * k0);
      for (let i = 0; i < m; i++) p.set(a.subarray((k0 + i) * n, (k0 + i) * n + k0), i * k0);
      for (let j = 0; j < w; j++) {
        const row = (k0 + j) * n;
        for (let k = 0; k < k0; k++) bt[k * w + j] = -a[row + k];
      }
      gemm(m, w, k0, p, 0, bt, 0, c, 0, true);
    }
    // The diagonal block by the unblocked algorithm; the rows below it, L21 = C21 L11^-T, in one gemm.
    for (let j = 0; j < w; j++) {
      const rj = j * w;
      let d = c[rj + j];
      for (let k = 0; k < j; k++) d -= c[rj + k] * c[rj + k];
      if (!(d > 0)) throw new Error('matrix is not positive definite');
      const ljj = Math.sqrt(d);
      c[rj + j] = ljj;
      for (let i = j + 1; i < w; i++) {
        const ri = i * w;
        let s = c[ri + j];
        for (let k = 0; k < j; k++) s -= c[ri + k] * c[rj + k];
        c[ri + j] = s / ljj;
      }
    }
    if (m > w) {
      for (let i = 0; i < w; i++) c.fill(0, i * w + i + 1, (i + 1) * w);
      invertSmall(c, w, inv);
      for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) invT[j * w + i] = inv[i * w + j];
      gemm(m - w, w, w, c, w * w, invT, 0, l21, 0, false);
      c.set(l21.subarray(0, (m - w) * w), w * w);
    }
    for (let i = 0; i < m; i++) a.set(c.subarray(i * w, i * w + Math.min(w, i + 1)), (k0 + i) * n + k0);
  }
}

/** Inverse of a small lower triangular w x w matrix (row stride w), into `out` (same layout). */
function invertSmall(l: Float64Array, w: number, out: Float64Array): void {
  out.fill(0, 0, w * w);
  for (let j = 0; j < w; j++) {
    out[j * w + j] = 1 / l[j * w + j];
    for (let i = j + 1; i < w; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * w + k] * out[k * w + j];
      out[i * w + j] = s / l[i * w + i];
    }
  }
}

/**
 * Inverse M of the lower triangular n x n row-major `l` (its lower triangle). By blocks of NB
 * columns from the last: M21 = -(M22 L21) M11 with M11 = L11^-1, M22 already known.
 */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const mOut = new Float64Array(n * n);
  const lb = new Float64Array(NB * NB),
    mb = new Float64Array(NB * NB);
  const l21 = new Float64Array(n * NB),
    t = new Float64Array(n * NB),
    m21 = new Float64Array(n * NB);
  let panel = new Float64Array(0);
  const nBlocks = Math.ceil(n / NB);
  for (let b = nBlocks - 1; b >= 0; b--) {
    const j0 = b * NB,
      j1 = Math.min(n, j0 + NB),
      w = j1 - j0,
      m = n - j1;
    for (let i = 0; i < w; i++) lb.set(l.subarray((j0 + i) * n + j0, (j0 + i) * n + j0 + i + 1), i * w);
    for (let i = 0; i < w; i++) lb.fill(0, i * w + i + 1, (i + 1) * w);
    invertSmall(lb, w, mb);
    for (let i = 0; i < w; i++) mOut.set(mb.subarray(i * w, i * w + i + 1), (j0 + i) * n + j0);
    if (m === 0) continue;
    for (let i = 0; i < m; i++) l21.set(l.subarray((j1 + i) * n + j0, (j1 + i) * n + j1), i * w);
    // T = M22 L21, M22 lower: rows [p0, p1) of M22 only reach columns < p1.
    for (let p0 = 0; p0 < m; p0 += PANEL) {
      const p1 = Math.min(m, p0 + PANEL),
        h = p1 - p0;
      if (panel.length < h * p1) panel = new Float64Array(h * p1);
      for (let i = 0; i < h; i++) panel.set(mOut.subarray((j1 + p0 + i) * n + j1, (j1 + p0 + i) * n + j1 + p1), i * p1);
      gemm(h, w, p1, panel, 0, l21, 0, t, p0 * w, false);
    }
    for (let i = 0; i < w * w; i++) mb[i] = -mb[i];
    gemm(m, w, w, t, 0, mb, 0, m21, 0, false);
    for (let i = 0; i < m; i++) mOut.set(m21.subarray(i * w, (i + 1) * w), (j1 + i) * n + j0);
  }
  return mOut;
}
