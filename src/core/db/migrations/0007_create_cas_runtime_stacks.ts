import type { Kysely } from 'kysely';

/**
 * Custom runtime (technology) stacks of a project (servicestage.md §6). The system stacks
 * are built into the code (src/cas/runtime-stack/system.ts) and never stored. Times are
 * epoch milliseconds (bigint); spec is JSON text. A name is unique per project.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_runtime_stacks')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('deploy_mode', 'varchar(32)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('creator', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('cas_runtime_stacks_project_name', ['project_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cas_runtime_stacks').execute();
}
