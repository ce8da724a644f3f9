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
  /** `{"instances":[...]}` or `{}`. */
  json: string;
}

/**
 * Revision of a set of services: a hash over each service id and its revision. `epoch`
 * differs per server start, so a revision seen before a restart never matches after it.
 */
export function revisionOf(epoch: string, records: ServiceRecord[]): string {
  const hash = createHash('sha1').update(epoch);
  for (const r of records) hash.update(`|${r.service.serviceId}:${r.rev}`);
  return hash.digest('hex');
}

/** `{"instances":[...]}` for the records' instances, `{}` when there are none. */
export function instancesJson(records: ServiceRecord[]): string {
  const parts: string[] = [];
  for (const r of records) for (const i of r.instances.values()) parts.push(JSON.stringify(i.instance));
  return parts.length === 0 ? '{}' : `{"instances":[${parts.join(',')}]}`;
}

/** A bounded map from query key to the last serialised result (insertion-order eviction). */
export class FindCache {
  private readonly entries = new Map<string, FindResult>();

  /** @param maxEntries how many query keys to keep; 0 disables caching */
  constructor(private readonly maxEntries: number) {}

  /** The cached result for `key` if it has revision `rev`. */
  get(key: string, rev: string): FindResult | undefined {
    const hit = this.entries.get(key);
    return hit && hit.rev === rev ? hit : undefined;
  }

  /** Stores `result` under `key`, evicting the oldest key when full. */
  set(key: string, result: FindResult): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, result);
  }
}
