import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { assertCasError } from '../helpers/cas-client.js';
import { json, startGit, stubServer, type StubRequest } from './client.js';

const TOKEN = 'MIIx-iam-token';
const PROJECT = '0123456789abcdef0123456789abcdef';

/**
 * Answers as the CodeArts Repo (CodeHub) v1/v2 API does: X-Auth-Token, `{result, status}`
 * envelopes, `page_index`/`page_size` and `page`/`per_page` against `result.total`,
 * API gateway errors `{error_code, error_msg}` (401 APIGW.0301, 429 APIGW.0308), and
 * `{status: "failed", error: {code, message}}` for a missing repository.
 */
function codehub(req: StubRequest, res: ServerResponse, base: string): void {
  if (req.headers['x-auth-token'] !== TOKEN) return json(res, 401, { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information: verify aksk signature fail' });
  const url = new URL(req.url, base);
  const q = (k: string) => url.searchParams.get(k);
  const ok = (result: unknown) => json(res, 200, { result, status: 'success' });
  const repoA = { repository_id: 2111, repository_name: 'demo', group_name: 'grp', project_uuid: PROJECT, https_url: 'https://codehub.example/grp/demo.git', creator_name: 'devuser' };
  const repoB = { repository_id: 2112, repository_name: 'other', group_name: 'grp', project_uuid: PROJECT, https_url: 'https://codehub.example/grp/other.git' };
  const key = `${req.method} ${decodeURIComponent(url.pathname)}`;
  switch (key) {
    case 'GET /v2/projects/repositories':
      return q('page_index') === '1' ? ok({ repositories: q('page_size') === '1' ? [repoA] : [repoA], total: 2 }) : ok({ repositories: [repoB], total: 2 });
    case `GET /v2/projects/${PROJECT}/repositories`:
      return ok({ repositories: q('page_index') === '1' ? [repoA] : [repoB], total: 2 });
    case 'GET /v1/repositories/repoid':
      if (q('group_name') === 'grp' && q('repository_name') === 'demo') return ok(2111);
      return json(res, 200, { status: 'failed', error: { code: 'CH.004404', message: 'repository not exist' } });
    case 'POST /v1/repositories':
      return JSON.parse(req.body).name === 'demo' ? json(res, 400, { status: 'failed', error: { code: 'CH.001016', message: 'repository name already exists' } }) : ok({ repository_uuid: 'uuid-new' });
    case 'GET /v2/repositories/uuid-new':
      return ok({ repository_id: 2200, repository_name: 'fresh', https_url: 'https://codehub.example/grp/fresh.git' });
    case 'GET /v2/repositories/2111/branches':
      return ok({ branches: q('page') === '1' ? [{ name: 'master' }] : [{ name: 'dev' }], total: 2 });
    case 'GET /v2/repositories/2111/tags':
      return ok({ tags: [{ name: 'v1' }], total: 1 });
    case 'POST /v2/repositories/2111/tags':
      return ok({ name: JSON.parse(req.body).tag_name });
    case 'DELETE /v4/repositories/2111/repository/tags/v1':
      return void res.writeHead(204).end();
    case 'GET /v2/projects/2111/repository/commits':
      return ok([{ id: 'f'.repeat(40), message: 'init', authored_date: '2026-03-01T08:00:00.000+08:00' }]);
    case 'GET /v1/repositories/grp/demo/hooks':
      return ok({ hooks: [{ id: 31, url: 'https://ci.example/ch', push_events: true }] });
    case 'POST /v1/repositories/grp/demo/hooks':
      return ok({ id: 32, push_events: true });
    case 'DELETE /v1/repositories/grp/demo/hooks/31':
      return ok({});
    case 'GET /v4/repositories/2111/repository/trees':
      return json(res, 200, [{ path: 'src', type: 'tree' }, { path: 'src/main.go', type: 'blob' }]);
    case 'GET /v2/projects/2111/repository/files/src/main.go':
      return ok({ file_path: 'src/main.go', blob_id: 'b1', last_commit_id: 'e'.repeat(40), encoding: 'base64', content: Buffer.from('package main').toString('base64') });
    case 'POST /v2/projects/2111/repository/commits':
      return ok({ id: '9'.repeat(40) });
    case 'GET /v2/repositories/2999/branches':
      return json(res, 429, { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached: policy user over ratelimit' });
    default:
      return json(res, 404, { error: { code: 'CH.00404', message: 'resource not found' }, status: 'failed' });
  }
}

async function setup(t: Parameters<typeof startGit>[0]) {
  const stub = await stubServer(t, codehub);
  const s = await startGit(t, { 'git.devcloudApiUrl': stub.base });
  const r = await s.git.call('POST', '/auths/devcloud/personal', { body: { name: 'dc', token: TOKEN } });
  assert.equal(r.status, 200, r.text);
  return { s, stub, created: r.body.authorization };
}

const lastBody = (stub: { requests: StubRequest[] }, method: string, path: string) => JSON.parse(stub.requests.filter((r) => r.method === method && r.url.split('?')[0] === path).at(-1)!.body);

describe('devcloud (CodeArts Repo) provider', () => {
  it('checks the IAM token on create; refused is 0451; no API URL configured is 0401', async (t) => {
    const { s, created } = await setup(t);
    assert.deepEqual([created.repo_type, created.token_type], ['devcloud', 'personal']);
    assertCasError(await s.git.call('POST', '/auths/devcloud/personal', { body: { name: 'bad', token: 'nope' } }), 400, 'SVCSTG.REPO.0451', /Incorrect IAM authentication/);
    const plain = await startGit(t);
    assertCasError(await plain.git.call('POST', '/auths/devcloud/personal', { body: { name: 'dc', token: TOKEN } }), 400, 'SVCSTG.REPO.0401');
  });

  it('pages repositories into namespaces and projects; resolves a clone URL', async (t) => {
    const { s } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/namespaces', { auth: 'dc' })).body, { namespaces: [{ id: PROJECT, name: 'grp' }] });
    const projects = [
      { id: '2111', name: 'demo', clone_url: 'https://codehub.example/grp/demo.git' },
      { id: '2112', name: 'other', clone_url: 'https://codehub.example/grp/other.git' },
    ];
    assert.deepEqual((await s.git.call('GET', `/repos/${PROJECT}/projects`, { auth: 'dc' })).body, { projects });
    assert.deepEqual((await s.git.call('GET', '/repos/grp/projects', { auth: 'dc' })).body, { projects });
    const info = await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('git@codehub.example:grp/demo.git')}`, { auth: 'dc' });
    assert.deepEqual(info.body, { namespace_id: PROJECT, namespace: 'grp', project_id: '2111', project: 'demo' });
    assertCasError(await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://codehub.example/grp/none.git')}`, { auth: 'dc' }), 400, 'SVCSTG.REPO.0452');
  });

  it('creates a repository in the project; an existing name is 0403', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/grp/projects', { auth: 'dc', body: { name: 'fresh' } })).body, { id: '2200', name: 'fresh', clone_url: 'https://codehub.example/grp/fresh.git' });
    assert.equal(lastBody(stub, 'POST', '/v1/repositories').project_uuid, PROJECT);
    assertCasError(await s.git.call('POST', '/repos/grp/projects', { auth: 'dc', body: { name: 'demo' } }), 400, 'SVCSTG.REPO.0403');
  });

  it('branches (paged), tags, tag create/delete and commits by id or by group/name', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/grp/2111/branches', { auth: 'dc' })).body, { branches: ['master', 'dev'] });
    assert.deepEqual((await s.git.call('GET', '/repos/grp/demo/branches', { auth: 'dc' })).body, { branches: ['master', 'dev'] });
    assert.deepEqual((await s.git.call('GET', '/repos/grp/demo/tags', { auth: 'dc' })).body, { tags: ['v1'] });
    assert.deepEqual((await s.git.call('POST', '/repos/grp/2111/tags?ref=master', { auth: 'dc', body: { name: 'v2', description: 'rel' } })).body, { name: 'v2' });
    assert.deepEqual(lastBody(stub, 'POST', '/v2/repositories/2111/tags'), { tag_name: 'v2', ref: 'master', message: 'rel' });
    assert.equal((await s.git.call('DELETE', '/repos/grp/2111/tags/v1', { auth: 'dc' })).status, 204);
    assert.deepEqual((await s.git.call('GET', '/repos/grp/2111/commits?ref=master', { auth: 'dc' })).body, { commits: [{ sha: 'f'.repeat(40), message: 'init', authored_date: '2026-03-01T08:00:00.000+08:00' }] });
    assertCasError(await s.git.call('GET', '/repos/grp/none/branches', { auth: 'dc' }), 404, 'SVCSTG.REPO.0404', /not exist/);
  });

  it('hooks by group and repository name (a numeric id is mapped back)', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/grp/2111/hooks', { auth: 'dc' })).body, { hooks: [{ id: '31', type: 'devcloud', callback_url: 'https://ci.example/ch' }] });
    assert.deepEqual((await s.git.call('POST', '/repos/grp/demo/hooks', { auth: 'dc', body: { url: 'https://os.example/h', secret: 'dc-secret' } })).body, { id: '32', type: 'devcloud', callback_url: 'https://os.example/h' });
    assert.deepEqual(lastBody(stub, 'POST', '/v1/repositories/grp/demo/hooks'), { hook_url: 'https://os.example/h', token: 'dc-secret', service: 'OpenStage', hook_events: ['push_events'] });
    assert.equal((await s.git.call('DELETE', '/repos/grp/demo/hooks/31', { auth: 'dc' })).status, 204);
  });

  it('tree, file get and file writes as commit actions guarded by last_commit_id', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/files/grp/2111/trees?ref=master', { auth: 'dc' })).body, { paths: ['src/main.go'] });
    assert.deepEqual((await s.git.call('GET', '/files/grp/2111/src:main.go?ref=master', { auth: 'dc' })).body, { path: 'src/main.go', sha: 'b1', encoding: 'base64', content: Buffer.from('package main').toString('base64') });
    assertCasError(await s.git.call('GET', '/files/grp/2111/none.go?ref=master', { auth: 'dc' }), 404, 'SVCSTG.REPO.0404');
    assert.equal((await s.git.call('POST', '/files/grp/2111/go.mod?ref=master', { auth: 'dc', body: { message: 'mod', content: 'module x' } })).status, 200);
    assert.deepEqual(lastBody(stub, 'POST', '/v2/projects/2111/repository/commits'), { branch: 'master', commit_message: 'mod', actions: [{ action: 'create', file_path: 'go.mod', content: Buffer.from('module x').toString('base64'), encoding: 'base64' }] });
    assertCasError(await s.git.call('POST', '/files/grp/2111/src:main.go?ref=master', { auth: 'dc', body: { message: 'm', content: 'x' } }), 400, 'SVCSTG.REPO.0403');
    assert.equal((await s.git.call('PUT', '/files/grp/2111/src:main.go?ref=master', { auth: 'dc', body: { message: 'edit', content: 'y', sha: 'b1' } })).status, 200);
    assert.deepEqual(lastBody(stub, 'POST', '/v2/projects/2111/repository/commits').actions, [{ action: 'update', file_path: 'src/main.go', content: Buffer.from('y').toString('base64'), encoding: 'base64', last_commit_id: 'e'.repeat(40) }]);
    assertCasError(await s.git.call('PUT', '/files/grp/2111/src:main.go?ref=master', { auth: 'dc', body: { message: 'edit', content: 'y', sha: 'old' } }), 409, 'SVCSTG.REPO.0409');
    assert.equal((await s.git.call('DELETE', '/files/grp/2111/src:main.go?ref=master&message=rm&sha=b1', { auth: 'dc' })).status, 204);
    assert.deepEqual(lastBody(stub, 'POST', '/v2/projects/2111/repository/commits').actions, [{ action: 'delete', file_path: 'src/main.go', last_commit_id: 'e'.repeat(40) }]);
  });

  it('maps the gateway throttle (429 APIGW.0308) to 0429', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('GET', '/repos/grp/2999/branches', { auth: 'dc' }), 429, 'SVCSTG.REPO.0429', /throttling/);
  });
});
