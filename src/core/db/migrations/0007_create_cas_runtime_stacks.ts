import type { Kysely } from 'kysely';

/** Custom runtime stacks and their release state (TODO: tables). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
