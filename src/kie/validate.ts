import { kieError } from './errors.js';
import { STATUSES, VALUE_TYPES, type KeyFilter, type ListQuery, type NewKv } from './types.js';

/**
 * Field rules of the config center (servicecomb.md §3.2, §3.4). Failures are 400001 with
 * Kie's detail format, `validate failed, field: KVDoc.<Field>, rule: <rule>`.
 */

const KEY_RE = /^[a-zA-Z0-9._:-]+$/;
const LABEL_KEY_RE = /^[a-zA-Z0-9]{1,32}$|^[a-zA-Z0-9][a-zA-Z0-9_\-.]{1,30}[a-zA-Z0-9]$/;
const LABEL_VALUE_RE = /^[a-zA-Z0-9]{0,160}$|^[a-zA-Z0-9][a-zA-Z0-9_\-.]{0,158}[a-zA-Z0-9]$/;
const KEY_QUERY_RE = /^[a-zA-Z0-9._:-]*$/;
const KEY_FUNC_RE = /^(beginWith|wildcard)\(([a-zA-Z0-9._:*-]*)\)$/;
/** Largest `value`, in characters. */
export const MAX_VALUE_CHARS = 131072;
/** Largest `check`, in characters. */
export const MAX_CHECK_CHARS = 1048576;
/** Most labels a kv may carry. */
export const MAX_LABELS = 6;
/** Longest `wait` a poll may ask for, in milliseconds (5m). */
export const MAX_WAIT_MS = 5 * 60 * 1000;

const fail = (field: string, rule: string): Error => kieError('InvalidParams', `validate failed, field: KVDoc.${field}, rule: ${rule}`);

/** `k=v::k2=v2` with keys sorted, or `none` when there are no labels (Kie's label_format). */
export function labelFormat(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return 'none';
  return keys.map((k) => `${k}=${labels[k]}`).join('::');
}

/** Checks a label map: ≤ MAX_LABELS entries, key and value patterns. @throws 400001 */
export function checkLabels(labels: unknown): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) throw fail('Labels', 'map');
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_LABELS) throw fail('Labels', `max=${MAX_LABELS}`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!LABEL_KEY_RE.test(k)) throw fail('Labels', `key ${LABEL_KEY_RE.source}`);
    if (typeof v !== 'string' || !LABEL_VALUE_RE.test(v)) throw fail('Labels', `value ${LABEL_VALUE_RE.source}`);
    out[k] = v;
  }
  return out;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fail(field, 'string');
  return value;
}

/** Checks `status` (empty = unchanged / default). @throws 400001 */
export function checkStatus(status: unknown): string | undefined {
  const s = optionalString(status, 'Status');
  if (s && !(STATUSES as readonly string[]).includes(s)) throw fail('Status', STATUSES.join('|'));
  return s || undefined;
}

/** Checks `value` length. @throws 400001 */
export function checkValue(value: unknown): string | undefined {
  const v = optionalString(value, 'Value');
  if (v !== undefined && v.length > MAX_VALUE_CHARS) throw fail('Value', `max=${MAX_VALUE_CHARS}`);
  return v;
}

/**
 * Validates a create body `{key, value, labels?, status?, value_type?, check?, priority?}`
 * and applies the defaults (status `disabled`, value_type `text`). @throws 400001
 */
export function validateNewKv(body: unknown): NewKv {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw kieError('InvalidParams', 'request body must be a JSON or YAML object');
  const b = body as Record<string, unknown>;
  const key = optionalString(b.key, 'Key') ?? '';
  if (key.length < 1 || key.length > 2048) throw fail('Key', 'min=1,max=2048');
  if (!KEY_RE.test(key)) throw fail('Key', KEY_RE.source);
  const valueType = optionalString(b.value_type, 'ValueType') || 'text';
  if (!(VALUE_TYPES as readonly string[]).includes(valueType)) throw fail('ValueType', VALUE_TYPES.join('|'));
  const check = optionalString(b.check, 'Checker') ?? '';
  if (check.length > MAX_CHECK_CHARS || !/^[\x00-\x7f]*$/.test(check)) throw fail('Checker', `ascii,max=${MAX_CHECK_CHARS}`);
  let priority = 0;
  if (b.priority !== undefined && b.priority !== null) {
    if (typeof b.priority !== 'number' || !Number.isInteger(b.priority)) throw fail('Priority', 'int');
    priority = b.priority;
  }
  return {
    key,
    value: checkValue(b.value) ?? '',
    valueType,
    status: checkStatus(b.status) ?? 'disabled',
    labels: checkLabels(b.labels),
    check,
    priority,
  };
}

/** Parses the `key` query: exact, `beginWith(x)` or `wildcard(a*b)`. @throws 400001 */
export function parseKeyFilter(key: string | undefined): KeyFilter | undefined {
  if (key === undefined || key === '') return undefined;
  const bad = (): Error => kieError('InvalidParams', `invalid key query '${key}'`);
  if (key.length > 128) throw bad();
  const fn = KEY_FUNC_RE.exec(key);
  if (fn) {
    const arg = fn[2]!;
    if (fn[1] === 'beginWith') {
      if (arg.includes('*')) throw bad();
      return { kind: 'prefix', lower: arg.toLowerCase() };
    }
    const source = `^${arg.split('*').map((part) => part.replace(/[.\\+?^${}()|[\]]/g, '\\$&')).join('.*')}$`;
    return { kind: 'glob', re: new RegExp(source, 'i'), source };
  }
  if (!KEY_QUERY_RE.test(key)) throw bad();
  return { kind: 'exact', lower: key.toLowerCase() };
}

/** Parses repeated `label=k:v` items; each must hold exactly one colon. @throws 400001 */
export function parseLabelQuery(items: string[] | string | undefined): Record<string, string> {
  const list = items === undefined ? [] : Array.isArray(items) ? items : [items];
  const labels: Record<string, string> = {};
  for (const item of list) {
    const parts = item.split(':');
    if (parts.length !== 2) throw kieError('InvalidParams', `label '${item}' must be key:value`);
    labels[parts[0]!] = parts[1]!;
  }
  return labels;
}

function parseInteger(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw kieError('InvalidParams', `invalid ${name} '${raw}'`);
  return Number(raw);
}

/** Raw list query strings as they come from the URL. */
export interface RawListQuery {
  key?: string;
  label?: string[] | string;
  match?: string;
  status?: string;
  value?: string;
  offset?: string;
  limit?: string;
}

/** Validates a list query (servicecomb.md §3.4). @throws 400001 */
export function parseListQuery(q: RawListQuery): ListQuery {
  const offset = parseInteger(q.offset, 'offset') ?? 0;
  if (offset < 0) throw kieError('InvalidParams', 'invalid offset number');
  const limit = parseInteger(q.limit, 'limit') ?? 0;
  if (q.limit !== undefined && q.limit !== '' && (limit < 1 || limit > 100)) throw kieError('InvalidParams', 'invalid limit number');
  const status = q.status || undefined;
  if (status && !(STATUSES as readonly string[]).includes(status)) throw kieError('InvalidParams', 'invalid status string');
  return {
    key: parseKeyFilter(q.key),
    labels: parseLabelQuery(q.label),
    exact: q.match === 'exact',
    status,
    value: q.value || undefined,
    offset,
    limit,
  };
}

/** Parses `revision`: a Go int64 (as Kie's strconv.ParseInt), else 400001. */
export function parseRevision(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw kieError('InvalidParams', `invalid revision '${raw}'`);
  const big = BigInt(raw);
  if (big > 9223372036854775807n || big < -9223372036854775808n) throw kieError('InvalidParams', `revision '${raw}' is out of range`);
  return Number(raw);
}

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go duration (`300ms`, `1m30s`, `30s`, `0`) into milliseconds; it must be at most
 * 5m. @throws 400001 on syntax or range
 */
export function parseWait(raw: string): number {
  const bad = (): Error => kieError('InvalidParams', `wait '${raw}' must be a duration of at most 5m, e.g. 30s`);
  if (raw === '0') return 0;
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(raw);
  if (!m) throw bad();
  let total = 0;
  for (const part of raw.slice(m[1]!.length).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * GO_UNITS_MS[part[2]!]!;
  if (m[1] === '-') total = -total;
  if (total > MAX_WAIT_MS) throw bad();
  return Math.max(0, total);
}
