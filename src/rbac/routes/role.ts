import type { FastifyInstance } from 'fastify';
import { sendEmptyOk } from '../../core/wire/servicecomb.js';
import type { RbacPluginOptions } from '../index.js';
import { CreateRoleBody, listToWire, replies, RoleListReply, RoleParams, RoleReply, roleToWire, UpdateRoleBody } from '../schemas.js';

/** Roles and their permissions (servicecomb.md §2). */
export function roleRoutes(app: FastifyInstance, { rbac }: RbacPluginOptions): void {
  const tags = ['rbac'];

  app.get(
    '/v4/roles',
    { config: { permission: { resource: 'role', verb: 'get' } }, schema: { operationId: 'ListRoles', summary: 'List roles', tags, response: replies(RoleListReply, 401, 403) } },
    async () => listToWire(await rbac.listRoles(), roleToWire),
  );

  app.post(
    '/v4/roles',
    { config: { permission: { resource: 'role', verb: 'create' } }, schema: { operationId: 'CreateRole', summary: 'Create a role', tags, body: CreateRoleBody, response: replies(undefined, 400, 401, 403, 409) } },
    async (req, reply) => {
      await rbac.createRole(req.body as object);
      return sendEmptyOk(reply);
    },
  );

  app.get(
    '/v4/roles/:roleName',
    { config: { permission: { resource: 'role', verb: 'get' } }, schema: { operationId: 'GetRole', summary: 'Get a role', tags, params: RoleParams, response: replies(RoleReply, 400, 401, 403) } },
    async (req) => roleToWire(await rbac.getRole((req.params as { roleName: string }).roleName)),
  );

  app.put(
    '/v4/roles/:roleName',
    { config: { permission: { resource: 'role', verb: 'update' } }, schema: { operationId: 'UpdateRole', summary: "Replace a role's permissions", tags, params: RoleParams, body: UpdateRoleBody, response: replies(undefined, 400, 401, 403) } },
    async (req, reply) => {
      await rbac.updateRole((req.params as { roleName: string }).roleName, req.body as object);
      return sendEmptyOk(reply);
    },
  );

  app.delete(
    '/v4/roles/:roleName',
    { config: { permission: { resource: 'role', verb: 'delete' } }, schema: { operationId: 'DeleteRole', summary: 'Delete a role', tags, params: RoleParams, response: replies(undefined, 400, 401, 403) } },
    async (req, reply) => {
      await rbac.deleteRole((req.params as { roleName: string }).roleName);
      return sendEmptyOk(reply);
    },
  );
}
