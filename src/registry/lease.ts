import type { InstanceRecord } from './types.js';

/**
 * Lease bookkeeping without full scans. Instances sit in one-second buckets by the time
 * their lease ends. A heartbeat only moves `expiresAtMs` forward; when a bucket comes due,
 * each instance in it is either expired (its lease really ended) or re-filed under its
 * current end time, so every instance is looked at about once per TTL.
 */
export class LeaseTable {
  private readonly buckets = new Map<number, Set<InstanceRecord>>();
  private lastSweptSecond: number;

  /** @param nowMs current clock time in milliseconds */
  constructor(nowMs: number) {
    this.lastSweptSecond = Math.floor(nowMs / 1000) - 1;
  }

  /** Files `record` under its current `expiresAtMs`. Ephemeral records never expire. */
  track(record: InstanceRecord): void {
    if (record.ephemeral) return;
    const second = Math.max(Math.floor(record.expiresAtMs / 1000), this.lastSweptSecond + 1);
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(record);
  }

  /** Renews a lease: the instance now expires `ttlSeconds` after `nowMs`. */
  renew(record: InstanceRecord, nowMs: number): void {
    record.expiresAtMs = nowMs + record.ttlSeconds * 1000;
  }

  /** Stops tracking a record (deregistered). Lazy: the record is skipped when its bucket is swept. */
  forget(record: InstanceRecord): void {
    const bucket = this.buckets.get(Math.floor(record.expiresAtMs / 1000));
    bucket?.delete(record);
  }

  /**
   * Returns the records whose lease ended at or before `nowMs` and that `isLive` still
   * reports as registered; re-files the others.
   */
  sweep(nowMs: number, isLive: (record: InstanceRecord) => boolean): InstanceRecord[] {
    const expired = new Set<InstanceRecord>();
    const nowSecond = Math.floor(nowMs / 1000);
    if (nowSecond <= this.lastSweptSecond) return [];
    // Walk only the buckets that exist, so a long jump of the clock costs nothing extra.
    const due = [...this.buckets.keys()].filter((s) => s <= nowSecond).sort((a, b) => a - b);
    this.lastSweptSecond = nowSecond;
    for (const second of due) {
      const bucket = this.buckets.get(second)!;
      this.buckets.delete(second);
      for (const record of bucket) {
        if (!isLive(record)) continue;
        if (record.expiresAtMs <= nowMs) expired.add(record);
        else this.track(record);
      }
    }
    return [...expired];
  }
}
