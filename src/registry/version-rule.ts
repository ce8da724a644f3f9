/**
 * Versions and version rules (servicecomb.md §1.1 validation, §1.3 legacy rules).
 * A version is 1–4 dot-separated integers, each 0–32767, compared numerically segment by
 * segment (missing segments are 0); identity is still the exact string.
 */

const VERSION_RE = /^\d+(\.\d+){0,3}$/;

/** True when `version` is a valid ServiceComb version (≤ 64 chars, 1–4 segments ≤ 32767). */
export function isValidVersion(version: string): boolean {
  if (version.length > 64 || !VERSION_RE.test(version)) return false;
  return version.split('.').every((s) => Number(s) <= 32767);
}

/** Compares two valid versions numerically: negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < 4; i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A parsed version rule. `all` matches everything (no version given). */
export type VersionRule =
  | { kind: 'all' }
  | { kind: 'latest' }
  | { kind: 'atLeast'; from: string }
  | { kind: 'range'; from: string; to: string }
  | { kind: 'exact'; version: string };

const ALL: VersionRule = Object.freeze({ kind: 'all' });
/** Rules parsed so far (null: malformed), at most PARSED_MAX, then started afresh. */
const parsed = new Map<string, VersionRule | null>();
const PARSED_MAX = 1024;

/**
 * Parses a rule: empty → all; `latest`; `x+`; `a-b` (half-open [a, b), swapped when
 * reversed); otherwise an exact version. Returns undefined when the rule is malformed. The
 * result is shared between calls (frozen).
 */
export function parseVersionRule(rule: string | undefined): VersionRule | undefined {
  if (rule === undefined || rule === '') return ALL;
  // Clients ask with the same few rules again and again (every find): parsed once each.
  const known = parsed.get(rule);
  if (known !== undefined) return known ?? undefined;
  const result = parseRule(rule);
  if (result) Object.freeze(result);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(rule, result ?? null);
  return result;
}

function parseRule(rule: string): VersionRule | undefined {
  if (rule === 'latest') return { kind: 'latest' };
  if (rule.endsWith('+')) {
    const from = rule.slice(0, -1);
    return isValidVersion(from) ? { kind: 'atLeast', from } : undefined;
  }
  const dash = rule.indexOf('-');
  if (dash >= 0) {
    let from = rule.slice(0, dash);
    let to = rule.slice(dash + 1);
    if (!isValidVersion(from) || !isValidVersion(to)) return undefined;
    if (compareVersions(from, to) > 0) [from, to] = [to, from];
    return { kind: 'range', from, to };
  }
  return isValidVersion(rule) ? { kind: 'exact', version: rule } : undefined;
}

/**
 * Keeps the items whose version matches `rule`. `latest` keeps every item carrying the
 * highest version. Order is preserved.
 */
export function filterByVersionRule<T>(items: T[], versionOf: (item: T) => string, rule: VersionRule): T[] {
  switch (rule.kind) {
    case 'all':
      return items;
    case 'exact':
      return items.filter((i) => versionOf(i) === rule.version);
    case 'atLeast':
      return items.filter((i) => compareVersions(versionOf(i), rule.from) >= 0);
    case 'range':
      return items.filter((i) => compareVersions(versionOf(i), rule.from) >= 0 && compareVersions(versionOf(i), rule.to) < 0);
    case 'latest': {
      let best: string | undefined;
      for (const i of items) if (best === undefined || compareVersions(versionOf(i), best) > 0) best = versionOf(i);
      return best === undefined ? [] : items.filter((i) => compareVersions(versionOf(i), best!) === 0);
    }
  }
}
