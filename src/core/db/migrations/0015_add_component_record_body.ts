import type { Kysely } from 'kysely';

/**
 * The component body a deploy or upgrade record was made with (JSON text, as accepted), so
 * that a rollback to that version restores its configuration; '' on action records and on
 * records written before this migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cas_component_records').addColumn('body', 'text', (c) => c.notNull().defaultTo('')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cas_component_records').dropColumn('body').execute();
}
