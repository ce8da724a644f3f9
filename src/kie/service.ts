import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Db, Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, OpenStageError } from '../core/errors.js';
import type { ChangeFeed } from '../core/feed.js';
import { sha256Hex } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { Mutex } from '../core/mutex.js';
import { KieIndex, ListCache, type DomainIndex, type ProjectIndex } from './cache.js';
import { KieCodes, kieError } from './errors.js';
import * as kieStore from './store.js';
import type { ImportFailure, KieEvents, KvDoc, KvPage, KvRecord, ListQuery, NewKv, OverrideMode } from './types.js';
import { checkLabels, checkStatus, checkValue, labelFormat, validateNewKv } from './validate.js';
import { WaiterHub } from './waiters.js';

/** Dependencies of KieService, built in server.ts. */
export interface KieDeps {
  db: Db;
  bus: Bus<KieEvents>;
  /** Every write goes through it; the index and the held polls follow its changes on every server. */
  feed: ChangeFeed<KieEvents>;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
}

/**
 * A list answer: the page, its JSON as UTF-8 bytes (built once per query and project
 * revision, so the hot path neither serialises nor encodes), and the domain revision it was
 * read at.
 */
export interface ListResult {
  page: KvPage;
  json: Buffer;
  revision: number;
}

/**
 * How a list request with `revision`/`wait` goes on (servicecomb.md §3.4): answered now
 * (`changed` true → 200 with data, false → 304), or held until `wait` settles with the same
 * meaning; `cancel` releases a held poll whose client went away.
 */
export type PollStart = { held: false; changed: boolean } | { held: true; wait: Promise<boolean>; cancel: () => void };

/** An exported kv (servicecomb.md §4.1). */
export interface ExportedKv {
  /** The kv's id (the SDK models have it; an import ignores it and derives the id again). */
  id: string;
  key: string;
  labels: Record<string, string>;
  value: string;
  value_type: string;
  status: string;
  /** Only when set: an extension of the Huawei format so that a re-import restores it. */
  priority?: number;
}

const EMPTY_LIST_JSON = Buffer.from('{"total":0,"data":[]}');

/**
 * The config center (servicecomb.md §3, §4.1). Every write runs under one mutex: validate
 * against the in-memory index, then commit through the change feed in one transaction that
 * takes its revisions from the domain's counter row (locked until the commit, so revisions
 * are never reused and never go backwards, whichever server writes). The feed's changes
 * (`kie.kv.put`, `kie.kv.deleted`) update the index and wake the held polls on every
 * server, this one before the write returns. Reads (get, list, long poll, export) are
 * served from memory; lists are cached serialised per project revision.
 */
export class KieService {
  private readonly index = new KieIndex();
  private readonly writes = new Mutex();
  private readonly waiters: WaiterHub;
  private readonly listCache: ListCache;
  private closing = false;
  private readonly db: Db;
  private readonly bus: Bus<KieEvents>;
  private readonly feed: ChangeFeed<KieEvents>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly config: Readonly<Config>;

  constructor(deps: KieDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.feed = deps.feed;
    this.clock = deps.clock;
    this.log = deps.log.child({ area: 'kie' });
    this.config = deps.config;
    this.waiters = new WaiterHub(deps.clock);
    this.listCache = new ListCache(deps.config.kie.listCacheEntries);
    this.bus.subscribe('kie.kv.put', (e) => this.onPut(e));
    this.bus.subscribe('kie.kv.deleted', (e) => this.onDeleted(e));
  }

  // ───────────────────────── lifecycle ─────────────────────────

  /** Builds the index and revision counters from the tables (`db`: the feed's snapshot on PostgreSQL). */
  async load(db: Executor): Promise<void> {
    for (const { domain, revision } of await kieStore.listRevisions(db)) this.index.domain(domain).revision = revision;
    let kvs = 0;
    for (const stored of await kieStore.listAllKvs(db)) {
      const d = this.index.domain(stored.domain);
      const p = d.project(stored.project);
      p.put(toRecord(stored.domain, stored.project, stored.labels, stored.labelFormat, stored.doc));
      p.revision = Math.max(p.revision, stored.doc.update_revision);
      // A counter row older than its kvs cannot happen (same transaction); stay safe anyway.
      d.revision = Math.max(d.revision, stored.doc.update_revision);
      d.count++;
      kvs++;
    }
    this.log.info({ kvs }, 'kie index loaded');
  }

  /** Applies whatever other servers committed (a client may come with a newer revision). */
  sync(): Promise<void> {
    return this.feed.sync();
  }

  /**
   * Answers every held poll as unchanged and refuses to hold new ones (before the HTTP
   * server closes).
   */
  releasePolls(): void {
    this.closing = true;
    this.waiters.releaseAll();
  }

  /** Counts for metrics: kvs and revision of each domain, long polls held now. O(domains). */
  stats(): { domains: { domain: string; kvs: number; revision: number }[]; heldPolls: number } {
    return { domains: [...this.index.entries()].map(([domain, d]) => ({ domain, kvs: d.count, revision: d.revision })), heldPolls: this.waiters.size() };
  }

  /** True once the server is stopping: answers should close their connection. */
  isClosing(): boolean {
    return this.closing;
  }

  /** Releases held polls and waits for queued writes to commit. */
  async stop(): Promise<void> {
    this.waiters.releaseAll();
    await this.writes.run(async () => undefined);
  }

  // ───────────────────────── kvs ─────────────────────────

  /**
   * Creates a kv (servicecomb.md §3.3). Defaults: status `disabled`, value_type `text`.
   * @param body `{key, value, labels?, status?, value_type?, check?, priority?}`
   * @throws 400001 validation; 409001 same key and label set; 422001 quota (QUOTA_CONFIG)
   */
  async create(domain: string, project: string, body: unknown): Promise<KvDoc> {
    const kv = validateNewKv(body);
    return this.writes.run(async () => {
      const d = this.index.domain(domain);
      const format = labelFormat(kv.labels);
      const id = kvId(domain, project, kv.key, format);
      const exists = (): OpenStageError => kieError('RecordAlreadyExists', `kv ${kv.key} with labels ${format} already exists`);
      if (d.projects.get(project)?.kvs.has(id)) throw exists();
      this.checkQuota(d.count);
      try {
        return await this.feed.write(async (trx, changes) => {
          const revision = await kieStore.takeRevisions(trx, domain, 1);
          await this.checkStoredQuota(trx, domain, 1);
          const record = toRecord(domain, project, kv.labels, format, newDoc(id, kv, revision, this.nowSeconds()));
          await this.storeKv(trx, record, true);
          changes.emit('kie.kv.put', putOf(record));
          return record.doc;
        });
      } catch (err) {
        // Created a moment ago through another server.
        if (err instanceof AlreadyExistsError) throw exists();
        throw err;
      }
    });
  }

  /** One kv of the project. @throws 404001 */
  get(domain: string, project: string, id: string): KvDoc {
    return this.require(domain, project, id).doc;
  }

  /**
   * Updates a kv's value and/or status (servicecomb.md §3.3); an empty or absent field is
   * unchanged. Every update writes a history entry and moves the revision.
   * @throws 400001 bad status or value; 404001
   */
  async update(domain: string, project: string, id: string, body: unknown): Promise<KvDoc> {
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const value = checkValue(b.value);
    const status = checkStatus(b.status);
    return this.writes.run(async () => {
      this.require(domain, project, id);
      return this.feed.write(async (trx, changes) => {
        const revision = await kieStore.takeRevisions(trx, domain, 1);
        // Read under the domain's counter lock: the latest committed version, whichever server wrote it.
        const current = await kieStore.findKv(trx, domain, id);
        if (!current || current.project !== project) throw kieError('RecordNotExists', `kv ${id} does not exist`);
        const doc: KvDoc = { ...current.doc, value: value || current.doc.value, status: status ?? current.doc.status, update_revision: revision, update_time: this.nowSeconds() };
        const record = toRecord(domain, project, current.labels, current.labelFormat, doc);
        await this.storeKv(trx, record, false);
        changes.emit('kie.kv.put', putOf(record));
        return doc;
      });
    });
  }

  /** Deletes one kv with its history. @throws 404001 */
  async delete(domain: string, project: string, id: string): Promise<void> {
    await this.writes.run(async () => {
      const record = this.require(domain, project, id);
      await this.deleteLocked(domain, [record]);
    });
  }

  /**
   * Deletes the listed kvs of the project (servicecomb.md §3.3); unknown ids are ignored.
   * The revision moves once when anything was deleted. @throws 400001 when ids is not a list of strings
   */
  async deleteMany(domain: string, project: string, ids: unknown): Promise<void> {
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) throw kieError('InvalidParams', 'ids must be a list of kv ids');
    await this.writes.run(async () => {
      const p = this.index.findDomain(domain)?.projects.get(project);
      const records = [...new Set(ids as string[])].map((id) => p?.kvs.get(id)).filter((r): r is KvRecord => r !== undefined);
      if (records.length > 0) await this.deleteLocked(domain, records);
    });
  }

  private async deleteLocked(domain: string, records: KvRecord[]): Promise<void> {
    const project = records[0]!.project;
    await this.feed.write(async (trx, changes) => {
      const revision = await kieStore.takeRevisions(trx, domain, 1);
      await kieStore.deleteKvs(trx, domain, records.map((r) => r.doc.id));
      changes.emit('kie.kv.deleted', { domain, project, ids: records.map((r) => r.doc.id), revision });
    });
  }

  // ───────────────────────── list and long poll ─────────────────────────

  /** The domain's current revision (X-Kie-Revision). */
  revisionOf(domain: string): number {
    return this.index.findDomain(domain)?.revision ?? 0;
  }

  /**
   * Lists the project's kvs matching `q` (servicecomb.md §3.4), sorted by priority then
   * update_revision (both descending); `total` counts every match before paging.
   */
  list(domain: string, project: string, q: ListQuery): ListResult {
    const d = this.index.findDomain(domain);
    const p = d?.projects.get(project);
    const revision = d?.revision ?? 0;
    if (!p || p.kvs.size === 0) return { page: { total: 0, data: [] }, json: EMPTY_LIST_JSON, revision };
    const key = listCacheKey(domain, project, q);
    const cached = this.listCache.get(key, p.revision);
    if (cached) return { ...cached, revision };
    const page = p.query(q, q.exact ? labelFormat(q.labels) : undefined);
    const json = Buffer.from(`{"total":${page.total},"data":[${page.data.map((r) => r.json).join(',')}]}`);
    this.listCache.set(key, p.revision, page, json);
    return { page, json, revision };
  }

  /**
   * Decides a list request with `revision` and/or `wait` (servicecomb.md §3.4): a revision
   * other than the latest answers at once; the latest without wait is unchanged; with
   * `waitMs` the poll is held until a change in the project that matches its labels (and
   * match mode), or until a little before `waitMs` (config kie.pollEarlyReplyMs).
   * @param revision the client's revision, or undefined
   * @param waitMs the `wait` in milliseconds (≤ 5 min, already parsed), or undefined
   * @throws 400001 when `key` is combined with wait
   */
  poll(domain: string, project: string, q: ListQuery, revision: number | undefined, waitMs: number | undefined): PollStart {
    if (waitMs !== undefined && q.key) throw kieError('InvalidParams', 'can not accept key params, when using wait');
    const latest = this.revisionOf(domain);
    if (revision !== undefined && revision !== latest) return { held: false, changed: true };
    if (waitMs === undefined) return { held: false, changed: revision === undefined };
    if (waitMs <= 0 || this.closing) return { held: false, changed: false };
    const holdMs = waitMs - Math.min(this.config.kie.pollEarlyReplyMs, waitMs / 10);
    const { held, cancel } = this.waiters.wait({ domain, project, labels: q.labels, labelFormat: labelFormat(q.labels), exact: q.exact }, holdMs);
    return { held: true, wait: held, cancel };
  }

  /** Number of polls held right now. */
  heldPolls(): number {
    return this.waiters.size();
  }

  // ───────────────────────── history ─────────────────────────

  /**
   * Past versions of a kv, newest first (servicecomb.md §3.3); the current version is the
   * first. At most config kie.historyPerKv are kept. @throws 404001 unknown kv
   */
  async history(domain: string, project: string, id: string, offset: number, limit: number): Promise<{ total: number; data: KvDoc[] }> {
    this.require(domain, project, id);
    const { total, docs } = await kieStore.listHistory(this.db.kysely, domain, id, offset, limit);
    if (total === 0) throw kieError('RecordNotExists', `no history of kv ${id}`);
    return { total, data: docs };
  }

  // ───────────────────────── import and export ─────────────────────────

  /**
   * Imports kvs in order (servicecomb.md §3.3, §4.1), in one transaction; each created or
   * overridden kv moves the revision once. Duplicates (same key and label set): `force`
   * updates value, value_type, status and priority (those given) keeping the id; `skip` reports 400004; `abort`
   * reports that item and every later one as 400005. Validation (400001) and quota
   * (422001) failures are reported per item and the rest goes on.
   * @param data the items, `[{key, value, labels?, status?, value_type?}]`
   * @param forcedLabels labels set on every item (the `label` query)
   * @throws 400001 when `data` is not a list
   */
  async importKvs(domain: string, project: string, data: unknown, mode: OverrideMode, forcedLabels: Record<string, string>): Promise<{ success: KvDoc[]; failure: ImportFailure[] }> {
    if (!Array.isArray(data)) throw kieError('InvalidParams', 'data must be a list of kvs');
    return this.writes.run(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.importLocked(domain, project, data, mode, forcedLabels);
        } catch (err) {
          // Another server wrote one of the kvs meanwhile: plan again on the current index.
          const raced = err instanceof AlreadyExistsError || (err instanceof OpenStageError && err.code === String(KieCodes.RecordNotExists.code));
          if (!raced || attempt === 3) throw err;
          await this.feed.sync();
        }
      }
    });
  }

  private async importLocked(domain: string, project: string, data: unknown[], mode: OverrideMode, forcedLabels: Record<string, string>): Promise<{ success: KvDoc[]; failure: ImportFailure[] }> {
    const d = this.index.domain(domain);
    const p = d.project(project);
    const now = this.nowSeconds();
    // Revisions are taken in the transaction; until then the n-th change is numbered -n.
    let revision = 0;
    let count = d.count;
    const written = new Map<string, { record: KvRecord; isNew: boolean }>();
    const changes: { record: KvRecord; isNew: boolean }[] = [];
    const failure: ImportFailure[] = [];
    let aborted = false;
    for (const raw of data) {
      const item = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
      const rawLabels = { ...(item.labels && typeof item.labels === 'object' ? (item.labels as Record<string, string>) : {}), ...forcedLabels };
      const failed = (name: keyof typeof KieCodes, message: string = KieCodes[name].message): void => {
        failure.push({ key: typeof item.key === 'string' ? item.key : '', labels: rawLabels, error_code: String(KieCodes[name].code), error_message: message });
      };
      if (aborted) {
        failed('StopUpload');
        continue;
      }
      let kv: NewKv;
      try {
        kv = validateNewKv({ ...item, labels: rawLabels });
      } catch (err) {
        if (!(err instanceof OpenStageError)) throw err;
        failed('InvalidParams', err.detail ?? err.message);
        continue;
      }
      const format = labelFormat(kv.labels);
      const id = kvId(domain, project, kv.key, format);
      const existing = written.get(id)?.record ?? p.kvs.get(id);
      if (existing && mode === 'skip') {
        failed('SkipDuplicateKv');
        continue;
      }
      if (existing && mode === 'abort') {
        aborted = true;
        failed('StopUpload');
        continue;
      }
      if (!existing && count >= this.config.quota.configs) {
        failed('NotEnoughQuota', `${KieCodes.NotEnoughQuota.message}: limit ${this.config.quota.configs}`);
        continue;
      }
      revision--;
      let doc: KvDoc;
      if (existing) {
        doc = {
          ...existing.doc,
          value: typeof item.value === 'string' ? kv.value : existing.doc.value,
          value_type: item.value_type ? kv.valueType : existing.doc.value_type,
          status: item.status ? kv.status : existing.doc.status,
          ...(item.priority !== undefined ? { priority: kv.priority || undefined } : {}),
          update_revision: revision,
          update_time: now,
        };
      } else {
        doc = newDoc(id, kv, revision, now);
        count++;
      }
      const change = { record: toRecord(domain, project, kv.labels, format, doc), isNew: !existing || (written.get(id)?.isNew ?? false) };
      written.set(id, change);
      changes.push(change);
    }
    if (changes.length === 0) return { success: [], failure };
    const docs = await this.feed.write(async (trx, out) => {
      const last = await kieStore.takeRevisions(trx, domain, changes.length);
      // Planned on this server's index: other servers' writes since make it plan again.
      if (this.nearQuota(count) && (await kieStore.countKvs(trx, domain)) !== d.count) throw new AlreadyExistsError('the domain changed meanwhile');
      const real = (r: number): number => (r < 0 ? last - changes.length - r : r);
      const inserted = new Set<string>();
      const stored: KvDoc[] = [];
      for (const c of changes) {
        const doc = { ...c.record.doc, create_revision: real(c.record.doc.create_revision), update_revision: real(c.record.doc.update_revision) };
        const record = toRecord(domain, project, c.record.labels, c.record.labelFormat, doc);
        const insert = c.isNew && !inserted.has(doc.id);
        inserted.add(doc.id);
        await this.storeKv(trx, record, insert);
        out.emit('kie.kv.put', putOf(record));
        stored.push(doc);
      }
      return stored;
    });
    return { success: docs, failure };
  }

  /**
   * Exports kvs of the project (servicecomb.md §4.1): the listed ids, or those matching the
   * labels (every kv when none). The output re-imports to the same state.
   * @throws 400001 when ids is given but not a list of strings
   */
  exportKvs(domain: string, project: string, filter: { ids?: unknown; labels: Record<string, string>; exact: boolean }): { metadata: { version: string; annotations: Record<string, string> }; data: ExportedKv[] } {
    // Go's DownloadKie sends `{"ids": null}` when exporting by label: null means absent.
    const ids = filter.ids === null ? undefined : filter.ids;
    if (ids !== undefined && (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string'))) throw kieError('InvalidParams', 'ids must be a list of kv ids');
    const p = this.index.findDomain(domain)?.projects.get(project);
    let records: KvRecord[] = [];
    if (p && ids && ids.length > 0) {
      const wanted = new Set(ids as string[]);
      records = p.sorted().filter((r) => wanted.has(r.doc.id));
    } else if (p) {
      records = p.query({ labels: filter.labels, exact: filter.exact, offset: 0, limit: 0 }, filter.exact ? labelFormat(filter.labels) : undefined).data;
    }
    return {
      metadata: { version: '1.0', annotations: {} },
      data: records.map((r) => ({ id: r.doc.id, key: r.doc.key, labels: r.labels, value: r.doc.value, value_type: r.doc.value_type, status: r.doc.status, ...(r.doc.priority ? { priority: r.doc.priority } : {}) })),
    };
  }

  /** Health figures of a domain (servicecomb.md §3.3 `/v1/health`). */
  health(domain: string): { revision: number; totalKvs: number; timestampSeconds: number } {
    const d = this.index.findDomain(domain);
    return { revision: d?.revision ?? 0, totalKvs: d?.count ?? 0, timestampSeconds: this.nowSeconds() };
  }

  /** Validates import labels from the `label` query (the same rules as kv labels). @throws 400001 */
  checkForcedLabels(labels: Record<string, string>): Record<string, string> {
    return checkLabels(labels);
  }

  // ───────────────────────── internals ─────────────────────────

  private require(domain: string, project: string, id: string): KvRecord {
    const record = this.index.findDomain(domain)?.projects.get(project)?.kvs.get(id);
    if (!record) throw kieError('RecordNotExists', `kv ${id} does not exist`);
    return record;
  }

  private checkQuota(count: number): void {
    if (count >= this.config.quota.configs) throw kieError('NotEnoughQuota', `limit ${this.config.quota.configs}`);
  }

  /** True near the quota with other servers writing too (PostgreSQL): the stored count decides. */
  private nearQuota(count: number): boolean {
    const quota = this.config.quota.configs;
    return this.feed.clustered && count > quota - Math.max(100, Math.floor(quota / 10));
  }

  /**
   * Near the quota, checks the stored count (under the domain's counter lock, which every
   * write of the domain takes first, so it is exact). @throws 422001
   */
  private async checkStoredQuota(trx: Executor, domain: string, adding: number): Promise<void> {
    const d = this.index.domain(domain);
    if (!this.nearQuota(d.count + adding)) return;
    if ((await kieStore.countKvs(trx, domain)) + adding > this.config.quota.configs) throw kieError('NotEnoughQuota', `limit ${this.config.quota.configs}`);
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /**
   * Writes a kv (insert or update) and its history entry.
   * @throws AlreadyExistsError (insert) when it exists; 404001 (update) when it is gone
   */
  private async storeKv(trx: Executor, record: KvRecord, insert: boolean): Promise<void> {
    if (insert) await kieStore.insertKv(trx, record);
    else if (!(await kieStore.updateKv(trx, record.domain, record.doc))) throw kieError('RecordNotExists', `kv ${record.doc.id} does not exist`);
    await kieStore.addHistory(trx, record.domain, record.doc, this.config.kie.historyPerKv);
  }

  // ───────────────────────── changes (every server, commit order) ─────────────────────────

  /** A kv was created or updated: into the index, revisions forward, matching polls woken. */
  private onPut(e: KieEvents['kie.kv.put']): void {
    const d = this.index.domain(e.domain);
    const p = d.project(e.project);
    if (!p.kvs.has(e.doc.id)) d.count++;
    p.put(toRecord(e.domain, e.project, e.labels, e.labelFormat, e.doc));
    this.moveRevision(d, p, e.doc.update_revision);
    this.changed(e.domain, e.project, e.labels, e.labelFormat, d.revision);
  }

  /** Kvs were deleted: out of the index, revisions forward, matching polls woken. */
  private onDeleted(e: KieEvents['kie.kv.deleted']): void {
    const d = this.index.domain(e.domain);
    const p = d.project(e.project);
    const removed: KvRecord[] = [];
    for (const id of e.ids) {
      const record = p.kvs.get(id);
      if (!record) continue;
      p.remove(record);
      d.count--;
      removed.push(record);
    }
    this.moveRevision(d, p, e.revision);
    for (const r of removed) this.changed(e.domain, e.project, r.labels, r.labelFormat, d.revision);
  }

  private moveRevision(d: DomainIndex, p: ProjectIndex, revision: number): void {
    p.revision = Math.max(p.revision, revision);
    d.revision = Math.max(d.revision, revision);
  }

  private changed(domain: string, project: string, labels: Record<string, string>, format: string, revision: number): void {
    const event = { domain, project, labels, labelFormat: format, revision };
    this.waiters.notify(event);
    this.bus.publish('kie.kv.changed', event);
  }
}

/** The feed change of a written kv. */
function putOf(record: KvRecord): KieEvents['kie.kv.put'] {
  return { domain: record.domain, project: record.project, labels: record.labels, labelFormat: record.labelFormat, doc: record.doc };
}

/** The id of a kv: sha256 hex of `domain/project/key/label_format` (servicecomb.md §3.2). */
export function kvId(domain: string, project: string, key: string, format: string): string {
  return sha256Hex(`${domain}/${project}/${key}/${format}`);
}

function newDoc(id: string, kv: NewKv, revision: number, nowSeconds: number): KvDoc {
  return {
    id,
    key: kv.key,
    value: kv.value,
    value_type: kv.valueType,
    status: kv.status,
    ...(kv.priority ? { priority: kv.priority } : {}),
    ...(kv.check ? { check: kv.check } : {}),
    create_revision: revision,
    update_revision: revision,
    ...(Object.keys(kv.labels).length > 0 ? { labels: kv.labels } : {}),
    create_time: nowSeconds,
    update_time: nowSeconds,
  };
}

function toRecord(domain: string, project: string, labels: Record<string, string>, format: string, doc: KvDoc): KvRecord {
  return { domain, project, labels, labelFormat: format, doc, keyLower: doc.key.toLowerCase(), json: JSON.stringify(doc) };
}

function listCacheKey(domain: string, project: string, q: ListQuery): string {
  const k = q.key;
  const key = !k ? '' : k.kind === 'glob' ? `g:${k.source}` : `${k.kind[0]}:${k.lower}`;
  return JSON.stringify([domain, project, key, labelFormat(q.labels), q.exact, q.status ?? '', q.value ?? null, q.offset, q.limit]);
}
