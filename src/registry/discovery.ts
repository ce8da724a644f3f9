import { createHash } from 'node:crypto';
import type { ServiceRecord } from './types.js';

/**
 * Discovery results, serialised once per revision (servicecomb.md §1.3). A find computes
 * the matched services (map look-ups only), derives the revision from their per-service
 * revisions, and reuses the cached JSON when that revision has not moved.
 */

/** A serialised find result. */
export interface FindResult {
  /** Opaque revision, sent as `X-Resource-Revision`. */
  rev: string;
  /** `{"instances":[...]}` or `{}`, UTF-8 encoded once. */
  body: Buffer;
}

/** A cached result with the services and revisions it was built from. */
interface CacheEntry {
  records: ServiceRecord[];
  revs: number[];
  result: FindResult;
}

/**
 * Revision of a set of services: a hash of what a find shows of them (their instances), in
 * an order that does not depend on the server. Every server that holds the same instances
 * answers the same revision — also across restarts — so a client may move between servers
 * and keep its 304s. Each service's part is computed once per change of the service.
 */
export function revisionOf(records: ServiceRecord[]): string {
  if (records.length === 1) return digestOf(records[0]!);
  const hash = createHash('sha1');
  for (const d of records.map((r) => `${r.service.serviceId}:${digestOf(r)}`).sort()) hash.update(`${d}|`);
  return hash.digest('hex');
}

/** sha1 of a service's instances (their JSON, sorted), cached until the service changes. */
function digestOf(record: ServiceRecord): string {
  if (record.digest?.rev === record.rev) return record.digest.hex;
  const hash = createHash('sha1').update(record.service.serviceId);
  for (const json of [...record.instances.values()].map((i) => JSON.stringify(i.instance)).sort()) hash.update(`|${json}`);
  const hex = hash.digest('hex');
  record.digest = { rev: record.rev, hex };
  return hex;
}

/** `{"instances":[...]}` for the records' instances, `{}` when there are none. */
export function instancesJson(records: ServiceRecord[]): string {
  const parts: string[] = [];
  for (const r of records) for (const i of r.instances.values()) parts.push(JSON.stringify(i.instance));
  return parts.length === 0 ? '{}' : `{"instances":[${parts.join(',')}]}`;
}

/**
 * A bounded map from query key to the last serialised result (insertion-order eviction).
 * A hit needs the same services at the same revisions, so no hashing happens on the hot path.
 */
export class FindCache {
  private readonly entries = new Map<string, CacheEntry>();

  /** @param maxEntries how many query keys to keep; 0 disables caching */
  constructor(private readonly maxEntries: number) {}

  /** The result for `key` over `records`: cached while none of them changed, else built and stored. */
  resolve(key: string, records: ServiceRecord[]): FindResult {
    const hit = this.entries.get(key);
    if (hit && hit.records.length === records.length && hit.records.every((r, i) => r === records[i] && r.rev === hit.revs[i])) return hit.result;
    const result: FindResult = { rev: revisionOf(records), body: Buffer.from(instancesJson(records)) };
    if (this.maxEntries === 0) return result;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { records, revs: records.map((r) => r.rev), result });
    return result;
  }
}
