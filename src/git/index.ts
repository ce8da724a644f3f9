import type { FastifyInstance, FastifyRequest } from 'fastify';
import { huaweiScope } from '../core/wire/huawei.js';
import type { IamHooks } from '../iam/types.js';
import { gitError } from './errors.js';
import { authRoutes } from './routes/auth.js';
import { fileRoutes } from './routes/file.js';
import { repoRoutes } from './routes/repo.js';
import { smartHttpPlugin } from './routes/smart-http.js';
import { webhookRoutes } from './routes/webhook.js';
import type { GitService } from './service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route without the IAM check (the webhook endpoint verifies signatures instead). */
    public?: boolean;
  }
}

/** What the Git plugin needs from the composition root. */
export interface GitPluginOptions {
  git: GitService;
  /** Largest request body, bytes (git.maxBodyBytes). */
  maxBodyBytes: number;
  /** The IAM check (X-Auth-Token or AK/SK signature for the project in the path), before and after the body. */
  iamCheck: IamHooks<FastifyRequest>;
}

/** `scheme://host` of a request: the base of clone URLs when git.publicUrl is empty. */
export function baseUrlOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

/**
 * Git repository access (servicestage.md §9): the v1 API under `/v1/{project}/git`
 * (IAM-checked except the webhook endpoint; errors `{error_code, error_msg}` with the
 * SVCSTG.REPO codes; unknown paths 404 SVCSTG.REPO.0408) and smart HTTP for hosted
 * repositories under `/git/{project}/{namespace}/{repo}.git`.
 */
export async function gitPlugin(app: FastifyInstance, opts: GitPluginOptions): Promise<void> {
  await app.register(
    async (scoped) => {
      huaweiScope(scoped, {
        bodyLimit: opts.maxBodyBytes,
        invalid: (detail) => gitError('InvalidParameter', detail),
        internal: () => gitError('Internal'),
        notFound: (detail) => gitError('RequestNotFound', detail),
      });
      scoped.addHook('onRequest', async (request) => {
        if (!request.routeOptions.config?.public) await opts.iamCheck.onRequest(request);
      });
      scoped.addHook('preValidation', async (request) => {
        if (!request.routeOptions.config?.public) await opts.iamCheck.preValidation(request);
      });
      authRoutes(scoped, opts);
      repoRoutes(scoped, opts);
      fileRoutes(scoped, opts);
      webhookRoutes(scoped, opts);
    },
    { prefix: '/v1/:project/git' },
  );
  await app.register(async (scoped) => smartHttpPlugin(scoped, opts), { prefix: '/git' });
}
