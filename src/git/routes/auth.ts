import type { FastifyInstance } from 'fastify';
import { baseUrlOf, type GitPluginOptions } from '../index.js';
import { AuthNameParams, AuthorizationWire, authorizationToWire, CreateOauthBody, CreatePasswordBody, CreatePersonalBody, ErrorBody, ProjectParams, RepoTypeParams, TagQuery } from '../schemas.js';
import { Type } from '@sinclair/typebox';

const errors = { 400: ErrorBody, 404: ErrorBody, 502: ErrorBody };
const one = { 200: Type.Object({ authorization: AuthorizationWire }), ...errors };

/** Authorization routes (servicestage.md §9): list, OAuth redirect and exchange, private token, password, delete. */
export function authRoutes(app: FastifyInstance, { git }: GitPluginOptions): void {
  type P = { project: string; repo_type: string };
  type B = { name: string; token: string; host?: string; code: string; state: string };

  app.get('/auths', { schema: { operationId: 'ListAuthorizations', summary: 'List repository authorizations', tags: ['git'], params: ProjectParams, response: { 200: Type.Object({ authorizations: Type.Array(AuthorizationWire) }), ...errors } } }, async (req) => {
    const { project } = req.params as P;
    const list = await git.listAuthorizations(project);
    return { authorizations: list.map((a) => authorizationToWire(a, git.apiUrl(a.repoType, baseUrlOf(req)))) };
  });

  app.get('/auths/:repo_type/redirect', { schema: { operationId: 'ShowRedirectUrl', summary: 'OAuth authorize URL of a Git host', tags: ['git'], params: RepoTypeParams, querystring: TagQuery, response: { 200: Type.Object({ url: Type.String() }), ...errors } } }, async (req) => {
    const { project, repo_type } = req.params as P;
    return { url: await git.oauthRedirect(project, repo_type, baseUrlOf(req)) };
  });

  app.post('/auths/:repo_type/oauth', { schema: { operationId: 'CreateOAuth', summary: 'Create an OAuth authorization from code and state', tags: ['git'], params: RepoTypeParams, querystring: TagQuery, body: CreateOauthBody, response: one } }, async (req) => {
    const { project, repo_type } = req.params as P;
    const a = await git.createOauth(project, repo_type, req.body as B, baseUrlOf(req));
    return { authorization: authorizationToWire(a, git.apiUrl(a.repoType, baseUrlOf(req))) };
  });

  app.post('/auths/:repo_type/personal', { schema: { operationId: 'CreatePersonalAuth', summary: 'Create a private-token authorization', tags: ['git'], params: RepoTypeParams, body: CreatePersonalBody, response: one } }, async (req) => {
    const { project, repo_type } = req.params as P;
    const a = await git.createPersonal(project, repo_type, req.body as B, baseUrlOf(req));
    return { authorization: authorizationToWire(a, git.apiUrl(a.repoType, baseUrlOf(req))) };
  });

  app.post('/auths/:repo_type/password', { schema: { operationId: 'CreatePasswordAuth', summary: 'Create a password authorization (token = base64 of user:password)', tags: ['git'], params: RepoTypeParams, body: CreatePasswordBody, response: one } }, async (req) => {
    const { project, repo_type } = req.params as P;
    const a = await git.createPassword(project, repo_type, req.body as B, baseUrlOf(req));
    return { authorization: authorizationToWire(a, git.apiUrl(a.repoType, baseUrlOf(req))) };
  });

  app.delete('/auths/:name', { schema: { operationId: 'DeleteAuthorize', summary: 'Delete an authorization', tags: ['git'], params: AuthNameParams, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    const { project, name } = req.params as { project: string; name: string };
    await git.deleteAuthorization(project, name);
    return reply.code(204).send();
  });
}
