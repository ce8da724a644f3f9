import type { Kysely } from 'kysely';

/** IAM tables: users, projects, memberships, access keys, tokens (servicestage.md §1). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('iam_users')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('domain_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(300)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('iam_users_name', ['domain_name', 'name'])
    .execute();
  await db.schema
    .createTable('iam_projects')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('iam_projects_name', ['domain_id', 'name'])
    .execute();
  await db.schema
    .createTable('iam_memberships')
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_memberships_pk', ['user_id', 'project_id'])
    .execute();
  await db.schema
    .createTable('iam_access_keys')
    .addColumn('access_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('secret_sealed', 'varchar(400)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('iam_tokens')
    .addColumn('digest', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('issued_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['iam_tokens', 'iam_access_keys', 'iam_memberships', 'iam_projects', 'iam_users']) await db.schema.dropTable(t).execute();
}
