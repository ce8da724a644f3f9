import type { Kysely } from 'kysely';

/** Git authorizations, OAuth states, hooks of hosted repositories and remote hook secrets (servicestage.md §9). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('git_authorizations')
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('repo_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('token_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('repo_host', 'varchar(512)', (c) => c.notNull())
    .addColumn('repo_home', 'varchar(512)', (c) => c.notNull())
    .addColumn('repo_user', 'varchar(256)', (c) => c.notNull())
    .addColumn('avartar', 'varchar(1024)', (c) => c.notNull())
    .addColumn('token_sealed', 'text', (c) => c.notNull())
    .addColumn('refresh_sealed', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('git_authorizations_pk', ['project', 'name'])
    .execute();
  await db.schema
    .createTable('git_oauth_states')
    .addColumn('digest', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('repo_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('git_hooks')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('namespace', 'varchar(128)', (c) => c.notNull())
    .addColumn('repo', 'varchar(128)', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('git_hooks_repo').on('git_hooks').columns(['project', 'namespace', 'repo']).execute();
  await db.schema
    .createTable('git_webhook_secrets')
    .addColumn('project', 'varchar(64)', (c) => c.notNull())
    .addColumn('hook_key', 'varchar(160)', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('git_webhook_secrets_pk', ['project', 'hook_key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['git_webhook_secrets', 'git_hooks', 'git_oauth_states', 'git_authorizations']) await db.schema.dropTable(t).execute();
}
