/**
 * Non-negative least squares on relative errors, for fitting the estimator's coefficients:
 * minimise sum_i ((x_i . c - y_i) / s_i)^2 over c >= 0 (s_i: the sample's size, by default y_i), by coordinate descent on the normal
 * equations (a handful of features, a few hundred samples: converges in milliseconds).
 */
export function fitNonNegative(xs0: number[][], ys: number[], iters = 200000, weightOf: number[] = ys): number[] {
  const n = xs0[0]?.length ?? 0;
  // Columns scaled to unit size so coordinate descent converges on collinear features.
  const scale = Array.from({ length: n }, (_, j) => Math.max(...xs0.map((x) => Math.abs(x[j]))) || 1);
  const xs = xs0.map((x) => x.map((v, j) => v / scale[j]));
  const A = Array.from({ length: n }, () => new Float64Array(n));
  const b = new Float64Array(n);
  xs.forEach((x, i) => {
    const w = 1 / Math.max(weightOf[i], 1) ** 2;
    for (let j = 0; j < n; j++) {
      b[j] += w * x[j] * ys[i];
      for (let k = 0; k < n; k++) A[j][k] += w * x[j] * x[k];
    }
  });
  const c = new Float64Array(n);
  for (let it = 0; it < iters; it++) {
    let change = 0;
    for (let j = 0; j < n; j++) {
      if (A[j][j] === 0) continue;
      let r = b[j];
      for (let k = 0; k < n; k++) if (k !== j) r -= A[j][k] * c[k];
      const v = Math.max(0, r / A[j][j]);
      change = Math.max(change, Math.abs(v - c[j]));
      c[j] = v;
    }
    if (change < 1e-12) break;
  }
  return Array.from(c, (v, j) => v / scale[j]);
}

/**
 * Non-negative fit minimising sum_i |(x_i . c - y_i) / s_i|^p (p > 2), by iteratively reweighted
 * least squares from the p = 2 solution, raising p in small steps and damping each update (plain
 * IRLS oscillates for p > 3). A larger p weighs the worst-fitted designs more, towards the
 * smallest largest relative error.
 */
export function fitNonNegativeLp(xs: number[][], ys: number[], weightOf: number[], p: number, rounds = 8): number[] {
  let c = fitNonNegative(xs, ys, undefined, weightOf);
  const size = (i: number) => Math.max(weightOf[i], 1);
  const relErr = (cc: number[], i: number) => Math.abs(xs[i].reduce((t, v, j) => t + v * cc[j], 0) - ys[i]) / size(i);
  const obj = (cc: number[], q: number) => xs.reduce((a, _, i) => a + relErr(cc, i) ** q, 0);
  for (let q = 2.25; q <= p + 1e-9; q += 0.25) {
    for (let r = 0; r < rounds; r++) {
      const s = xs.map((_, i) => size(i) / Math.max(relErr(c, i), 1e-3) ** ((q - 2) / 2));
      const n = fitNonNegative(xs, ys, undefined, s);
      // Damped: keep the half step only if it lowers the objective.
      const h = c.map((v, j) => (v + n[j]) / 2);
      if (obj(h, q) < obj(c, q)) c = h;
    }
  }
  return c;
}
