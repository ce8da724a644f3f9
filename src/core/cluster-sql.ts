import { sql } from 'kysely';
import type { Executor } from './db/kysely.js';

/**
 * Queries of the cluster tables (core_servers, core_settings, core_owners, core_changes).
 * PostgreSQL returns bigint columns as strings, hence Number() on the way out.
 */

/** A row of core_servers, decoded. */
export interface ServerRow {
  serverId: string;
  url: string;
  version: string;
  startedAtMs: number;
  renewedAtMs: number;
}

/** Inserts (or replaces) a server's row. */
export async function putServer(db: Executor, s: ServerRow): Promise<void> {
  await db
    .insertInto('core_servers')
    .values({ server_id: s.serverId, url: s.url, version: s.version, started_at_ms: s.startedAtMs, renewed_at_ms: s.renewedAtMs })
    .onConflict((oc) => oc.column('server_id').doUpdateSet({ url: s.url, version: s.version, renewed_at_ms: s.renewedAtMs }))
    .execute();
}

/**
 * Renews a server's lease if it has not ended (renewed after `notBeforeMs`).
 * @returns false when the row is gone or the lease had ended
 */
export async function renewServer(db: Executor, serverId: string, nowMs: number, notBeforeMs: number): Promise<boolean> {
  const r = await db.updateTable('core_servers').set({ renewed_at_ms: nowMs }).where('server_id', '=', serverId).where('renewed_at_ms', '>', notBeforeMs).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Every server row. */
export async function listServers(db: Executor): Promise<ServerRow[]> {
  const rows = await db.selectFrom('core_servers').selectAll().execute();
  return rows.map((r) => ({ serverId: r.server_id, url: r.url, version: r.version, startedAtMs: Number(r.started_at_ms), renewedAtMs: Number(r.renewed_at_ms) }));
}

/** Deletes a server's row. */
export async function deleteServer(db: Executor, serverId: string): Promise<void> {
  await db.deleteFrom('core_servers').where('server_id', '=', serverId).execute();
}

/** Deletes the rows of servers dead since before `beforeMs` that own nothing any more. @returns their ids */
export async function reapServers(db: Executor, beforeMs: number): Promise<string[]> {
  const rows = await db
    .deleteFrom('core_servers')
    .where('renewed_at_ms', '<', beforeMs)
    .where('server_id', 'not in', (q) => q.selectFrom('core_owners').select('owner_id'))
    .returning('server_id')
    .execute();
  return rows.map((r) => r.server_id);
}

/** A cluster-wide setting, or undefined. */
export async function findSetting(db: Executor, name: string): Promise<string | undefined> {
  return (await db.selectFrom('core_settings').select('value').where('name', '=', name).executeTakeFirst())?.value;
}

/** Sets a cluster-wide setting. */
export async function putSetting(db: Executor, name: string, value: string): Promise<void> {
  await db.insertInto('core_settings').values({ name, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
}

/** Inserts a setting unless it exists. @returns the stored value (this one, or the one that was first) */
export async function initSetting(db: Executor, name: string, value: string): Promise<string> {
  await db.insertInto('core_settings').values({ name, value }).onConflict((oc) => oc.column('name').doNothing()).execute();
  return (await findSetting(db, name))!;
}

/** Records `ownerId` as the owner of (kind, id), replacing any owner. */
export async function putOwner(db: Executor, kind: string, id: string, ownerId: string, nowMs: number): Promise<void> {
  await db
    .insertInto('core_owners')
    .values({ kind, id, owner_id: ownerId, fence: 1, claimed_at_ms: nowMs })
    .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({ owner_id: ownerId, fence: sql`core_owners.fence + 1`, claimed_at_ms: nowMs }))
    .execute();
}

/** Records `ownerId` as the owner of (kind, id) unless someone owns it already. @returns the owner */
export async function claimFreeOwner(db: Executor, kind: string, id: string, ownerId: string, nowMs: number): Promise<string> {
  await db
    .insertInto('core_owners')
    .values({ kind, id, owner_id: ownerId, fence: 1, claimed_at_ms: nowMs })
    .onConflict((oc) => oc.columns(['kind', 'id']).doNothing())
    .execute();
  return (await findOwner(db, kind, id)) ?? ownerId;
}

/** Forgets the owner of (kind, id). */
export async function deleteOwner(db: Executor, kind: string, id: string): Promise<void> {
  await db.deleteFrom('core_owners').where('kind', '=', kind).where('id', '=', id).execute();
}

/** The owner of (kind, id), or undefined. */
export async function findOwner(db: Executor, kind: string, id: string): Promise<string | undefined> {
  return (await db.selectFrom('core_owners').select('owner_id').where('kind', '=', kind).where('id', '=', id).executeTakeFirst())?.owner_id;
}

/** Owned resources whose owner's lease ended (not renewed after `liveAfterMs`), oldest claim first. */
export async function listOrphans(db: Executor, liveAfterMs: number, limit: number): Promise<{ kind: string; id: string; ownerId: string }[]> {
  const rows = await db
    .selectFrom('core_owners')
    .select(['kind', 'id', 'owner_id'])
    .where('owner_id', 'not in', (q) => q.selectFrom('core_servers').select('server_id').where('renewed_at_ms', '>', liveAfterMs))
    .orderBy('claimed_at_ms')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ kind: r.kind, id: r.id, ownerId: r.owner_id }));
}

/** Moves (kind, id) from `from` to `to` if `from` still owns it. @returns the new fence, or undefined */
export async function moveOwner(db: Executor, kind: string, id: string, from: string, to: string, nowMs: number): Promise<number | undefined> {
  const row = await db
    .updateTable('core_owners')
    .set({ owner_id: to, fence: sql`fence + 1`, claimed_at_ms: nowMs })
    .where('kind', '=', kind)
    .where('id', '=', id)
    .where('owner_id', '=', from)
    .returning('fence')
    .executeTakeFirst();
  return row ? Number(row.fence) : undefined;
}

/** Ids of (kind) resources owned by `ownerId`. */
export async function listOwned(db: Executor, kind: string, ownerId: string): Promise<string[]> {
  return (await db.selectFrom('core_owners').select('id').where('kind', '=', kind).where('owner_id', '=', ownerId).execute()).map((r) => r.id);
}

/** Drops change-log rows older than `beforeMs`, always keeping the newest `keep`. @returns how many */
export async function pruneChanges(db: Executor, beforeMs: number, keep: number): Promise<number> {
  const r = await db
    .deleteFrom('core_changes')
    .where('created_at_ms', '<', beforeMs)
    .where('seq', '<=', (q) => q.selectFrom('core_feed').select(sql<number>`seq - ${keep}`.as('limit_seq')).where('id', '=', 1))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
