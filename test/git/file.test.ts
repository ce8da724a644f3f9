import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, uniqName } from '../helpers/cas-client.js';
import { localAuth, startGit, type GitServer } from './client.js';

async function repoWithAuth(s: GitServer): Promise<{ auth: string; ns: string; repo: string }> {
  const auth = uniqName('a');
  await localAuth(s, auth);
  const ns = uniqName('ns');
  const repo = uniqName('r');
  assert.equal((await s.git.call('POST', `/repos/${ns}/projects`, { auth, body: { name: repo } })).status, 200);
  return { auth, ns, repo };
}

describe('POST /v1/{p}/git/files/{namespace}/{project}/{path}', () => {
  it('creates files (`:` for `/` in the path), creating main in an empty repository', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    const r = await s.git.call('POST', `/files/${ns}/${repo}/src:app:main.js?ref=main`, { auth, body: { message: 'add app', content: 'console.log(1);\n' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { path: 'src/app/main.js' });
    const bin = Buffer.from([0, 1, 2, 255]);
    assert.equal((await s.git.call('POST', `/files/${ns}/${repo}/logo.bin?ref=main`, { auth, body: { message: 'bin', content: bin.toString('base64'), encoding: 'base64' } })).status, 200);
    assert.deepEqual((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=main`, { auth })).body, { paths: ['logo.bin', 'src/app/main.js'] });
    const f = await s.git.call('GET', `/files/${ns}/${repo}/src:app:main.js?ref=main`, { auth });
    assert.equal(f.status, 200);
    assert.equal(f.body.path, 'src/app/main.js');
    assert.equal(f.body.encoding, 'text/plain');
    assert.equal(f.body.content, 'console.log(1);\n');
    assert.match(f.body.sha, /^[0-9a-f]{40}$/);
    const b = await s.git.call('GET', `/files/${ns}/${repo}/logo.bin?ref=main`, { auth });
    assert.deepEqual({ encoding: b.body.encoding, content: b.body.content }, { encoding: 'base64', content: bin.toString('base64') });
    assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/logo.bin?ref=main`, { auth, body: { message: 'again', content: 'x' } }), 400, 'SVCSTG.REPO.0403');
    assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/other.txt?ref=dev`, { auth, body: { message: 'no branch', content: 'x' } }), 404, 'SVCSTG.REPO.0404');
  });

  it('takes nested paths with `/` left unescaped, as the Go and Java SDKs send them (issue #18 item 7)', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    const created = await s.git.call('POST', `/files/${ns}/${repo}/conf/app/settings.yaml?ref=main`, { auth, body: { message: 'nested', content: 'a: 1\n' } });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.body, { path: 'conf/app/settings.yaml' });
    const got = await s.git.call('GET', `/files/${ns}/${repo}/conf/app/settings.yaml?ref=main`, { auth });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.content, 'a: 1\n');
    const same = await s.git.call('GET', `/files/${ns}/${repo}/conf:app:settings.yaml?ref=main`, { auth });
    assert.equal(same.body.sha, got.body.sha);
    const put = await s.git.call('PUT', `/files/${ns}/${repo}/conf/app/settings.yaml?ref=main`, { auth, body: { message: 'edit', content: 'a: 2\n', sha: got.body.sha } });
    assert.equal(put.status, 200, put.text);
    const del = await s.git.call('DELETE', `/files/${ns}/${repo}/conf/app/settings.yaml?ref=main&message=rm&sha=${(await s.git.call('GET', `/files/${ns}/${repo}/conf/app/settings.yaml?ref=main`, { auth })).body.sha}`, { auth });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=main`, { auth })).body, { paths: [] });
  });

  const bad: [string, string, unknown, number, string][] = [
    ['ref is missing', 'a.txt', { message: 'm', content: 'c' }, 400, 'SVCSTG.REPO.0400'],
    ['message is missing', 'a.txt?ref=main', { content: 'c' }, 400, 'SVCSTG.REPO.0400'],
    ['content is missing', 'a.txt?ref=main', { message: 'm' }, 400, 'SVCSTG.REPO.0400'],
    ['the path climbs out', '..:x.txt?ref=main', { message: 'm', content: 'c' }, 400, 'SVCSTG.REPO.0400'],
    ['the path is inside .git', '.git:config?ref=main', { message: 'm', content: 'c' }, 400, 'SVCSTG.REPO.0400'],
    ['content is not base64', 'a.txt?ref=main', { message: 'm', content: '%%%', encoding: 'base64' }, 400, 'SVCSTG.REPO.0400'],
  ];
  for (const [what, path, body, status, code] of bad) {
    it(`returns ${status} ${code} when ${what}`, async (t) => {
      const s = await startGit(t);
      const { auth, ns, repo } = await repoWithAuth(s);
      assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/${path}`, { auth, body }), status, code);
    });
  }
});

describe('PUT /v1/{p}/git/files/{namespace}/{project}/{path}', () => {
  it('modifies a file when sha is its current blob, refuses a stale sha with 409', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    await s.git.call('POST', `/files/${ns}/${repo}/conf:app.yaml?ref=main`, { auth, body: { message: 'v1', content: 'a: 1\n' } });
    const v1 = (await s.git.call('GET', `/files/${ns}/${repo}/conf:app.yaml?ref=main`, { auth })).body;
    const r = await s.git.call('PUT', `/files/${ns}/${repo}/conf:app.yaml?ref=main`, { auth, body: { message: 'v2', content: 'a: 2\n', sha: v1.sha } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { path: 'conf/app.yaml' });
    const v2 = (await s.git.call('GET', `/files/${ns}/${repo}/conf:app.yaml?ref=main`, { auth })).body;
    assert.equal(v2.content, 'a: 2\n');
    assert.notEqual(v2.sha, v1.sha);
    assertCasError(await s.git.call('PUT', `/files/${ns}/${repo}/conf:app.yaml?ref=main`, { auth, body: { message: 'v3', content: 'a: 3\n', sha: v1.sha } }), 409, 'SVCSTG.REPO.0409');
    assertCasError(await s.git.call('PUT', `/files/${ns}/${repo}/conf:app.yaml?ref=main`, { auth, body: { message: 'v3', content: 'a: 3\n' } }), 400, 'SVCSTG.REPO.0400');
    assertCasError(await s.git.call('PUT', `/files/${ns}/${repo}/missing.yaml?ref=main`, { auth, body: { message: 'v3', content: 'x', sha: v1.sha } }), 404, 'SVCSTG.REPO.0404');
    const commits = (await s.git.call('GET', `/repos/${ns}/${repo}/commits`, { auth })).body.commits;
    assert.deepEqual(commits.map((c: any) => c.message), ['v2', 'v1']);
  });
});

describe('DELETE /v1/{p}/git/files/{namespace}/{project}/{path}', () => {
  it('deletes with ref, message and sha in the query', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    await s.git.call('POST', `/files/${ns}/${repo}/a.txt?ref=main`, { auth, body: { message: 'a', content: 'A' } });
    await s.git.call('POST', `/files/${ns}/${repo}/b.txt?ref=main`, { auth, body: { message: 'b', content: 'B' } });
    const a = (await s.git.call('GET', `/files/${ns}/${repo}/a.txt?ref=main`, { auth })).body;
    assertCasError(await s.git.call('DELETE', `/files/${ns}/${repo}/a.txt?ref=main&message=rm`, { auth }), 400, 'SVCSTG.REPO.0400');
    assertCasError(await s.git.call('DELETE', `/files/${ns}/${repo}/a.txt?ref=main&message=rm&sha=${'0'.repeat(40)}`, { auth }), 409, 'SVCSTG.REPO.0409');
    const r = await s.git.call('DELETE', `/files/${ns}/${repo}/a.txt?ref=main&message=remove%20a&sha=${a.sha}`, { auth });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=main`, { auth })).body, { paths: ['b.txt'] });
    assertCasError(await s.git.call('GET', `/files/${ns}/${repo}/a.txt?ref=main`, { auth }), 404, 'SVCSTG.REPO.0404');
    assert.equal((await s.git.call('GET', `/repos/${ns}/${repo}/commits`, { auth })).body.commits[0].message, 'remove a');
  });
});

describe('GET /v1/{p}/git/files/{namespace}/{project}/trees', () => {
  it('needs ref; 404 for an unknown ref; reads a tag too', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    await s.git.call('POST', `/files/${ns}/${repo}/a.txt?ref=main`, { auth, body: { message: 'a', content: 'A' } });
    await s.git.call('POST', `/repos/${ns}/${repo}/tags?ref=main`, { auth, body: { name: 'v1', description: 'd' } });
    await s.git.call('POST', `/files/${ns}/${repo}/b.txt?ref=main`, { auth, body: { message: 'b', content: 'B' } });
    assertCasError(await s.git.call('GET', `/files/${ns}/${repo}/trees`, { auth }), 400, 'SVCSTG.REPO.0400');
    assertCasError(await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=nope`, { auth }), 404, 'SVCSTG.REPO.0404');
    assert.deepEqual((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=v1`, { auth })).body, { paths: ['a.txt'] });
    assertCasError(await s.git.call('GET', `/files/${ns}/${repo}/a.txt`, { auth }), 400, 'SVCSTG.REPO.0400');
  });
});

describe('file writes on the built-in host (review)', () => {
  it('answers 400, not 500, when a path crosses a file (a/b where a is a file) or a directory is written as a file', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    assert.equal((await s.git.call('POST', `/files/${ns}/${repo}/a?ref=main`, { auth, body: { message: 'a', content: 'x' } })).status, 200);
    assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/a:b?ref=main`, { auth, body: { message: 'a/b', content: 'y' } }), 400, 'SVCSTG.REPO.0400');
    assert.equal((await s.git.call('POST', `/files/${ns}/${repo}/d:e?ref=main`, { auth, body: { message: 'd/e', content: 'y' } })).status, 200);
    assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/d?ref=main`, { auth, body: { message: 'd', content: 'z' } }), 400, 'SVCSTG.REPO.0403');
    assert.deepEqual((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=main`, { auth })).body, { paths: ['a', 'd/e'] });
  });

  it('refuses control characters in a path (a newline would add index lines to a delete)', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    assert.equal((await s.git.call('POST', `/files/${ns}/${repo}/a?ref=main`, { auth, body: { message: 'a', content: 'x' } })).status, 200);
    const blob = (await s.git.call('GET', `/files/${ns}/${repo}/a?ref=main`, { auth })).body.sha as string;
    const evil = encodeURIComponent(`x\n100644 ${blob}\tevil`);
    assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/${evil}?ref=main`, { auth, body: { message: 'nl', content: 'x' } }), 400, 'SVCSTG.REPO.0400');
    assertCasError(await s.git.call('POST', `/files/${ns}/${repo}/${encodeURIComponent('tab\there')}?ref=main`, { auth, body: { message: 'tab', content: 'x' } }), 400, 'SVCSTG.REPO.0400');
    assert.deepEqual((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=main`, { auth })).body, { paths: ['a'] });
  });

  it('creates different files concurrently on one branch without spurious 409s; a stale sha still loses', async (t) => {
    const s = await startGit(t);
    const { auth, ns, repo } = await repoWithAuth(s);
    assert.equal((await s.git.call('POST', `/files/${ns}/${repo}/seed?ref=main`, { auth, body: { message: 'seed', content: 's' } })).status, 200);
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => s.git.call('POST', `/files/${ns}/${repo}/f${i}?ref=main`, { auth, body: { message: `f${i}`, content: `${i}` } })));
    assert.deepEqual(replies.map((r) => r.status), Array(8).fill(200), replies.map((r) => r.text).join('\n'));
    assert.equal((await s.git.call('GET', `/files/${ns}/${repo}/trees?ref=main`, { auth })).body.paths.length, 9);
    const sha = (await s.git.call('GET', `/files/${ns}/${repo}/seed?ref=main`, { auth })).body.sha as string;
    const puts = await Promise.all(Array.from({ length: 6 }, (_, i) => s.git.call('PUT', `/files/${ns}/${repo}/seed?ref=main`, { auth, body: { message: `v${i}`, content: `v${i}`, sha } })));
    assert.equal(puts.filter((r) => r.status === 200).length, 1, puts.map((r) => r.text).join('\n'));
    for (const r of puts) if (r.status !== 200) assertCasError(r, 409, 'SVCSTG.REPO.0409');
  });
});
