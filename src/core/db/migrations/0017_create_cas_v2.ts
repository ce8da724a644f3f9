import type { Kysely } from 'kysely';

/**
 * What the ServiceStage v2 API (src/cas/v2) knows that the v3 model has no field for. v2
 * environments, applications and component instances are the v3 environments, applications
 * and components themselves; these tables hold only the rest:
 * - `cas_v2_environments`: an environment's v2 alias and charge mode, and which of its
 *   managed resources the v2 client put in `base_resources` / `optional_resources` (JSON
 *   arrays of `type/id` keys);
 * - `cas_v2_components`: v2 components, the definitions (runtime, category, source, build)
 *   that instances deploy; `deleting` is 1 while a forced delete removes its instances;
 * - `cas_v2_instances`: which v2 component a v3 component (a v2 instance, same id) belongs to,
 *   with the v2 flavor and artifacts it was deployed with (JSON) and the v3 source they became.
 * Times are epoch milliseconds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_v2_environments')
    .addColumn('environment_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('alias', 'varchar(64)', (c) => c.notNull())
    .addColumn('charge_mode', 'varchar(32)', (c) => c.notNull())
    .addColumn('base_keys', 'text', (c) => c.notNull())
    .addColumn('optional_keys', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('cas_v2_components')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('application_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('creator', 'varchar(128)', (c) => c.notNull())
    .addColumn('deleting', 'integer', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('cas_v2_components_app_name', ['project_id', 'application_id', 'name'])
    .execute();
  await db.schema
    .createTable('cas_v2_instances')
    .addColumn('instance_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('component_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('flavor_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('artifacts', 'text', (c) => c.notNull())
    .addColumn('artifact_source', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cas_v2_instances_component').on('cas_v2_instances').columns(['project_id', 'component_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cas_v2_instances').execute();
  await db.schema.dropTable('cas_v2_components').execute();
  await db.schema.dropTable('cas_v2_environments').execute();
}
