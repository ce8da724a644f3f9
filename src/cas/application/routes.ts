import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, ListQuery, ProjectParams, type ListQueryWire } from '../common/schemas.js';
import type { CasServices } from '../index.js';
import {
  Application,
  ApplicationList,
  ApplicationParams,
  applicationToWire,
  Configuration,
  ConfigurationList,
  ConfigurationQuery,
  configurationToWire,
  CreateApplicationBody,
  DeleteConfigurationQuery,
  PutConfigurationBody,
  UpdateApplicationBody,
} from './schemas.js';
import type { ApplicationCreate, ApplicationUpdate, EnvVar } from './types.js';

type AppParams = { project: string; application_id: string };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** Applications and application configuration (servicestage.md §3). */
export function applicationRoutes(app: FastifyInstance, { applications }: CasServices): void {
  const tags = ['servicestage-application'];

  app.post(
    '/applications',
    { schema: { operationId: 'CreateApplication', summary: 'Create an application', tags, params: ProjectParams, body: CreateApplicationBody, response: { 200: Application, ...errors } } },
    async (req) => applicationToWire(await applications.create((req.params as { project: string }).project, req.body as ApplicationCreate, req.principal?.userName ?? '')),
  );

  app.get(
    '/applications',
    { schema: { operationId: 'ShowApplications', summary: 'List applications', tags, params: ProjectParams, querystring: ListQuery, response: { 200: ApplicationList, ...errors } } },
    async (req) => {
      const page = await applications.list((req.params as { project: string }).project, req.query as ListQueryWire);
      return { count: page.total, applications: page.items.map(applicationToWire) };
    },
  );

  app.get(
    '/applications/:application_id',
    { schema: { operationId: 'ShowApplicationInfo', summary: 'Get an application', tags, params: ApplicationParams, response: { 200: Application, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      return applicationToWire(await applications.get(p.project, p.application_id));
    },
  );

  app.put(
    '/applications/:application_id',
    { schema: { operationId: 'ModifyApplication', summary: 'Modify an application', tags, params: ApplicationParams, body: UpdateApplicationBody, response: { 200: Application, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      return applicationToWire(await applications.update(p.project, p.application_id, req.body as ApplicationUpdate));
    },
  );

  app.delete(
    '/applications/:application_id',
    { schema: { operationId: 'DeleteApplication', summary: 'Delete an application without components', tags, params: ApplicationParams, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as AppParams;
      await applications.delete(p.project, p.application_id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/applications/:application_id/configuration',
    { schema: { operationId: 'ShowApplicationConfiguration', summary: "An application's configuration per environment", tags, params: ApplicationParams, querystring: ConfigurationQuery, response: { 200: ConfigurationList, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const configs = await applications.getConfiguration(p.project, p.application_id, (req.query as { environment_id?: string }).environment_id);
      return { configuration: configs.map(configurationToWire) };
    },
  );

  app.put(
    '/applications/:application_id/configuration',
    { schema: { operationId: 'ModifyApplicationConfiguration', summary: "Set an application's configuration in one environment", tags, params: ApplicationParams, body: PutConfigurationBody, response: { 200: Configuration, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const body = req.body as { environment_id: string; configuration: { env: EnvVar[]; assign_strategy?: boolean } };
      return configurationToWire(await applications.putConfiguration(p.project, p.application_id, body));
    },
  );

  app.delete(
    '/applications/:application_id/configuration',
    { schema: { operationId: 'DeleteApplicationConfiguration', summary: "Delete an application's configuration in one environment", tags, params: ApplicationParams, querystring: DeleteConfigurationQuery, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as AppParams;
      await applications.deleteConfiguration(p.project, p.application_id, (req.query as { environment_id: string }).environment_id);
      return reply.code(204).send();
    },
  );
}
