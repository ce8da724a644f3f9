import type { Executor } from '../core/db/kysely.js';
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
