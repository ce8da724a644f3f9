import type { FastifyInstance } from 'fastify';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { ProjectParams, ServiceParams } from '../schemas.js';
import type { MicroService, MicroServiceInstance } from '../types.js';
import type { RegistryService } from '../service.js';

const truthy = (v: string | undefined): boolean => v === '1' || v === 'true';

/** The parts of a service detail `options` asks for (`all` = every one); the service itself always. */
type Part = 'instances' | 'tags' | 'dependencies';
const PARTS: readonly Part[] = ['instances', 'tags', 'dependencies'];

function partsOf(options: string | string[] | undefined): Set<Part> {
  const names = (Array.isArray(options) ? options : (options ?? '').split(',')).map((o) => o.trim()).filter(Boolean);
  return new Set(names.includes('all') ? PARTS : PARTS.filter((p) => names.includes(p)));
}

/** One ServiceDetail (cari discovery.ServiceDetail): empty parts omitted, as Go's omitempty does. */
function detailOf(registry: RegistryService, tenant: string, service: MicroService, parts: Set<Part>): Record<string, unknown> {
  const detail: Record<string, unknown> = { microService: service };
  if (parts.has('instances')) {
    const found = JSON.parse(registry.listInstances(tenant, service.serviceId, undefined, []).body.toString('utf8')) as { instances?: MicroServiceInstance[] };
    if (found.instances?.length) detail.instances = found.instances;
  }
  if (parts.has('tags')) {
    const tags = registry.getTags(tenant, service.serviceId);
    if (Object.keys(tags).length > 0) detail.tags = tags;
  }
  if (parts.has('dependencies')) {
    const providers = registry.providersOf(tenant, service.serviceId, false);
    const consumers = registry.consumersOf(tenant, service.serviceId, false);
    if (providers.length) detail.providers = providers;
    if (consumers.length) detail.consumers = consumers;
  }
  return detail;
}

/**
 * The service center's governance API under `/v4/{project}/govern` that go-chassis sc-client
 * calls (GetAllApplications, GetAllResources; issue #18 item 12): `GET /apps` →
 * `{appIds}`; `GET /microservices?options=all|instances,tags,dependencies&appId&serviceName&env`
 * → `{allServicesDetail: [ServiceDetail]}`; `GET /microservices/{serviceId}` → `{service}`.
 * The shared SERVICECENTER service only with `withShared=true`. Schemas, rules and
 * statistics are not reported.
 */
export function governRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  const permission = { resource: 'service', verb: 'get' } as const;

  app.get('/apps', { config: { permission }, schema: { operationId: 'GetApplications', params: ProjectParams } }, async (req) => {
    const q = req.query as { withShared?: string; environment?: string };
    const services = registry.listServices(tenantOf(req), truthy(q.withShared)).filter((s) => q.environment === undefined || (s.environment ?? '') === q.environment);
    const appIds = [...new Set(services.map((s) => s.appId))].sort();
    return appIds.length > 0 ? { appIds } : {};
  });

  app.get('/microservices', { config: { permission }, schema: { operationId: 'GetServicesInfo', params: ProjectParams } }, async (req) => {
    const q = req.query as { options?: string | string[]; appId?: string; serviceName?: string; env?: string; withShared?: string };
    const tenant = tenantOf(req);
    const parts = partsOf(q.options);
    const services = registry
      .listServices(tenant, truthy(q.withShared))
      .filter((s) => (!q.appId || s.appId === q.appId) && (!q.serviceName || s.serviceName === q.serviceName) && (q.env === undefined || (s.environment ?? '') === q.env));
    return services.length > 0 ? { allServicesDetail: services.map((s) => detailOf(registry, tenant, s, parts)) } : {};
  });

  app.get('/microservices/:serviceId', { config: { permission }, schema: { operationId: 'GetServiceDetail', params: ServiceParams } }, async (req) => {
    const tenant = tenantOf(req);
    const service = registry.getService(tenant, (req.params as { serviceId: string }).serviceId);
    return { service: detailOf(registry, tenant, service, new Set(PARTS)) };
  });
}
