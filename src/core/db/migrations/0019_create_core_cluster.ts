import { sql, type Kysely } from 'kysely';

/**
 * Several servers on one PostgreSQL database (issue #16):
 * - `core_feed` (one row) and `core_changes`: the change log. Every write an in-memory view
 *   depends on appends one row in its own transaction, numbered by the counter row, so the
 *   order of `seq` is the commit order; servers apply the rows in that order.
 * - `core_servers`: live servers (a lease renewed by each), `core_settings`: cluster-wide
 *   values (the master-key check, the leader), `core_owners`: which server acts on a job or
 *   an exclusive engine.
 * - `registry_instances.renewed_at_ms`: the last persisted heartbeat (batched), read by the
 *   server that decides expiry.
 * - `git_repositories`: names of hosted repositories, so that one is never created twice.
 * - `engines_engines.host`: the address an exclusive engine listens on (its owner's host).
 * The tables exist on SQLite too (one server); only the PostgreSQL path writes the log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('core_feed')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();
  await sql`INSERT INTO core_feed (id, seq) VALUES (1, 0)`.execute(db);
  await db.schema
    .createTable('core_changes')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('origin', 'varchar(100)', (c) => c.notNull())
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('core_servers')
    .addColumn('server_id', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('url', 'varchar(300)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('renewed_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('core_settings')
    .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('core_owners')
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('id', 'varchar(200)', (c) => c.notNull())
    .addColumn('owner_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('fence', 'bigint', (c) => c.notNull())
    .addColumn('claimed_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('core_owners_pk', ['kind', 'id'])
    .execute();
  await db.schema.createIndex('core_owners_owner').on('core_owners').column('owner_id').execute();
  await db.schema.alterTable('registry_instances').addColumn('renewed_at_ms', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('git_repositories')
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('namespace', 'varchar(100)', (c) => c.notNull())
    .addColumn('repo', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('git_repositories_pk', ['project', 'namespace', 'repo'])
    .execute();
  await db.schema.alterTable('engines_engines').addColumn('host', 'varchar(255)', (c) => c.notNull().defaultTo('')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('engines_engines').dropColumn('host').execute();
  await db.schema.dropTable('git_repositories').execute();
  await db.schema.alterTable('registry_instances').dropColumn('renewed_at_ms').execute();
  for (const table of ['core_owners', 'core_settings', 'core_servers', 'core_changes', 'core_feed']) await db.schema.dropTable(table).execute();
}
