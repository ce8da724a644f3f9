import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, ProjectParams } from '../common/schemas.js';
import type { CasServices } from '../index.js';
import {
  CreateEnvironmentBody,
  EnvironmentListReply,
  EnvironmentParams,
  EnvironmentReply,
  ListEnvironmentsQuery,
  ReplaceResourcesBody,
  ResourcesReply,
  UpdateEnvironmentBody,
  environmentToWire,
  resourceToWire,
  type CreateEnvironmentBodyWire,
  type EnvironmentParamsWire,
  type ListEnvironmentsQueryWire,
  type ResourceBodyWire,
  type UpdateEnvironmentBodyWire,
} from './schemas.js';
import { iacRoutes } from './iac-routes.js';

const tags = ['environment'];

/** The ok answer (status → schema) plus the Huawei error body for every error status. */
export function replies(ok: Record<number, TSchema>, ...errors: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...ok };
  for (const s of [...new Set([...errors, 500])]) out[s] = ErrorBody;
  return out;
}

/** Environments and their managed resources (servicestage.md §2). */
export function environmentRoutes(app: FastifyInstance, { environments }: CasServices): void {
  app.post(
    '/environments',
    { schema: { operationId: 'CreateEnvironment', summary: 'Create an environment', tags, params: ProjectParams, body: CreateEnvironmentBody, response: replies({ 200: EnvironmentReply }, 400, 401) } },
    async (req) => {
      const { project } = req.params as { project: string };
      return environmentToWire(await environments.create(project, req.body as CreateEnvironmentBodyWire, req.principal?.userName ?? ''));
    },
  );

  app.get(
    '/environments',
    { schema: { operationId: 'ShowEnvironments', summary: 'List environments', tags, params: ProjectParams, querystring: ListEnvironmentsQuery, response: replies({ 200: EnvironmentListReply }, 400, 401) } },
    async (req) => {
      const { project } = req.params as { project: string };
      const { count, environments: page } = await environments.list(project, req.query as ListEnvironmentsQueryWire);
      return { count, environments: page.map(environmentToWire) };
    },
  );

  app.get(
    '/environments/:environment_id',
    { schema: { operationId: 'ShowEnvironmentInfo', summary: 'Get an environment', tags, params: EnvironmentParams, response: replies({ 200: EnvironmentReply }, 400, 401) } },
    async (req) => {
      const { project, environment_id } = req.params as EnvironmentParamsWire;
      return environmentToWire(await environments.get(project, environment_id));
    },
  );

  app.put(
    '/environments/:environment_id',
    { schema: { operationId: 'ModifyEnvironment', summary: 'Modify an environment (name, description, labels)', tags, params: EnvironmentParams, body: UpdateEnvironmentBody, response: replies({ 200: EnvironmentReply }, 400, 401) } },
    async (req) => {
      const { project, environment_id } = req.params as EnvironmentParamsWire;
      return environmentToWire(await environments.update(project, environment_id, req.body as UpdateEnvironmentBodyWire));
    },
  );

  app.delete(
    '/environments/:environment_id',
    { schema: { operationId: 'DeleteEnvironment', summary: 'Delete an environment', tags, params: EnvironmentParams, response: replies({ 204: Type.Null() }, 400, 401) } },
    async (req, reply) => {
      const { project, environment_id } = req.params as EnvironmentParamsWire;
      await environments.delete(project, environment_id);
      return reply.code(204).send();
    },
  );

  app.put(
    '/environments/:environment_id/resources',
    { schema: { operationId: 'ModifyResourceInEnvironment', summary: 'Replace the managed resources of an environment', tags, params: EnvironmentParams, body: ReplaceResourcesBody, response: replies({ 200: EnvironmentReply }, 400, 401) } },
    async (req) => {
      const { project, environment_id } = req.params as EnvironmentParamsWire;
      return environmentToWire(await environments.replaceResources(project, environment_id, (req.body as { resources: ResourceBodyWire[] }).resources));
    },
  );

  app.get(
    '/environments/:environment_id/resources',
    { schema: { operationId: 'ShowEnvironmentResources', summary: 'List the managed resources of an environment', tags, params: EnvironmentParams, response: replies({ 200: ResourcesReply }, 400, 401) } },
    async (req) => {
      const { project, environment_id } = req.params as EnvironmentParamsWire;
      return { resources: (await environments.get(project, environment_id)).resources.map(resourceToWire) };
    },
  );

  iacRoutes(app, environments);
}
