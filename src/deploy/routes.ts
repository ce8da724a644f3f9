import type { FastifyInstance } from 'fastify';
import { deployError } from './errors.js';
import { SseStream } from '../core/sse.js';
import { JobActionBody, JobParams, jobToWire, ProjectParams, ShowJobQuery, TaskLogQuery, TaskLogResponse, TaskParams } from './schemas.js';
import type { JobService } from './job-service.js';

const tags = ['jobs'];

/** Deployment job routes under `/v3/{project}/cas/jobs` (servicestage.md §5). */
export function jobRoutes(app: FastifyInstance, jobs: JobService): void {
  app.get('/', { schema: { operationId: 'ShowJobInfo', summary: 'Job id missing', tags, params: ProjectParams } }, async () => {
    throw deployError('JobIdEmpty');
  });

  app.get('/:job_id', { schema: { operationId: 'ShowJobInfo', summary: 'Job details with its tasks', tags, params: JobParams, querystring: ShowJobQuery } }, async (req) => {
    const { project, job_id } = req.params as { project: string; job_id: string };
    return jobToWire(await jobs.get(project, job_id), req.query as { limit?: number; offset?: number; desc?: string });
  });

  // OpenStage's addition: a task's whole log (a build's command output included), or with
  // follow=true its new lines as Server-Sent Events (`log` {line}) until it ends (`end` {task_status}).
  app.get('/:job_id/tasks/:task_id/logs', { schema: { operationId: 'ShowJobTaskLogs', summary: "A job task's whole log, or a stream of its new lines", tags, params: TaskParams, querystring: TaskLogQuery, response: { 200: TaskLogResponse } } }, async (req, reply) => {
    const { project, job_id, task_id } = req.params as { project: string; job_id: string; task_id: string };
    const q = req.query as { lines?: number; follow?: boolean };
    const log = await jobs.taskLog(project, job_id, task_id, q.lines);
    if (!q.follow) return { task_id: log.task.taskId, task_name: log.task.name, task_status: log.task.status, skipped_bytes: log.skippedBytes, lines: log.lines };
    const sse = new SseStream();
    void jobs
      .followTaskLog(project, job_id, task_id, { lines: q.lines ?? 100000, signal: sse.signal }, (line) => sse.send('log', { line }))
      .then((status) => sse.send('end', { task_status: status }))
      .catch((err: unknown) => req.log.error({ err }, 'task log follow failed'))
      .finally(() => sse.end());
    return reply.headers(SseStream.headers).send(sse.stream);
  });

  // OpenStage's job action in the style of the component action API: `{"action":"cancel"}`.
  app.post('/:job_id/action', { schema: { operationId: 'DeliverJobAction', summary: 'Cancel a queued or running job', tags, params: JobParams, body: JobActionBody } }, async (req) => {
    const { project, job_id } = req.params as { project: string; job_id: string };
    const { action } = req.body as { action: string };
    if (action !== 'cancel') throw deployError('ActionNotDefined', `job action '${action}' is not defined; the only one is 'cancel'`);
    const detail = await jobs.cancel(project, job_id, req.principal?.userName ?? 'unknown');
    return { job_id: detail.job.jobId, execution_status: detail.job.status };
  });
}
