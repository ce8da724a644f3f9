import type { Kysely } from 'kysely';

/**
 * ServiceStage environments (servicestage.md §2): the environments, their managed resources
 * (bindings to existing infrastructure), created (IaC) resources and provisioning records.
 * Times are milliseconds since the epoch (bigint); JSON documents are text; secret
 * parameters are AES-GCM sealed with the master key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_environments')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'varchar(512)', (c) => c.notNull())
    .addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('deploy_mode', 'varchar(32)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('resource_create_mode', 'varchar(32)', (c) => c.notNull())
    .addColumn('config_mode', 'varchar(32)', (c) => c.notNull())
    .addColumn('vpc_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('creator', 'varchar(128)', (c) => c.notNull())
    .addColumn('iac_task_status', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('cas_environments_project_name', ['project', 'name'])
    .execute();
  await db.schema
    .createTable('cas_environment_resources')
    .addColumn('environment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('id', 'varchar(128)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('alias', 'varchar(128)', (c) => c.notNull())
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('sealed_parameters', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cas_environment_resources_pk', ['environment_id', 'position'])
    .execute();
  await db.schema
    .createTable('cas_environment_iac_resources')
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('environment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('custom_hcl', 'text', (c) => c.notNull())
    .addColumn('vars_body', 'text', (c) => c.notNull())
    .addColumn('vars_structure', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('removed', 'integer', (c) => c.notNull())
    .addColumn('sealed_state', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('cas_environment_iac_resources_pk', ['environment_id', 'id'])
    .execute();
  await db.schema
    .createTable('cas_environment_provisions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('environment_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('task_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('operation', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'varchar(64)', (c) => c.notNull())
    .addColumn('status_message', 'text', (c) => c.notNull())
    .addColumn('vars_body', 'text', (c) => c.notNull())
    .addColumn('vars_structure', 'text', (c) => c.notNull())
    .addColumn('stack_resources', 'text', (c) => c.notNull())
    .addColumn('stack_output', 'text', (c) => c.notNull())
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('creator', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cas_environment_provisions_env').on('cas_environment_provisions').columns(['environment_id', 'created_at_ms']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['cas_environment_provisions', 'cas_environment_iac_resources', 'cas_environment_resources', 'cas_environments']) {
    await db.schema.dropTable(table).execute();
  }
}
