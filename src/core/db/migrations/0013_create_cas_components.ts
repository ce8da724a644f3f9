import type { Kysely } from 'kysely';

/**
 * ServiceStage components (servicestage.md §4) and their deployment records. A component's
 * create/modify body is kept as JSON text (`body`) exactly as last accepted; the runtime stack
 * is copied into columns for the "components on a stack" count. `delete_job_id` is set while
 * the engine removes the component (the record goes when that job ends). A component name is
 * unique per application and environment. Times are epoch milliseconds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_components')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('application_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('environment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('stack_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('stack_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('stack_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('creator', 'varchar(128)', (c) => c.notNull())
    .addColumn('delete_job_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('cas_components_app_env_name', ['project_id', 'application_id', 'environment_id', 'name'])
    .execute();
  await db.schema.createIndex('cas_components_env').on('cas_components').columns(['project_id', 'environment_id']).execute();
  await db.schema
    .createTable('cas_component_records')
    .addColumn('job_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('component_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('deploy_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('job_info', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('begin_ms', 'bigint', (c) => c.notNull())
    .addColumn('end_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cas_component_records_component').on('cas_component_records').columns(['project_id', 'component_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cas_component_records').execute();
  await db.schema.dropTable('cas_components').execute();
}
