import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody } from '../common/schemas.js';
import type { PageQuery } from '../common/page.js';
import {
  ApplicationParams,
  Component,
  ComponentList,
  ComponentOverviewList,
  componentOverviewToWire,
  ComponentParams,
  componentToWire,
  CreateComponentBody,
  CreateInstanceBody,
  CreateInstanceResponse,
  DeleteComponentQuery,
  DeleteInstanceQuery,
  Instance,
  InstanceActionBody,
  InstanceList,
  instanceListItemToWire,
  InstanceParams,
  instanceToWire,
  JobIdResponse,
  ListSnapshotsQuery,
  SnapshotList,
  UpdateComponentBody,
  UpdateInstanceBody,
  V2ListQuery,
  type CreateComponentBodyWire,
  type CreateInstanceBodyWire,
  type InstanceActionBodyWire,
  type UpdateComponentBodyWire,
  type UpdateInstanceBodyWire,
} from './schemas.js';
import type { CasV2Service } from './service.js';

type AppParams = { project: string; application_id: string };
type CompParams = AppParams & { component_id: string };
type InstParams = CompParams & { instance_id: string };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** ServiceStage v2 components and component instances (src/cas/v2/README.md). operationIds are the Go SDK's. */
export function v2ComponentRoutes(app: FastifyInstance, v2: CasV2Service): void {
  const tags = ['servicestage-v2'];
  const base = '/applications/:application_id/components';

  app.post(
    base,
    { schema: { operationId: 'CreateComponent', summary: 'Create a component (v2: a definition its instances deploy)', tags, params: ApplicationParams, body: CreateComponentBody, response: { 200: Component, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      return componentToWire(await v2.createComponent(p.project, p.application_id, req.body as CreateComponentBodyWire, req.principal?.userName ?? ''));
    },
  );

  app.get(
    base,
    { schema: { operationId: 'ListComponents', summary: "List an application's components (v2)", tags, params: ApplicationParams, querystring: V2ListQuery, response: { 200: ComponentList, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const page = await v2.listComponents(p.project, p.application_id, req.query as PageQuery);
      return { count: page.total, components: page.items.map(componentToWire) };
    },
  );

  app.get(
    `${base}/overviews`,
    { schema: { operationId: 'ListComponentOverviews', summary: "List an application's components with their instances (v2)", tags, params: ApplicationParams, querystring: V2ListQuery, response: { 200: ComponentOverviewList, ...errors } } },
    async (req) => {
      const p = req.params as AppParams;
      const page = await v2.listComponents(p.project, p.application_id, req.query as PageQuery);
      return { count: page.total, components: page.items.map(componentOverviewToWire) };
    },
  );

  app.get(
    `${base}/:component_id`,
    { schema: { operationId: 'ShowComponentDetail', summary: 'Get a component (v2)', tags, params: ComponentParams, response: { 200: Component, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      return componentToWire(await v2.getComponent(p.project, p.application_id, p.component_id));
    },
  );

  app.put(
    `${base}/:component_id`,
    { schema: { operationId: 'ChangeComponent', summary: 'Modify a component (v2)', tags, params: ComponentParams, body: UpdateComponentBody, response: { 200: Component, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      return componentToWire(await v2.updateComponent(p.project, p.application_id, p.component_id, req.body as UpdateComponentBodyWire));
    },
  );

  app.delete(
    `${base}/:component_id`,
    { schema: { operationId: 'DeleteComponent', summary: 'Delete a component (v2; force=true removes its instances too)', tags, params: ComponentParams, querystring: DeleteComponentQuery, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as CompParams;
      await v2.deleteComponent(p.project, p.application_id, p.component_id, (req.query as { force?: boolean }).force ?? false);
      return reply.code(204).send();
    },
  );

  // ───────────── instances ─────────────

  const instances = `${base}/:component_id/instances`;

  app.post(
    instances,
    { schema: { operationId: 'CreateInstance', summary: 'Deploy a component in an environment (v2)', tags, params: ComponentParams, body: CreateInstanceBody, response: { 200: CreateInstanceResponse, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      const r = await v2.createInstance(p.project, p.application_id, p.component_id, req.body as CreateInstanceBodyWire, req.principal?.userName ?? '');
      return { instance_id: r.instanceId, job_id: r.jobId };
    },
  );

  app.get(
    instances,
    { schema: { operationId: 'ListInstances', summary: "List a component's instances (v2)", tags, params: ComponentParams, querystring: V2ListQuery, response: { 200: InstanceList, ...errors } } },
    async (req) => {
      const p = req.params as CompParams;
      const page = await v2.listInstances(p.project, p.application_id, p.component_id, req.query as PageQuery);
      return { count: page.total, instances: page.items.map(instanceListItemToWire) };
    },
  );

  app.get(
    `${instances}/:instance_id`,
    { schema: { operationId: 'ShowInstanceDetail', summary: 'Get an instance (v2)', tags, params: InstanceParams, response: { 200: Instance, ...errors } } },
    async (req) => {
      const p = req.params as InstParams;
      return instanceToWire(await v2.getInstance(p.project, p.application_id, p.component_id, p.instance_id));
    },
  );

  app.put(
    `${instances}/:instance_id`,
    { schema: { operationId: 'ChangeInstance', summary: 'Redeploy an instance (v2)', tags, params: InstanceParams, body: UpdateInstanceBody, response: { 200: JobIdResponse, ...errors } } },
    async (req) => {
      const p = req.params as InstParams;
      return { job_id: await v2.updateInstance(p.project, p.application_id, p.component_id, p.instance_id, req.body as UpdateInstanceBodyWire) };
    },
  );

  app.delete(
    `${instances}/:instance_id`,
    { schema: { operationId: 'DeleteInstance', summary: 'Remove an instance (v2)', tags, params: InstanceParams, querystring: DeleteInstanceQuery, response: { 200: JobIdResponse, ...errors } } },
    async (req) => {
      const p = req.params as InstParams;
      return { job_id: await v2.deleteInstance(p.project, p.application_id, p.component_id, p.instance_id) };
    },
  );

  app.post(
    `${instances}/:instance_id/action`,
    { schema: { operationId: 'UpdateInstanceAction', summary: 'Start, stop, restart, scale or roll back an instance (v2)', tags, params: InstanceParams, body: InstanceActionBody, response: { 200: JobIdResponse, ...errors } } },
    async (req) => {
      const p = req.params as InstParams;
      return { job_id: await v2.instanceAction(p.project, p.application_id, p.component_id, p.instance_id, req.body as InstanceActionBodyWire) };
    },
  );

  app.get(
    `${instances}/:instance_id/snapshots`,
    { schema: { operationId: 'ListInstanceSnapshots', summary: 'Versions an instance was deployed with (v2)', tags, params: InstanceParams, querystring: ListSnapshotsQuery, response: { 200: SnapshotList, ...errors } } },
    async (req) => {
      const p = req.params as InstParams;
      const page = await v2.listSnapshots(p.project, p.application_id, p.component_id, p.instance_id, req.query as { limit?: number; offset?: number; snapshot_order_by?: string; order?: 'asc' | 'desc' });
      return { count: page.total, snapshots: page.items.map((s) => ({ create_time: s.createdAtMs, description: s.description, instance_id: s.instanceId, version: s.version })) };
    },
  );
}
