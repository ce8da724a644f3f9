import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { iamError } from './errors.js';
import type { IamService, PasswordLogin } from './service.js';

const TokenBody = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String()),
      password: Type.Optional(
        Type.Object({
          user: Type.Object({
            name: Type.String({ minLength: 1 }),
            password: Type.String({ minLength: 1 }),
            domain: Type.Optional(Type.Object({ name: Type.Optional(Type.String()), id: Type.Optional(Type.String()) })),
          }),
        }),
      ),
      token: Type.Optional(Type.Object({ id: Type.String({ minLength: 1 }) })),
    }),
    scope: Type.Optional(
      Type.Object({
        project: Type.Optional(Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) })),
        domain: Type.Optional(Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) })),
      }),
    ),
  }),
});

type TokenRequest = {
  auth: {
    identity: { methods: string[]; password?: { user: { name: string; password: string; domain?: { name?: string; id?: string } } }; token?: { id: string } };
    scope?: { project?: { id?: string; name?: string } };
  };
};

/** A schema naming only the operation (for the OpenAPI document). */
const op = (operationId: string): FastifySchema => ({ operationId }) as FastifySchema;

const projectWire = (p: { id: string; name: string; domainId: string }) => ({ id: p.id, name: p.name, domain_id: p.domainId, enabled: true, is_domain: false, parent_id: p.domainId, description: '' });

/** Keystone-compatible token and project routes (Huawei IAM v3 subset). */
export function iamRoutes(app: FastifyInstance, iam: IamService, check: (request: FastifyRequest) => Promise<void>): void {
  app.post('/v3/auth/tokens', { schema: { operationId: 'KeystoneCreateUserTokenByPassword', body: TokenBody } }, async (req, reply) => {
    const { auth } = req.body as TokenRequest;
    const project = auth.scope?.project;
    if (project && project.id === undefined && project.name === undefined) throw iamError('InvalidArgument', 'a project scope needs an id or a name');
    // The token method (Keystone rescoping) trades a valid token for one scoped to another project.
    if (auth.identity.methods.includes('token') && auth.identity.token) {
      if (!project) throw iamError('InvalidArgument', 'the token method needs a project scope');
      const { token, record } = await iam.rescopeToken(auth.identity.token.id, { projectId: project.id, projectName: project.name });
      reply.code(201).header('X-Subject-Token', token);
      return iam.tokenBody(record, 'token');
    }
    if (!auth.identity.methods.includes('password') || !auth.identity.password) throw iamError('InvalidArgument', 'the supported methods are password and token');
    const { user } = auth.identity.password;
    const login: PasswordLogin = { userName: user.name, password: user.password, domainName: user.domain?.name, domainId: user.domain?.id, projectId: project?.id, projectName: project?.name };
    const { token, record } = await iam.issueToken(login);
    reply.code(201).header('X-Subject-Token', token);
    return iam.tokenBody(record);
  });

  app.get('/v3/auth/tokens', { schema: op('KeystoneValidateToken') }, async (req, reply) => {
    await check(req);
    const subject = req.headers['x-subject-token'];
    if (typeof subject !== 'string' || !subject) throw iamError('InvalidArgument', 'X-Subject-Token is required');
    const record = await iam.validateToken(subject).catch(() => {
      throw iamError('NotFound', 'the token does not exist or has expired');
    });
    reply.header('X-Subject-Token', subject);
    return iam.tokenBody(record);
  });

  app.delete('/v3/auth/tokens', { schema: op('KeystoneRevokeToken') }, async (req, reply) => {
    await check(req);
    const subject = req.headers['x-subject-token'];
    if (typeof subject !== 'string' || !subject) throw iamError('InvalidArgument', 'X-Subject-Token is required');
    const principal = req.principal!;
    const record = await iam.validateToken(subject).catch(() => {
      throw iamError('NotFound', 'the token does not exist or has expired');
    });
    if (principal.method !== 'none' && record.userId !== principal.userId) throw iamError('Forbidden', 'a token can be revoked only by its user');
    await iam.revokeToken(subject);
    return reply.code(204).send();
  });

  const listProjects = async (req: FastifyRequest) => {
    await check(req);
    const name = (req.query as { name?: string }).name;
    const projects = iam.projectsOf(req.principal!, name).map(projectWire);
    return { projects, links: { self: req.url, previous: null, next: null } };
  };
  app.get('/v3/projects', { schema: op('KeystoneListProjects') }, listProjects);
  app.get('/v3/auth/projects', { schema: op('KeystoneListAuthProjects') }, listProjects);

  // The domain of the caller; the Terraform provider asks for it on every start (issue #18 item 16).
  app.get('/v3/auth/domains', { schema: op('KeystoneListAuthDomains') }, async (req) => {
    await check(req);
    const { domainId, domainName } = req.principal!;
    return { domains: [{ id: domainId, name: domainName, enabled: true, description: '', links: { self: `/v3/domains/${domainId}` } }], links: { self: req.url, previous: null, next: null } };
  });

  app.post('/v3/projects', { schema: { operationId: 'KeystoneCreateProject', body: Type.Object({ project: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), domain_id: Type.Optional(Type.String()), description: Type.Optional(Type.String()) }) }) } }, async (req, reply) => {
    await check(req);
    const principal = req.principal!;
    const { name, domain_id: domainId } = (req.body as { project: { name: string; domain_id?: string } }).project;
    if (principal.method === 'none') throw iamError('Forbidden', 'creating a project needs an identified caller');
    if (!iam.isAdmin(principal)) throw iamError('Forbidden', 'only the domain admin may create projects');
    if (domainId && domainId !== principal.domainId) throw iamError('Forbidden', 'a project can be created only in the caller\'s domain');
    const project = await iam.createProject(name, principal.domainId);
    await iam.addMember(principal.userId, project.id);
    reply.code(201);
    return { project: projectWire(project) };
  });

  app.get('/v3/projects/:project', { preValidation: check, schema: { operationId: 'KeystoneShowProject', params: Type.Object({ project: Type.String() }) } }, async (req) => {
    const project = iam.findProject((req.params as { project: string }).project);
    if (!project) throw iamError('NotFound', 'project not found');
    return { project: projectWire(project) };
  });
}
