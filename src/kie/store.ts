import { sql, type Selectable } from 'kysely';
import type { Executor } from '../core/db/kysely.js';
import type { KieKvsTable } from '../core/db/schema.js';
import { AlreadyExistsError, isUniqueViolation } from '../core/errors.js';
import type { KvDoc } from './types.js';

/**
 * Kysely queries for the config center's own tables (kie_*). No rules, no events; the
 * service calls these inside its transactions and keeps the in-memory index.
 * PostgreSQL returns bigint columns as strings, hence the Number() on the way out.
 */

/** A stored kv, decoded. */
export interface StoredKv {
  domain: string;
  project: string;
  labelFormat: string;
  labels: Record<string, string>;
  doc: KvDoc;
}

/** Inserts a kv. @throws AlreadyExistsError when the domain already has a kv with its id */
export async function insertKv(db: Executor, kv: StoredKv): Promise<void> {
  const d = kv.doc;
  try {
    await insertRow(db, kv, d);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`kv ${d.key}`);
    throw err;
  }
}

async function insertRow(db: Executor, kv: StoredKv, d: KvDoc): Promise<void> {
  await db
    .insertInto('kie_kvs')
    .values({
      domain: kv.domain,
      id: d.id,
      project: kv.project,
      key: d.key,
      label_format: kv.labelFormat,
      labels: JSON.stringify(kv.labels),
      value: d.value,
      value_type: d.value_type,
      status: d.status,
      checker: d.check ?? '',
      priority: d.priority ?? 0,
      create_revision: d.create_revision,
      update_revision: d.update_revision,
      create_time: d.create_time,
      update_time: d.update_time,
    })
    .execute();
}

/** Rewrites the mutable fields of a kv (value, value_type, status, priority, update revision and time). @returns false when it is gone */
export async function updateKv(db: Executor, domain: string, doc: KvDoc): Promise<boolean> {
  const r = await db
    .updateTable('kie_kvs')
    .set({ value: doc.value, value_type: doc.value_type, status: doc.status, priority: doc.priority ?? 0, update_revision: doc.update_revision, update_time: doc.update_time })
    .where('domain', '=', domain)
    .where('id', '=', doc.id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Deletes kvs and their history. */
export async function deleteKvs(db: Executor, domain: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await db.deleteFrom('kie_histories').where('domain', '=', domain).where('kv_id', 'in', chunk).execute();
    await db.deleteFrom('kie_kvs').where('domain', '=', domain).where('id', 'in', chunk).execute();
  }
}

/** One kv of a domain, or undefined. */
export async function findKv(db: Executor, domain: string, id: string): Promise<StoredKv | undefined> {
  const row = await db.selectFrom('kie_kvs').selectAll().where('domain', '=', domain).where('id', '=', id).executeTakeFirst();
  return row ? toStored(row) : undefined;
}

/** Every kv, for rebuilding the index at start. */
export async function listAllKvs(db: Executor): Promise<StoredKv[]> {
  return (await db.selectFrom('kie_kvs').selectAll().execute()).map(toStored);
}

function toStored(r: Selectable<KieKvsTable>): StoredKv {
  {
    const labels = JSON.parse(r.labels) as Record<string, string>;
    const doc: KvDoc = {
      id: r.id,
      key: r.key,
      value: r.value,
      value_type: r.value_type,
      status: r.status,
      ...(Number(r.priority) ? { priority: Number(r.priority) } : {}),
      ...(r.checker ? { check: r.checker } : {}),
      create_revision: Number(r.create_revision),
      update_revision: Number(r.update_revision),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      create_time: Number(r.create_time),
      update_time: Number(r.update_time),
    };
    return { domain: r.domain, project: r.project, labelFormat: r.label_format, labels, doc };
  }
}

/** Records a version of a kv and drops versions beyond the newest `keep`. */
export async function addHistory(db: Executor, domain: string, doc: KvDoc, keep: number): Promise<void> {
  await db.insertInto('kie_histories').values({ domain, kv_id: doc.id, revision: doc.update_revision, doc: JSON.stringify(doc) }).execute();
  await db
    .deleteFrom('kie_histories')
    .where('domain', '=', domain)
    .where('kv_id', '=', doc.id)
    .where('revision', 'not in', (q) =>
      q.selectFrom('kie_histories').select('revision').where('domain', '=', domain).where('kv_id', '=', doc.id).orderBy('revision', 'desc').limit(keep),
    )
    .execute();
}

/** Past versions of a kv, newest first, with their total. */
export async function listHistory(db: Executor, domain: string, kvId: string, offset: number, limit: number): Promise<{ total: number; docs: KvDoc[] }> {
  const count = await db.selectFrom('kie_histories').select((eb) => eb.fn.countAll().as('n')).where('domain', '=', domain).where('kv_id', '=', kvId).executeTakeFirst();
  let q = db.selectFrom('kie_histories').select('doc').where('domain', '=', domain).where('kv_id', '=', kvId).orderBy('revision', 'desc').offset(offset);
  q = q.limit(limit > 0 ? limit : 1_000_000);
  const rows = await q.execute();
  return { total: Number(count?.n ?? 0), docs: rows.map((r) => JSON.parse(r.doc) as KvDoc) };
}

/**
 * Takes the next `count` revisions of a domain (servicecomb.md §3.1): the counter row moves
 * on in the caller's transaction and stays locked until it ends, so revisions are never
 * reused and commit in the order they were taken, whichever server writes.
 * @returns the last revision taken (the first is `last - count + 1`)
 */
export async function takeRevisions(db: Executor, domain: string, count: number): Promise<number> {
  const r = await sql<{ revision: string | number }>`
    INSERT INTO kie_revisions (domain, revision) VALUES (${domain}, ${count})
    ON CONFLICT (domain) DO UPDATE SET revision = kie_revisions.revision + ${count}
    RETURNING revision`.execute(db);
  return Number(r.rows[0]!.revision);
}

/** Every domain's revision counter, for rebuilding the index at start. */
export async function listRevisions(db: Executor): Promise<{ domain: string; revision: number }[]> {
  const rows = await db.selectFrom('kie_revisions').selectAll().execute();
  return rows.map((r) => ({ domain: r.domain, revision: Number(r.revision) }));
}

/** Number of kvs of a domain (quota checks near the limit). */
export async function countKvs(db: Executor, domain: string): Promise<number> {
  const row = await db.selectFrom('kie_kvs').select((eb) => eb.fn.countAll().as('n')).where('domain', '=', domain).executeTakeFirst();
  return Number(row?.n ?? 0);
}
