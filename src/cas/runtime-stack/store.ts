import type { Executor } from '../../core/db/kysely.js';
import type { CasRuntimeStacksTable } from '../../core/db/tables/cas-runtime-stack.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { DeployMode, RuntimeStack, StackSpec, StackStatus, StackType } from './types.js';

/** Kysely queries for cas_runtime_stacks (custom stacks only). No rules, no events. */

/** A row as the table declares it. */
type Row = CasRuntimeStacksTable;

function toStack(r: Row): RuntimeStack {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    deployMode: r.deploy_mode as DeployMode,
    type: r.type as StackType,
    version: r.version,
    spec: JSON.parse(r.spec) as StackSpec,
    description: r.description,
    system: false,
    status: r.status as StackStatus,
    creator: r.creator,
    url: '',
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

function toRow(s: RuntimeStack): Row {
  return {
    id: s.id,
    project_id: s.projectId,
    name: s.name,
    deploy_mode: s.deployMode,
    type: s.type,
    version: s.version,
    spec: JSON.stringify(s.spec),
    description: s.description,
    status: s.status,
    creator: s.creator,
    created_at_ms: s.createdAtMs,
    updated_at_ms: s.updatedAtMs,
  };
}

/** Inserts a custom stack. @throws AlreadyExistsError when the name is taken in the project */
export async function createStack(db: Executor, s: RuntimeStack): Promise<void> {
  try {
    await db.insertInto('cas_runtime_stacks').values(toRow(s)).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`runtime stack ${s.name}`);
    throw err;
  }
}

/** One custom stack of a project, or undefined. */
export async function findStack(db: Executor, project: string, id: string): Promise<RuntimeStack | undefined> {
  const row = await db.selectFrom('cas_runtime_stacks').selectAll().where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return row ? toStack(row) : undefined;
}

/** The custom stack of a project with that name, or undefined. */
export async function findStackByName(db: Executor, project: string, name: string): Promise<RuntimeStack | undefined> {
  const row = await db.selectFrom('cas_runtime_stacks').selectAll().where('project_id', '=', project).where('name', '=', name).executeTakeFirst();
  return row ? toStack(row) : undefined;
}

/** The custom stacks of a project among `ids`. */
export async function findStacks(db: Executor, project: string, ids: string[]): Promise<RuntimeStack[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('cas_runtime_stacks').selectAll().where('project_id', '=', project).where('id', 'in', ids).execute()).map(toStack);
}

/** Every custom stack of a project, unordered. */
export async function listStacks(db: Executor, project: string): Promise<RuntimeStack[]> {
  return (await db.selectFrom('cas_runtime_stacks').selectAll().where('project_id', '=', project).execute()).map(toStack);
}

/** Writes name, version, spec, description, status and update time. @throws AlreadyExistsError when the new name is taken */
export async function updateStack(db: Executor, s: RuntimeStack): Promise<void> {
  try {
    const { name, version, spec, description, status, updated_at_ms } = toRow(s);
    await db.updateTable('cas_runtime_stacks').set({ name, version, spec, description, status, updated_at_ms }).where('project_id', '=', s.projectId).where('id', '=', s.id).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`runtime stack ${s.name}`);
    throw err;
  }
}

/** Sets the status of custom stacks. */
export async function setStatus(db: Executor, project: string, ids: string[], status: StackStatus, nowMs: number): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('cas_runtime_stacks').set({ status, updated_at_ms: nowMs }).where('project_id', '=', project).where('id', 'in', ids).execute();
}

/** Deletes a custom stack. @returns true when it existed */
export async function deleteStack(db: Executor, project: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('cas_runtime_stacks').where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
