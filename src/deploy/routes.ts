import type { FastifyInstance } from 'fastify';
import { deployError } from './errors.js';
import { JobActionBody, JobParams, jobToWire, ProjectParams, ShowJobQuery } from './schemas.js';
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

  // OpenStage's job action in the style of the component action API: `{"action":"cancel"}`.
  app.post('/:job_id/action', { schema: { operationId: 'DeliverJobAction', summary: 'Cancel a queued or running job', tags, params: JobParams, body: JobActionBody } }, async (req) => {
    const { project, job_id } = req.params as { project: string; job_id: string };
    const { action } = req.body as { action: string };
    if (action !== 'cancel') throw deployError('ActionNotDefined', `job action '${action}' is not defined; the only one is 'cancel'`);
    const detail = await jobs.cancel(project, job_id, req.principal?.userName ?? 'unknown');
    return { job_id: detail.job.jobId, execution_status: detail.job.status };
  });
}
