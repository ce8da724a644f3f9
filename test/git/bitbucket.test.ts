import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { assertCasError } from '../helpers/cas-client.js';
import { json, startGit, stubServer, type StubRequest } from './client.js';

const TOKEN = 'bb-access-token';
const HEAD = 'a'.repeat(40);
const FILE = Buffer.from('server:\n  port: 8080\n');
/** Git's blob id of FILE, as `git hash-object` gives it. */
const FILE_SHA = createHash('sha1').update(`blob ${FILE.length}\0`).update(FILE).digest('hex');

/**
 * Answers as api.bitbucket.org/2.0 does: Bearer token, `{values, next, pagelen}` pages,
 * `{"type":"error","error":{"message"}}` errors, 429 rate limit, raw file bytes from `/src`
 * and `?format=meta`, commits by `POST /src` (multipart form).
 */
function bitbucket(req: StubRequest, res: ServerResponse, base: string): void {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { type: 'error', error: { message: 'Access token expired or invalid' } });
  const url = new URL(req.url, base);
  const page = url.searchParams.get('page') ?? '1';
  const paged = (path: string, pages: unknown[][]) => {
    const n = Number(page);
    return json(res, 200, { pagelen: 100, page: n, size: pages.flat().length, values: pages[n - 1] ?? [], ...(n < pages.length ? { next: `${base}${path}?pagelen=100&page=${n + 1}` } : {}) });
  };
  const repo = '/repositories/team/api';
  const key = `${req.method} ${decodeURIComponent(url.pathname)}`;
  switch (key) {
    case 'GET /user':
      return json(res, 200, { username: 'bucky', links: { html: { href: 'https://bitbucket.org/bucky/' }, avatar: { href: 'https://bitbucket.org/av.png' } } });
    case 'GET /user/permissions/workspaces':
      return paged('/user/permissions/workspaces', [[{ permission: 'owner', workspace: { slug: 'bucky' } }], [{ permission: 'member', workspace: { slug: 'team' } }]]);
    case `GET ${repo}`:
      return json(res, 200, { slug: 'api', name: 'API', full_name: 'team/api', workspace: { slug: 'team' }, mainbranch: { name: 'main' } });
    case 'GET /repositories/team':
      return paged('/repositories/team', [[{ slug: 'api', full_name: 'team/api', links: { clone: [{ name: 'https', href: 'https://bucky@bitbucket.org/team/api.git' }, { name: 'ssh', href: 'git@bitbucket.org:team/api.git' }] } }]]);
    case 'POST /repositories/team/web':
      return json(res, 200, { slug: 'web', full_name: 'team/web', links: { clone: [{ name: 'https', href: 'https://bucky@bitbucket.org/team/web.git' }] } });
    case 'POST /repositories/team/api':
      return json(res, 400, { type: 'error', error: { message: 'Repository with this Slug and Owner already exists.' } });
    case `GET ${repo}/refs/branches`:
      return paged(`${repo}/refs/branches`, [[{ name: 'main' }], [{ name: 'feature/x' }]]);
    case `GET ${repo}/refs/tags`:
      return paged(`${repo}/refs/tags`, [[{ name: 'v1' }]]);
    case `GET ${repo}/commit/main`:
    case `GET ${repo}/commit/dev`:
      return json(res, 200, { hash: HEAD });
    case `POST ${repo}/refs/tags`:
      return JSON.parse(req.body).name === 'v1' ? json(res, 400, { type: 'error', error: { message: 'tag "v1" already exists' } }) : json(res, 201, { name: JSON.parse(req.body).name });
    case `DELETE ${repo}/refs/tags/v1`:
    case `DELETE ${repo}/hooks/{8f1e-77}`:
      return void res.writeHead(204).end();
    case `GET ${repo}/commits/main`:
      return json(res, 200, { pagelen: 10, values: [{ hash: HEAD, message: 'first\n', date: '2026-02-03T04:05:06+00:00' }] });
    case `GET ${repo}/hooks`:
      return paged(`${repo}/hooks`, [[{ uuid: '{8f1e-77}', url: 'https://ci.example/bb', events: ['repo:push'] }]]);
    case `POST ${repo}/hooks`:
      return json(res, 201, { uuid: '{9abc-01}', url: JSON.parse(req.body).url });
    case `GET ${repo}/src/${HEAD}/`:
      return paged(`${repo}/src/${HEAD}/`, [[{ type: 'commit_file', path: 'README.md' }], [{ type: 'commit_directory', path: 'conf' }]]);
    case `GET ${repo}/src/${HEAD}/conf/`:
      return paged(`${repo}/src/${HEAD}/conf/`, [[{ type: 'commit_file', path: 'conf/app.yaml' }]]);
    case `GET ${repo}/src/${HEAD}/conf/app.yaml`:
      if (url.searchParams.get('format') === 'meta') return json(res, 200, { type: 'commit_file', path: 'conf/app.yaml', size: FILE.length });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(FILE);
    case `GET ${repo}/src/${HEAD}/conf`:
      return json(res, 200, { type: 'commit_directory', path: 'conf' });
    case `POST ${repo}/src`:
      return void res.writeHead(201, { location: `${base}${repo}/commit/${'b'.repeat(40)}` }).end();
    default:
      return json(res, 404, { type: 'error', error: { message: 'Resource not found' } });
  }
}

async function setup(t: Parameters<typeof startGit>[0]) {
  const stub = await stubServer(t, bitbucket);
  const s = await startGit(t, { 'git.bitbucketApiUrl': stub.base });
  const r = await s.git.call('POST', '/auths/bitbucket/personal', { body: { name: 'bb', token: TOKEN } });
  assert.equal(r.status, 200, r.text);
  return { s, stub, created: r.body.authorization };
}

/** The multipart form of the last `POST /src`. */
async function lastCommitForm(stub: { requests: StubRequest[] }): Promise<FormData> {
  const req = stub.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/src')).at(-1)!;
  return new Response(req.body, { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
}

describe('bitbucket provider', () => {
  it('fills the authorization from GET /user; a refused token is 0451', async (t) => {
    const { s, created } = await setup(t);
    assert.deepEqual([created.repo_type, created.repo_user, created.repo_home, created.avartar], ['bitbucket', 'bucky', 'https://bitbucket.org/bucky/', 'https://bitbucket.org/av.png']);
    assertCasError(await s.git.call('POST', '/auths/bitbucket/personal', { body: { name: 'bad', token: 'nope' } }), 400, 'SVCSTG.REPO.0451', /expired or invalid/);
  });

  it('follows `next` pages (workspaces, branches, projects) and resolves a clone URL', async (t) => {
    const { s } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/namespaces', { auth: 'bb' })).body, { namespaces: [{ id: 'bucky', name: 'bucky' }, { id: 'team', name: 'team' }] });
    assert.deepEqual((await s.git.call('GET', '/repos/team/api/branches', { auth: 'bb' })).body, { branches: ['main', 'feature/x'] });
    assert.deepEqual((await s.git.call('GET', '/repos/team/team:api/tags', { auth: 'bb' })).body, { tags: ['v1'] });
    assert.deepEqual((await s.git.call('GET', '/repos/team/projects', { auth: 'bb' })).body, { projects: [{ id: 'team/api', name: 'api', clone_url: 'https://bucky@bitbucket.org/team/api.git' }] });
    const info = await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('git@bitbucket.org:team/api.git')}`, { auth: 'bb' });
    assert.deepEqual(info.body, { namespace_id: 'team', namespace: 'team', project_id: 'team/api', project: 'api' });
    assertCasError(await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://bitbucket.org/team/none.git')}`, { auth: 'bb' }), 400, 'SVCSTG.REPO.0452');
  });

  it('creates a project (private git repository); an existing slug is 0403', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/team/projects', { auth: 'bb', body: { name: 'web' } })).body, { id: 'team/web', name: 'web', clone_url: 'https://bucky@bitbucket.org/team/web.git' });
    assert.deepEqual(JSON.parse(stub.requests.find((r) => r.url === '/repositories/team/web')!.body), { scm: 'git', name: 'web', is_private: true });
    assertCasError(await s.git.call('POST', '/repos/team/projects', { auth: 'bb', body: { name: 'api' } }), 400, 'SVCSTG.REPO.0403');
  });

  it('creates tags on the resolved commit, deletes them, lists commits of the main branch', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/team/api/tags?ref=main', { auth: 'bb', body: { name: 'v2', description: 'two' } })).body, { name: 'v2' });
    assert.deepEqual(JSON.parse(stub.requests.find((r) => r.method === 'POST' && r.url.endsWith('/refs/tags'))!.body), { name: 'v2', target: { hash: HEAD }, message: 'two' });
    assertCasError(await s.git.call('POST', '/repos/team/api/tags?ref=main', { auth: 'bb', body: { name: 'v1', description: 'again' } }), 400, 'SVCSTG.REPO.0403');
    assertCasError(await s.git.call('POST', '/repos/team/api/tags?ref=nope', { auth: 'bb', body: { name: 'v3', description: 'x' } }), 404, 'SVCSTG.REPO.0404');
    assert.equal((await s.git.call('DELETE', '/repos/team/api/tags/v1', { auth: 'bb' })).status, 204);
    assert.deepEqual((await s.git.call('GET', '/repos/team/api/commits', { auth: 'bb' })).body, { commits: [{ sha: HEAD, message: 'first\n', authored_date: '2026-02-03T04:05:06+00:00' }] });
  });

  it('lists, creates (repo:push with the secret) and deletes hooks; ids drop the braces', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/team/api/hooks', { auth: 'bb' })).body, { hooks: [{ id: '8f1e-77', type: 'bitbucket', callback_url: 'https://ci.example/bb' }] });
    assert.deepEqual((await s.git.call('POST', '/repos/team/api/hooks', { auth: 'bb', body: { url: 'https://os.example/h', secret: 'bb-secret' } })).body, { id: '9abc-01', type: 'bitbucket', callback_url: 'https://os.example/h' });
    assert.deepEqual(JSON.parse(stub.requests.find((r) => r.method === 'POST' && r.url.endsWith('/hooks'))!.body), { description: 'OpenStage', url: 'https://os.example/h', active: true, secret: 'bb-secret', events: ['repo:push'] });
    assert.equal((await s.git.call('DELETE', '/repos/team/api/hooks/8f1e-77', { auth: 'bb' })).status, 204);
    assertCasError(await s.git.call('DELETE', '/repos/team/api/hooks/0000', { auth: 'bb' }), 404, 'SVCSTG.REPO.0404');
  });

  it('walks /src for the tree; reads raw files with their Git blob id', async (t) => {
    const { s } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/files/team/api/trees?ref=main', { auth: 'bb' })).body, { paths: ['README.md', 'conf/app.yaml'] });
    assert.deepEqual((await s.git.call('GET', '/files/team/api/conf:app.yaml?ref=main', { auth: 'bb' })).body, { path: 'conf/app.yaml', sha: FILE_SHA, encoding: 'base64', content: FILE.toString('base64') });
    assertCasError(await s.git.call('GET', '/files/team/api/conf?ref=main', { auth: 'bb' }), 404, 'SVCSTG.REPO.0404');
    assertCasError(await s.git.call('GET', '/files/team/api/none.txt?ref=main', { auth: 'bb' }), 404, 'SVCSTG.REPO.0404');
  });

  it('writes files by POST /src commits on the checked branch head', async (t) => {
    const { s, stub } = await setup(t);
    assert.equal((await s.git.call('POST', '/files/team/api/docs:new.md?ref=dev', { auth: 'bb', body: { message: 'add doc', content: '# hi' } })).status, 200);
    let form = await lastCommitForm(stub);
    assert.deepEqual([form.get('message'), form.get('branch'), form.get('parents'), await (form.get('docs/new.md') as Blob).text()], ['add doc', 'dev', HEAD, '# hi']);
    assertCasError(await s.git.call('POST', '/files/team/api/conf:app.yaml?ref=main', { auth: 'bb', body: { message: 'm', content: 'x' } }), 400, 'SVCSTG.REPO.0403');
    assert.equal((await s.git.call('PUT', '/files/team/api/conf:app.yaml?ref=main', { auth: 'bb', body: { message: 'port', content: 'server: {}\n', sha: FILE_SHA } })).status, 200);
    form = await lastCommitForm(stub);
    assert.deepEqual([form.get('parents'), await (form.get('conf/app.yaml') as Blob).text()], [HEAD, 'server: {}\n']);
    assertCasError(await s.git.call('PUT', '/files/team/api/conf:app.yaml?ref=main', { auth: 'bb', body: { message: 'm', content: 'x', sha: 'stale' } }), 409, 'SVCSTG.REPO.0409');
    assert.equal((await s.git.call('DELETE', `/files/team/api/conf:app.yaml?ref=main&message=rm&sha=${FILE_SHA}`, { auth: 'bb' })).status, 204);
    form = await lastCommitForm(stub);
    assert.deepEqual([form.get('files'), form.get('message'), form.has('conf/app.yaml')], ['conf/app.yaml', 'rm', false]);
  });

  it('maps 404 and 429 to 0404 and 0429', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('GET', '/repos/team/missing/branches', { auth: 'bb' }), 404, 'SVCSTG.REPO.0404', /Resource not found/);
    const stub2 = await stubServer(t, (_req, res) => json(res, 429, { type: 'error', error: { message: 'Rate limit for this resource has been exceeded' } }, { 'retry-after': '30' }));
    const s2 = await startGit(t, { 'git.bitbucketApiUrl': stub2.base });
    assertCasError(await s2.git.call('POST', '/auths/bitbucket/personal', { body: { name: 'bb', token: TOKEN } }), 429, 'SVCSTG.REPO.0429', /Rate limit/);
  });
});
