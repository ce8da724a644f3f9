import type { Kysely } from 'kysely';

/**
 * Configuration management tables (servicestage.md §7): groups (unique name per project),
 * config files (unique name per group) and file records (one row per past version).
 * Content of sensitive files is sealed at rest (`content_sealed` = 1).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_config_groups')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('creator', 'varchar(256)', (c) => c.notNull())
    .addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cas_config_groups_name').unique().on('cas_config_groups').columns(['project', 'name']).execute();

  await db.schema
    .createTable('cas_configs')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('group_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('content_sealed', 'integer', (c) => c.notNull())
    .addColumn('sensitive', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('creator', 'varchar(256)', (c) => c.notNull())
    .addColumn('modifier', 'varchar(256)', (c) => c.notNull())
    .addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cas_configs_name').unique().on('cas_configs').columns(['group_id', 'name']).execute();
  await db.schema.createIndex('cas_configs_project').on('cas_configs').columns(['project']).execute();

  await db.schema
    .createTable('cas_config_histories')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('config_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('group_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('config_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('content_sealed', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('creator', 'varchar(256)', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cas_config_histories_config').on('cas_config_histories').columns(['config_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['cas_config_histories', 'cas_configs', 'cas_config_groups']) await db.schema.dropTable(table).execute();
}
