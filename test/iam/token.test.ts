import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call } from '../helpers/registry-client.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { startServer } from '../helpers/server.js';

const keystoneError = (r: { status: number; body: any }, status: number, code: string): void => {
  assert.equal(r.status, status);
  assert.equal(r.body.error.code, status);
  assert.equal(typeof r.body.error.message, 'string');
  assert.equal(r.body.error_code, code);
};

describe('POST /v3/auth/tokens', () => {
  it('returns 201, the token in X-Subject-Token and a body naming user, project and expiry (24 h)', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const r = await login(srv.url, ADMIN.name, ADMIN.password);
    assert.equal(r.status, 201);
    const token = r.headers.get('x-subject-token');
    assert.match(token ?? '', /^MII[A-Za-z0-9_-]{40,}$/);
    assert.equal(r.body.token.user.name, 'admin');
    assert.equal(r.body.token.user.domain.name, 'openstage');
    assert.equal(r.body.token.project.id, ADMIN.projectId);
    assert.deepEqual(r.body.token.methods, ['password']);
    assert.equal(Date.parse(r.body.token.expires_at) - Date.parse(r.body.token.issued_at), 24 * 3600 * 1000);
    assert.equal(Date.parse(r.body.token.issued_at), srv.clock.now());
  });

  it('scopes by project name and answers a domain-scoped token without a project', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const byName = await login(srv.url, ADMIN.name, ADMIN.password, { project: { name: 'default' } });
    assert.equal(byName.body.token.project.id, ADMIN.projectId);
    const domain = await login(srv.url, ADMIN.name, ADMIN.password, { domain: { name: 'openstage' } });
    assert.equal(domain.status, 201);
    assert.equal(domain.body.token.project, undefined);
    assert.equal(domain.body.token.domain.name, 'openstage');
  });

  it('returns 401 for a wrong password or user, 400 for a malformed body or unknown project, 403 for a project the user is not in', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    keystoneError(await login(srv.url, ADMIN.name, 'nope-nope'), 401, 'IAM.0101');
    keystoneError(await login(srv.url, 'ghost', ADMIN.password), 401, 'IAM.0101');
    keystoneError(await call(srv.url, 'POST', '/v3/auth/tokens', { body: { auth: {} } }), 400, 'IAM.0001');
    keystoneError(await call(srv.url, 'POST', '/v3/auth/tokens', { body: '{oops' }), 400, 'IAM.0001');
    keystoneError(await login(srv.url, ADMIN.name, ADMIN.password, { project: { id: 'f'.repeat(32) } }), 400, 'IAM.0001');
    keystoneError(await login(srv.url, ADMIN.name, ADMIN.password, { project: {} }), 400, 'IAM.0001');
    keystoneError(await call(srv.url, 'POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: ADMIN.password, domain: { id: 'nope' } } } } } } }), 401, 'IAM.0101');
    keystoneError(await call(srv.url, 'GET', '/v3/projects/%zz'), 400, 'IAM.0001');
    const other = await srv.server.iam.createProject('other', srv.server.iam.findUserByName('admin')!.domainId);
    const bob = await srv.server.iam.createUser('bob', 'Bob-Passw0rd!');
    keystoneError(await login(srv.url, 'bob', 'Bob-Passw0rd!', { project: { id: other.id } }), 403, 'APIGW.0302');
  });
});

describe('POST /v3/auth/tokens with the token method (rescoping)', () => {
  it('trades a valid token for one scoped to another project of the user, ending when the first does', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const admin = srv.server.iam.findUserByName('admin')!;
    const other = await srv.server.iam.createProject('other', admin.domainId);
    await srv.server.iam.addMember(admin.id, other.id);
    const first = await login(srv.url, ADMIN.name, ADMIN.password);
    const token = first.headers.get('x-subject-token')!;
    srv.clock.advance(3600 * 1000);
    const rescope = (id: string, scope: Record<string, unknown> | null = { project: { name: 'other' } }) =>
      call(srv.url, 'POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id } }, ...(scope ? { scope } : {}) } } });
    const r = await rescope(token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const second = r.headers.get('x-subject-token')!;
    assert.notEqual(second, token);
    assert.equal(r.body.token.project.id, other.id);
    assert.deepEqual(r.body.token.methods, ['token']);
    assert.equal(r.body.token.expires_at, first.body.token.expires_at, 'a rescoped token ends when the presented one does');
    assert.equal((await call(srv.url, 'GET', `/v3/projects/${other.id}`, { headers: { 'X-Auth-Token': second } })).status, 200);
    assert.equal((await call(srv.url, 'GET', `/v3/projects/${other.id}`, { headers: { 'X-Auth-Token': token } })).status, 403, 'the first token keeps its own scope');
    // Refusals: no scope, a project the user is not in, a bad or expired token.
    keystoneError(await rescope(token, null), 400, 'IAM.0001');
    const bob = await srv.server.iam.createUser('bob', 'Bob-Passw0rd!');
    await srv.server.iam.addMember(bob.id, ADMIN.projectId);
    const bobToken = (await login(srv.url, 'bob', 'Bob-Passw0rd!')).headers.get('x-subject-token')!;
    keystoneError(await rescope(bobToken, { project: { id: other.id } }), 403, 'APIGW.0302');
    keystoneError(await rescope('MIInot-a-token'), 401, 'APIGW.0301');
    srv.clock.advance(23 * 3600 * 1000);
    keystoneError(await rescope(token), 401, 'APIGW.0301');
  });
});

describe('token lifetime', () => {
  it('validates with GET, expires after 24 h of clock time, and survives a restart until then', async (t) => {
    let srv = await startServer(t, IAM_OVERRIDES);
    const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const check = (base: string) => call(base, 'GET', `/v3/projects/${ADMIN.projectId}`, { headers: { 'X-Auth-Token': token } });
    assert.equal((await check(srv.url)).status, 200);
    const validated = await call(srv.url, 'GET', '/v3/auth/tokens', { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } });
    assert.equal(validated.status, 200);
    assert.equal(validated.body.token.user.name, 'admin');
    srv = await srv.restart();
    assert.equal((await check(srv.url)).status, 200, 'tokens are durable');
    srv.clock.advance(24 * 3600 * 1000);
    const expired = await check(srv.url);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error_code, 'APIGW.0301');
    assert.match(expired.body.error_msg, /expired/);
  });

  it('revokes with DELETE: 204, then 401 on use', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const del = await call(srv.url, 'DELETE', '/v3/auth/tokens', { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } });
    assert.equal(del.status, 204);
    const after = await call(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { headers: { 'X-Auth-Token': token } });
    assert.equal(after.status, 401);
    assert.equal(after.body.error_code, 'APIGW.0301');
  });
});

describe('GET /v3/projects', () => {
  it('lists the caller\'s projects, filtered by name', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const token = (await login(srv.url, ADMIN.name, ADMIN.password, { domain: { name: 'openstage' } })).headers.get('x-subject-token')!;
    const all = await call(srv.url, 'GET', '/v3/auth/projects', { headers: { 'X-Auth-Token': token } });
    assert.deepEqual(all.body.projects.map((p: any) => p.id), [ADMIN.projectId], 'a domain-scoped token lists the user\'s projects (Keystone)');
    assert.equal((await call(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { headers: { 'X-Auth-Token': token } })).status, 403, 'but acts in none');
    const scoped = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const list = await call(srv.url, 'GET', '/v3/projects?name=default', { headers: { 'X-Auth-Token': scoped } });
    assert.deepEqual(list.body.projects.map((p: any) => p.id), [ADMIN.projectId]);
    assert.equal((await call(srv.url, 'GET', '/v3/projects')).status, 401);
  });
});
