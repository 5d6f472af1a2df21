/**
 * Which points are on the Pareto front of "less cost, more value": a point is on it when no other
 * point has lower-or-equal cost and higher-or-equal value with at least one strictly better.
 * Exact duplicates are all kept on the front.
 */
export function paretoFront(pts: { cost: number; value: number }[]): boolean[] {
  return pts.map(
    (p, i) => !pts.some((q, j) => j !== i && q.cost <= p.cost && q.value >= p.value && (q.cost < p.cost || q.value > p.value)),
  );
}
