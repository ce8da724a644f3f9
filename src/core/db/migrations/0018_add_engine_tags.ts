import type { Kysely } from 'kysely';

/**
 * Tags of an exclusive engine (JSON array of `{key, value}`), set through
 * `/v2/{project}/cseEngines/{id}/tags/create|delete` as the Terraform provider does; '[]' for
 * engines made before this migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('engines_engines').addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('engines_engines').dropColumn('tags').execute();
}
