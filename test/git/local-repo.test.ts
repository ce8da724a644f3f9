import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, uniqName } from '../helpers/cas-client.js';
import { localAuth, startGit, type GitServer } from './client.js';

/** A local authorization plus a project `repo` in namespace `ns` with one commit (README.md) on main. */
async function seeded(s: GitServer): Promise<{ auth: string; ns: string; repo: string }> {
  const auth = uniqName('a');
  await localAuth(s, auth);
  const ns = uniqName('ns');
  const repo = uniqName('r');
  const c = await s.git.call('POST', `/repos/${ns}/projects`, { auth, body: { name: repo } });
  assert.equal(c.status, 200, c.text);
  const f = await s.git.call('POST', `/files/${ns}/${repo}/README.md?ref=main`, { auth, body: { message: 'first', content: '# hello\n' } });
  assert.equal(f.status, 200, f.text);
  return { auth, ns, repo };
}

describe('POST /v1/{p}/git/repos/{namespace}/projects', () => {
  it('creates a bare repository and returns its clone URL under /git', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth);
    const r = await s.git.call('POST', '/repos/team1/projects', { auth, body: { name: 'svc-a' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { id: 'svc-a', name: 'svc-a', clone_url: `${s.url}/git/${s.git.project}/team1/svc-a.git` });
    assertCasError(await s.git.call('POST', '/repos/team1/projects', { auth, body: { name: 'svc-a' } }), 400, 'SVCSTG.REPO.0403');
    assertCasError(await s.git.call('POST', '/repos/team1/projects', { auth, body: { name: '../x' } }), 400, 'SVCSTG.REPO.0400');
    assertCasError(await s.git.call('POST', '/repos/team1/projects', { auth, body: {} }), 400, 'SVCSTG.REPO.0400');
  });
});

describe('GET /v1/{p}/git/repos/namespaces', () => {
  it("lists the user's own namespace and every namespace with repositories", async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'bob');
    assert.deepEqual((await s.git.call('GET', '/repos/namespaces', { auth })).body, { namespaces: [{ id: 'bob', name: 'bob' }] });
    await s.git.call('POST', '/repos/zteam/projects', { auth, body: { name: 'x' } });
    await s.git.call('POST', '/repos/ateam/projects', { auth, body: { name: 'y' } });
    const r = await s.git.call('GET', '/repos/namespaces', { auth });
    assert.deepEqual(r.body.namespaces.map((n: any) => n.name), ['ateam', 'bob', 'zteam']);
  });
});

describe('GET /v1/{p}/git/repos/{namespace}/projects', () => {
  it('lists projects sorted by name; 404 for an unknown namespace; [] for the own empty namespace', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'carol');
    await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'b' } });
    await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'a' } });
    const r = await s.git.call('GET', '/repos/team/projects', { auth });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.projects.map((p: any) => p.name), ['a', 'b']);
    assert.equal(r.body.projects[0].clone_url, `${s.url}/git/${s.git.project}/team/a.git`);
    assertCasError(await s.git.call('GET', '/repos/nope/projects', { auth }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', '/repos/carol/projects', { auth })).body, { projects: [] });
  });
});

describe('GET /v1/{p}/git/repos/project-info', () => {
  it('resolves a clone URL; 0452 for a bad or unknown one', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await seeded(s);
    const url = `${s.url}/git/${s.git.project}/${ns}/${repo}.git`;
    const r = await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent(url)}`, { auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { namespace_id: ns, namespace: ns, project_id: repo, project: repo });
    for (const bad of ['not a url', `${s.url}/git/${s.git.project}/${ns}/missing.git`, `${s.url}/git/otherproject/${ns}/${repo}.git`]) {
      assertCasError(await s.git.call('GET', `/repos/project-info?clone_url=${encodeURIComponent(bad)}`, { auth }), 400, 'SVCSTG.REPO.0452');
    }
    assertCasError(await s.git.call('GET', '/repos/project-info', { auth }), 400, 'SVCSTG.REPO.0400');
  });
});

describe('GET /v1/{p}/git/repos/{namespace}/{project}/branches', () => {
  it('lists branches; the project may be given as namespace:project', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await seeded(s);
    assert.deepEqual((await s.git.call('GET', `/repos/${ns}/${repo}/branches`, { auth })).body, { branches: ['main'] });
    assert.deepEqual((await s.git.call('GET', `/repos/${ns}/${ns}:${repo}/branches`, { auth })).body, { branches: ['main'] });
    assertCasError(await s.git.call('GET', `/repos/${ns}/missing/branches`, { auth }), 404, 'SVCSTG.REPO.0404');
  });
});

describe('POST /v1/{p}/git/repos/{namespace}/{project}/tags', () => {
  it('creates an annotated tag at ref, lists it, refuses a duplicate, deletes it', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await seeded(s);
    const r = await s.git.call('POST', `/repos/${ns}/${repo}/tags?ref=main`, { auth, body: { name: 'v1.0.0', description: 'first release' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { name: 'v1.0.0' });
    assert.deepEqual((await s.git.call('GET', `/repos/${ns}/${repo}/tags`, { auth })).body, { tags: ['v1.0.0'] });
    assertCasError(await s.git.call('POST', `/repos/${ns}/${repo}/tags?ref=main`, { auth, body: { name: 'v1.0.0', description: 'again' } }), 400, 'SVCSTG.REPO.0403');
    const d = await s.git.call('DELETE', `/repos/${ns}/${repo}/tags/v1.0.0`, { auth });
    assert.equal(d.status, 204, d.text);
    assert.deepEqual((await s.git.call('GET', `/repos/${ns}/${repo}/tags`, { auth })).body, { tags: [] });
    assertCasError(await s.git.call('DELETE', `/repos/${ns}/${repo}/tags/v1.0.0`, { auth }), 404, 'SVCSTG.REPO.0404');
  });

  const bad: [string, string, unknown, number, string][] = [
    ['ref is missing', '', { name: 't1', description: 'd' }, 400, 'SVCSTG.REPO.0400'],
    ['description is missing', '?ref=main', { name: 't1' }, 400, 'SVCSTG.REPO.0400'],
    ['the ref does not exist', '?ref=nope', { name: 't1', description: 'd' }, 404, 'SVCSTG.REPO.0404'],
    ['the name is not a ref name', '?ref=main', { name: 'bad..name', description: 'd' }, 400, 'SVCSTG.REPO.0400'],
  ];
  for (const [what, query, body, status, code] of bad) {
    it(`returns ${status} ${code} when ${what}`, async (t) => {
      const s = await startGit(t);
      const { auth, ns, repo } = await seeded(s);
      assertCasError(await s.git.call('POST', `/repos/${ns}/${repo}/tags${query}`, { auth, body }), status, code);
    });
  }
});

describe('GET /v1/{p}/git/repos/{namespace}/{project}/commits', () => {
  it('returns the latest 10 commits newest first, of the default branch or of ref', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await seeded(s);
    for (let i = 0; i < 11; i += 1) {
      s.clock.advance(1000);
      const r = await s.git.call('POST', `/files/${ns}/${repo}/f${i}.txt?ref=main`, { auth, body: { message: `add f${i}`, content: `${i}` } });
      assert.equal(r.status, 200, r.text);
    }
    const r = await s.git.call('GET', `/repos/${ns}/${repo}/commits`, { auth });
    assert.equal(r.status, 200);
    assert.equal(r.body.commits.length, 10);
    assert.equal(r.body.commits[0].message, 'add f10');
    assert.match(r.body.commits[0].sha, /^[0-9a-f]{40}$/);
    assert.equal(new Date(r.body.commits[0].authored_date).getTime(), s.clock.now() - (s.clock.now() % 1000));
    assert.deepEqual((await s.git.call('GET', `/repos/${ns}/${repo}/commits?ref=main`, { auth })).body, r.body);
    assertCasError(await s.git.call('GET', `/repos/${ns}/${repo}/commits?ref=nope`, { auth }), 404, 'SVCSTG.REPO.0404');
  });

  it('returns [] for a repository without commits', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth);
    await s.git.call('POST', '/repos/ns/projects', { auth, body: { name: 'empty' } });
    assert.deepEqual((await s.git.call('GET', '/repos/ns/empty/commits', { auth })).body, { commits: [] });
  });
});

describe('POST /v1/{p}/git/repos/{namespace}/{project}/hooks', () => {
  it('creates, lists (kept after a restart) and deletes hooks; the secret is never returned', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await seeded(s);
    const r = await s.git.call('POST', `/repos/${ns}/${repo}/hooks`, { auth, body: { url: 'http://127.0.0.1:9/hook', secret: 'hook-secret-1' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.type, 'local');
    assert.equal(r.body.callback_url, 'http://127.0.0.1:9/hook');
    assert.ok(!r.text.includes('hook-secret-1'));
    const s2 = await s.restart();
    const { GitClient } = await import('./client.js');
    const g2 = new GitClient(s2.url, s.git.token);
    const list = await g2.call('GET', `/repos/${ns}/${repo}/hooks`, { auth });
    assert.deepEqual(list.body, { hooks: [r.body] });
    assert.equal((await g2.call('DELETE', `/repos/${ns}/${repo}/hooks/${r.body.id}`, { auth })).status, 204);
    assert.deepEqual((await g2.call('GET', `/repos/${ns}/${repo}/hooks`, { auth })).body, { hooks: [] });
    assertCasError(await g2.call('DELETE', `/repos/${ns}/${repo}/hooks/${r.body.id}`, { auth }), 404, 'SVCSTG.REPO.0404');
    assertCasError(await g2.call('POST', `/repos/${ns}/${repo}/hooks`, { auth, body: { url: 'ftp://x' , secret: 's' } }), 400, 'SVCSTG.REPO.0400');
    assertCasError(await g2.call('POST', `/repos/${ns}/${repo}/hooks`, { auth, body: { url: 'http://x' } }), 400, 'SVCSTG.REPO.0400');
  });
});
