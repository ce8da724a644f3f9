import type { FastifyInstance, FastifyRequest } from 'fastify';
import { huaweiScope } from '../core/wire/huawei.js';
import { engineError } from './errors.js';
import { engineRoutes, engineTagRoutes } from './routes.js';
import type { EngineService } from './service.js';

/** What the engine-management plugin needs from the composition root. */
export interface EnginesPluginOptions {
  engines: EngineService;
  /** The IAM check (X-Auth-Token or AK/SK signature for the project in the path). */
  iamCheck: (request: FastifyRequest) => Promise<void>;
}

/**
 * CSE engine management (servicecomb.md §4.2): every route under `/v2/{project}/enginemgr`,
 * IAM-checked, errors as `{error_code, error_msg}` with the SVCSTG.005011xx codes; a JSON
 * body on DELETE or on the token exchange is read and ignored.
 */
export async function enginesPlugin(app: FastifyInstance, opts: EnginesPluginOptions): Promise<void> {
  const area = (routes: (scoped: FastifyInstance, o: EnginesPluginOptions) => void) => async (scoped: FastifyInstance) => {
    huaweiScope(scoped, {
      bodyLimit: 1024 * 1024,
      invalid: (detail) => engineError('InvalidParameter', detail),
      internal: () => engineError('Internal'),
      notFound: (detail) => engineError('RequestNotFound', detail),
    });
    scoped.addHook('preValidation', opts.iamCheck);
    routes(scoped, opts);
  };
  await app.register(area(engineRoutes), { prefix: '/v2/:project/enginemgr' });
  // The tag-management API addresses engines as resource type `cseEngines`.
  await app.register(area(engineTagRoutes), { prefix: '/v2/:project/cseEngines' });
}
