import type { Kysely } from 'kysely';

/** Environments, their managed resources, created (IaC) resources and provisioning records (TODO: tables). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
