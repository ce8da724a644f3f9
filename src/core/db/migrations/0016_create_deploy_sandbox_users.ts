import type { Kysely } from 'kysely';

/**
 * The unprivileged uid each project's builds and replicas run as (src/deploy/process/sandbox.ts):
 * one per project, allocated once and kept, so that files a project's builds leave (artifacts,
 * caches) stay its own across restarts and servers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deploy_sandbox_users')
    .addColumn('project', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('uid', 'integer', (c) => c.notNull().unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('deploy_sandbox_users').execute();
}
