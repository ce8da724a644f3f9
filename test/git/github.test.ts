import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { assertCasError } from '../helpers/cas-client.js';
import { call } from '../helpers/registry-client.js';
import { json, startGit, stubServer, type StubRequest } from './client.js';

const TOKEN = 'ghp_goodtoken';

/**
 * Answers as api.github.com does (docs.github.com/rest): Bearer token, Link pagination,
 * `{"message": "Bad credentials"}` 401, `{"message": "Not Found"}` 404, rate-limit 403 with
 * `x-ratelimit-remaining: 0`.
 */
function github(req: StubRequest, res: ServerResponse, base: string): void {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
  const url = new URL(req.url, base);
  const key = `${req.method} ${url.pathname}`;
  const page = url.searchParams.get('page') ?? '1';
  const next = (path: string) => ({ link: `<${base}${path}?per_page=100&page=2>; rel="next", <${base}${path}?per_page=100&page=2>; rel="last"` });
  switch (key) {
    case 'GET /user':
      return json(res, 200, { login: 'octo', html_url: 'https://github.com/octo', avatar_url: 'https://avatars.example/octo.png' });
    case 'GET /user/orgs':
      return page === '1' ? json(res, 200, [{ login: 'org-a' }], next('/user/orgs')) : json(res, 200, [{ login: 'org-b' }]);
    case 'GET /repos/octo/hello':
      return json(res, 200, { name: 'hello', full_name: 'octo/hello', owner: { login: 'octo' }, clone_url: 'https://github.com/octo/hello.git' });
    case 'GET /repos/octo/hello/branches':
      return page === '1' ? json(res, 200, [{ name: 'main' }], next('/repos/octo/hello/branches')) : json(res, 200, [{ name: 'dev' }]);
    case 'GET /repos/octo/hello/contents/src/a.txt':
      return json(res, 200, { type: 'file', path: 'src/a.txt', sha: 'abc123', encoding: 'base64', content: 'aGVs\nbG8=\n' });
    case 'PUT /repos/octo/hello/contents/src/b.txt':
      return json(res, 201, { content: { path: 'src/b.txt' } });
    case 'PUT /repos/octo/hello/contents/src/a.txt':
      return json(res, 409, { message: 'src/a.txt does not match abc123' });
    case 'POST /repos/octo/hello/hooks':
      return json(res, 201, { id: 1573, config: { url: JSON.parse(req.body).config.url } });
    case 'POST /user/repos':
      return JSON.parse(req.body).name === 'hello' ? json(res, 422, { message: 'Repository creation failed.', errors: [{ field: 'name', message: 'name already exists on this account' }] }) : json(res, 201, { name: JSON.parse(req.body).name, full_name: `octo/${JSON.parse(req.body).name}`, clone_url: `https://github.com/octo/${JSON.parse(req.body).name}.git` });
    case 'POST /orgs/org-a/repos':
      return json(res, 201, { name: 'svc', full_name: 'org-a/svc', clone_url: 'https://github.com/org-a/svc.git' });
    case 'DELETE /repos/octo/hello/git/refs/tags/v1':
    case 'DELETE /repos/octo/hello/hooks/1573':
      return void res.writeHead(204).end();
    case 'GET /repos/octo/hello/hooks':
      return page === '1' ? json(res, 200, [{ id: 1573, config: { url: 'https://ci.example/a' } }], next('/repos/octo/hello/hooks')) : json(res, 200, [{ id: 1574, config: { url: 'https://ci.example/b' } }]);
    case 'GET /repos/octo/hello/git/trees/main':
      return url.searchParams.get('recursive') === '1' ? json(res, 200, { sha: 't', truncated: false, tree: [{ path: 'src', type: 'tree' }, { path: 'src/a.txt', type: 'blob' }, { path: 'mod', type: 'commit' }] }) : json(res, 200, { tree: [] });
    case 'GET /repos/octo/limited/branches':
      return json(res, 403, { message: 'API rate limit exceeded for user ID 1.' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000000' });
    case 'GET /repos/octo/broken/branches':
      return json(res, 500, { message: 'Server Error' });
    default:
      return json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }
}

async function setup(t: Parameters<typeof startGit>[0]) {
  const stub = await stubServer(t, github);
  const s = await startGit(t, { 'git.githubApiUrl': stub.base });
  const r = await s.git.call('POST', '/auths/github/personal', { body: { name: 'gh', token: TOKEN } });
  assert.equal(r.status, 200, r.text);
  return { s, stub, created: r.body.authorization };
}

describe('github provider', () => {
  it('fills the authorization from GET /user; a token the host refuses is 0451', async (t) => {
    const { s, created } = await setup(t);
    assert.deepEqual([created.repo_type, created.repo_user, created.repo_home, created.avartar, created.repo_host], ['github', 'octo', 'https://github.com/octo', 'https://avatars.example/octo.png', created.repo_host]);
    assertCasError(await s.git.call('POST', '/auths/github/personal', { body: { name: 'bad', token: 'nope' } }), 400, 'SVCSTG.REPO.0451');
    assert.ok(!JSON.stringify(created).includes(TOKEN));
  });

  it('follows Link pagination (namespaces, branches)', async (t) => {
    const { s } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/namespaces', { auth: 'gh' })).body, { namespaces: [{ id: 'octo', name: 'octo' }, { id: 'org-a', name: 'org-a' }, { id: 'org-b', name: 'org-b' }] });
    assert.deepEqual((await s.git.call('GET', '/repos/octo/hello/branches', { auth: 'gh' })).body, { branches: ['main', 'dev'] });
    assert.deepEqual((await s.git.call('GET', '/repos/octo/octo:hello/branches', { auth: 'gh' })).body, { branches: ['main', 'dev'] });
  });

  it('resolves a clone URL; an unknown repository is 0452', async (t) => {
    const { s } = await setup(t);
    const r = await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://github.com/octo/hello.git')}`, { auth: 'gh' });
    assert.deepEqual(r.body, { namespace_id: 'octo', namespace: 'octo', project_id: 'octo/hello', project: 'hello' });
    assertCasError(await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://github.com/octo/none.git')}`, { auth: 'gh' }), 400, 'SVCSTG.REPO.0452');
  });

  it('reads and writes files through the contents API', async (t) => {
    const { s, stub } = await setup(t);
    const f = await s.git.call('GET', '/files/octo/hello/src:a.txt?ref=main', { auth: 'gh' });
    assert.deepEqual(f.body, { path: 'src/a.txt', sha: 'abc123', encoding: 'base64', content: 'aGVsbG8=' });
    assert.equal((await s.git.call('POST', '/files/octo/hello/src:b.txt?ref=dev', { auth: 'gh', body: { message: 'add b', content: 'bee' } })).status, 200);
    const put = stub.requests.find((r) => r.method === 'PUT' && r.url.endsWith('/src/b.txt'))!;
    assert.deepEqual(JSON.parse(put.body), { message: 'add b', content: Buffer.from('bee').toString('base64'), branch: 'dev' });
    assertCasError(await s.git.call('PUT', '/files/octo/hello/src:a.txt?ref=main', { auth: 'gh', body: { message: 'm', content: 'x', sha: 'old' } }), 409, 'SVCSTG.REPO.0409');
  });

  it('maps 404, rate-limit 403 and 5xx to 0404, 0429 and 0502', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('GET', '/repos/octo/missing/branches', { auth: 'gh' }), 404, 'SVCSTG.REPO.0404', /Not Found/);
    assertCasError(await s.git.call('GET', '/repos/octo/limited/branches', { auth: 'gh' }), 429, 'SVCSTG.REPO.0429', /rate limit/);
    assertCasError(await s.git.call('GET', '/repos/octo/broken/branches', { auth: 'gh' }), 502, 'SVCSTG.REPO.0502');
  });

  it('a hook created on GitHub remembers its secret, so its deliveries verify', async (t) => {
    const { s } = await setup(t);
    const r = await s.git.call('POST', '/repos/octo/hello/hooks', { auth: 'gh', body: { url: `${s.url}/v1/${s.git.project}/git/webhooks`, secret: 'gh-hook-secret' } });
    assert.deepEqual(r.body, { id: '1573', type: 'github', callback_url: `${s.url}/v1/${s.git.project}/git/webhooks` });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'd'.repeat(40), repository: { clone_url: 'https://github.com/octo/hello.git' } });
    const sig = `sha256=${createHmac('sha256', 'gh-hook-secret').update(body).digest('hex')}`;
    const d = await call(s.url, 'POST', `/v1/${s.git.project}/git/webhooks`, { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig } });
    assert.deepEqual(d.body, { result: 'published', branch: 'main' });
  });

  it('creates projects for the user and in an organisation; a taken name is 0403', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/octo/projects', { auth: 'gh', body: { name: 'fresh' } })).body, { id: 'octo/fresh', name: 'fresh', clone_url: 'https://github.com/octo/fresh.git' });
    assert.deepEqual((await s.git.call('POST', '/repos/org-a/projects', { auth: 'gh', body: { name: 'svc' } })).body, { id: 'org-a/svc', name: 'svc', clone_url: 'https://github.com/org-a/svc.git' });
    assert.deepEqual(JSON.parse(stub.requests.find((r) => r.url === '/orgs/org-a/repos')!.body), { name: 'svc' });
    assertCasError(await s.git.call('POST', '/repos/octo/projects', { auth: 'gh', body: { name: 'hello' } }), 400, 'SVCSTG.REPO.0403');
  });

  it('deletes tags through git/refs; lists (paged) and deletes hooks; lists the recursive tree', async (t) => {
    const { s, stub } = await setup(t);
    assert.equal((await s.git.call('DELETE', '/repos/octo/hello/tags/v1', { auth: 'gh' })).status, 204);
    assert.ok(stub.requests.some((r) => r.method === 'DELETE' && r.url === '/repos/octo/hello/git/refs/tags/v1'));
    assertCasError(await s.git.call('DELETE', '/repos/octo/hello/tags/v9', { auth: 'gh' }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', '/repos/octo/hello/hooks', { auth: 'gh' })).body, { hooks: [{ id: '1573', type: 'github', callback_url: 'https://ci.example/a' }, { id: '1574', type: 'github', callback_url: 'https://ci.example/b' }] });
    assert.equal((await s.git.call('DELETE', '/repos/octo/hello/hooks/1573', { auth: 'gh' })).status, 204);
    assertCasError(await s.git.call('DELETE', '/repos/octo/hello/hooks/42', { auth: 'gh' }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', '/files/octo/hello/trees?ref=main', { auth: 'gh' })).body, { paths: ['src/a.txt'] });
  });

  it('an authorization whose token GitHub no longer accepts answers 0451', async (t) => {
    const { s } = await setup(t);
    const stub2 = await stubServer(t, (req, res) => (req.url === '/user' ? json(res, 200, { login: 'x' }) : json(res, 401, { message: 'Bad credentials' })));
    assert.equal((await s.git.call('POST', '/auths/github/personal', { body: { name: 'gh2', token: 'revoked', host: stub2.base } })).status, 200);
    assertCasError(await s.git.call('GET', '/repos/octo/hello/branches', { auth: 'gh2' }), 400, 'SVCSTG.REPO.0451', /Bad credentials/);
  });
});
