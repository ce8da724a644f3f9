import type { KvPage, KvRecord, ListQuery } from './types.js';

/** Index key of one label pair (`k`, `v`); NUL never occurs in a query label split on ':'. */
export const pairKey = (k: string, v: string): string => `${k}\u0000${v}`;

/** Sort order of every list: priority descending, then update_revision descending. */
const byListOrder = (a: KvRecord, b: KvRecord): number => (b.doc.priority ?? 0) - (a.doc.priority ?? 0) || b.doc.update_revision - a.doc.update_revision;

/**
 * One project's kvs with the indexes a list needs, kept current by KieService after each
 * commit: by id, by label pair (contains matching) and by label format (exact matching).
 * Nothing here touches the database.
 */
export class ProjectIndex {
  readonly kvs = new Map<string, KvRecord>();
  private readonly byPair = new Map<string, Set<KvRecord>>();
  private readonly byFormat = new Map<string, Set<KvRecord>>();
  /** Domain revision of the last change in this project: the key list caches are valid for. */
  revision = 0;
  private sortedCache?: KvRecord[];

  /** Adds or replaces (same id) a kv. */
  put(record: KvRecord): void {
    const old = this.kvs.get(record.doc.id);
    if (old) this.remove(old);
    this.kvs.set(record.doc.id, record);
    for (const [k, v] of Object.entries(record.labels)) addTo(this.byPair, pairKey(k, v), record);
    addTo(this.byFormat, record.labelFormat, record);
    this.sortedCache = undefined;
  }

  /** Removes a kv from every index. */
  remove(record: KvRecord): void {
    if (this.kvs.get(record.doc.id) !== record) return;
    this.kvs.delete(record.doc.id);
    for (const [k, v] of Object.entries(record.labels)) removeFrom(this.byPair, pairKey(k, v), record);
    removeFrom(this.byFormat, record.labelFormat, record);
    this.sortedCache = undefined;
  }

  /** Every kv in list order (sorted once per change). */
  sorted(): KvRecord[] {
    this.sortedCache ??= [...this.kvs.values()].sort(byListOrder);
    return this.sortedCache;
  }

  /**
   * The kvs matching `q` in list order, with the total before paging. Candidates come from
   * the label indexes (the smallest pair set, or the exact format set), never a full scan
   * when labels are given.
   */
  query(q: ListQuery, exactFormat: string | undefined): KvPage {
    let candidates: KvRecord[];
    if (exactFormat !== undefined) {
      candidates = sortedSet(this.byFormat.get(exactFormat));
    } else {
      const pairs = Object.entries(q.labels);
      if (pairs.length === 0) {
        candidates = this.sorted();
      } else {
        let smallest: Set<KvRecord> | undefined;
        for (const [k, v] of pairs) {
          const set = this.byPair.get(pairKey(k, v));
          if (!set) return { total: 0, data: [] };
          if (!smallest || set.size < smallest.size) smallest = set;
        }
        candidates = smallest!.size * 4 >= this.kvs.size ? this.sorted() : sortedSet(smallest);
        if (pairs.length > 1 || candidates.length !== smallest!.size) candidates = candidates.filter((r) => pairs.every(([k, v]) => r.labels[k] === v));
      }
    }
    const matches = q.key || q.status || q.value !== undefined ? candidates.filter((r) => matchesFilters(r, q)) : candidates;
    const end = q.limit > 0 ? q.offset + q.limit : undefined;
    return { total: matches.length, data: q.offset === 0 && end === undefined ? matches : matches.slice(q.offset, end) };
  }
}

function sortedSet(set: Set<KvRecord> | undefined): KvRecord[] {
  return set ? [...set].sort(byListOrder) : [];
}

/** Key, status and value filters of a list (servicecomb.md §3.4). */
function matchesFilters(r: KvRecord, q: ListQuery): boolean {
  if (q.status && r.doc.status !== q.status) return false;
  if (q.value !== undefined && !r.doc.value.includes(q.value)) return false;
  const k = q.key;
  if (!k) return true;
  if (k.kind === 'exact') return r.keyLower === k.lower;
  if (k.kind === 'prefix') return r.keyLower.startsWith(k.lower);
  return k.re.test(r.doc.key);
}

/** One domain: its revision counter, kv count (quota) and projects. */
export class DomainIndex {
  /** The domain's revision (servicecomb.md §3.1): shared by its projects. */
  revision = 0;
  /** kvs across every project, for the quota. */
  count = 0;
  readonly projects = new Map<string, ProjectIndex>();

  /** The project's index, created empty on first use. */
  project(project: string): ProjectIndex {
    let p = this.projects.get(project);
    if (!p) this.projects.set(project, (p = new ProjectIndex()));
    return p;
  }
}

/** The whole in-memory config center: domains by name. */
export class KieIndex {
  private readonly domains = new Map<string, DomainIndex>();

  /** The domain's index, created empty on first use. */
  domain(domain: string): DomainIndex {
    let d = this.domains.get(domain);
    if (!d) this.domains.set(domain, (d = new DomainIndex()));
    return d;
  }

  /** The domain's index if it has ever held anything. */
  findDomain(domain: string): DomainIndex | undefined {
    return this.domains.get(domain);
  }

  /** Every domain with its index (metrics). */
  entries(): IterableIterator<[string, DomainIndex]> {
    return this.domains.entries();
  }
}

/**
 * Serialised list results keyed by query, valid while their project's revision is the one
 * they were built at (STYLE.md: caches keyed by revision). Bounded: the oldest entry goes
 * when the cache is full.
 */
export class ListCache {
  private readonly entries = new Map<string, { revision: number; page: KvPage; json: Buffer }>();

  constructor(private readonly maxEntries: number) {}

  /** The cached page and JSON for `key` if built at `revision`. */
  get(key: string, revision: number): { page: KvPage; json: Buffer } | undefined {
    const e = this.entries.get(key);
    return e && e.revision === revision ? e : undefined;
  }

  /** Stores a page and its JSON for `key` at `revision`. */
  set(key: string, revision: number, page: KvPage, json: Buffer): void {
    if (this.maxEntries === 0) return;
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { revision, page, json });
  }
}

function addTo(map: Map<string, Set<KvRecord>>, key: string, record: KvRecord): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(record);
}

function removeFrom(map: Map<string, Set<KvRecord>>, key: string, record: KvRecord): void {
  const set = map.get(key);
  set?.delete(record);
  if (set?.size === 0) map.delete(key);
}
