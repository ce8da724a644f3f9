import type { Kysely } from 'kysely';

/** Deployment jobs and their ordered tasks (servicestage.md §5). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deploy_jobs')
    .addColumn('job_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('job_type', 'varchar(64)', (c) => c.notNull())
    // A component key is `project/componentId`: up to 64 + 1 + 64 characters.
    .addColumn('target_id', 'varchar(160)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('rollback_enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deploy_jobs_status').on('deploy_jobs').columns(['status']).execute();
  await db.schema
    .createTable('deploy_tasks')
    .addColumn('job_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('task_index', 'integer', (c) => c.notNull())
    .addColumn('task_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('messages', 'text', (c) => c.notNull())
    .addColumn('timeout_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deploy_tasks_pk', ['job_id', 'task_index'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('deploy_tasks').execute();
  await db.schema.dropTable('deploy_jobs').execute();
}
