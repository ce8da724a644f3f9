import type { FastifyInstance } from 'fastify';
import { sendEmptyOk } from '../../core/wire/servicecomb.js';
import { registryError } from '../errors.js';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { PutSchemaBody, PutSchemasBody, SchemaParams, ServiceParams } from '../schemas.js';

/** Schema routes S9–S13 (servicecomb.md §1.2). */
export function schemaRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  app.get('/microservices/:serviceId/schemas/:schemaId', { config: { permission: { resource: 'service/schema', verb: 'get' } }, schema: { operationId: 'GetSchema', params: SchemaParams } }, async (req, reply) => {
    const { serviceId, schemaId } = req.params as { serviceId: string; schemaId: string };
    const { schema, summary } = await registry.getSchema(tenantOf(req), serviceId, schemaId);
    reply.header('X-Schema-Summary', summary);
    return { schema };
  });

  app.put('/microservices/:serviceId/schemas/:schemaId', { config: { permission: { resource: 'service/schema', verb: 'update' } }, schema: { operationId: 'ModifySchema', params: SchemaParams, body: PutSchemaBody } }, async (req, reply) => {
    const { serviceId, schemaId } = req.params as { serviceId: string; schemaId: string };
    await registry.putSchema(tenantOf(req), serviceId, schemaId, req.body as { schema?: unknown; summary?: unknown });
    return sendEmptyOk(reply);
  });

  app.post('/microservices/:serviceId/schemas', { config: { permission: { resource: 'service/schema', verb: 'create' } }, schema: { operationId: 'ModifySchemas', params: ServiceParams, body: PutSchemasBody } }, async (req, reply) => {
    const { serviceId } = req.params as { serviceId: string };
    await registry.putSchemas(tenantOf(req), serviceId, (req.body as { schemas: unknown }).schemas);
    return sendEmptyOk(reply);
  });

  app.get('/microservices/:serviceId/schemas', { config: { permission: { resource: 'service/schema', verb: 'get' } }, schema: { operationId: 'ListSchemas', params: ServiceParams } }, async (req) => {
    const { serviceId } = req.params as { serviceId: string };
    const withSchema = (req.query as { withSchema?: string }).withSchema ?? '';
    if (!['', '0', '1'].includes(withSchema)) throw registryError('InvalidParams', `invalid withSchema '${withSchema}'`);
    const schemas = await registry.listSchemas(tenantOf(req), serviceId, withSchema === '1');
    return schemas.length > 0 ? { schemas } : {};
  });

  app.delete('/microservices/:serviceId/schemas/:schemaId', { config: { permission: { resource: 'service/schema', verb: 'delete' } }, schema: { operationId: 'DeleteSchema', params: SchemaParams } }, async (req, reply) => {
    const { serviceId, schemaId } = req.params as { serviceId: string; schemaId: string };
    await registry.deleteSchema(tenantOf(req), serviceId, schemaId);
    return sendEmptyOk(reply);
  });
}
