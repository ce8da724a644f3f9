import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { assertCasError } from '../helpers/cas-client.js';
import { json, startGit, stubServer, type StubRequest } from './client.js';

const TOKEN = 'gitee-good-token';

/**
 * Answers as gitee.com/api/v5 does: `access_token` query parameter, `page`/`per_page` with
 * `total_count`/`total_page` headers, `{"message":"401 Unauthorized: Access token does not exist"}`,
 * `{"message":"Not Found Project"}` 404, a missing file as 200 `[]`, 403 rate limit.
 */
function gitee(req: StubRequest, res: ServerResponse, base: string): void {
  const url = new URL(req.url, base);
  if (url.searchParams.get('access_token') !== TOKEN) return json(res, 401, { message: '401 Unauthorized: Access token does not exist' });
  const page = url.searchParams.get('page') ?? '1';
  const paged = (items: unknown[][]) => json(res, 200, items[Number(page) - 1] ?? [], { total_count: String(items.flat().length), total_page: String(items.length) });
  const key = `${req.method} ${decodeURIComponent(url.pathname)}`;
  switch (key) {
    case 'GET /user':
      return json(res, 200, { login: 'mayun', html_url: 'https://gitee.com/mayun', avatar_url: 'https://gitee.com/a.png' });
    case 'GET /user/namespaces':
      return paged([[{ id: 1, type: 'personal', path: 'mayun', name: 'mayun' }], [{ id: 2, type: 'group', path: 'oschina', name: 'OSChina' }]]);
    case 'GET /repos/mayun/app':
      return json(res, 200, { full_name: 'mayun/app', path: 'app', name: 'app', namespace: { path: 'mayun' }, html_url: 'https://gitee.com/mayun/app.git' });
    case 'GET /repos/mayun/app/branches':
      return paged([[{ name: 'master' }], [{ name: 'dev' }]]);
    case 'GET /repos/mayun/app/tags':
      return paged([[{ name: 'v1' }]]);
    case 'POST /repos/mayun/app/tags':
      return JSON.parse(req.body).tag_name === 'v1' ? json(res, 400, { message: 'Tag 名称已存在' }) : json(res, 201, { name: JSON.parse(req.body).tag_name });
    case 'DELETE /repos/mayun/app/tags/v1':
      return void res.writeHead(204).end();
    case 'GET /repos/mayun/app/commits':
      return json(res, 200, [{ sha: 'c'.repeat(40), commit: { message: 'init', author: { date: '2026-01-02T03:04:05+08:00' } } }]);
    case 'GET /orgs/oschina/repos':
      return paged([[{ full_name: 'oschina/site', path: 'site', html_url: 'https://gitee.com/oschina/site.git' }]]);
    case 'POST /orgs/oschina/repos':
      return JSON.parse(req.body).name === 'site' ? json(res, 422, { message: '已存在同地址仓库' }) : json(res, 201, { full_name: `oschina/${JSON.parse(req.body).name}`, path: JSON.parse(req.body).name, html_url: `https://gitee.com/oschina/${JSON.parse(req.body).name}.git` });
    case 'GET /repos/mayun/app/hooks':
      return paged([[{ id: 11, url: 'https://ci.example/hook' }]]);
    case 'POST /repos/mayun/app/hooks':
      return json(res, 201, { id: 12, url: JSON.parse(req.body).url });
    case 'DELETE /repos/mayun/app/hooks/11':
      return void res.writeHead(204).end();
    case 'GET /repos/mayun/app/git/trees/master':
      return json(res, 200, { sha: 't', tree: [{ path: 'src', type: 'tree' }, { path: 'src/a.js', type: 'blob' }, { path: 'README.md', type: 'blob' }], truncated: false });
    case 'GET /repos/mayun/app/contents/src/a.js':
      return json(res, 200, { type: 'file', path: 'src/a.js', sha: 'b10b', encoding: 'base64', content: 'Y29u\nc29sZQ==' });
    case 'GET /repos/mayun/app/contents/none.txt':
      return json(res, 200, []);
    case 'POST /repos/mayun/app/contents/new.txt':
      return json(res, 201, { content: { path: 'new.txt' } });
    case 'PUT /repos/mayun/app/contents/src/a.js':
    case 'DELETE /repos/mayun/app/contents/src/a.js':
      return json(res, 200, { commit: { sha: 'd'.repeat(40) } });
    case 'GET /repos/mayun/limited/branches':
      return json(res, 403, { message: 'Rate limit exceeded' });
    default:
      return json(res, 404, { message: 'Not Found Project' });
  }
}

async function setup(t: Parameters<typeof startGit>[0]) {
  const stub = await stubServer(t, gitee);
  const s = await startGit(t, { 'git.giteeApiUrl': stub.base });
  const r = await s.git.call('POST', '/auths/gitee/personal', { body: { name: 'ge', token: TOKEN } });
  assert.equal(r.status, 200, r.text);
  return { s, stub, created: r.body.authorization };
}

const body = (stub: { requests: StubRequest[] }, method: string, suffix: string) => JSON.parse(stub.requests.filter((r) => r.method === method && r.url.split('?')[0]!.endsWith(suffix)).at(-1)!.body);

describe('gitee provider', () => {
  it('fills the authorization from GET /user; a refused token is 0451', async (t) => {
    const { s, created } = await setup(t);
    assert.deepEqual([created.repo_type, created.repo_user, created.repo_home, created.avartar], ['gitee', 'mayun', 'https://gitee.com/mayun', 'https://gitee.com/a.png']);
    assertCasError(await s.git.call('POST', '/auths/gitee/personal', { body: { name: 'bad', token: 'nope' } }), 400, 'SVCSTG.REPO.0451', /Access token does not exist/);
    assert.ok(!JSON.stringify(created).includes(TOKEN));
  });

  it('pages with page/per_page up to total_page (namespaces, branches, tags, projects)', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/namespaces', { auth: 'ge' })).body, { namespaces: [{ id: 'mayun', name: 'mayun' }, { id: 'oschina', name: 'oschina' }] });
    assert.deepEqual((await s.git.call('GET', '/repos/mayun/app/branches', { auth: 'ge' })).body, { branches: ['master', 'dev'] });
    assert.deepEqual((await s.git.call('GET', '/repos/mayun/mayun:app/tags', { auth: 'ge' })).body, { tags: ['v1'] });
    assert.deepEqual((await s.git.call('GET', '/repos/oschina/projects', { auth: 'ge' })).body, { projects: [{ id: 'oschina/site', name: 'site', clone_url: 'https://gitee.com/oschina/site.git' }] });
    const branchCalls = stub.requests.filter((r) => r.url.startsWith('/repos/mayun/app/branches'));
    assert.deepEqual(branchCalls.map((r) => new URL(r.url, stub.base).searchParams.get('page')), ['1', '2']);
    assert.equal(new URL(branchCalls[0]!.url, stub.base).searchParams.get('per_page'), '100');
  });

  it('resolves a clone URL; an unknown repository is 0452', async (t) => {
    const { s } = await setup(t);
    const r = await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://gitee.com/mayun/app.git')}`, { auth: 'ge' });
    assert.deepEqual(r.body, { namespace_id: 'mayun', namespace: 'mayun', project_id: 'mayun/app', project: 'app' });
    assertCasError(await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent('https://gitee.com/mayun/none.git')}`, { auth: 'ge' }), 400, 'SVCSTG.REPO.0452');
  });

  it('creates projects in an organisation; an existing one is 0403', async (t) => {
    const { s } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/oschina/projects', { auth: 'ge', body: { name: 'blog' } })).body, { id: 'oschina/blog', name: 'blog', clone_url: 'https://gitee.com/oschina/blog.git' });
    assertCasError(await s.git.call('POST', '/repos/oschina/projects', { auth: 'ge', body: { name: 'site' } }), 400, 'SVCSTG.REPO.0403');
  });

  it('creates tags with refs/tag_name/tag_message, deletes them; commits', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('POST', '/repos/mayun/app/tags?ref=master', { auth: 'ge', body: { name: 'v2', description: 'second' } })).body, { name: 'v2' });
    assert.deepEqual(body(stub, 'POST', '/tags'), { refs: 'master', tag_name: 'v2', tag_message: 'second' });
    assertCasError(await s.git.call('POST', '/repos/mayun/app/tags?ref=master', { auth: 'ge', body: { name: 'v1', description: 'again' } }), 400, 'SVCSTG.REPO.0403');
    assert.equal((await s.git.call('DELETE', '/repos/mayun/app/tags/v1', { auth: 'ge' })).status, 204);
    assertCasError(await s.git.call('DELETE', '/repos/mayun/app/tags/v9', { auth: 'ge' }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', '/repos/mayun/app/commits?ref=master', { auth: 'ge' })).body, { commits: [{ sha: 'c'.repeat(40), message: 'init', authored_date: '2026-01-02T03:04:05+08:00' }] });
  });

  it('lists, creates (secret as password) and deletes hooks', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/repos/mayun/app/hooks', { auth: 'ge' })).body, { hooks: [{ id: '11', type: 'gitee', callback_url: 'https://ci.example/hook' }] });
    const r = await s.git.call('POST', '/repos/mayun/app/hooks', { auth: 'ge', body: { url: 'https://os.example/hook', secret: 'ge-secret' } });
    assert.deepEqual(r.body, { id: '12', type: 'gitee', callback_url: 'https://os.example/hook' });
    assert.deepEqual(body(stub, 'POST', '/hooks'), { url: 'https://os.example/hook', encryption_type: 0, password: 'ge-secret', push_events: true, tag_push_events: false });
    assert.equal((await s.git.call('DELETE', '/repos/mayun/app/hooks/11', { auth: 'ge' })).status, 204);
    assertCasError(await s.git.call('DELETE', '/repos/mayun/app/hooks/99', { auth: 'ge' }), 404, 'SVCSTG.REPO.0404');
  });

  it('lists the tree and reads and writes files', async (t) => {
    const { s, stub } = await setup(t);
    assert.deepEqual((await s.git.call('GET', '/files/mayun/app/trees?ref=master', { auth: 'ge' })).body, { paths: ['src/a.js', 'README.md'] });
    assert.deepEqual((await s.git.call('GET', '/files/mayun/app/src:a.js?ref=master', { auth: 'ge' })).body, { path: 'src/a.js', sha: 'b10b', encoding: 'base64', content: 'Y29uc29sZQ==' });
    assertCasError(await s.git.call('GET', '/files/mayun/app/none.txt?ref=master', { auth: 'ge' }), 404, 'SVCSTG.REPO.0404');
    assert.equal((await s.git.call('POST', '/files/mayun/app/new.txt?ref=dev', { auth: 'ge', body: { message: 'add', content: 'hi' } })).status, 200);
    assert.deepEqual(body(stub, 'POST', '/contents/new.txt'), { content: Buffer.from('hi').toString('base64'), message: 'add', branch: 'dev' });
    assert.equal((await s.git.call('PUT', '/files/mayun/app/src:a.js?ref=master', { auth: 'ge', body: { message: 'edit', content: 'x', sha: 'b10b' } })).status, 200);
    assert.deepEqual(body(stub, 'PUT', '/contents/src/a.js'), { content: Buffer.from('x').toString('base64'), sha: 'b10b', message: 'edit', branch: 'master' });
    assertCasError(await s.git.call('PUT', '/files/mayun/app/src:a.js?ref=master', { auth: 'ge', body: { message: 'edit', content: 'x', sha: 'stale' } }), 409, 'SVCSTG.REPO.0409');
    assert.equal((await s.git.call('DELETE', '/files/mayun/app/src:a.js?ref=master&message=rm&sha=b10b', { auth: 'ge' })).status, 204);
    const del = new URL(stub.requests.filter((r) => r.method === 'DELETE').at(-1)!.url, stub.base);
    assert.deepEqual([del.searchParams.get('sha'), del.searchParams.get('message'), del.searchParams.get('branch')], ['b10b', 'rm', 'master']);
  });

  it('maps 404, rate-limit 403 and a token no longer accepted to 0404, 0429 and 0451', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('GET', '/repos/mayun/missing/branches', { auth: 'ge' }), 404, 'SVCSTG.REPO.0404', /Not Found Project/);
    assertCasError(await s.git.call('GET', '/repos/mayun/limited/branches', { auth: 'ge' }), 429, 'SVCSTG.REPO.0429', /Rate limit/);
    const stub2 = await stubServer(t, (req, res) => (req.url.startsWith('/user?') ? json(res, 200, { login: 'x' }) : json(res, 401, { message: '401 Unauthorized: Access token is expired' })));
    assert.equal((await s.git.call('POST', '/auths/gitee/personal', { body: { name: 'ge2', token: 'old', host: stub2.base } })).status, 200);
    assertCasError(await s.git.call('GET', '/repos/mayun/app/branches', { auth: 'ge2' }), 400, 'SVCSTG.REPO.0451', /expired/);
  });
});
