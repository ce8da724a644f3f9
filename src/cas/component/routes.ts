import type { FastifyInstance } from 'fastify';
import { ErrorBody, ListQuery, ProjectParams, type ListQueryWire } from '../common/schemas.js';
import type { CasServices } from '../index.js';
import type { ActionParameters } from './service.js';
import {
  ActionBody,
  ActionResponse,
  ApplicationParams,
  Component,
  ComponentList,
  componentListItemToWire,
  ComponentParams,
  componentToWire,
  CreateComponentBody,
  CreateComponentResponse,
  DeleteComponentResponse,
  filterOptionsToWire,
  FilterOptionsResponse,
  GetComponentQuery,
  ListComponentsQuery,
  LogsQuery,
  LogsResponse,
  logsToWire,
  RecordList,
  recordToWire,
  RefreshResponse,
  UpdateComponentBody,
  type ComponentBody,
  type UpdateComponentBodyWire,
} from './schemas.js';

type AppParams = { project: string; application_id: string };
type CompParams = AppParams & { component_id: string };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** Components (servicestage.md §4, §4.1, §4.2) and OpenStage's component log API. */
export function componentRoutes(app: FastifyInstance, { components }: CasServices): void {
  const tags = ['servicestage-component'];

  app.post(
    '/applications/:application_id/components',
    { schema: { operationId: 'CreateComponent', summary: 'Create a component and deploy it', tags, params: ApplicationParams, body: CreateComponentBody, response: { 200: CreateComponentResponse, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const r = await components.create(p.project, p.application_id, req.body as ComponentBody, req.principal?.userName ?? '');
      return { component_id: r.componentId, job_id: r.jobId };
    },
  );

  app.get(
    '/applications/:application_id/components',
    { schema: { operationId: 'ShowComponentsInApplication', summary: "List an application's components", tags, params: ApplicationParams, querystring: ListQuery, response: { 200: ComponentList, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const page = await components.list(p.project, p.application_id, req.query as ListQueryWire);
      return { count: page.total, components: page.items.map(componentListItemToWire) };
    },
  );

  app.get(
    '/components',
    { schema: { operationId: 'ShowComponents', summary: "List the project's components", tags, params: ProjectParams, querystring: ListComponentsQuery, response: { 200: ComponentList, ...errors } } },
    async (req) => {
      const page = await components.list((req.params as { project: string }).project, undefined, req.query as ListQueryWire & { application_name?: string; component_name?: string });
      return { count: page.total, components: page.items.map(componentListItemToWire) };
    },
  );

  app.get(
    '/components/filterOptions',
    { schema: { operationId: 'ShowComponentFilterOptions', summary: 'Applications, environments and enterprise projects that have components', tags, params: ProjectParams, response: { 200: FilterOptionsResponse, ...errors } } },
    async (req) => filterOptionsToWire(await components.filterOptions((req.params as { project: string }).project)),
  );

  app.get(
    '/applications/:application_id/components/:component_id',
    { schema: { operationId: 'ShowComponentInfo', summary: 'Get a component with its status', tags, params: ComponentParams, querystring: GetComponentQuery, response: { 200: Component, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      return componentToWire(await components.get(p.project, p.application_id, p.component_id));
    },
  );

  app.put(
    '/applications/:application_id/components/:component_id',
    { schema: { operationId: 'ModifyComponent', summary: 'Upgrade a component with a full body', tags, params: ComponentParams, body: UpdateComponentBody, response: { 200: CreateComponentResponse, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      const r = await components.update(p.project, p.application_id, p.component_id, req.body as UpdateComponentBodyWire);
      return { component_id: r.componentId, job_id: r.jobId };
    },
  );

  app.delete(
    '/applications/:application_id/components/:component_id',
    { schema: { operationId: 'DeleteComponent', summary: 'Delete a component (asynchronous)', tags, params: ComponentParams, response: { 200: DeleteComponentResponse, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      return { component_id: await components.delete(p.project, p.application_id, p.component_id) };
    },
  );

  app.post(
    '/applications/:application_id/components/:component_id/action',
    { schema: { operationId: 'UpdateComponentAction', summary: 'Run a component action', tags, params: ComponentParams, body: ActionBody, response: { 200: ActionResponse, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      const body = req.body as { action: string; parameters?: ActionParameters };
      return { job_id: await components.action(p.project, p.application_id, p.component_id, body.action, body.parameters ?? {}) };
    },
  );

  app.get(
    '/applications/:application_id/components/:component_id/records',
    { schema: { operationId: 'ShowComponentRecords', summary: "A component's deployment records", tags, params: ComponentParams, querystring: ListQuery, response: { 200: RecordList, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      const page = await components.records(p.project, p.application_id, p.component_id, req.query as ListQueryWire);
      return { count: page.total, records: page.items.map(recordToWire) };
    },
  );

  app.put(
    '/applications/:application_id/components/:component_id/refresh',
    { schema: { operationId: 'RefreshComponent', summary: "Refresh a component's state", tags, params: ComponentParams, response: { 200: RefreshResponse, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      await components.refresh(p.project, p.application_id, p.component_id);
      return { message: 'OK' };
    },
  );

  // OpenStage's addition in the style of the v3 API (README.md).
  app.get(
    '/applications/:application_id/components/:component_id/logs',
    { schema: { operationId: 'ShowComponentLogs', summary: "The last lines of each replica's log", tags, params: ComponentParams, querystring: LogsQuery, response: { 200: LogsResponse, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      return logsToWire(await components.logs(p.project, p.application_id, p.component_id, (req.query as { lines?: number }).lines ?? 100));
    },
  );
}
