import type { Executor } from '../../core/db/kysely.js';
import type { CasV2ComponentsTable, CasV2EnvironmentsTable, CasV2InstancesTable } from '../../core/db/tables/cas-v2.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { V2Artifact, V2Component, V2ComponentBody, V2EnvironmentExtra, V2InstanceLink } from './types.js';

/** Kysely queries for cas_v2_environments, cas_v2_components and cas_v2_instances. No rules, no events. */

// ───────────── environments ─────────────

function toExtra(r: CasV2EnvironmentsTable): V2EnvironmentExtra {
  return {
    environmentId: r.environment_id,
    projectId: r.project_id,
    alias: r.alias,
    chargeMode: r.charge_mode,
    baseKeys: JSON.parse(r.base_keys) as string[],
    optionalKeys: JSON.parse(r.optional_keys) as string[],
  };
}

/** The v2 fields of an environment, or undefined when no v2 call set any. */
export async function findEnvironmentExtra(db: Executor, project: string, environmentId: string): Promise<V2EnvironmentExtra | undefined> {
  const row = await db.selectFrom('cas_v2_environments').selectAll().where('project_id', '=', project).where('environment_id', '=', environmentId).executeTakeFirst();
  return row ? toExtra(row) : undefined;
}

/** The v2 fields of the given environments, by environment id. */
export async function listEnvironmentExtras(db: Executor, project: string, environmentIds: readonly string[]): Promise<Map<string, V2EnvironmentExtra>> {
  const out = new Map<string, V2EnvironmentExtra>();
  if (environmentIds.length === 0) return out;
  const rows = await db.selectFrom('cas_v2_environments').selectAll().where('project_id', '=', project).where('environment_id', 'in', [...environmentIds]).execute();
  for (const r of rows) out.set(r.environment_id, toExtra(r));
  return out;
}

/** Inserts or replaces the v2 fields of an environment. */
export async function putEnvironmentExtra(db: Executor, e: V2EnvironmentExtra): Promise<void> {
  const row: CasV2EnvironmentsTable = {
    environment_id: e.environmentId,
    project_id: e.projectId,
    alias: e.alias,
    charge_mode: e.chargeMode,
    base_keys: JSON.stringify(e.baseKeys),
    optional_keys: JSON.stringify(e.optionalKeys),
  };
  await db
    .insertInto('cas_v2_environments')
    .values(row)
    .onConflict((oc) => oc.column('environment_id').doUpdateSet({ alias: row.alias, charge_mode: row.charge_mode, base_keys: row.base_keys, optional_keys: row.optional_keys }))
    .execute();
}

/** Deletes the v2 fields of an environment. */
export async function deleteEnvironmentExtra(db: Executor, project: string, environmentId: string): Promise<void> {
  await db.deleteFrom('cas_v2_environments').where('project_id', '=', project).where('environment_id', '=', environmentId).execute();
}

// ───────────── components ─────────────

function toComponent(r: CasV2ComponentsTable): V2Component {
  return {
    id: r.id,
    projectId: r.project_id,
    applicationId: r.application_id,
    name: r.name,
    body: JSON.parse(r.body) as V2ComponentBody,
    creator: r.creator,
    deleting: Number(r.deleting) === 1,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

/** Inserts a v2 component. @throws AlreadyExistsError when the application has one of that name */
export async function createComponent(db: Executor, c: V2Component): Promise<void> {
  try {
    await db
      .insertInto('cas_v2_components')
      .values({
        id: c.id,
        project_id: c.projectId,
        application_id: c.applicationId,
        name: c.name,
        body: JSON.stringify(c.body),
        creator: c.creator,
        deleting: c.deleting ? 1 : 0,
        created_at_ms: c.createdAtMs,
        updated_at_ms: c.updatedAtMs,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`component ${c.name}`);
    throw err;
  }
}

/** Replaces name, body, deleting flag and update time. @throws AlreadyExistsError when the new name is taken */
export async function updateComponent(db: Executor, c: V2Component): Promise<void> {
  try {
    await db
      .updateTable('cas_v2_components')
      .set({ name: c.name, body: JSON.stringify(c.body), deleting: c.deleting ? 1 : 0, updated_at_ms: c.updatedAtMs })
      .where('project_id', '=', c.projectId)
      .where('id', '=', c.id)
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`component ${c.name}`);
    throw err;
  }
}

/** One v2 component of the project, or undefined. */
export async function findComponent(db: Executor, project: string, id: string): Promise<V2Component | undefined> {
  const row = await db.selectFrom('cas_v2_components').selectAll().where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return row ? toComponent(row) : undefined;
}

/** An application's v2 components (unordered). */
export async function listComponents(db: Executor, project: string, applicationId: string): Promise<V2Component[]> {
  return (await db.selectFrom('cas_v2_components').selectAll().where('project_id', '=', project).where('application_id', '=', applicationId).execute()).map(toComponent);
}

/** Deletes a v2 component and its instance links. */
export async function deleteComponent(db: Executor, project: string, id: string): Promise<void> {
  await db.deleteFrom('cas_v2_instances').where('project_id', '=', project).where('component_id', '=', id).execute();
  await db.deleteFrom('cas_v2_components').where('project_id', '=', project).where('id', '=', id).execute();
}

/** Deletes an application's v2 components and their instance links. */
export async function deleteApplicationComponents(db: Executor, project: string, applicationId: string): Promise<void> {
  const ids = (await db.selectFrom('cas_v2_components').select('id').where('project_id', '=', project).where('application_id', '=', applicationId).execute()).map((r) => r.id);
  if (ids.length === 0) return;
  await db.deleteFrom('cas_v2_instances').where('project_id', '=', project).where('component_id', 'in', ids).execute();
  await db.deleteFrom('cas_v2_components').where('project_id', '=', project).where('id', 'in', ids).execute();
}

// ───────────── instance links ─────────────

function toLink(r: CasV2InstancesTable): V2InstanceLink {
  return {
    instanceId: r.instance_id,
    projectId: r.project_id,
    componentId: r.component_id,
    flavorId: r.flavor_id,
    artifacts: JSON.parse(r.artifacts) as Record<string, V2Artifact>,
    artifactSource: r.artifact_source,
  };
}

/** Inserts or replaces the link of an instance. */
export async function putLink(db: Executor, l: V2InstanceLink): Promise<void> {
  const row: CasV2InstancesTable = {
    instance_id: l.instanceId,
    project_id: l.projectId,
    component_id: l.componentId,
    flavor_id: l.flavorId,
    artifacts: JSON.stringify(l.artifacts),
    artifact_source: l.artifactSource,
  };
  await db
    .insertInto('cas_v2_instances')
    .values(row)
    .onConflict((oc) => oc.column('instance_id').doUpdateSet({ component_id: row.component_id, flavor_id: row.flavor_id, artifacts: row.artifacts, artifact_source: row.artifact_source }))
    .execute();
}

/** The link of an instance, or undefined. */
export async function findLink(db: Executor, project: string, instanceId: string): Promise<V2InstanceLink | undefined> {
  const row = await db.selectFrom('cas_v2_instances').selectAll().where('project_id', '=', project).where('instance_id', '=', instanceId).executeTakeFirst();
  return row ? toLink(row) : undefined;
}

/** The links of the project's instances (unordered). */
export async function listLinks(db: Executor, project: string): Promise<V2InstanceLink[]> {
  return (await db.selectFrom('cas_v2_instances').selectAll().where('project_id', '=', project).execute()).map(toLink);
}

/** Deletes the links of instances that no longer exist. */
export async function deleteLinks(db: Executor, project: string, instanceIds: readonly string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  await db.deleteFrom('cas_v2_instances').where('project_id', '=', project).where('instance_id', 'in', [...instanceIds]).execute();
}
