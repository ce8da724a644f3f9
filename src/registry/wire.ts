/**
 * Go `omitempty` for registry objects (servicecomb.md §0): empty strings, zero numbers,
 * false, empty arrays and empty objects are dropped from structs. Map values (properties,
 * tags) are data and kept as they are; only an empty map itself is dropped.
 */
const MAP_FIELDS = new Set(['properties', 'tags', 'LBStrategy', 'property']);

/** Returns a copy of a struct-like object with empty fields removed, recursively. */
export function omitEmpty<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v)) {
      if (v.length === 0) continue;
      out[key] = v.map((item) => (item && typeof item === 'object' && !Array.isArray(item) ? omitEmpty(item as object) : item));
      continue;
    }
    if (typeof v === 'object') {
      if (MAP_FIELDS.has(key)) {
        if (Object.keys(v).length === 0) continue;
        out[key] = { ...(v as object) };
        continue;
      }
      const inner = omitEmpty(v as object);
      if (Object.keys(inner).length === 0) continue;
      out[key] = inner;
      continue;
    }
    out[key] = v;
  }
  return out as T;
}

/** Unix seconds as the decimal string ServiceComb uses for timestamps. */
export function unixSecondsString(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}
