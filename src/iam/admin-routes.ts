import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../core/config.js';
import { iamError } from './errors.js';
import type { IamService } from './service.js';
import type { Principal } from './types.js';

/**
 * User, membership and access-key administration, in the shape of Huawei IAM's APIs
 * ("Creating an IAM User", Keystone role grants, "Creating a Permanent Access Key"). Only
 * the domain's admin user (`iam.adminName`) may call them; the `openstage user|project|key`
 * commands are clients of these routes.
 */
export function iamAdminRoutes(app: FastifyInstance, iam: IamService, config: Readonly<Config>, check: (request: FastifyRequest) => Promise<void>): void {
  const requireAdmin = async (req: FastifyRequest): Promise<Principal> => {
    await check(req);
    const p = req.principal!;
    if (!iam.isAdmin(p)) throw iamError('Forbidden', 'only the domain admin may manage users and keys');
    return p;
  };
  const userWire = (u: { id: string; name: string; domainId: string; createdAtMs: number }) => ({ id: u.id, name: u.name, domain_id: u.domainId, enabled: true, create_time: new Date(u.createdAtMs).toISOString() });
  const resolveUser = (idOrName: string) => iam.listUsers().find((u) => u.id === idOrName || (u.name === idOrName && u.domainName === config.iam.domainName));

  app.post('/v3.0/OS-USER/users', { schema: { operationId: 'CreateUser', body: Type.Object({ user: Type.Object({ name: Type.String(), password: Type.String(), domain_id: Type.Optional(Type.String()) }) }) } }, async (req, reply) => {
    await requireAdmin(req);
    const { name, password } = (req.body as { user: { name: string; password: string } }).user;
    const user = await iam.createUser(name, password);
    reply.code(201);
    return { user: userWire(user) };
  });

  app.get('/v3/users', { schema: { operationId: 'KeystoneListUsers', querystring: Type.Object({ name: Type.Optional(Type.String()) }) } }, async (req) => {
    await requireAdmin(req);
    const name = (req.query as { name?: string }).name;
    return { users: iam.listUsers().filter((u) => name === undefined || u.name === name).map((u) => ({ ...userWire(u), project_ids: u.projectIds })) };
  });

  app.put('/v3/projects/:project/users/:userId/roles/:roleId', { schema: { operationId: 'KeystoneAssociateGroupWithProjectPermission', params: Type.Object({ project: Type.String(), userId: Type.String(), roleId: Type.String() }) } }, async (req, reply) => {
    await requireAdmin(req);
    const { project: projectId, userId } = req.params as { project: string; userId: string };
    const user = resolveUser(userId);
    if (!user) throw iamError('NotFound', `user ${userId}`);
    await iam.addMember(user.id, projectId);
    return reply.code(204).send();
  });

  app.post('/v3.0/OS-CREDENTIAL/credentials', { schema: { operationId: 'CreatePermanentAccessKey', body: Type.Object({ credential: Type.Object({ user_id: Type.String(), description: Type.Optional(Type.String()) }) }) } }, async (req, reply) => {
    await requireAdmin(req);
    const user = resolveUser((req.body as { credential: { user_id: string } }).credential.user_id);
    if (!user) throw iamError('NotFound', 'user not found');
    const { accessKey, secretKey } = await iam.createAccessKey(user.id);
    reply.code(201);
    return { credential: { access: accessKey, secret: secretKey, user_id: user.id, status: 'active', create_time: new Date().toISOString(), description: '' } };
  });

  app.get('/v3.0/OS-CREDENTIAL/credentials', { schema: { operationId: 'ListPermanentAccessKeys', querystring: Type.Object({ user_id: Type.Optional(Type.String()) }) } }, async (req) => {
    await requireAdmin(req);
    const userId = (req.query as { user_id?: string }).user_id;
    const user = userId ? resolveUser(userId) : undefined;
    if (userId && !user) throw iamError('NotFound', 'user not found');
    return {
      credentials: iam
        .listAccessKeys()
        .filter((k) => !user || k.userId === user.id)
        .map((k) => ({ access: k.accessKey, user_id: k.userId, status: k.status, create_time: new Date(k.createdAtMs).toISOString(), description: '' })),
    };
  });

  app.delete('/v3.0/OS-CREDENTIAL/credentials/:accessKey', { schema: { operationId: 'DeletePermanentAccessKey', params: Type.Object({ accessKey: Type.String() }) } }, async (req, reply) => {
    await requireAdmin(req);
    await iam.deleteAccessKey((req.params as { accessKey: string }).accessKey);
    return reply.code(204).send();
  });
}
