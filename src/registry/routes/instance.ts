import type { FastifyInstance } from 'fastify';
import { sendEmptyOk, sendJsonText, setExactCaseHeader } from '../../core/wire/servicecomb.js';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { HeartbeatsBody, InstanceParams, ProjectParams, PropertiesBody, RegisterInstanceBody, ServiceParams, StatusByPropertiesBody } from '../schemas.js';
import { checkProperties } from '../validate.js';

const consumerOf = (headers: Record<string, unknown>): string | undefined => {
  const v = headers['x-consumerid'];
  return typeof v === 'string' && v ? v : undefined;
};

/** Instance routes S14–S21 and S24 (servicecomb.md §1.2). */
export function instanceRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  app.post('/microservices/:serviceId/instances', { config: { permission: { resource: 'service', verb: 'create' } }, bodyLimit: 5 * 1024, schema: { operationId: 'RegisterInstance', params: ServiceParams, body: RegisterInstanceBody } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    return registry.registerInstance(tenantOf(req), serviceId, req.body as { instance: unknown });
  });

  app.get('/microservices/:serviceId/instances', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'ListInstances', params: ServiceParams } }, async (req, reply) => {
    const { serviceId } = req.params as { serviceId: string };
    const q = req.query as { tags?: string; rev?: string };
    const tenant = tenantOf(req);
    const result = await registry.fresh(() => registry.listInstances(tenant, serviceId, consumerOf(req.headers), q.tags ? q.tags.split(',').filter(Boolean) : []));
    setExactCaseHeader(reply, 'X-Resource-Revision', result.rev);
    if (q.rev && q.rev === result.rev) return reply.code(304).send();
    return sendJsonText(reply, result.body);
  });

  // OpenStage's addition (the console's "last heartbeat"): not a service-center route.
  app.get('/microservices/:serviceId/leases', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'ListLeases', params: ServiceParams } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    return { leases: registry.listLeases(tenantOf(req), serviceId) };
  });

  app.get('/microservices/:serviceId/instances/:instanceId', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'GetInstance', params: InstanceParams } }, async (req, reply) => {
    const { serviceId, instanceId } = req.params as { serviceId: string; instanceId: string };
    const tenant = tenantOf(req);
    const { instance, rev } = await registry.fresh(() => registry.getInstance(tenant, serviceId, instanceId, consumerOf(req.headers)));
    setExactCaseHeader(reply, 'X-Resource-Revision', rev);
    if ((req.query as { rev?: string }).rev === rev) return reply.code(304).send();
    return { instance };
  });

  app.delete('/microservices/:serviceId/instances/:instanceId', { config: { permission: { resource: 'service', verb: 'delete' } }, schema: { operationId: 'DeregisterInstance', params: InstanceParams } }, async (req, reply) => {
    const { serviceId, instanceId } = req.params as { serviceId: string; instanceId: string };
    await registry.deregisterInstance(tenantOf(req), serviceId, instanceId);
    return sendEmptyOk(reply);
  });

  app.put('/microservices/:serviceId/instances/:instanceId/properties', { config: { permission: { resource: 'service', verb: 'update' } }, bodyLimit: 3 * 1024, schema: { operationId: 'UpdateInstanceProperties', params: InstanceParams, body: PropertiesBody } }, async (req, reply) => {
    const { serviceId, instanceId } = req.params as { serviceId: string; instanceId: string };
    await registry.updateInstanceProperties(tenantOf(req), serviceId, instanceId, checkProperties(req.body));
    return sendEmptyOk(reply);
  });

  app.put('/microservices/:serviceId/instances/:instanceId/status', { config: { permission: { resource: 'service', verb: 'update' } }, schema: { operationId: 'UpdateInstanceStatus', params: InstanceParams } }, async (req, reply) => {
    const { serviceId, instanceId } = req.params as { serviceId: string; instanceId: string };
    await registry.updateInstanceStatus(tenantOf(req), serviceId, instanceId, (req.query as { value?: string }).value);
    return sendEmptyOk(reply);
  });

  // The hot path: no schema compilation beyond params, no body, memory only.
  app.put('/microservices/:serviceId/instances/:instanceId/heartbeat', { config: { permission: { resource: 'service', verb: 'update' }, keepUnderLoad: true } }, async (req, reply) => {
    const { serviceId, instanceId } = req.params as { serviceId: string; instanceId: string };
    const tenant = tenantOf(req);
    const late = registry.fresh(() => registry.heartbeat(tenant, serviceId, instanceId));
    if (late) await late;
    return sendEmptyOk(reply);
  });

  app.put('/heartbeats', { config: { permission: { resource: 'service', verb: 'update' }, keepUnderLoad: true }, schema: { operationId: 'HeartbeatSet', params: ProjectParams, body: HeartbeatsBody } }, async (req) => ({
    instances: registry.heartbeats(tenantOf(req), (req.body as { instances: unknown }).instances),
  }));

  app.put('/instances/status', { config: { permission: { resource: 'service', verb: 'update' } }, schema: { operationId: 'UpdateInstancesStatus', params: ProjectParams, body: StatusByPropertiesBody } }, async (req, reply) => {
    const body = req.body as { matches: unknown; status: unknown };
    await registry.updateStatusByProperties(tenantOf(req), body.matches, body.status);
    return sendEmptyOk(reply);
  });
}

export { consumerOf };
