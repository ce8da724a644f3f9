import type { Kysely } from 'kysely';

/** Exclusive CSE engines and their Create/Delete jobs (servicecomb.md §4.2). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('engines_engines')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('flavor', 'varchar(64)', (c) => c.notNull())
    .addColumn('auth_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('spec_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('payment', 'varchar(8)', (c) => c.notNull())
    .addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('data_dir', 'text', (c) => c.notNull())
    .addColumn('password_sealed', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer')
    .addColumn('start_ticks', 'bigint')
    .addColumn('latest_job_id', 'integer', (c) => c.notNull())
    .addColumn('create_user', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('engines_engines_project_name', ['project', 'name'])
    .execute();
  await db.schema
    .createTable('engines_jobs')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('engine_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('create_user', 'varchar(128)', (c) => c.notNull())
    .addColumn('start_time_ms', 'bigint', (c) => c.notNull())
    .addColumn('end_time_ms', 'bigint', (c) => c.notNull())
    .addColumn('tasks', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('engines_jobs_engine').on('engines_jobs').columns(['engine_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('engines_jobs').execute();
  await db.schema.dropTable('engines_engines').execute();
}
