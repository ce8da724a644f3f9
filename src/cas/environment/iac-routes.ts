import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { replies } from './routes.js';
import {
  EnvironmentParams,
  EnvironmentReply,
  IacResourceBody,
  IacResourceParams,
  IacResourcesReply,
  ListProvisionsQuery,
  ProvisionListReply,
  ProvisionParams,
  ProvisionReply,
  ProvisionResultReply,
  StackEventsReply,
  environmentToWire,
  iacResourceToWire,
  provisionResultToWire,
  provisionToWire,
  stackEventToWire,
  type EnvironmentParamsWire,
  type IacResourceBodyWire,
} from './schemas.js';
import type { EnvironmentService } from './service.js';

const tags = ['environment'];
const base = '/environments/:environment_id/iac-resources';

/** Created (IaC) resources and their provisioning (servicestage.md §2). */
export function iacRoutes(app: FastifyInstance, environments: EnvironmentService): void {
  const { iac } = environments;

  app.get(base, { schema: { operationId: 'ListEnvironmentIacResources', summary: 'List the created resources of an environment', tags, params: EnvironmentParams, response: replies({ 200: IacResourcesReply }, 400, 401) } }, async (req) => {
    const { project, environment_id } = req.params as EnvironmentParamsWire;
    return { iac_resources: (await iac.list(project, environment_id)).map(iacResourceToWire) };
  });

  app.post(base, { schema: { operationId: 'AddEnvironmentIacResource', summary: 'Add a created resource (applied by the next provisioning)', tags, params: EnvironmentParams, body: IacResourceBody, response: replies({ 200: EnvironmentReply }, 400, 401) } }, async (req) => {
    const { project, environment_id } = req.params as EnvironmentParamsWire;
    return environmentToWire(await iac.add(project, environment_id, req.body as IacResourceBodyWire));
  });

  app.post(`${base}/provision`, { schema: { operationId: 'ProvisionEnvironmentIacResources', summary: 'Enable (provision) the created resources of an environment', tags, params: EnvironmentParams, response: replies({ 200: ProvisionResultReply }, 400, 401, 409) } }, async (req) => {
    const { project, environment_id } = req.params as EnvironmentParamsWire;
    return provisionResultToWire(await iac.provision(project, environment_id, req.principal?.userName ?? ''));
  });

  app.get(`${base}/provision-histories`, { schema: { operationId: 'ListEnvironmentProvisionHistories', summary: 'List the provisioning records of an environment', tags, params: EnvironmentParams, querystring: ListProvisionsQuery, response: replies({ 200: ProvisionListReply }, 400, 401) } }, async (req) => {
    const { project, environment_id } = req.params as EnvironmentParamsWire;
    const page = await iac.histories(project, environment_id, req.query as { limit?: number; offset?: number; order_by?: string; order?: 'asc' | 'desc' });
    return { ...page, list: page.list.map(provisionToWire) };
  });

  app.get(`${base}/provision-histories/:history_id`, { schema: { operationId: 'ShowEnvironmentProvisionHistory', summary: 'Get a provisioning record', tags, params: ProvisionParams, response: replies({ 200: ProvisionReply }, 400, 401, 404) } }, async (req) => {
    const { project, environment_id, history_id } = req.params as EnvironmentParamsWire & { history_id: string };
    return provisionToWire(await iac.history(project, environment_id, history_id));
  });

  app.get(`${base}/provision-histories/:history_id/events`, { schema: { operationId: 'ListEnvironmentProvisionEvents', summary: 'List the events of a provisioning record', tags, params: ProvisionParams, response: replies({ 200: StackEventsReply }, 400, 401, 404) } }, async (req) => {
    const { project, environment_id, history_id } = req.params as EnvironmentParamsWire & { history_id: string };
    return { stack_events: (await iac.history(project, environment_id, history_id)).events.map(stackEventToWire) };
  });

  app.put(`${base}/:resource_id`, { schema: { operationId: 'UpdateEnvironmentIacResource', summary: 'Change a created resource (applied by the next provisioning)', tags, params: IacResourceParams, body: IacResourceBody, response: replies({ 200: EnvironmentReply }, 400, 401, 404) } }, async (req) => {
    const { project, environment_id, resource_id } = req.params as EnvironmentParamsWire & { resource_id: string };
    return environmentToWire(await iac.update(project, environment_id, resource_id, req.body as IacResourceBodyWire));
  });

  app.delete(`${base}/:resource_id`, { schema: { operationId: 'DeleteEnvironmentIacResource', summary: 'Delete a created resource (destroyed by the next provisioning)', tags, params: IacResourceParams, response: replies({ 204: Type.Null() }, 400, 401, 404) } }, async (req, reply) => {
    const { project, environment_id, resource_id } = req.params as EnvironmentParamsWire & { resource_id: string };
    await iac.delete(project, environment_id, resource_id);
    return reply.code(204).send();
  });
}
