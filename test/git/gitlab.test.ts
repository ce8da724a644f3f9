import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { assertCasError } from '../helpers/cas-client.js';
import { json, startGit, stubServer, type StubRequest } from './client.js';

const TOKEN = 'glpat-good';

/**
 * Answers as gitlab.com/api/v4 does (docs.gitlab.com/api): PRIVATE-TOKEN header, Link
 * pagination, `{"message":"401 Unauthorized"}`, `{"message":"404 Project Not Found"}`, 429.
 */
function gitlab(req: StubRequest, res: ServerResponse, base: string): void {
  if (req.headers['private-token'] !== TOKEN) return json(res, 401, { message: '401 Unauthorized' });
  const url = new URL(req.url, base);
  const page = url.searchParams.get('page') ?? '1';
  const path = decodeURIComponent(url.pathname);
  const key = `${req.method} ${path}`;
  switch (key) {
    case 'GET /user':
      return json(res, 200, { username: 'tanuki', web_url: 'https://gitlab.com/tanuki', avatar_url: 'https://gitlab.com/a.png' });
    case 'GET /projects/grp/sub/app':
      return json(res, 200, { id: 42, name: 'app', namespace: { id: 7, full_path: 'grp/sub' }, http_url_to_repo: 'https://gitlab.com/grp/sub/app.git' });
    case 'GET /projects/grp/sub/app/repository/branches':
      return page === '1'
        ? json(res, 200, [{ name: 'main' }], { link: `<${base}/projects/grp%2Fsub%2Fapp/repository/branches?page=2&per_page=100>; rel="next"`, 'x-next-page': '2' })
        : json(res, 200, [{ name: 'release' }]);
    case 'GET /projects/42/repository/commits':
      return json(res, 200, [{ id: 'e'.repeat(40), message: 'fix\n', authored_date: '2026-01-01T00:00:00.000+00:00' }]);
    case 'GET /projects/42/repository/files/conf/app.yaml':
      return json(res, 200, { file_path: 'conf/app.yaml', blob_id: 'b10b', encoding: 'base64', content: Buffer.from('a: 1\n').toString('base64') });
    case 'POST /projects/42/repository/tags':
      return JSON.parse(req.body).tag_name === 'v1' ? json(res, 400, { message: 'Tag v1 already exists' }) : json(res, 201, { name: JSON.parse(req.body).tag_name });
    case 'GET /namespaces/grp/sub':
      return json(res, 200, { id: 7, kind: 'group', path: 'sub', full_path: 'grp/sub' });
    case 'POST /projects':
      return JSON.parse(req.body).name === 'app' ? json(res, 400, { message: { name: ['has already been taken'], path: ['has already been taken'] } }) : json(res, 201, { id: 43, name: JSON.parse(req.body).name, http_url_to_repo: `https://gitlab.com/grp/sub/${JSON.parse(req.body).name}.git` });
    case 'DELETE /projects/42/repository/tags/v1':
    case 'DELETE /projects/42/hooks/5':
      return void res.writeHead(204).end();
    case 'GET /projects/42/hooks':
      return json(res, 200, [{ id: 5, url: 'https://ci.example/gl', push_events: true }]);
    case 'GET /projects/42/repository/tree':
      return page === '1'
        ? json(res, 200, [{ path: 'src', type: 'tree' }, { path: 'src/a.go', type: 'blob' }], { link: `<${base}/projects/42/repository/tree?page=2&per_page=100&recursive=true&ref=main>; rel="next"` })
        : json(res, 200, [{ path: 'README.md', type: 'blob' }]);
    case 'GET /projects/42/repository/branches':
      return json(res, 429, { message: '429 Too Many Requests' }, { 'retry-after': '60' });
    default:
      return json(res, 404, { message: '404 Project Not Found' });
  }
}

async function setup(t: Parameters<typeof startGit>[0]) {
  const stub = await stubServer(t, gitlab);
  const s = await startGit(t);
  const r = await s.git.call('POST', '/auths/gitlab/personal', { body: { name: 'gl', token: TOKEN, host: stub.base } });
  assert.equal(r.status, 200, r.text);
  return { s, stub, created: r.body.authorization };
}

describe('gitlab provider', () => {
  it('uses the authorization host (self-hosted GitLab) and fills the user', async (t) => {
    const { s, stub, created } = await setup(t);
    assert.deepEqual([created.repo_user, created.repo_host, created.avartar], ['tanuki', stub.base, 'https://gitlab.com/a.png']);
    assertCasError(await s.git.call('POST', '/auths/gitlab/personal', { body: { name: 'bad', token: 'nope', host: stub.base } }), 400, 'SVCSTG.REPO.0451', /401 Unauthorized/);
  });

  it('takes project paths with `:` for `/` and follows pagination', async (t) => {
    const { s } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/grp/grp:sub:app/branches', { auth: 'gl' })).body, { branches: ['main', 'release'] });
    const info = await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://gitlab.com/grp/sub/app.git')}`, { auth: 'gl' });
    assert.deepEqual(info.body, { namespace_id: '7', namespace: 'grp/sub', project_id: '42', project: 'app' });
  });

  it('reads commits and files, creates tags with their message', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/grp/42/commits?ref=main', { auth: 'gl' })).body, { commits: [{ sha: 'e'.repeat(40), message: 'fix\n', authored_date: '2026-01-01T00:00:00.000+00:00' }] });
    const f = await s.git.call('GET', '/files/grp/42/conf:app.yaml?ref=main', { auth: 'gl' });
    assert.deepEqual(f.body, { path: 'conf/app.yaml', sha: 'b10b', encoding: 'base64', content: Buffer.from('a: 1\n').toString('base64') });
    assert.deepEqual((await s.git.call('POST', '/repos/grp/42/tags?ref=main', { auth: 'gl', body: { name: 'v2', description: 'second' } })).body, { name: 'v2' });
    const sent = stub.requests.find((r) => r.method === 'POST' && r.url.endsWith('/repository/tags'))!;
    assert.deepEqual(JSON.parse(sent.body), { tag_name: 'v2', ref: 'main', message: 'second' });
    assertCasError(await s.git.call('POST', '/repos/grp/42/tags?ref=main', { auth: 'gl', body: { name: 'v1', description: 'again' } }), 400, 'SVCSTG.REPO.0403');
    assertCasError(await s.git.call('PUT', '/files/grp/42/conf:app.yaml?ref=main', { auth: 'gl', body: { message: 'm', content: 'x', sha: 'stale' } }), 409, 'SVCSTG.REPO.0409');
  });

  it('creates a project in a namespace (namespace_id); a taken name is 0403', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/grp%2Fsub/projects', { auth: 'gl', body: { name: 'svc' } })).body, { id: '43', name: 'svc', clone_url: 'https://gitlab.com/grp/sub/svc.git' });
    assert.deepEqual(JSON.parse(stub.requests.find((r) => r.method === 'POST' && r.url === '/projects')!.body), { name: 'svc', path: 'svc', namespace_id: 7 });
    assertCasError(await s.git.call('POST', '/repos/grp%2Fsub/projects', { auth: 'gl', body: { name: 'app' } }), 400, 'SVCSTG.REPO.0403');
  });

  it('deletes tags; lists and deletes hooks; follows Link pages of the recursive tree', async (t) => {
    const { s, stub } = await setup(t);
    assert.equal((await s.git.call('DELETE', '/repos/grp/42/tags/v1', { auth: 'gl' })).status, 204);
    assertCasError(await s.git.call('DELETE', '/repos/grp/42/tags/v9', { auth: 'gl' }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', '/repos/grp/42/hooks', { auth: 'gl' })).body, { hooks: [{ id: '5', type: 'gitlab', callback_url: 'https://ci.example/gl' }] });
    assert.equal((await s.git.call('DELETE', '/repos/grp/42/hooks/5', { auth: 'gl' })).status, 204);
    assertCasError(await s.git.call('DELETE', '/repos/grp/42/hooks/6', { auth: 'gl' }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', '/files/grp/42/trees?ref=main', { auth: 'gl' })).body, { paths: ['src/a.go', 'README.md'] });
    const first = new URL(stub.requests.find((r) => r.url.startsWith('/projects/42/repository/tree'))!.url, stub.base);
    assert.deepEqual([first.searchParams.get('recursive'), first.searchParams.get('ref')], ['true', 'main']);
  });

  it('maps 404 and 429 to 0404 and 0429', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('GET', '/repos/grp/999/tags', { auth: 'gl' }), 404, 'SVCSTG.REPO.0404', /Project Not Found/);
    assertCasError(await s.git.call('GET', '/repos/grp/42/branches', { auth: 'gl' }), 429, 'SVCSTG.REPO.0429');
  });
});
