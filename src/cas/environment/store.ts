import type { Executor } from '../../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { CasEnvironmentIacResourcesTable, CasEnvironmentProvisionsTable, CasEnvironmentResourcesTable, CasEnvironmentsTable } from '../../core/db/tables/cas-environment.js';
import type { EnvironmentRecord, IacResource, Provision, StoredResource } from './types.js';

/**
 * Kysely queries for the environment tables (cas_environments, cas_environment_resources,
 * cas_environment_iac_resources, cas_environment_provisions). No rules, no events; the
 * service calls these inside its transactions. bigint columns come back from PostgreSQL
 * as strings and are turned into numbers here.
 */

function toRecord(r: CasEnvironmentsTable): EnvironmentRecord {
  return {
    id: r.id,
    project_id: r.project,
    name: r.name,
    description: r.description,
    enterprise_project_id: r.enterprise_project_id,
    deploy_mode: r.deploy_mode as EnvironmentRecord['deploy_mode'],
    type: r.type as EnvironmentRecord['type'],
    resource_create_mode: r.resource_create_mode as EnvironmentRecord['resource_create_mode'],
    config_mode: r.config_mode,
    vpc_id: r.vpc_id,
    labels: JSON.parse(r.labels) as EnvironmentRecord['labels'],
    creator: r.creator,
    iac_task_status: r.iac_task_status,
    create_time: Number(r.created_at_ms),
    update_time: Number(r.updated_at_ms),
  };
}

function toRow(e: EnvironmentRecord): CasEnvironmentsTable {
  return {
    id: e.id,
    project: e.project_id,
    name: e.name,
    description: e.description,
    enterprise_project_id: e.enterprise_project_id,
    deploy_mode: e.deploy_mode,
    type: e.type,
    resource_create_mode: e.resource_create_mode,
    config_mode: e.config_mode,
    vpc_id: e.vpc_id,
    labels: JSON.stringify(e.labels),
    creator: e.creator,
    iac_task_status: e.iac_task_status,
    created_at_ms: e.create_time,
    updated_at_ms: e.update_time,
  };
}

/** Inserts an environment. @throws AlreadyExistsError when the project already has that name */
export async function createEnvironment(db: Executor, e: EnvironmentRecord): Promise<void> {
  try {
    await db.insertInto('cas_environments').values(toRow(e)).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`environment ${e.name}`);
    throw err;
  }
}

/** One environment of a project, or undefined. */
export async function findEnvironment(db: Executor, project: string, id: string): Promise<EnvironmentRecord | undefined> {
  const row = await db.selectFrom('cas_environments').selectAll().where('project', '=', project).where('id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** One environment of a project by name, or undefined. */
export async function findEnvironmentByName(db: Executor, project: string, name: string): Promise<EnvironmentRecord | undefined> {
  const row = await db.selectFrom('cas_environments').selectAll().where('project', '=', project).where('name', '=', name).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** The environments of a project matching the exact filters given (unordered). */
export async function listEnvironments(db: Executor, project: string, filter: { name?: string; id?: string; enterpriseProjectId?: string }): Promise<EnvironmentRecord[]> {
  let q = db.selectFrom('cas_environments').selectAll().where('project', '=', project);
  if (filter.name !== undefined) q = q.where('name', '=', filter.name);
  if (filter.id !== undefined) q = q.where('id', '=', filter.id);
  if (filter.enterpriseProjectId !== undefined) q = q.where('enterprise_project_id', '=', filter.enterpriseProjectId);
  return (await q.execute()).map(toRecord);
}

/** Rewrites an environment's columns. @throws AlreadyExistsError when the new name is taken */
export async function updateEnvironment(db: Executor, e: EnvironmentRecord): Promise<void> {
  try {
    await db.updateTable('cas_environments').set(toRow(e)).where('id', '=', e.id).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`environment ${e.name}`);
    throw err;
  }
}

/** Sets the status of an environment's last provisioning. */
export async function setIacTaskStatus(db: Executor, id: string, status: string): Promise<void> {
  await db.updateTable('cas_environments').set({ iac_task_status: status }).where('id', '=', id).execute();
}

/** Deletes an environment with its managed resources, created resources and provisioning records. */
export async function deleteEnvironment(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('cas_environment_provisions').where('environment_id', '=', id).execute();
  await db.deleteFrom('cas_environment_iac_resources').where('environment_id', '=', id).execute();
  await db.deleteFrom('cas_environment_resources').where('environment_id', '=', id).execute();
  await db.deleteFrom('cas_environments').where('id', '=', id).execute();
}

// ───────────────────────── managed resources ─────────────────────────

function toResource(r: CasEnvironmentResourcesTable): StoredResource {
  return {
    id: r.id,
    type: r.type,
    name: r.name,
    alias: r.alias,
    parameters: JSON.parse(r.parameters) as Record<string, string>,
    sealedParameters: JSON.parse(r.sealed_parameters) as Record<string, string>,
  };
}

/** The managed resources of the given environments, in list order, keyed by environment id. */
export async function listResources(db: Executor, environmentIds: string[]): Promise<Map<string, StoredResource[]>> {
  const out = new Map<string, StoredResource[]>(environmentIds.map((id) => [id, []]));
  if (environmentIds.length === 0) return out;
  const rows = await db.selectFrom('cas_environment_resources').selectAll().where('environment_id', 'in', environmentIds).orderBy('environment_id').orderBy('position').execute();
  for (const r of rows) out.get(r.environment_id)?.push(toResource(r));
  return out;
}

/** Names of the project's environments whose managed resources include (type, id). */
export async function environmentsBinding(db: Executor, project: string, type: string, id: string): Promise<string[]> {
  const rows = await db
    .selectFrom('cas_environment_resources as r')
    .innerJoin('cas_environments as e', 'e.id', 'r.environment_id')
    .select('e.name')
    .where('e.project', '=', project)
    .where('r.type', '=', type)
    .where('r.id', '=', id)
    .orderBy('e.name')
    .execute();
  return rows.map((r) => r.name);
}

/** Replaces the whole managed resource list of an environment. */
export async function replaceResources(db: Executor, environmentId: string, resources: StoredResource[]): Promise<void> {
  await db.deleteFrom('cas_environment_resources').where('environment_id', '=', environmentId).execute();
  if (resources.length === 0) return;
  await db
    .insertInto('cas_environment_resources')
    .values(
      resources.map((r, position) => ({
        environment_id: environmentId,
        position,
        id: r.id,
        type: r.type,
        name: r.name,
        alias: r.alias,
        parameters: JSON.stringify(r.parameters),
        sealed_parameters: JSON.stringify(r.sealedParameters),
      })),
    )
    .execute();
}

// ───────────────────────── created (IaC) resources ─────────────────────────

function toIac(r: CasEnvironmentIacResourcesTable): IacResource {
  return {
    id: r.id,
    environment_id: r.environment_id,
    name: r.name,
    type: r.type,
    custom_hcl: r.custom_hcl,
    vars_body: JSON.parse(r.vars_body) as IacResource['vars_body'],
    vars_structure: JSON.parse(r.vars_structure) as IacResource['vars_structure'],
    status: r.status,
    resource_id: r.resource_id,
    removed: r.removed === 1,
    sealedState: r.sealed_state,
    create_time: Number(r.created_at_ms),
    update_time: Number(r.updated_at_ms),
  };
}

function toIacRow(r: IacResource): CasEnvironmentIacResourcesTable {
  return {
    id: r.id,
    environment_id: r.environment_id,
    name: r.name,
    type: r.type,
    custom_hcl: r.custom_hcl,
    vars_body: JSON.stringify(r.vars_body),
    vars_structure: JSON.stringify(r.vars_structure),
    status: r.status,
    resource_id: r.resource_id,
    removed: r.removed ? 1 : 0,
    sealed_state: r.sealedState,
    created_at_ms: r.create_time,
    updated_at_ms: r.update_time,
  };
}

/** The created resources of the given environments (removed ones included), oldest first, keyed by environment id. */
export async function listIacResources(db: Executor, environmentIds: string[]): Promise<Map<string, IacResource[]>> {
  const out = new Map<string, IacResource[]>(environmentIds.map((id) => [id, []]));
  if (environmentIds.length === 0) return out;
  const rows = await db.selectFrom('cas_environment_iac_resources').selectAll().where('environment_id', 'in', environmentIds).orderBy('created_at_ms').orderBy('id').execute();
  for (const r of rows) out.get(r.environment_id)?.push(toIac(r));
  return out;
}

/** Inserts a created resource. @throws AlreadyExistsError when the environment already has that id */
export async function createIacResource(db: Executor, r: IacResource): Promise<void> {
  try {
    await db.insertInto('cas_environment_iac_resources').values(toIacRow(r)).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`resource ${r.id}`);
    throw err;
  }
}

/** Rewrites a created resource. */
export async function updateIacResource(db: Executor, r: IacResource): Promise<void> {
  await db.updateTable('cas_environment_iac_resources').set(toIacRow(r)).where('environment_id', '=', r.environment_id).where('id', '=', r.id).execute();
}

/** Deletes a created resource's record. */
export async function deleteIacResource(db: Executor, environmentId: string, id: string): Promise<void> {
  await db.deleteFrom('cas_environment_iac_resources').where('environment_id', '=', environmentId).where('id', '=', id).execute();
}

// ───────────────────────── provisioning records ─────────────────────────

function toProvision(r: CasEnvironmentProvisionsTable): Provision {
  return {
    id: r.id,
    environment_id: r.environment_id,
    task_id: r.task_id,
    operation: r.operation,
    status: r.status,
    status_message: r.status_message,
    vars_body: r.vars_body,
    vars_structure: r.vars_structure,
    stack_resources: r.stack_resources,
    stack_output: r.stack_output,
    plan: JSON.parse(r.plan) as Provision['plan'],
    events: JSON.parse(r.events) as Provision['events'],
    creator: r.creator,
    create_time: Number(r.created_at_ms),
    modify_time: Number(r.updated_at_ms),
  };
}

function toProvisionRow(p: Provision): CasEnvironmentProvisionsTable {
  return {
    id: p.id,
    environment_id: p.environment_id,
    task_id: p.task_id,
    operation: p.operation,
    status: p.status,
    status_message: p.status_message,
    vars_body: p.vars_body,
    vars_structure: p.vars_structure,
    stack_resources: p.stack_resources,
    stack_output: p.stack_output,
    plan: JSON.stringify(p.plan),
    events: JSON.stringify(p.events),
    creator: p.creator,
    created_at_ms: p.create_time,
    updated_at_ms: p.modify_time,
  };
}

/** Inserts a provisioning record. */
export async function createProvision(db: Executor, p: Provision): Promise<void> {
  await db.insertInto('cas_environment_provisions').values(toProvisionRow(p)).execute();
}

/** Rewrites a provisioning record. */
export async function updateProvision(db: Executor, p: Provision): Promise<void> {
  await db.updateTable('cas_environment_provisions').set(toProvisionRow(p)).where('id', '=', p.id).execute();
}

/** The provisioning records of an environment (unordered). */
export async function listProvisions(db: Executor, environmentId: string): Promise<Provision[]> {
  return (await db.selectFrom('cas_environment_provisions').selectAll().where('environment_id', '=', environmentId).execute()).map(toProvision);
}

/** One provisioning record of an environment, or undefined. */
export async function findProvision(db: Executor, environmentId: string, id: string): Promise<Provision | undefined> {
  const row = await db.selectFrom('cas_environment_provisions').selectAll().where('environment_id', '=', environmentId).where('id', '=', id).executeTakeFirst();
  return row ? toProvision(row) : undefined;
}
