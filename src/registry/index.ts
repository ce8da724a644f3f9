import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serviceCombScope } from '../core/wire/servicecomb.js';
import { registryError } from './errors.js';
import { dependencyRoutes } from './routes/dependency.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { instanceRoutes } from './routes/instance.js';
import { microserviceRoutes } from './routes/microservice.js';
import { schemaRoutes } from './routes/schema.js';
import { tagRoutes } from './routes/tag.js';
import { governRoutes } from './routes/govern.js';
import { watchRoutes } from './routes/watch.js';
import type { ClusterView } from '../core/cluster.js';
import type { Authorize } from '../rbac/types.js';
import type { RegistryService } from './service.js';
import type { WatchHub } from './watch.js';

/** What the registry plugin needs from the composition root. */
export interface RegistryPluginOptions {
  registry: RegistryService;
  watchHub: WatchHub;
  maxBodyBytes: number;
  /** Version string reported by /version. */
  version: string;
  /** The cluster view served at `GET /cluster`. */
  cluster?: () => Promise<ClusterView>;
  /**
   * Engine RBAC check (servicecomb.md §2), given when `rbac.enabled`: every route's
   * `config.permission` is checked before anything else, the watch upgrade included.
   */
  authorize?: Authorize;
}

/**
 * The tenant of a request: `X-Domain-Name` (default `default`) / project from the path. On
 * the legacy `/registry/v3` routes the project is `default` and `X-Tenant-Name` comes before
 * `X-Domain-Name` (servicecomb.md §0).
 */
export function tenantOf(request: FastifyRequest): string {
  const params = request.params as { project?: string };
  const legacy = params.project === undefined;
  const tenantHeader = legacy ? request.headers['x-tenant-name'] : undefined;
  const tenant = tenantKey(typeof tenantHeader === 'string' && tenantHeader ? tenantHeader : request.headers['x-domain-name'], params.project || 'default');
  if (tenant === undefined) throw registryError('InvalidParams', 'the domain and the project must not contain "/"');
  return tenant;
}

/**
 * The tenant key `domain/project` from a domain header's value (default `default`);
 * undefined when either part contains the separator.
 */
export function tenantKey(domainHeader: unknown, project: string): string | undefined {
  const domain = typeof domainHeader === 'string' && domainHeader ? domainHeader : 'default';
  if (domain.includes('/') || project.includes('/')) return undefined;
  return `${domain}/${project}`;
}

/**
 * The service center area (servicecomb.md §1): `/v4/{project}/registry/...`, `/health`
 * and `/version`. Bodies are JSON whatever the Content-Type (Go clients send none on
 * some calls); an empty body is allowed; every error uses the ServiceComb wire format.
 */
export async function registryPlugin(app: FastifyInstance, opts: RegistryPluginOptions): Promise<void> {
  serviceCombScope(app, {
    bodyLimit: opts.maxBodyBytes,
    invalid: (detail) => registryError('InvalidParams', detail),
    internal: () => registryError('Internal'),
  });

  const { authorize } = opts;
  if (authorize) app.addHook('onRequest', async (request) => authorize(request, request.routeOptions.config.permission));

  const routes = async (scoped: FastifyInstance): Promise<void> => {
    // Go reads the first value of a repeated query parameter; so do we.
    // Callback style: no promise and no extra turn per request (heartbeats, finds).
    scoped.addHook('preValidation', (request, _reply, done) => {
      const query = request.query as Record<string, unknown>;
      for (const key in query) if (Array.isArray(query[key])) query[key] = (query[key] as unknown[])[0];
      done();
    });
    microserviceRoutes(scoped, opts);
    schemaRoutes(scoped, opts);
    instanceRoutes(scoped, opts);
    discoveryRoutes(scoped, opts);
    dependencyRoutes(scoped, opts);
    tagRoutes(scoped, opts);
    watchRoutes(scoped, opts);
    healthRoutes(scoped, opts, true);
  };
  await app.register(routes, { prefix: '/v4/:project/registry' });
  await app.register(routes, { prefix: '/registry/v3' });
  await app.register(async (scoped) => {
    scoped.addHook('preValidation', (request, _reply, done) => {
      const query = request.query as Record<string, unknown>;
      for (const key of ['appId', 'serviceName', 'env', 'environment', 'withShared']) if (Array.isArray(query[key])) query[key] = (query[key] as unknown[])[0];
      done();
    });
    governRoutes(scoped, opts);
  }, { prefix: '/v4/:project/govern' });
  healthRoutes(app, opts, false);
}
