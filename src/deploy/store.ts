import type { Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../core/errors.js';
import type { ExecutionStatus, Job, JobDetail, Task, TaskStatus } from './types.js';

/**
 * Kysely queries for the deploy area's tables (deploy_jobs, deploy_tasks). No rules, no
 * events. PostgreSQL returns bigint columns as strings, hence Number() on the way out.
 */

/** Inserts a job and its tasks (call inside one transaction). */
export async function insertJob(db: Executor, detail: JobDetail): Promise<void> {
  const { job, tasks } = detail;
  await db
    .insertInto('deploy_jobs')
    .values({
      job_id: job.jobId,
      project: job.project,
      job_type: job.jobType,
      target_id: job.targetId,
      status: job.status,
      rollback_enabled: job.rollbackEnabled ? 1 : 0,
      created_at_ms: job.createdAtMs,
      updated_at_ms: job.updatedAtMs,
    })
    .execute();
  if (tasks.length === 0) return;
  await db
    .insertInto('deploy_tasks')
    .values(
      tasks.map((t) => ({
        job_id: t.jobId,
        task_index: t.index,
        task_id: t.taskId,
        name: t.name,
        type: t.type,
        status: t.status,
        messages: JSON.stringify(t.messages),
        timeout_ms: t.timeoutMs,
        created_at_ms: t.createdAtMs,
        updated_at_ms: t.updatedAtMs,
      })),
    )
    .execute();
}

/** Sets a job's status. */
export async function updateJobStatus(db: Executor, jobId: string, status: ExecutionStatus, nowMs: number): Promise<void> {
  await db.updateTable('deploy_jobs').set({ status, updated_at_ms: nowMs }).where('job_id', '=', jobId).execute();
}

/** Writes a task's status and messages. */
export async function updateTask(db: Executor, jobId: string, index: number, status: TaskStatus, messages: string[], nowMs: number): Promise<void> {
  await db
    .updateTable('deploy_tasks')
    .set({ status, messages: JSON.stringify(messages), updated_at_ms: nowMs })
    .where('job_id', '=', jobId)
    .where('task_index', '=', index)
    .execute();
}

/** A job with its tasks in order, or undefined. */
export async function findJob(db: Executor, jobId: string): Promise<JobDetail | undefined> {
  const row = await db.selectFrom('deploy_jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  if (!row) return undefined;
  const taskRows = await db.selectFrom('deploy_tasks').selectAll().where('job_id', '=', jobId).orderBy('task_index').execute();
  const job: Job = {
    project: row.project,
    jobId: row.job_id,
    jobType: row.job_type,
    targetId: row.target_id,
    status: row.status as ExecutionStatus,
    rollbackEnabled: Number(row.rollback_enabled) === 1,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
  const tasks: Task[] = taskRows.map((t) => ({
    jobId: t.job_id,
    index: Number(t.task_index),
    taskId: t.task_id,
    name: t.name,
    type: t.type,
    status: t.status as TaskStatus,
    messages: JSON.parse(t.messages) as string[],
    timeoutMs: Number(t.timeout_ms),
    createdAtMs: Number(t.created_at_ms),
    updatedAtMs: Number(t.updated_at_ms),
  }));
  return { job, tasks };
}

/** Ids of jobs still RUNNING (unfinished when the server stopped). */
export async function listRunningJobIds(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('deploy_jobs').select('job_id').where('status', '=', 'RUNNING').execute();
  return rows.map((r) => r.job_id);
}

/** A stored release row, decoded except for the sealed plan. */
export interface ReleaseRow {
  project: string;
  componentId: string;
  version: string;
  planSealed: string;
  /** JSON of the Artifact (older rows: of a LaunchSpec); '' in rows written before builds stored them whole. */
  launch: string;
  revision: string;
  createdAtMs: number;
}

/** Inserts or replaces the release of (project, component, version). */
export async function putRelease(db: Executor, r: ReleaseRow): Promise<void> {
  await db.deleteFrom('deploy_releases').where('project', '=', r.project).where('component_id', '=', r.componentId).where('version', '=', r.version).execute();
  await db
    .insertInto('deploy_releases')
    .values({ project: r.project, component_id: r.componentId, version: r.version, plan_sealed: r.planSealed, launch: r.launch, revision: r.revision, created_at_ms: r.createdAtMs })
    .execute();
}

/** Deletes the releases of some versions of a component. */
export async function deleteReleases(db: Executor, project: string, componentId: string, versions: string[]): Promise<void> {
  if (versions.length === 0) return;
  await db.deleteFrom('deploy_releases').where('project', '=', project).where('component_id', '=', componentId).where('version', 'in', versions).execute();
}

/** A release, or undefined. */
export async function findRelease(db: Executor, project: string, componentId: string, version: string): Promise<ReleaseRow | undefined> {
  const row = await db.selectFrom('deploy_releases').selectAll().where('project', '=', project).where('component_id', '=', componentId).where('version', '=', version).executeTakeFirst();
  return row && { project: row.project, componentId: row.component_id, version: row.version, planSealed: row.plan_sealed, launch: row.launch, revision: row.revision, createdAtMs: Number(row.created_at_ms) };
}

/** Releases of a component, oldest first. */
export async function listReleases(db: Executor, project: string, componentId: string): Promise<ReleaseRow[]> {
  const rows = await db.selectFrom('deploy_releases').selectAll().where('project', '=', project).where('component_id', '=', componentId).orderBy('created_at_ms').execute();
  return rows.map((row) => ({ project: row.project, componentId: row.component_id, version: row.version, planSealed: row.plan_sealed, launch: row.launch, revision: row.revision, createdAtMs: Number(row.created_at_ms) }));
}

/** A replica row. */
export interface ReplicaRow {
  instanceId: string;
  project: string;
  componentId: string;
  version: string;
  port: number;
  desired: 'running' | 'stopped';
  pid?: number;
  startTicks?: number;
  createdAtMs: number;
  /** The server that supervises it ('' in rows written before several servers were supported). */
  serverId: string;
  /** `<host name>/<boot id>` of its machine ('' when unknown). */
  host: string;
  /** What its server sees of it (the view of every other server). */
  view: ReplicaViewState;
}

/** What the supervising server sees of a replica, written for the other servers' views. */
export interface ReplicaViewState {
  /** running | backoff | stopped. */
  state: string;
  ready: boolean;
  restarts: number;
}

type ReplicaRecord = { instance_id: string; project: string; component_id: string; version: string; port: number; desired: string; pid: number | null; start_ticks: number | null; created_at_ms: number; server_id: string; host: string; state: string; ready: number; restarts: number };

const toReplica = (r: ReplicaRecord): ReplicaRow => ({
  instanceId: r.instance_id,
  project: r.project,
  componentId: r.component_id,
  version: r.version,
  port: Number(r.port),
  desired: r.desired as ReplicaRow['desired'],
  ...(r.pid !== null ? { pid: Number(r.pid) } : {}),
  ...(r.start_ticks !== null ? { startTicks: Number(r.start_ticks) } : {}),
  createdAtMs: Number(r.created_at_ms),
  serverId: r.server_id,
  host: r.host,
  view: { state: r.state, ready: Number(r.ready) === 1, restarts: Number(r.restarts) },
});

/** Inserts a replica. */
export async function insertReplica(db: Executor, r: ReplicaRow): Promise<void> {
  await db
    .insertInto('deploy_replicas')
    .values({ instance_id: r.instanceId, project: r.project, component_id: r.componentId, version: r.version, port: r.port, desired: r.desired, pid: r.pid ?? null, start_ticks: r.startTicks ?? null, created_at_ms: r.createdAtMs, server_id: r.serverId, host: r.host, state: r.view.state, ready: r.view.ready ? 1 : 0, restarts: r.view.restarts })
    .execute();
}

/** Writes what the supervising server sees of a replica. */
export async function setReplicaView(db: Executor, instanceId: string, view: ReplicaViewState): Promise<void> {
  await db.updateTable('deploy_replicas').set({ state: view.state, ready: view.ready ? 1 : 0, restarts: view.restarts }).where('instance_id', '=', instanceId).execute();
}

/** Records the process of a replica (undefined = none). */
export async function setReplicaProcess(db: Executor, instanceId: string, pid: number | undefined, startTicks: number | undefined): Promise<void> {
  await db.updateTable('deploy_replicas').set({ pid: pid ?? null, start_ticks: startTicks ?? null }).where('instance_id', '=', instanceId).execute();
}

/** Sets what the engine wants of a replica. */
export async function setReplicaDesired(db: Executor, instanceIds: string[], desired: 'running' | 'stopped'): Promise<void> {
  if (instanceIds.length === 0) return;
  await db.updateTable('deploy_replicas').set({ desired }).where('instance_id', 'in', instanceIds).execute();
}

/** Deletes replicas. */
export async function deleteReplicas(db: Executor, instanceIds: string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  await db.deleteFrom('deploy_replicas').where('instance_id', 'in', instanceIds).execute();
}

/** Replicas of a component, oldest first (all components when componentId is undefined). */
export async function listReplicas(db: Executor, project?: string, componentId?: string): Promise<ReplicaRow[]> {
  let q = db.selectFrom('deploy_replicas').selectAll();
  if (project !== undefined) q = q.where('project', '=', project);
  if (componentId !== undefined) q = q.where('component_id', '=', componentId);
  return (await q.orderBy('created_at_ms').orderBy('instance_id').execute()).map(toReplica);
}

/** Per-component engine state. */
export interface ComponentRow {
  project: string;
  componentId: string;
  currentVersion: string;
  replicas: number;
  status: string;
  failDetail: string;
  lastJobId: string;
  updatedAtMs: number;
}

/** Inserts or replaces a component's engine state. */
export async function putComponent(db: Executor, c: ComponentRow): Promise<void> {
  await db.deleteFrom('deploy_components').where('project', '=', c.project).where('component_id', '=', c.componentId).execute();
  await db
    .insertInto('deploy_components')
    .values({ project: c.project, component_id: c.componentId, current_version: c.currentVersion, replicas: c.replicas, status: c.status, fail_detail: c.failDetail, last_job_id: c.lastJobId, updated_at_ms: c.updatedAtMs })
    .execute();
}

/** A component's engine state, or undefined. */
export async function findComponent(db: Executor, project: string, componentId: string): Promise<ComponentRow | undefined> {
  const r = await db.selectFrom('deploy_components').selectAll().where('project', '=', project).where('component_id', '=', componentId).executeTakeFirst();
  return r && { project: r.project, componentId: r.component_id, currentVersion: r.current_version, replicas: Number(r.replicas), status: r.status, failDetail: r.fail_detail, lastJobId: r.last_job_id, updatedAtMs: Number(r.updated_at_ms) };
}

/** Every component's engine state (start-up). */
export async function listComponents(db: Executor): Promise<ComponentRow[]> {
  const rows = await db.selectFrom('deploy_components').selectAll().execute();
  return rows.map((r) => ({ project: r.project, componentId: r.component_id, currentVersion: r.current_version, replicas: Number(r.replicas), status: r.status, failDetail: r.fail_detail, lastJobId: r.last_job_id, updatedAtMs: Number(r.updated_at_ms) }));
}

/** Removes everything the engine keeps of a component (releases, replicas, state). */
export async function deleteComponentState(db: Executor, project: string, componentId: string): Promise<void> {
  await db.deleteFrom('deploy_replicas').where('project', '=', project).where('component_id', '=', componentId).execute();
  await db.deleteFrom('deploy_releases').where('project', '=', project).where('component_id', '=', componentId).execute();
  await db.deleteFrom('deploy_components').where('project', '=', project).where('component_id', '=', componentId).execute();
}

/** The sandbox uid of a project, or undefined when none was allocated yet. */
export async function findSandboxUid(db: Executor, project: string): Promise<number | undefined> {
  const row = await db.selectFrom('deploy_sandbox_users').select('uid').where('project', '=', project).executeTakeFirst();
  return row ? Number(row.uid) : undefined;
}

/**
 * Allocates the next sandbox uid (at least `base`) to a project.
 * @throws AlreadyExistsError when another server allocated the project or the uid meanwhile (read again)
 */
export async function insertSandboxUid(db: Executor, project: string, base: number, nowMs: number): Promise<number> {
  const row = await db.selectFrom('deploy_sandbox_users').select((eb) => eb.fn.max('uid').as('top')).executeTakeFirst();
  const top = row?.top === null || row?.top === undefined ? undefined : Number(row.top);
  const uid = top === undefined || top < base ? base : top + 1;
  try {
    await db.insertInto('deploy_sandbox_users').values({ project, uid, created_at_ms: nowMs }).execute();
  } catch (err) {
    throw isUniqueViolation(err) ? new AlreadyExistsError(`sandbox user of ${project} or uid ${uid}`) : err;
  }
  return uid;
}
