import { sql, type Selectable } from 'kysely';
import type { Executor } from '../core/db/kysely.js';
import type { EnginesEnginesTable, EnginesJobsTable } from '../core/db/tables/engines.js';
import { AlreadyExistsError } from '../core/errors.js';
import type { Engine, EngineJob, EngineStatus, JobStatus, JobTask, JobType } from './types.js';

/**
 * Kysely queries for engines_engines and engines_jobs. No rules, no events. PostgreSQL
 * returns bigint columns as strings, hence Number() on the way out.
 */

function toEngine(row: Selectable<EnginesEnginesTable>): Engine {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    tags: JSON.parse(row.tags) as Engine['tags'],
    flavor: row.flavor,
    authType: row.auth_type === 'RBAC' ? 'RBAC' : 'NONE',
    specType: row.spec_type,
    payment: row.payment,
    enterpriseProjectId: row.enterprise_project_id,
    reference: JSON.parse(row.reference) as Engine['reference'],
    status: row.status as EngineStatus,
    port: Number(row.port),
    ...(row.host ? { host: row.host } : {}),
    dataDir: row.data_dir,
    passwordSealed: row.password_sealed,
    ...(row.pid !== null ? { pid: Number(row.pid) } : {}),
    ...(row.start_ticks !== null ? { startTicks: Number(row.start_ticks) } : {}),
    latestJobId: Number(row.latest_job_id),
    createUser: row.create_user,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

function toJob(row: Selectable<EnginesJobsTable>): EngineJob {
  return {
    id: Number(row.id),
    engineId: row.engine_id,
    project: row.project,
    type: row.type as JobType,
    description: row.description,
    status: row.status as JobStatus,
    createUser: row.create_user,
    startTimeMs: Number(row.start_time_ms),
    endTimeMs: Number(row.end_time_ms),
    tasks: JSON.parse(row.tasks) as JobTask[],
  };
}

/** Inserts an engine. @throws AlreadyExistsError when the project already has an engine of that name */
export async function insertEngine(db: Executor, e: Engine): Promise<void> {
  if (await db.selectFrom('engines_engines').select('id').where('project', '=', e.project).where('name', '=', e.name).executeTakeFirst()) {
    throw new AlreadyExistsError(`engine ${e.name}`);
  }
  await db
    .insertInto('engines_engines')
    .values({
      id: e.id,
      project: e.project,
      name: e.name,
      description: e.description,
      tags: JSON.stringify(e.tags),
      flavor: e.flavor,
      auth_type: e.authType,
      spec_type: e.specType,
      payment: e.payment,
      enterprise_project_id: e.enterpriseProjectId,
      reference: JSON.stringify(e.reference),
      status: e.status,
      port: e.port,
      host: e.host ?? '',
      data_dir: e.dataDir,
      password_sealed: e.passwordSealed,
      pid: e.pid ?? null,
      start_ticks: e.startTicks ?? null,
      latest_job_id: e.latestJobId,
      create_user: e.createUser,
      created_at_ms: e.createdAtMs,
      updated_at_ms: e.updatedAtMs,
    })
    .execute();
}

/** One engine, or undefined. */
export async function findEngine(db: Executor, id: string): Promise<Engine | undefined> {
  const row = await db.selectFrom('engines_engines').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toEngine(row) : undefined;
}

/** Every engine of `project` (every project when undefined), unordered. */
export async function listEngines(db: Executor, project?: string): Promise<Engine[]> {
  let q = db.selectFrom('engines_engines').selectAll();
  if (project !== undefined) q = q.where('project', '=', project);
  return (await q.execute()).map(toEngine);
}

/** Sets status, port, host, latest job (the fields given) and updated_at_ms. */
export async function updateEngine(db: Executor, id: string, change: { status?: EngineStatus; port?: number; host?: string; latestJobId?: number }, nowMs: number): Promise<void> {
  await db
    .updateTable('engines_engines')
    .set({
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.port !== undefined ? { port: change.port } : {}),
      ...(change.host !== undefined ? { host: change.host } : {}),
      ...(change.latestJobId !== undefined ? { latest_job_id: change.latestJobId } : {}),
      updated_at_ms: nowMs,
    })
    .where('id', '=', id)
    .execute();
}

/** Sets the description and/or the tags (those given) and updated_at_ms. */
export async function updateEngineInfo(db: Executor, id: string, change: { description?: string; tags?: Engine['tags'] }, nowMs: number): Promise<void> {
  await db
    .updateTable('engines_engines')
    .set({
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.tags !== undefined ? { tags: JSON.stringify(change.tags) } : {}),
      updated_at_ms: nowMs,
    })
    .where('id', '=', id)
    .execute();
}

/** Records the engine's current process (undefined pid: none). */
export async function setEngineProcess(db: Executor, id: string, pid: number | undefined, startTicks: number | undefined): Promise<void> {
  await db.updateTable('engines_engines').set({ pid: pid ?? null, start_ticks: startTicks ?? null }).where('id', '=', id).execute();
}

/** Deletes an engine and its jobs. */
export async function deleteEngine(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('engines_jobs').where('engine_id', '=', id).execute();
  await db.deleteFrom('engines_engines').where('id', '=', id).execute();
}

/** The next job id (call inside the transaction that inserts it). */
export async function nextJobId(db: Executor): Promise<number> {
  const row = await db.selectFrom('engines_jobs').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

/** Inserts a job. */
export async function insertJob(db: Executor, job: EngineJob): Promise<void> {
  await db
    .insertInto('engines_jobs')
    .values({
      id: job.id,
      engine_id: job.engineId,
      project: job.project,
      type: job.type,
      description: job.description,
      status: job.status,
      create_user: job.createUser,
      start_time_ms: job.startTimeMs,
      end_time_ms: job.endTimeMs,
      tasks: JSON.stringify(job.tasks),
    })
    .execute();
}

/** Writes a job's status, end time and tasks. */
export async function updateJob(db: Executor, job: EngineJob): Promise<void> {
  await db
    .updateTable('engines_jobs')
    .set({ status: job.status, start_time_ms: job.startTimeMs, end_time_ms: job.endTimeMs, tasks: JSON.stringify(job.tasks) })
    .where('id', '=', job.id)
    .execute();
}

/** One job, or undefined. */
export async function findJob(db: Executor, id: number): Promise<EngineJob | undefined> {
  const row = await db.selectFrom('engines_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toJob(row) : undefined;
}

/** Jobs left Init or Executing (by a server that stopped), of one engine or of all. */
export async function listUnfinishedJobs(db: Executor, engineId?: string): Promise<EngineJob[]> {
  let q = db.selectFrom('engines_jobs').selectAll().where('status', 'in', ['Init', 'Executing']);
  if (engineId !== undefined) q = q.where('engine_id', '=', engineId);
  return (await q.orderBy('id').execute()).map(toJob);
}

/**
 * Sets a running engine's status (Available ↔ Unavailable) as its owner sees its process;
 * an engine being created, deleted or failed keeps its status.
 */
export async function setRunningStatus(db: Executor, id: string, status: 'Available' | 'Unavailable', nowMs: number): Promise<void> {
  await db.updateTable('engines_engines').set({ status, updated_at_ms: nowMs }).where('id', '=', id).where('status', 'in', ['Available', 'Unavailable']).where('status', '!=', status).execute();
}

/**
 * Serialises engine creates and deletes across servers (PostgreSQL: a transaction lock),
 * so the engine count and the next job id are read and written by one at a time.
 */
export async function lockEngines(db: Executor, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(7316010)`.execute(db);
}
