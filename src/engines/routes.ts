import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EnginesPluginOptions } from './index.js';
import {
  CreateEngineBody,
  detailToWire,
  EngineAccepted,
  EngineDetail,
  EngineList,
  EngineTagsBody,
  EngineTagsParams,
  EngineParams,
  FlavorList,
  JobDetail,
  JobParams,
  jobToWire,
  limitStyleOf,
  ListEnginesQuery,
  ListFlavorsQuery,
  ProjectParams,
  replies,
  simpleToWire,
  TokenReply,
  UpdateEngineBody,
} from './schemas.js';

type Params = { project: string; engineId: string };

/** The engine-management routes (servicecomb.md §4.2), under `/v2/{project}/enginemgr`. */
export function engineRoutes(app: FastifyInstance, { engines }: EnginesPluginOptions): void {
  const tags = ['engines'];

  app.get('/flavors', { schema: { operationId: 'ListFlavors', summary: 'List engine flavors', tags, params: ProjectParams, querystring: ListFlavorsQuery, response: replies(FlavorList) } }, async () => {
    const data = engines.flavors();
    return { total: data.length, data };
  });

  app.get('/engines', { schema: { operationId: 'ListEngines', summary: 'List engines', tags, params: ProjectParams, querystring: ListEnginesQuery, response: replies(EngineList) } }, async (req) => {
    const { project } = req.params as { project: string };
    const { total, views } = await engines.list(project, req.query as { offset?: number; limit?: number; type?: string });
    const style = limitStyleOf(req.headers['user-agent']);
    return { total, data: views.map((v) => simpleToWire(v, style)) };
  });

  app.post('/engines', { schema: { operationId: 'CreateEngine', summary: 'Create an exclusive engine', tags, params: ProjectParams, body: CreateEngineBody, response: replies(EngineAccepted) } }, async (req) => {
    const { project } = req.params as { project: string };
    const b = req.body as CreateEngineBody;
    const epsHeader = req.headers['x-enterprise-project-id'];
    const r = await engines.create(project, req.principal?.userName ?? 'unknown', {
      name: b.name,
      payment: b.payment,
      flavor: b.flavor,
      authType: b.authType,
      azList: b.azList ?? [],
      enterpriseProjectId: typeof epsHeader === 'string' && epsHeader ? epsHeader : '0',
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.vpc !== undefined ? { vpc: b.vpc } : {}),
      ...(b.vpcId !== undefined ? { vpcId: b.vpcId } : {}),
      ...(b.networkId !== undefined ? { networkId: b.networkId } : {}),
      ...(b.subnetCidr !== undefined ? { subnetCidr: b.subnetCidr } : {}),
      ...(b.publicIpId !== undefined ? { publicIpId: b.publicIpId } : {}),
      ...(b.auth_cred?.pwd !== undefined ? { password: b.auth_cred.pwd } : {}),
      ...(b.specType !== undefined ? { specType: b.specType } : {}),
      ...(b.inputs !== undefined ? { inputs: b.inputs } : {}),
    });
    return { id: r.id, name: r.name, jobId: r.jobId };
  });

  app.get('/engines/:engineId', { schema: { operationId: 'ShowEngine', summary: 'Show an engine', tags, params: EngineParams, response: replies(EngineDetail) } }, async (req) => {
    const { project, engineId } = req.params as Params;
    return detailToWire(await engines.get(project, engineId), limitStyleOf(req.headers['user-agent']));
  });

  app.put('/engines/:engineId', { schema: { operationId: 'UpdateEngine', summary: 'Change the description of an exclusive engine', tags, params: EngineParams, body: UpdateEngineBody, response: replies(EngineDetail) } }, async (req) => {
    const { project, engineId } = req.params as Params;
    const { description } = req.body as { description?: string };
    return detailToWire(await engines.update(project, engineId, description !== undefined ? { description } : {}), limitStyleOf(req.headers['user-agent']));
  });

  app.delete('/engines/:engineId', { schema: { operationId: 'DeleteEngine', summary: 'Delete an exclusive engine', tags, params: EngineParams, response: replies(EngineAccepted) } }, async (req) => {
    const { project, engineId } = req.params as Params;
    const r = await engines.delete(project, engineId, req.principal?.userName ?? 'unknown');
    return { id: r.id, name: r.name, jobId: r.jobId };
  });

  app.get('/engines/:engineId/jobs/:jobId', { schema: { operationId: 'ShowEngineJob', summary: 'Show an engine job', tags, params: JobParams, response: replies(JobDetail) } }, async (req) => {
    const { project, engineId, jobId } = req.params as Params & { jobId: string };
    return jobToWire(await engines.getJob(project, engineId, jobId));
  });

  app.post('/engines/:engineId/tokens', { schema: { operationId: 'QueryRBACToken', summary: 'Exchange an IAM token for an engine RBAC token', tags, params: EngineParams, response: replies(TokenReply) } }, async (req) => {
    const { project, engineId } = req.params as Params;
    return { token: await engines.token(project, engineId) };
  });
}

/**
 * Resource tags of engines under `/v2/{project}/cseEngines` (Huawei tag management, resource
 * type `cseEngines`): `POST /{id}/tags/create` and `…/tags/delete` — the Terraform provider
 * sends the delete as DELETE with a body — each `{tags: [{key, value}]}`, answered 204.
 */
export function engineTagRoutes(app: FastifyInstance, { engines }: EnginesPluginOptions): void {
  const schema = { operationId: 'BatchEngineTagsAction', summary: 'Add or remove engine tags', tags: ['engines'], params: EngineTagsParams, body: EngineTagsBody, response: replies(Type.Null(), 204) };
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { project, engineId, action } = req.params as Params & { action: 'create' | 'delete' };
    await engines.changeTags(project, engineId, action, (req.body as { tags: { key: string; value?: string }[] }).tags.map((t) => ({ key: t.key, value: t.value ?? '' })));
    return reply.code(204).send();
  };
  app.post('/:engineId/tags/:action', { schema }, handler);
  app.delete('/:engineId/tags/:action', { schema: { ...schema, operationId: 'BatchEngineTagsDelete' } }, handler);
}
