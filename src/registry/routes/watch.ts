import type { FastifyInstance } from 'fastify';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { registryError } from '../errors.js';
import { ServiceParams } from '../schemas.js';

/** Watch route S32: WebSocket per consumer (servicecomb.md §1.2). */
export function watchRoutes(app: FastifyInstance, { registry, watchHub }: RegistryPluginOptions): void {
  app.route({
    method: 'GET',
    url: '/microservices/:serviceId/watcher',
    config: { permission: { resource: 'service', verb: 'get' } },
    schema: { operationId: 'Watch', params: ServiceParams },
    // The consumer must exist before the upgrade, as the service center checks it first.
    preValidation: async (req) => {
      const tenant = tenantOf(req);
      await registry.fresh(() => registry.getService(tenant, (req.params as { serviceId: string }).serviceId));
    },
    handler: async () => {
      throw registryError('InvalidParams', 'websocket upgrade required');
    },
    wsHandler: (socket, req) => {
      watchHub.add(tenantOf(req), (req.params as { serviceId: string }).serviceId, socket);
    },
  });
}
