import type { Kysely } from 'kysely';

/**
 * Config center tables (servicecomb.md §3): kvs, their past versions, and one revision
 * counter per domain (bumped in the same transaction as every write, so it never goes
 * backwards after a crash).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('kie_kvs')
    .addColumn('domain', 'varchar(256)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('project', 'varchar(256)', (c) => c.notNull())
    .addColumn('key', 'varchar(2048)', (c) => c.notNull())
    .addColumn('label_format', 'text', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('value_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('checker', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('create_revision', 'bigint', (c) => c.notNull())
    .addColumn('update_revision', 'bigint', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('kie_kvs_pk', ['domain', 'id'])
    .execute();
  await db.schema
    .createTable('kie_histories')
    .addColumn('domain', 'varchar(256)', (c) => c.notNull())
    .addColumn('kv_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('kie_histories_pk', ['domain', 'kv_id', 'revision'])
    .execute();
  await db.schema
    .createTable('kie_revisions')
    .addColumn('domain', 'varchar(256)', (c) => c.primaryKey())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['kie_revisions', 'kie_histories', 'kie_kvs']) await db.schema.dropTable(table).execute();
}
