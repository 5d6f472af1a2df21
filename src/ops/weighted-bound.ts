/**
 * The exactness bound of a conv or dense layer: per output channel o, |b_o| + sum_k |w_ok| * B_in
 * bounds every partial sum; the largest over the channels.
 */
export function weightedBound(w: Float64Array, bias: Float64Array, b0: number): number {
  const outs = bias.length,
    per = w.length / outs;
  let b = 0;
  for (let o = 0; o < outs; o++) {
    let s = Math.abs(bias[o]);
    for (let k = 0; k < per; k++) s += Math.abs(w[o * per + k]) * b0;
    b = Math.max(b, s);
  }
  return b;
}
