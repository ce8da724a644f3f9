import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, ProjectParams } from '../common/schemas.js';
import type { PageQuery } from '../common/page.js';
import { flavorsToWire, runtimesToWire } from './convert.js';
import {
  Application,
  ApplicationList,
  ApplicationParams,
  applicationToWire,
  ChangeResourcesBody,
  Configuration,
  ConfigurationList,
  ConfigurationQuery,
  configurationToWire,
  CreateApplicationBody,
  CreateEnvironmentBody,
  DeleteConfigurationQuery,
  Environment,
  EnvironmentList,
  EnvironmentParams,
  environmentToWire,
  FlavorList,
  Job,
  JobParams,
  JobQuery,
  PutConfigurationBody,
  RuntimeList,
  TemplateList,
  UpdateApplicationBody,
  UpdateEnvironmentBody,
  V2ListQuery,
  type ChangeResourcesBodyWire,
  type CreateApplicationBodyWire,
  type CreateEnvironmentBodyWire,
  type JobQueryWire,
  type PutConfigurationBodyWire,
  type UpdateApplicationBodyWire,
  type UpdateEnvironmentBodyWire,
} from './schemas.js';
import type { CasV2Service } from './service.js';

type EnvParams = { project: string; environment_id: string };
type AppParams = { project: string; application_id: string };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/**
 * ServiceStage v2 environments, applications, application configuration, jobs and metadata
 * under `/v2/{project}/cas` (src/cas/v2/README.md). operationIds are the Go SDK's.
 */
export function v2Routes(app: FastifyInstance, v2: CasV2Service): void {
  const tags = ['servicestage-v2'];

  // ───────────── environments ─────────────

  app.post(
    '/environments',
    { schema: { operationId: 'CreateEnvironment', summary: 'Create an environment (v2)', tags, params: ProjectParams, body: CreateEnvironmentBody, response: { 200: Environment, ...errors } } },
    async (req) => environmentToWire(await v2.createEnvironment((req.params as { project: string }).project, req.body as CreateEnvironmentBodyWire, req.principal?.userName ?? '')),
  );

  app.get(
    '/environments',
    { schema: { operationId: 'ListEnvironments', summary: 'List environments (v2)', tags, params: ProjectParams, querystring: V2ListQuery, response: { 200: EnvironmentList, ...errors } } },
    async (req) => {
      const page = await v2.listEnvironments((req.params as { project: string }).project, req.query as PageQuery);
      return { count: page.total, environments: page.items.map(environmentToWire) };
    },
  );

  app.get(
    '/environments/:environment_id',
    { schema: { operationId: 'ShowEnvironmentDetail', summary: 'Get an environment (v2)', tags, params: EnvironmentParams, response: { 200: Environment, ...errors } } },
    async (req) => {
      const p = req.params as EnvParams;
      return environmentToWire(await v2.getEnvironment(p.project, p.environment_id));
    },
  );

  app.put(
    '/environments/:environment_id',
    { schema: { operationId: 'ChangeEnvironment', summary: 'Modify an environment (v2)', tags, params: EnvironmentParams, body: UpdateEnvironmentBody, response: { 200: Environment, ...errors } } },
    async (req) => {
      const p = req.params as EnvParams;
      return environmentToWire(await v2.updateEnvironment(p.project, p.environment_id, req.body as UpdateEnvironmentBodyWire));
    },
  );

  app.patch(
    '/environments/:environment_id/resources',
    { schema: { operationId: 'ChangeResourceInEnvironment', summary: "Add and remove an environment's resources (v2)", tags, params: EnvironmentParams, body: ChangeResourcesBody, response: { 200: Environment, ...errors } } },
    async (req) => {
      const p = req.params as EnvParams;
      return environmentToWire(await v2.changeResources(p.project, p.environment_id, req.body as ChangeResourcesBodyWire));
    },
  );

  app.delete(
    '/environments/:environment_id',
    { schema: { operationId: 'DeleteEnvironment', summary: 'Delete an environment (v2)', tags, params: EnvironmentParams, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as EnvParams;
      await v2.deleteEnvironment(p.project, p.environment_id);
      return reply.code(204).send();
    },
  );

  // ───────────── applications ─────────────

  app.post(
    '/applications',
    { schema: { operationId: 'CreateApplication', summary: 'Create an application (v2)', tags, params: ProjectParams, body: CreateApplicationBody, response: { 200: Application, ...errors } } },
    async (req) => applicationToWire(await v2.createApplication((req.params as { project: string }).project, req.body as CreateApplicationBodyWire, req.principal?.userName ?? '')),
  );

  app.get(
    '/applications',
    { schema: { operationId: 'ListApplications', summary: 'List applications (v2)', tags, params: ProjectParams, querystring: V2ListQuery, response: { 200: ApplicationList, ...errors } } },
    async (req) => {
      const page = await v2.listApplications((req.params as { project: string }).project, req.query as PageQuery);
      return { count: page.total, applications: page.items.map(applicationToWire) };
    },
  );

  app.get(
    '/applications/:application_id',
    { schema: { operationId: 'ShowApplicationDetail', summary: 'Get an application (v2)', tags, params: ApplicationParams, response: { 200: Application, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      return applicationToWire(await v2.getApplication(p.project, p.application_id));
    },
  );

  app.put(
    '/applications/:application_id',
    { schema: { operationId: 'ChangeApplication', summary: 'Modify an application (v2)', tags, params: ApplicationParams, body: UpdateApplicationBody, response: { 200: Application, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      return applicationToWire(await v2.updateApplication(p.project, p.application_id, req.body as UpdateApplicationBodyWire));
    },
  );

  app.delete(
    '/applications/:application_id',
    { schema: { operationId: 'DeleteApplication', summary: 'Delete an application without instances (v2)', tags, params: ApplicationParams, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as AppParams;
      await v2.deleteApplication(p.project, p.application_id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/applications/:application_id/configuration',
    { schema: { operationId: 'ShowApplicationConfiguration', summary: "An application's variables per environment (v2)", tags, params: ApplicationParams, querystring: ConfigurationQuery, response: { 200: ConfigurationList, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const configs = await v2.getConfiguration(p.project, p.application_id, (req.query as { environment_id?: string }).environment_id || undefined);
      return { configuration: configs.map(configurationToWire) };
    },
  );

  app.put(
    '/applications/:application_id/configuration',
    { schema: { operationId: 'ChangeApplicationConfiguration', summary: "Set an application's variables in one environment (v2)", tags, params: ApplicationParams, body: PutConfigurationBody, response: { 200: Configuration, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      return configurationToWire(await v2.putConfiguration(p.project, p.application_id, req.body as PutConfigurationBodyWire));
    },
  );

  app.delete(
    '/applications/:application_id/configuration',
    { schema: { operationId: 'DeleteApplicationConfiguration', summary: "Delete an application's variables in one environment (v2)", tags, params: ApplicationParams, querystring: DeleteConfigurationQuery, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as AppParams;
      await v2.deleteConfiguration(p.project, p.application_id, (req.query as { environment_id: string }).environment_id);
      return reply.code(204).send();
    },
  );

  // ───────────── jobs and metadata ─────────────

  app.get(
    '/jobs/:job_id',
    { schema: { operationId: 'ShowJobDetail', summary: 'A deployment job with its tasks (v2, upper-case fields)', tags, params: JobParams, querystring: JobQuery, response: { 200: Job, ...errors } } },
    async (req) => {
      const p = req.params as { project: string; job_id: string };
      return v2.getJob(p.project, p.job_id, req.query as JobQueryWire);
    },
  );

  app.get('/metadata/flavors', { schema: { operationId: 'ListFlavors', summary: 'Resource flavors of instances (v2)', tags, params: ProjectParams, response: { 200: FlavorList, ...errors } } }, async () => flavorsToWire());

  app.get('/metadata/runtimes', { schema: { operationId: 'ListRuntimes', summary: 'Component runtimes this server runs (v2)', tags, params: ProjectParams, response: { 200: RuntimeList, ...errors } } }, async () => runtimesToWire(v2.runnableStackTypes()));

  // OpenStage has no application templates (magento, mbaas, wordpress are cloud offerings).
  app.get('/metadata/templates', { schema: { operationId: 'ListTemplates', summary: 'Application templates (v2): none', tags, params: ProjectParams, response: { 200: TemplateList, ...errors } } }, async () => ({ templates: [] }));
}
