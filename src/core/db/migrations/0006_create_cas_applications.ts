import type { Kysely } from 'kysely';

/**
 * ServiceStage applications (servicestage.md §3) and their per-environment configuration
 * (environment variables). Times are epoch milliseconds (bigint); labels and env lists
 * are JSON text. An application name is unique per project.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_applications')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('creator', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('cas_applications_project_name', ['project_id', 'name'])
    .execute();
  await db.schema
    .createTable('cas_application_configs')
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('application_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('environment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('env', 'text', (c) => c.notNull())
    .addColumn('assign_strategy', 'integer', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('cas_application_configs_pk', ['application_id', 'environment_id'])
    .execute();
  await db.schema.createIndex('cas_application_configs_env').on('cas_application_configs').columns(['project_id', 'environment_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cas_application_configs').execute();
  await db.schema.dropTable('cas_applications').execute();
}
