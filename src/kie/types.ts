/**
 * Config center (Kie) domain types. Wire field names are Kie's own (servicecomb.md §3.2).
 */

/** Allowed `value_type` values; `text` is the default. */
export const VALUE_TYPES = ['ini', 'json', 'text', 'yaml', 'properties', 'xml'] as const;
/** Allowed `status` values; `disabled` is the default on create. */
export const STATUSES = ['enabled', 'disabled'] as const;

/** A kv as the API returns it (servicecomb.md §3.2); times are unix seconds. */
export interface KvDoc {
  id: string;
  key: string;
  value: string;
  value_type: string;
  status: string;
  priority?: number;
  check?: string;
  create_revision: number;
  update_revision: number;
  labels?: Record<string, string>;
  create_time: number;
  update_time: number;
}

/** A kv held in memory: the document plus what the indexes and the list need. */
export interface KvRecord {
  domain: string;
  project: string;
  /** Sorted `k=v::k2=v2`, or `none`. */
  labelFormat: string;
  labels: Record<string, string>;
  doc: KvDoc;
  /** `doc.key` lower-cased (key filters are case-insensitive). */
  keyLower: string;
  /** JSON of `doc`, built once per version (lists are assembled from it). */
  json: string;
}

/** A validated create: what the service stores, before ids, revisions and times. */
export interface NewKv {
  key: string;
  value: string;
  valueType: string;
  status: string;
  labels: Record<string, string>;
  check: string;
  priority: number;
}

/** A list query after validation (servicecomb.md §3.4). */
export interface ListQuery {
  /** Exact key (lower-cased), or a beginWith / wildcard pattern; undefined = any. */
  key?: KeyFilter;
  labels: Record<string, string>;
  /** True for `match=exact`: label sets must be equal. */
  exact: boolean;
  status?: string;
  /** Case-sensitive substring of the value. */
  value?: string;
  offset: number;
  /** 0 = no limit. */
  limit: number;
}

/** A key filter: exact (case-insensitive), prefix, or glob. */
export type KeyFilter = { kind: 'exact'; lower: string } | { kind: 'prefix'; lower: string } | { kind: 'glob'; re: RegExp; source: string };

/** A page of a list: total matches before paging, and the page. */
export interface KvPage {
  total: number;
  data: KvRecord[];
}

/**
 * One item of an import that failed (servicecomb.md §3.3, §4.1). `error_code` is the Kie
 * code as a JSON string ("400004"): the Go, Java and Python SDK models declare a string
 * (Go's UploadKie failed to unmarshal a number).
 */
export interface ImportFailure {
  key: string;
  labels: Record<string, string>;
  error_code: string;
  error_message: string;
}

/** Import strategies for duplicates (servicecomb.md §3.3). */
export type OverrideMode = 'force' | 'skip' | 'abort';

/** Bus events the config center publishes, after commit. */
export interface KieEvents {
  /**
   * Feed change: a kv was created or updated (`doc.update_revision` is the revision the
   * write took). Committed, then published on every server in commit order.
   */
  'kie.kv.put': { domain: string; project: string; labels: Record<string, string>; labelFormat: string; doc: KvDoc };
  /** Feed change: kvs of a project were deleted at `revision`. */
  'kie.kv.deleted': { domain: string; project: string; ids: string[]; revision: number };
  /** Derived by each server from the two above: a kv changed; `revision` is the domain revision after it. */
  'kie.kv.changed': { domain: string; project: string; labels: Record<string, string>; labelFormat: string; revision: number };
  [key: string]: unknown;
}
