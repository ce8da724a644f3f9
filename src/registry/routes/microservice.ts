import type { FastifyInstance } from 'fastify';
import { sendEmptyOk } from '../../core/wire/servicecomb.js';
import { registryError } from '../errors.js';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { CreateServiceBody, DeleteServicesBody, ExistenceQuery, ProjectParams, PropertiesBody, ServiceParams } from '../schemas.js';
import { checkProperties } from '../validate.js';

/** Microservice routes S1–S8 (servicecomb.md §1.2). */
export function microserviceRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  app.post('/microservices', { config: { permission: { resource: 'service', verb: 'create' } }, schema: { operationId: 'CreateMicroService', params: ProjectParams, body: CreateServiceBody } }, async (req) =>
    registry.createService(tenantOf(req), req.body as Record<string, unknown>),
  );

  app.get('/microservices/:serviceId', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'GetMicroService', params: ServiceParams } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    const tenant = tenantOf(req);
    return { service: await registry.fresh(() => registry.getService(tenant, serviceId)) };
  });

  app.get('/microservices', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'ListMicroServices', params: ProjectParams } }, async (req) => {
    const withShared = (req.query as { withShared?: string }).withShared === 'true';
    const services = registry.listServices(tenantOf(req), withShared);
    return services.length > 0 ? { services } : {};
  });

  app.put('/microservices/:serviceId/properties', { config: { permission: { resource: 'service', verb: 'update' } }, bodyLimit: 3 * 1024, schema: { operationId: 'UpdateMicroServiceProperties', params: ServiceParams, body: PropertiesBody } }, async (req, reply) => {
    const { serviceId } = req.params as { serviceId: string };
    await registry.updateServiceProperties(tenantOf(req), serviceId, checkProperties(req.body));
    return sendEmptyOk(reply);
  });

  app.delete('/microservices/:serviceId', { config: { permission: { resource: 'service', verb: 'delete' } }, schema: { operationId: 'DeleteMicroService', params: ServiceParams } }, async (req, reply) => {
    const { serviceId } = req.params as { serviceId: string };
    const force = (req.query as { force?: string }).force ?? '';
    if (!['', 'true', 'false', '1', '0'].includes(force)) throw registryError('InvalidParams', `invalid force '${force}'`);
    await registry.deleteService(tenantOf(req), serviceId, force === 'true' || force === '1');
    return sendEmptyOk(reply);
  });

  app.delete('/microservices', { config: { permission: { resource: 'service', verb: 'delete' } }, schema: { operationId: 'DeleteMicroServices', params: ProjectParams, body: DeleteServicesBody } }, async (req) => {
    const body = req.body as { serviceIds: unknown[]; force?: boolean };
    return { services: await registry.deleteServices(tenantOf(req), body.serviceIds, body.force === true) };
  });

  app.get('/existence', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'Existence', params: ProjectParams, querystring: ExistenceQuery } }, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const tenant = tenantOf(req);
    if (q.type === 'microservice') return { serviceId: registry.existService(tenant, q) };
    if (q.type === 'schema') {
      if (!q.serviceId || !q.schemaId) throw registryError('InvalidParams', 'serviceId and schemaId are required');
      const { summary } = await registry.getSchema(tenant, q.serviceId, q.schemaId);
      reply.header('X-Schema-Summary', summary);
      return { serviceId: q.serviceId, schemaId: q.schemaId };
    }
    throw registryError('InvalidParams', `invalid type '${q.type ?? ''}'`);
  });
}
