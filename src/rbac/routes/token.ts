import type { FastifyInstance } from 'fastify';
import type { RbacPluginOptions } from '../index.js';
import { LoginBody, permsToWire, replies, SelfPermsReply, TokenReply } from '../schemas.js';

/** POST /v4/token (the login, on the whitelist) and GET /v4/self-perms (any valid token). */
export function tokenRoutes(app: FastifyInstance, { rbac }: RbacPluginOptions): void {
  app.post(
    '/v4/token',
    { config: { permission: 'public' }, schema: { operationId: 'Login', summary: 'Get a token', tags: ['rbac'], body: LoginBody, response: replies(TokenReply, 400, 401, 403) } },
    async (req) => ({ token: await rbac.login(req.body as object, req.ip) }),
  );

  app.get(
    '/v4/self-perms',
    { config: { permission: 'authenticated' }, schema: { operationId: 'ListSelfPerms', summary: "The caller's permissions", tags: ['rbac'], response: replies(SelfPermsReply, 401) } },
    async (req) => permsToWire(await rbac.selfPerms(req.rbac!)),
  );
}
