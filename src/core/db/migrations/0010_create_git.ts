import type { Kysely } from 'kysely';

/** Git authorizations, hosted repositories' metadata, hooks and OAuth states (TODO: tables). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
