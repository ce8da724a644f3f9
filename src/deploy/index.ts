import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { huaweiScope } from '../core/wire/huawei.js';
import type { IamHooks } from '../iam/types.js';
import { deployError } from './errors.js';
import { jobRoutes } from './routes.js';
import type { JobService } from './job-service.js';
import { INTERNAL_PASS_HEADER } from './owner-call.js';
import { OwnerLogsParams, OwnerLogsQuery } from './schemas.js';
import type { DeployService } from './service.js';

/** What the deploy plugin needs from the composition root. */
export interface DeployPluginOptions {
  jobs: JobService;
  /** The engine, for the calls other servers make to the owner of a replica set. */
  deploy: DeployService;
  /** The IAM check (X-Auth-Token or AK/SK signature for the project in the path), before and after the body. */
  iamCheck: IamHooks<FastifyRequest>;
}

/**
 * Deployment jobs (servicestage.md §5): `/v3/{project}/cas/jobs/...`, IAM-checked, errors as
 * `{error_code, error_msg}`.
 */
export async function deployPlugin(app: FastifyInstance, opts: DeployPluginOptions): Promise<void> {
  await app.register(
    async (scoped) => {
      huaweiScope(scoped, {
        // Job routes are reads; a body is ignored (issue #15 H2).
        bodyLimit: 16 * 1024,
        invalid: (detail) => deployError('InvalidParameter', detail),
        internal: () => deployError('Internal'),
        notFound: (detail) => deployError('RequestNotFound', detail),
      });
      scoped.addHook('onRequest', opts.iamCheck.onRequest);
      scoped.addHook('preValidation', opts.iamCheck.preValidation);
      jobRoutes(scoped, opts.jobs);
    },
    { prefix: '/v3/:project/cas/jobs' },
  );
  await app.register(async (scoped) => {
    huaweiScope(scoped, {
      bodyLimit: 1024,
      invalid: (detail) => deployError('InvalidParameter', detail),
      internal: () => deployError('Internal'),
      notFound: (detail) => deployError('RequestNotFound', detail),
    });
    ownerRoutes(scoped, opts.deploy);
  }, { prefix: '/internal/v1' });
}

/**
 * Routes other servers of the cluster call on the server that supervises a component's
 * replicas (owner-call.ts), not part of any API: only a request carrying a valid pass
 * (sealed with the shared master key) is answered. Hidden from the OpenAPI document.
 */
function ownerRoutes(app: FastifyInstance, deploy: DeployService): void {
  // A component's replica logs: `{"logs": InstanceLogs[]}`, or with follow=true one JSON
  // line (ReplicaLogLine) per log line until the caller goes away.
  app.get('/replica-logs/:project/:component_id', { schema: { hide: true, params: OwnerLogsParams, querystring: OwnerLogsQuery } }, async (req, reply) => {
    const { project, component_id: componentId } = req.params as { project: string; component_id: string };
    const q = req.query as { lines: number; follow?: boolean };
    deploy.checkOwnerCall(project, componentId, req.url, req.headers[INTERNAL_PASS_HEADER]);
    if (!q.follow) return { logs: await deploy.logsHere(project, componentId, q.lines) };
    const out = new PassThrough();
    const ended = new AbortController();
    reply.raw.once('close', () => ended.abort());
    void deploy
      .followLogsHere(project, componentId, { lines: q.lines, signal: ended.signal }, (line) => out.write(`${JSON.stringify(line)}\n`))
      .catch((err: unknown) => req.log.error({ err }, 'log follow for another server failed'))
      .finally(() => out.end());
    return reply.header('content-type', 'application/x-ndjson').send(out);
  });
}
