import { Type } from '@sinclair/typebox';
import type { JobDetail } from './types.js';

/** `{project}` path parameter. */
export const ProjectParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }) });

/** `GET /v3/{project}/cas/jobs/{job_id}` path parameters. */
export const JobParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), job_id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Job detail query (servicestage.md §5): task paging and order. `instance_id` is accepted and ignored. */
export const ShowJobQuery = Type.Object({
  instance_id: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  /** "true" lists the newest task first. */
  desc: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
});

/** `POST .../jobs/{job_id}/action` body: OpenStage's job action (only `cancel`). */
export const JobActionBody = Type.Object({ action: Type.String({ minLength: 1, maxLength: 32 }) });

/** Wire form of a task time: RFC 3339 UTC (the API documents strings here, servicestage.md §1). */
function time(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The wire job detail (ShowJobInfoResponse: `{task_count, job, tasks}`), tasks paged by
 * `offset`/`limit` (0 or absent = all) and reversed when `desc` is "true"; `messages` is one
 * string, lines joined with "\n".
 */
export function jobToWire(detail: JobDetail, query: { limit?: number; offset?: number; desc?: string } = {}): unknown {
  const ordered = query.desc === 'true' ? [...detail.tasks].reverse() : detail.tasks;
  const offset = query.offset ?? 0;
  const page = ordered.slice(offset, query.limit ? offset + query.limit : undefined);
  return {
    task_count: detail.tasks.length,
    job: { job_id: detail.job.jobId, job_type: detail.job.jobType, execution_status: detail.job.status, rollback_enabled: detail.job.rollbackEnabled },
    tasks: page.map((t) => ({
      task_id: t.taskId,
      task_name: t.name,
      task_type: t.type,
      task_status: t.status,
      messages: t.messages.join('\n'),
      created_at: time(t.createdAtMs),
      update_at: time(t.updatedAtMs),
    })),
  };
}

/** `GET .../jobs/{job_id}/tasks/{task_id}/logs` path parameters. */
export const TaskParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), job_id: Type.String({ minLength: 1, maxLength: 64 }), task_id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Task log query: the last `lines` lines (all when absent); `follow=true` streams Server-Sent Events until the task ends. */
export const TaskLogQuery = Type.Object({ lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })), follow: Type.Optional(Type.Boolean()) });

/** A task's whole log (OpenStage's addition). */
export const TaskLogResponse = Type.Object({
  task_id: Type.String(),
  task_name: Type.String(),
  task_status: Type.String(),
  /** Bytes left out at the start of a log longer than the server answers at once (8 MiB). */
  skipped_bytes: Type.Integer(),
  lines: Type.Array(Type.String()),
});

/** Path parameters of the owner's internal replica-log route (`/internal/v1/replica-logs/{project}/{component_id}`). */
export const OwnerLogsParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), component_id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Its query: as the component log API's (`lines`, `follow`). */
export const OwnerLogsQuery = Type.Object({ lines: Type.Integer({ minimum: 1, maximum: 100000 }), follow: Type.Optional(Type.Boolean()) });
