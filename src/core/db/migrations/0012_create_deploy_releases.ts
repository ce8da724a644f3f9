import type { Kysely } from 'kysely';

/** Built component versions (plans and artifacts), replicas and per-component engine state. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deploy_releases')
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('component_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('plan_sealed', 'text', (c) => c.notNull())
    .addColumn('launch', 'text', (c) => c.notNull())
    .addColumn('revision', 'varchar(512)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deploy_releases_pk', ['project', 'component_id', 'version'])
    .execute();
  await db.schema
    .createTable('deploy_replicas')
    .addColumn('instance_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('component_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('desired', 'varchar(16)', (c) => c.notNull())
    .addColumn('pid', 'integer')
    .addColumn('start_ticks', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deploy_replicas_component').on('deploy_replicas').columns(['project', 'component_id']).execute();
  await db.schema
    .createTable('deploy_components')
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('component_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('current_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('replicas', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('fail_detail', 'text', (c) => c.notNull())
    .addColumn('last_job_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deploy_components_pk', ['project', 'component_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['deploy_components', 'deploy_replicas', 'deploy_releases']) await db.schema.dropTable(t).execute();
}
