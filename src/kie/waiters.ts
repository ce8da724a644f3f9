import type { Clock } from '../core/clock.js';
import { pairKey } from './cache.js';

/** What a held poll waits for (servicecomb.md §3.4): a change in its project matching its labels. */
export interface WaitSpec {
  domain: string;
  project: string;
  labels: Record<string, string>;
  /** label_format of `labels` (used for exact matching). */
  labelFormat: string;
  /** `match=exact`: the changed kv's label set must equal `labels`. */
  exact: boolean;
}

/** A change as the waiters see it: the kv's project and labels. */
export interface ChangeEvent {
  domain: string;
  project: string;
  labels: Record<string, string>;
  labelFormat: string;
}

interface Waiter {
  spec: WaitSpec;
  settle: (changed: boolean) => void;
  cancelTimer: () => void;
  /** The index bucket the waiter sits in, and its key there. */
  bucket: Map<string, Set<Waiter>>;
  bucketKey: string;
}

/** One project's waiters: exact ones by label format, the others by one of their label pairs. */
interface ProjectWaiters {
  exact: Map<string, Set<Waiter>>;
  byPair: Map<string, Set<Waiter>>;
  /** Non-exact waiters without labels (every change matches): under key ''. */
  any: Map<string, Set<Waiter>>;
}

/**
 * Held long polls. A waiter costs a map entry, a promise and one clock timer, and no CPU
 * while idle. `notify` looks only at waiters that could match a change: exact waiters under
 * the kv's label format, label-less waiters, and waiters filed under one of the kv's label
 * pairs (each waiter is filed under exactly one pair, the least crowded one when it came, so
 * it is checked at most once and shares its bucket with few others).
 * A waiter leaves the index when it is woken, times out or is cancelled (client gone).
 */
export class WaiterHub {
  private readonly projects = new Map<string, ProjectWaiters>();
  private count = 0;
  /** Waiters the last `notify` looked at, woken or not (tests: a change costs O(matching)). */
  lastChecked = 0;

  constructor(private readonly clock: Clock) {}

  /** Number of held polls (leak checks, benchmarks). */
  size(): number {
    return this.count;
  }

  /**
   * Holds until a matching change (resolves true) or `holdMs` milliseconds of clock time
   * (resolves false). `cancel()` removes the waiter and resolves false; it is a no-op once
   * the waiter has settled.
   */
  wait(spec: WaitSpec, holdMs: number): { held: Promise<boolean>; cancel: () => void } {
    const pkey = projectKey(spec.domain, spec.project);
    let pw = this.projects.get(pkey);
    if (!pw) this.projects.set(pkey, (pw = { exact: new Map(), byPair: new Map(), any: new Map() }));
    let bucket: Map<string, Set<Waiter>>;
    let bucketKey: string;
    if (spec.exact) [bucket, bucketKey] = [pw.exact, spec.labelFormat];
    else if (Object.keys(spec.labels).length === 0) [bucket, bucketKey] = [pw.any, ''];
    else [bucket, bucketKey] = [pw.byPair, leastCrowdedPair(pw.byPair, spec.labels)];

    let waiter!: Waiter;
    const held = new Promise<boolean>((resolve) => {
      waiter = { spec, settle: resolve, cancelTimer: () => undefined, bucket, bucketKey };
    });
    let set = bucket.get(bucketKey);
    if (!set) bucket.set(bucketKey, (set = new Set()));
    set.add(waiter);
    this.count++;
    waiter.cancelTimer = this.clock.after(holdMs, () => this.finish(waiter, false));
    return { held, cancel: () => this.finish(waiter, false) };
  }

  /** Wakes every waiter `change` matches; returns how many were woken. */
  notify(change: ChangeEvent): number {
    const pw = this.projects.get(projectKey(change.domain, change.project));
    this.lastChecked = 0;
    if (!pw) return 0;
    const woken: Waiter[] = [];
    for (const w of pw.exact.get(change.labelFormat) ?? []) woken.push(w);
    for (const w of pw.any.get('') ?? []) woken.push(w);
    let checked = woken.length;
    for (const [k, v] of Object.entries(change.labels)) {
      for (const w of pw.byPair.get(pairKey(k, v)) ?? []) {
        checked++;
        if (Object.entries(w.spec.labels).every(([wk, wv]) => change.labels[wk] === wv)) woken.push(w);
      }
    }
    this.lastChecked = checked;
    for (const w of woken) this.finish(w, true);
    return woken.length;
  }

  /** Answers every held poll as unchanged (server shutdown); returns how many there were. */
  releaseAll(): number {
    const all: Waiter[] = [];
    for (const pw of this.projects.values()) for (const bucket of [pw.exact, pw.byPair, pw.any]) for (const set of bucket.values()) all.push(...set);
    for (const w of all) this.finish(w, false);
    return all.length;
  }

  /** Settles a waiter once: out of the index, timer cancelled, promise resolved. */
  private finish(w: Waiter, changed: boolean): void {
    const set = w.bucket.get(w.bucketKey);
    if (!set?.delete(w)) return;
    this.count--;
    if (set.size === 0) {
      w.bucket.delete(w.bucketKey);
      const pkey = projectKey(w.spec.domain, w.spec.project);
      const pw = this.projects.get(pkey);
      if (pw && pw.exact.size === 0 && pw.byPair.size === 0 && pw.any.size === 0) this.projects.delete(pkey);
    }
    w.cancelTimer();
    w.settle(changed);
  }
}

/**
 * The label pair to file a waiter under: the one whose bucket holds the fewest waiters now.
 * Polls usually share broad labels (`app:shop`) and differ in narrow ones (`service:orders`),
 * so this keeps buckets small and a change looks at few waiters that will not match.
 */
function leastCrowdedPair(byPair: Map<string, Set<Waiter>>, labels: Record<string, string>): string {
  let best = '';
  let bestSize = Infinity;
  for (const [k, v] of Object.entries(labels)) {
    const key = pairKey(k, v);
    const size = byPair.get(key)?.size ?? 0;
    if (size <= bestSize) [best, bestSize] = [key, size];
  }
  return best;
}

const projectKey = (domain: string, project: string): string => `${domain}\u0000${project}`;
