import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, ProjectParams } from '../common/schemas.js';
import type { CasServices } from '../index.js';
import { CreateStackBody, InnerImageList, RuntimeStackWire, StackActionBody, StackList, StackParams, stackToWire, UpdateStackBody } from './schemas.js';
import type { RuntimeStackCreate, RuntimeStackUpdate } from './types.js';

type Params = { project: string; runtimestack_id: string };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** Runtime (technology) stacks and the built-in images (servicestage.md §6). */
export function runtimeStackRoutes(app: FastifyInstance, { runtimeStacks }: CasServices): void {
  const tags = ['servicestage-runtime-stack'];

  app.get(
    '/runtimestacks',
    { schema: { operationId: 'ShowRuntimeStacks', summary: 'List system and custom runtime stacks', tags, params: ProjectParams, response: { 200: StackList, ...errors } } },
    async (req) => {
      const stacks = (await runtimeStacks.list((req.params as { project: string }).project)).map(stackToWire);
      return { runtime_stacks: stacks, runtimestacks: stacks, total: stacks.length };
    },
  );

  app.post(
    '/runtimestacks',
    { schema: { operationId: 'CreateRuntimeStack', summary: 'Create a custom runtime stack (not released)', tags, params: ProjectParams, body: CreateStackBody, response: { 200: RuntimeStackWire, ...errors } } },
    async (req) => stackToWire(await runtimeStacks.create((req.params as { project: string }).project, req.body as RuntimeStackCreate, req.principal?.userName ?? '')),
  );

  // Registered before /runtimestacks/:runtimestack_id; the router prefers the static path anyway.
  app.post(
    '/runtimestacks/action',
    { schema: { operationId: 'UpdateRuntimeStackStatus', summary: 'Release (Supported) or cancel the release (Disable) of custom stacks', tags, params: ProjectParams, body: StackActionBody, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const body = req.body as { action: string; parameters: { runtimestacks: { id: string }[] } };
      await runtimeStacks.action((req.params as { project: string }).project, body.action, body.parameters.runtimestacks.map((s) => s.id));
      return reply.code(204).send();
    },
  );

  app.get(
    '/runtimestacks/:runtimestack_id',
    { schema: { operationId: 'ShowRuntimeStack', summary: 'Get a runtime stack', tags, params: StackParams, response: { 200: RuntimeStackWire, ...errors } } },
    async (req) => {
      const p = req.params as Params;
      return stackToWire(await runtimeStacks.get(p.project, p.runtimestack_id));
    },
  );

  app.put(
    '/runtimestacks/:runtimestack_id',
    { schema: { operationId: 'ModifyRuntimeStack', summary: 'Modify a custom runtime stack', tags, params: StackParams, body: UpdateStackBody, response: { 200: RuntimeStackWire, ...errors } } },
    async (req) => {
      const p = req.params as Params;
      return stackToWire(await runtimeStacks.update(p.project, p.runtimestack_id, req.body as RuntimeStackUpdate));
    },
  );

  // Terraform sends the create body on DELETE: it is parsed and ignored (no body schema).
  app.delete(
    '/runtimestacks/:runtimestack_id',
    { schema: { operationId: 'DeleteRuntimeStack', summary: 'Delete a custom runtime stack', tags, params: StackParams, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const p = req.params as Params;
      await runtimeStacks.delete(p.project, p.runtimestack_id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/innerimages',
    { schema: { operationId: 'ShowInnerImages', summary: 'What each system stack runs on', tags, params: ProjectParams, response: { 200: InnerImageList, ...errors } } },
    async () => ({ runtime_stacks: runtimeStacks.innerImages() }),
  );
}
