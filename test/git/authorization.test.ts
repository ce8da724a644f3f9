import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, uniqName } from '../helpers/cas-client.js';
import { GitClient, localAuth, startGit } from './client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('POST /v1/{p}/git/auths/{repo_type}/password', () => {
  it('creates a local password authorization, never returning the password, kept after a restart', async (t) => {
    const s = await startGit(t);
    const name = uniqName('auth');
    const r = await s.git.call('POST', '/auths/local/password', { body: { name, token: b64('alice:pa55word') } });
    assert.equal(r.status, 200, r.text);
    const a = r.body.authorization;
    assert.equal(a.name, name);
    assert.equal(a.repo_type, 'local');
    assert.equal(a.token_type, 'password');
    assert.equal(a.repo_user, 'alice');
    assert.equal(a.avartar, '');
    assert.equal(a.status, 0);
    assert.equal(a.create_time, s.clock.now());
    assert.equal(a.update_time, s.clock.now());
    assert.equal(typeof a.repo_home, 'string');
    assert.ok(!r.text.includes('pa55word') && !r.text.includes(b64('alice:pa55word')));
    const rows = await s.server.db.kysely.selectFrom('git_authorizations').select('token_sealed').where('name', '=', name).execute();
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]!.token_sealed.includes('pa55word'));
    const s2 = await s.restart();
    const list = await new GitClient(s2.url, s.git.token).call('GET', '/auths');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.authorizations.map((x: any) => x.name), [name]);
    assert.ok(!list.text.includes('pa55word'));
  });

  it('accepts the Huawei SDKs\' body {name, user, password} (issue #18 item 1)', async (t) => {
    const s = await startGit(t);
    const name = uniqName('auth');
    const r = await s.git.call('POST', '/auths/local/password', { body: { name, user: 'bob', password: 'se:cret' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.authorization.repo_user, 'bob');
    assert.equal(r.body.authorization.token_type, 'password');
    assert.ok(!r.text.includes('se:cret'));
    // The credential is bob's password: smart HTTP accepts exactly it.
    assert.equal(await s.server.git.checkBasic(s.git.project, 'bob', 'se:cret'), 'bob');
    assert.equal(await s.server.git.checkBasic(s.git.project, 'bob', 'wrong'), undefined);
  });

  const bad: [string, unknown, string][] = [
    ['neither token nor user and password', { name: 'a1', user: 'u' }, 'SVCSTG.REPO.0400'],
    ['user with a colon', { name: 'a1', user: 'u:x', password: 'p' }, 'SVCSTG.REPO.0400'],
    ['token not base64 of user:password', { name: 'a1', token: b64('nocolon') }, 'SVCSTG.REPO.0400'],
    ['token not base64', { name: 'a1', token: '!!!' }, 'SVCSTG.REPO.0400'],
    ['name missing', { token: b64('a:b') }, 'SVCSTG.REPO.0400'],
    ['name with a slash', { name: 'a/b', token: b64('a:b') }, 'SVCSTG.REPO.0400'],
    ['token a number', { name: 'a1', token: 5 }, 'SVCSTG.REPO.0400'],
  ];
  for (const [what, body, code] of bad) {
    it(`returns 400 ${code} when ${what}`, async (t) => {
      const s = await startGit(t);
      assertCasError(await s.git.call('POST', '/auths/local/password', { body }), 400, code);
    });
  }

  it('returns 400 SVCSTG.REPO.0403 for a name already used', async (t) => {
    const s = await startGit(t);
    const name = uniqName('auth');
    await localAuth(s, name);
    assertCasError(await s.git.call('POST', '/auths/local/personal', { body: { name, token: 'tok' } }), 400, 'SVCSTG.REPO.0403');
  });

  it('returns 400 SVCSTG.REPO.0401 for an unknown repo type', async (t) => {
    const s = await startGit(t);
    assertCasError(await s.git.call('POST', '/auths/svn/password', { body: { name: 'x1', token: b64('a:b') } }), 400, 'SVCSTG.REPO.0401');
  });
});

describe('POST /v1/{p}/git/auths/{repo_type}/personal', () => {
  it('creates a local private-token authorization named after its user', async (t) => {
    const s = await startGit(t);
    const name = uniqName('tok');
    const r = await s.git.call('POST', '/auths/local/personal', { body: { name, token: 'my-token-123' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.authorization.token_type, 'personal');
    assert.equal(r.body.authorization.repo_user, name);
    assert.ok(!r.text.includes('my-token-123'));
  });
});

describe('GET /v1/{p}/git/auths', () => {
  it('lists authorizations oldest first with every documented field', async (t) => {
    const s = await startGit(t);
    const a = uniqName('a');
    const b = uniqName('b');
    await localAuth(s, a);
    s.clock.advance(1000);
    await localAuth(s, b);
    const r = await s.git.call('GET', '/auths');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.authorizations.map((x: any) => x.name), [a, b]);
    assert.deepEqual(Object.keys(r.body.authorizations[0]).sort(), ['avartar', 'create_time', 'name', 'repo_home', 'repo_host', 'repo_type', 'repo_user', 'status', 'token_type', 'update_time']);
  });

  it('returns 401 without an IAM token', async (t) => {
    const s = await startGit(t);
    const r = await fetch(`${s.url}/v1/${s.git.project}/git/auths`);
    assert.equal(r.status, 401);
  });
});

describe('DELETE /v1/{p}/git/auths/{name}', () => {
  it('deletes; the name then answers 0451 on repository calls and 404 on a second delete', async (t) => {
    const s = await startGit(t);
    const name = uniqName('a');
    await localAuth(s, name);
    assert.equal((await s.git.call('GET', '/repos/namespaces', { auth: name })).status, 200);
    const r = await s.git.call('DELETE', `/auths/${name}`, { body: {} });
    assert.equal(r.status, 204, r.text);
    assertCasError(await s.git.call('GET', '/repos/namespaces', { auth: name }), 400, 'SVCSTG.REPO.0451');
    assertCasError(await s.git.call('DELETE', `/auths/${name}`), 404, 'SVCSTG.REPO.0404');
  });
});

describe('X-Repo-Auth', () => {
  it('returns 400 SVCSTG.REPO.0450 without the header and 0451 for an unknown name', async (t) => {
    const s = await startGit(t);
    assertCasError(await s.git.call('GET', '/repos/namespaces'), 400, 'SVCSTG.REPO.0450');
    assertCasError(await s.git.call('GET', '/files/ns/repo/trees?ref=main'), 400, 'SVCSTG.REPO.0450');
    assertCasError(await s.git.call('GET', '/repos/namespaces', { auth: 'nobody' }), 400, 'SVCSTG.REPO.0451');
  });

  it('returns 404 SVCSTG.REPO.0408 for an unknown path under /git', async (t) => {
    const s = await startGit(t);
    assertCasError(await s.git.call('GET', '/nothing-here'), 404, 'SVCSTG.REPO.0408');
  });

  it('returns 400 SVCSTG.REPO.0400 for a path the router cannot decode', async (t) => {
    const s = await startGit(t);
    assertCasError(await s.git.call('GET', '/repos/%zz/projects'), 400, 'SVCSTG.REPO.0400');
  });
});
