import type { Executor } from '../../core/db/kysely.js';
import type { CasAddonsTable } from '../../core/db/tables/cas-addon.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { Addon, AddonStatus } from './types.js';

/** Kysely queries for cas_addons. No rules, no events. */

/** A row as the table declares it. */
type Row = CasAddonsTable;

function toAddon(r: Row): Addon {
  return {
    id: r.id,
    projectId: r.project_id,
    environmentId: r.environment_id,
    name: r.name,
    version: r.version,
    cceId: r.cce_id,
    cseId: r.cse_id,
    jobId: r.job_id,
    status: r.status as AddonStatus,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

/** Inserts an add-on. @throws AlreadyExistsError when the environment has one of that name */
export async function createAddon(db: Executor, a: Addon): Promise<void> {
  try {
    await db
      .insertInto('cas_addons')
      .values({
        id: a.id,
        project_id: a.projectId,
        environment_id: a.environmentId,
        name: a.name,
        version: a.version,
        cce_id: a.cceId,
        cse_id: a.cseId,
        job_id: a.jobId,
        status: a.status,
        created_at_ms: a.createdAtMs,
        updated_at_ms: a.updatedAtMs,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`add-on ${a.name}`);
    throw err;
  }
}

/** One add-on of an environment, or undefined. */
export async function findAddon(db: Executor, project: string, environmentId: string, id: string): Promise<Addon | undefined> {
  const row = await db.selectFrom('cas_addons').selectAll().where('project_id', '=', project).where('environment_id', '=', environmentId).where('id', '=', id).executeTakeFirst();
  return row ? toAddon(row) : undefined;
}

/** The add-ons of an environment, oldest first. */
export async function listAddons(db: Executor, project: string, environmentId: string): Promise<Addon[]> {
  const rows = await db.selectFrom('cas_addons').selectAll().where('project_id', '=', project).where('environment_id', '=', environmentId).execute();
  return rows.map(toAddon).sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
}

/** Records a job and the status it left. */
export async function setJob(db: Executor, project: string, id: string, jobId: string, status: AddonStatus, nowMs: number): Promise<void> {
  await db.updateTable('cas_addons').set({ job_id: jobId, status, updated_at_ms: nowMs }).where('project_id', '=', project).where('id', '=', id).execute();
}

/** Deletes an add-on. @returns true when it existed */
export async function deleteAddon(db: Executor, project: string, environmentId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('cas_addons').where('project_id', '=', project).where('environment_id', '=', environmentId).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes every add-on of an environment. @returns how many */
export async function deleteAddonsOfEnvironment(db: Executor, project: string, environmentId: string): Promise<number> {
  const r = await db.deleteFrom('cas_addons').where('project_id', '=', project).where('environment_id', '=', environmentId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
