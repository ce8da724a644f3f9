import type { FastifyInstance } from 'fastify';
import { sendEmptyOk } from '../../core/wire/servicecomb.js';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { DependenciesBody, ProjectParams, ServiceParams } from '../schemas.js';

const truthy = (v: string | undefined): boolean => v === '1' || v === 'true';

/** Dependency routes S25–S27 (servicecomb.md §1.2, §1.4). */
export function dependencyRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  app.get('/microservices/:serviceId/providers', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'GetProviders', params: ServiceParams } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    const providers = registry.providersOf(tenantOf(req), serviceId, truthy((req.query as { noSelf?: string }).noSelf));
    return providers.length > 0 ? { providers } : {};
  });

  app.get('/microservices/:serviceId/consumers', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'GetConsumers', params: ServiceParams } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    const consumers = registry.consumersOf(tenantOf(req), serviceId, truthy((req.query as { noSelf?: string }).noSelf));
    return consumers.length > 0 ? { consumers } : {};
  });

  for (const method of ['POST', 'PUT'] as const) {
    app.route({
      method,
      url: '/dependencies',
      config: { permission: { resource: 'service', verb: method === 'POST' ? 'create' : 'update' } },
      schema: { operationId: method === 'POST' ? 'AddDependencies' : 'CreateDependencies', params: ProjectParams, body: DependenciesBody },
      handler: async (req, reply) => {
        await registry.putDependencies(tenantOf(req), (req.body as { dependencies: unknown }).dependencies, method === 'PUT');
        reply.header('Deprecation', 'version="v4"');
        return sendEmptyOk(reply);
      },
    });
  }
}
