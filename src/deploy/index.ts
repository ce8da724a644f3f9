import type { FastifyInstance, FastifyRequest } from 'fastify';
import { huaweiScope } from '../core/wire/huawei.js';
import type { IamHooks } from '../iam/types.js';
import { deployError } from './errors.js';
import { jobRoutes } from './routes.js';
import type { JobService } from './job-service.js';

/** What the deploy plugin needs from the composition root. */
export interface DeployPluginOptions {
  jobs: JobService;
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
}
