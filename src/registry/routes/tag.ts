import type { FastifyInstance } from 'fastify';
import { sendEmptyOk } from '../../core/wire/servicecomb.js';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { ServiceParams, TagParams, TagsBody } from '../schemas.js';

/** Tag routes S28–S31 (servicecomb.md §1.2). */
export function tagRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  app.post('/microservices/:serviceId/tags', { config: { permission: { resource: 'service', verb: 'create' } }, schema: { operationId: 'CreateTags', params: ServiceParams, body: TagsBody } }, async (req, reply) => {
    const { serviceId } = req.params as { serviceId: string };
    await registry.setTags(tenantOf(req), serviceId, (req.body as { tags?: unknown }).tags ?? {});
    return sendEmptyOk(reply);
  });

  app.get('/microservices/:serviceId/tags', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'GetTags', params: ServiceParams } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    const tags = registry.getTags(tenantOf(req), serviceId);
    return Object.keys(tags).length > 0 ? { tags } : {};
  });

  app.put('/microservices/:serviceId/tags/:key', { config: { permission: { resource: 'service', verb: 'update' } }, schema: { operationId: 'UpdateTag', params: TagParams } }, async (req, reply) => {
    const { serviceId, key } = req.params as { serviceId: string; key: string };
    await registry.updateTag(tenantOf(req), serviceId, key, (req.query as { value?: string }).value);
    return sendEmptyOk(reply);
  });

  app.delete('/microservices/:serviceId/tags/:key', { config: { permission: { resource: 'service', verb: 'delete' } }, schema: { operationId: 'DeleteTags', params: TagParams } }, async (req, reply) => {
    const { serviceId, key } = req.params as { serviceId: string; key: string };
    await registry.deleteTags(tenantOf(req), serviceId, key.split(','));
    return sendEmptyOk(reply);
  });
}
