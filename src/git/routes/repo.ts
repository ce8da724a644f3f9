import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { baseUrlOf, type GitPluginOptions } from '../index.js';
import { CloneUrlQuery, CommitWire, CreateHookBody, CreateProjectBody, CreateTagBody, ErrorBody, HookParams, HookWire, NamespaceParams, NamespaceWire, OptionalRefQuery, ProjectParams, ProjectWire, RefQuery, RepoParams, TagParams } from '../schemas.js';
import { repoKey, type GitService } from '../service.js';
import type { RepoProvider } from '../types.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody, 502: ErrorBody };
const tags = ['git'];

/** The provider of the authorization named in X-Repo-Auth. */
export function providerOf(git: GitService, req: FastifyRequest): Promise<RepoProvider> {
  const header = req.headers['x-repo-auth'];
  return git.provider((req.params as { project: string }).project, Array.isArray(header) ? header[0] : header, baseUrlOf(req));
}

/** Repository routes (servicestage.md §9): namespaces, project info, projects, branches, tags, commits, hooks. */
export function repoRoutes(app: FastifyInstance, { git }: GitPluginOptions): void {
  type R = { project: string; namespace: string; repo: string; tag_name: string; hook_id: string };
  const key = (req: FastifyRequest) => {
    const p = req.params as R;
    return repoKey(p.namespace, p.repo);
  };

  app.get('/repos/namespaces', { schema: { operationId: 'ListNamespaces', summary: 'Namespaces the authorization sees', tags, params: ProjectParams, response: { 200: Type.Object({ namespaces: Type.Array(NamespaceWire) }), ...errors } } }, async (req) => ({
    namespaces: await (await providerOf(git, req)).namespaces(),
  }));

  app.get('/repos/project-info', { schema: { operationId: 'ShowProjectInfo', summary: 'Repository of a clone URL', tags, params: ProjectParams, querystring: CloneUrlQuery, response: { 200: Type.Object({ namespace_id: Type.String(), namespace: Type.String(), project_id: Type.String(), project: Type.String() }), ...errors } } }, async (req) =>
    (await providerOf(git, req)).projectInfo((req.query as { clone_url: string }).clone_url),
  );

  app.get('/repos/:namespace/projects', { schema: { operationId: 'ListProjects', summary: 'Projects of a namespace', tags, params: NamespaceParams, response: { 200: Type.Object({ projects: Type.Array(ProjectWire) }), ...errors } } }, async (req) => ({
    projects: await (await providerOf(git, req)).projects((req.params as R).namespace),
  }));

  app.post('/repos/:namespace/projects', { schema: { operationId: 'CreateProject', summary: 'Create a project in a namespace', tags, params: NamespaceParams, body: CreateProjectBody, response: { 200: ProjectWire, ...errors } } }, async (req) =>
    (await providerOf(git, req)).createProject((req.params as R).namespace, (req.body as { name: string }).name),
  );

  app.get('/repos/:namespace/:repo/branches', { schema: { operationId: 'ListBranches', summary: 'Branches of a project', tags, params: RepoParams, response: { 200: Type.Object({ branches: Type.Array(Type.String()) }), ...errors } } }, async (req) => ({
    branches: await (await providerOf(git, req)).branches(key(req)),
  }));

  app.get('/repos/:namespace/:repo/tags', { schema: { operationId: 'ListTags', summary: 'Tags of a project', tags, params: RepoParams, response: { 200: Type.Object({ tags: Type.Array(Type.String()) }), ...errors } } }, async (req) => ({
    tags: await (await providerOf(git, req)).tags(key(req)),
  }));

  app.post('/repos/:namespace/:repo/tags', { schema: { operationId: 'CreateTag', summary: 'Create an annotated tag at ref', tags, params: RepoParams, querystring: RefQuery, body: CreateTagBody, response: { 200: Type.Object({ name: Type.String() }), ...errors } } }, async (req) => {
    const body = req.body as { name: string; description: string };
    await (await providerOf(git, req)).createTag(key(req), body.name, (req.query as { ref: string }).ref, body.description);
    return { name: body.name };
  });

  app.delete('/repos/:namespace/:repo/tags/:tag_name', { schema: { operationId: 'DeleteTag', summary: 'Delete a tag', tags, params: TagParams, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    await (await providerOf(git, req)).deleteTag(key(req), (req.params as R).tag_name);
    return reply.code(204).send();
  });

  app.get('/repos/:namespace/:repo/commits', { schema: { operationId: 'ListCommits', summary: 'Latest 10 commits of ref (default branch when absent)', tags, params: RepoParams, querystring: OptionalRefQuery, response: { 200: Type.Object({ commits: Type.Array(CommitWire) }), ...errors } } }, async (req) => ({
    commits: await (await providerOf(git, req)).commits(key(req), (req.query as { ref?: string }).ref),
  }));

  app.get('/repos/:namespace/:repo/hooks', { schema: { operationId: 'ListHooks', summary: 'Hooks of a project', tags, params: RepoParams, response: { 200: Type.Object({ hooks: Type.Array(HookWire) }), ...errors } } }, async (req) => ({
    hooks: await (await providerOf(git, req)).hooks(key(req)),
  }));

  app.post('/repos/:namespace/:repo/hooks', { schema: { operationId: 'CreateHook', summary: 'Create a push hook with a secret', tags, params: RepoParams, body: CreateHookBody, response: { 200: HookWire, ...errors } } }, async (req) => {
    const { url, secret } = req.body as { url: string; secret: string };
    const hook = await (await providerOf(git, req)).createHook(key(req), url, secret);
    if (hook.type !== 'local') await git.rememberHookSecret((req.params as R).project, hook.type, hook.id, secret);
    return hook;
  });

  app.delete('/repos/:namespace/:repo/hooks/:hook_id', { schema: { operationId: 'DeleteHook', summary: 'Delete a hook', tags, params: HookParams, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    const p = req.params as R;
    const provider = await providerOf(git, req);
    await provider.deleteHook(key(req), p.hook_id);
    for (const type of ['github', 'gitlab', 'gitee', 'bitbucket', 'devcloud']) await git.forgetHookSecret(p.project, type, p.hook_id);
    return reply.code(204).send();
  });
}
