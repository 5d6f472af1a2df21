/**
 * An object keyed by names read from files (tensor, node and layer names). It has no prototype, so
 * a name such as `__proto__`, `constructor` or `toString` is just a name: absent unless set, and
 * set as an own property.
 */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const d = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) d[k] = v;
  return d;
}
