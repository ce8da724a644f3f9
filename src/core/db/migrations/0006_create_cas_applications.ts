import type { Kysely } from 'kysely';

/** Applications and their per-environment configuration (TODO: tables). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
