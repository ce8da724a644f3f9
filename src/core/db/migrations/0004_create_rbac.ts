import type { Kysely } from 'kysely';

/**
 * Engine RBAC tables (servicecomb.md §2): accounts, roles, failed-login locks and the token
 * signing key. Times are milliseconds since the epoch (bigint); JSON lists are text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rbac_accounts')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('rbac_roles')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('perms', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('rbac_locks')
    .addColumn('lock_key', 'varchar(400)', (c) => c.primaryKey())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start_ms', 'bigint', (c) => c.notNull())
    .addColumn('release_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('rbac_keys')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['rbac_keys', 'rbac_locks', 'rbac_roles', 'rbac_accounts']) {
    await db.schema.dropTable(table).execute();
  }
}
