import type { Executor } from '../../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { LabelList } from '../common/schemas.js';
import type { Application, ApplicationConfig, EnvVar } from './types.js';

/**
 * Kysely queries for cas_applications and cas_application_configs. No rules, no events.
 * bigint columns come back from PostgreSQL as strings and are turned into numbers here.
 */

type AppRow = { id: string; project_id: string; name: string; description: string; enterprise_project_id: string; labels: string; creator: string; created_at_ms: number | string; updated_at_ms: number | string };

function toApplication(r: AppRow): Application {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    description: r.description,
    enterpriseProjectId: r.enterprise_project_id,
    labels: JSON.parse(r.labels) as LabelList,
    creator: r.creator,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

/** Inserts an application. @throws AlreadyExistsError when the name is taken in the project */
export async function createApplication(db: Executor, a: Application): Promise<void> {
  try {
    await db
      .insertInto('cas_applications')
      .values({
        id: a.id,
        project_id: a.projectId,
        name: a.name,
        description: a.description,
        enterprise_project_id: a.enterpriseProjectId,
        labels: JSON.stringify(a.labels),
        creator: a.creator,
        created_at_ms: a.createdAtMs,
        updated_at_ms: a.updatedAtMs,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`application ${a.name}`);
    throw err;
  }
}

/** One application of a project, or undefined. */
export async function findApplication(db: Executor, project: string, id: string): Promise<Application | undefined> {
  const row = await db.selectFrom('cas_applications').selectAll().where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return row ? toApplication(row) : undefined;
}

/** The application of a project with `name`, or undefined. */
export async function findApplicationByName(db: Executor, project: string, name: string): Promise<Application | undefined> {
  const row = await db.selectFrom('cas_applications').selectAll().where('project_id', '=', project).where('name', '=', name).executeTakeFirst();
  return row ? toApplication(row) : undefined;
}

/** Every application of a project, unordered (paging orders in memory). */
export async function listApplications(db: Executor, project: string): Promise<Application[]> {
  return (await db.selectFrom('cas_applications').selectAll().where('project_id', '=', project).execute()).map(toApplication);
}

/** Writes the changeable fields of an application. @throws AlreadyExistsError when the new name is taken */
export async function updateApplication(db: Executor, a: Application): Promise<void> {
  try {
    await db
      .updateTable('cas_applications')
      .set({ name: a.name, description: a.description, enterprise_project_id: a.enterpriseProjectId, labels: JSON.stringify(a.labels), updated_at_ms: a.updatedAtMs })
      .where('project_id', '=', a.projectId)
      .where('id', '=', a.id)
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`application ${a.name}`);
    throw err;
  }
}

/** Deletes an application. @returns true when it existed */
export async function deleteApplication(db: Executor, project: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('cas_applications').where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

type ConfigRow = { project_id: string; application_id: string; environment_id: string; env: string; assign_strategy: number; created_at_ms: number | string; updated_at_ms: number | string };

function toConfig(r: ConfigRow): ApplicationConfig {
  return {
    projectId: r.project_id,
    applicationId: r.application_id,
    environmentId: r.environment_id,
    env: JSON.parse(r.env) as EnvVar[],
    assignStrategy: Number(r.assign_strategy) === 1,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

/** The configurations of an application, optionally of one environment, by environment id. */
export async function listConfigs(db: Executor, project: string, applicationId: string, environmentId?: string): Promise<ApplicationConfig[]> {
  let q = db.selectFrom('cas_application_configs').selectAll().where('project_id', '=', project).where('application_id', '=', applicationId);
  if (environmentId !== undefined) q = q.where('environment_id', '=', environmentId);
  return (await q.orderBy('environment_id').execute()).map(toConfig);
}

/** Inserts or replaces the configuration of (application, environment); keeps the first creation time. */
export async function putConfig(db: Executor, c: ApplicationConfig): Promise<void> {
  const values = {
    project_id: c.projectId,
    application_id: c.applicationId,
    environment_id: c.environmentId,
    env: JSON.stringify(c.env),
    assign_strategy: c.assignStrategy ? 1 : 0,
    created_at_ms: c.createdAtMs,
    updated_at_ms: c.updatedAtMs,
  };
  await db
    .insertInto('cas_application_configs')
    .values(values)
    .onConflict((oc) => oc.columns(['application_id', 'environment_id']).doUpdateSet({ env: values.env, assign_strategy: values.assign_strategy, updated_at_ms: values.updated_at_ms }))
    .execute();
}

/** Deletes the configuration of (application, environment). */
export async function deleteConfig(db: Executor, project: string, applicationId: string, environmentId: string): Promise<void> {
  await db.deleteFrom('cas_application_configs').where('project_id', '=', project).where('application_id', '=', applicationId).where('environment_id', '=', environmentId).execute();
}

/** Deletes every configuration of an application. */
export async function deleteConfigsOfApplication(db: Executor, project: string, applicationId: string): Promise<void> {
  await db.deleteFrom('cas_application_configs').where('project_id', '=', project).where('application_id', '=', applicationId).execute();
}

/** Deletes every configuration in an environment. @returns how many were deleted */
export async function deleteConfigsOfEnvironment(db: Executor, project: string, environmentId: string): Promise<number> {
  const r = await db.deleteFrom('cas_application_configs').where('project_id', '=', project).where('environment_id', '=', environmentId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
