import type { Kysely } from 'kysely';

/**
 * Replica sets owned by one server (issue #16 "Ownership"): each `deploy_replicas` row says
 * which server supervises it (`server_id`), on which machine (`host`: host name and boot id,
 * so a server can tell a leftover process of its own machine from one elsewhere), and what
 * that server sees of it (`state`, `ready`, `restarts`) — the view every other server shows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('deploy_replicas')
    .addColumn('server_id', 'varchar(100)', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('deploy_replicas').addColumn('host', 'varchar(200)', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('deploy_replicas').addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo('running')).execute();
  await db.schema.alterTable('deploy_replicas').addColumn('ready', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('deploy_replicas').addColumn('restarts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['restarts', 'ready', 'state', 'host', 'server_id']) await db.schema.alterTable('deploy_replicas').dropColumn(column).execute();
}
