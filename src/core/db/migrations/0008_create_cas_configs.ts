import type { Kysely } from 'kysely';

/** Configuration groups, files and file records (TODO: tables). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
