import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call } from '../helpers/registry-client.js';
import { ADMIN, IAM_OVERRIDES, login, signedCall } from '../helpers/iam-client.js';
import { startServer } from '../helpers/server.js';
import { canonicalRequest, formatSdkDate, sign, stringToSign } from '../../src/iam/signature.js';

const huaweiError = (r: { status: number; body: any }, status: number, code: string, message?: RegExp): void => {
  assert.equal(r.status, status);
  assert.equal(r.body.error_code, code);
  assert.equal(typeof r.body.error_msg, 'string');
  if (message) assert.match(r.body.error_msg, message);
};

describe('AK/SK signature', () => {
  it('accepts a correctly signed request', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const r = await signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { dateMs: srv.clock.now() });
    assert.equal(r.status, 200);
    assert.equal(r.body.project.id, ADMIN.projectId);
    const q = await signedCall(srv.url, 'GET', '/v3/projects?name=default', { dateMs: srv.clock.now() });
    assert.deepEqual(q.body.projects.map((p: any) => p.id), [ADMIN.projectId]);
  });

  it('checks the body hash: a body changed after signing is refused', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const ok = await signedCall(srv.url, 'POST', '/v3/projects', { body: JSON.stringify({ project: { name: 'p-ok' } }), dateMs: srv.clock.now() });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.project.name, 'p-ok');
    const replayed = await signedCall(srv.url, 'POST', '/v3/projects', {
      body: JSON.stringify({ project: { name: 'p-one' } }),
      dateMs: srv.clock.now(),
      tamper: (r) => {
        r.body = JSON.stringify({ project: { name: 'p-two' } });
      },
    });
    huaweiError(replayed, 401, 'APIGW.0301', /signature/);
  });

  const refusals: [string, Parameters<typeof signedCall>[3], RegExp][] = [
    ['a wrong secret key', { sk: 'x'.repeat(40) }, /signature fail/],
    ['an unknown access key', { ak: 'NOSUCHKEY0000000000' }, /unknown access key/],
    ['a changed path', { tamper: (r) => void (r.path = `/v3/projects/${ADMIN.projectId}?x=1`) }, /signature fail/],
    ['a malformed Authorization', { tamper: (r) => void (r.headers.authorization = 'SDK-HMAC-SHA256 nonsense') }, /not an SDK-HMAC-SHA256/],
    ['no X-Sdk-Date', { tamper: (r) => void delete r.headers['x-sdk-date'] }, /X-Sdk-Date/],
  ];
  for (const [why, options, message] of refusals) {
    it(`answers 401 APIGW.0301 for ${why}`, async (t) => {
      const srv = await startServer(t, IAM_OVERRIDES);
      huaweiError(await signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { dateMs: srv.clock.now(), ...options }), 401, 'APIGW.0301', message);
    });
  }

  it('refuses UNSIGNED-PAYLOAD on a JSON body, and accepts a signature without Host as the Go SDK sends it (issue #15 L4)', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const unsigned = await signedCall(srv.url, 'POST', '/v3/projects', { body: JSON.stringify({ project: { name: 'p-unsigned' } }), headers: { 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' }, dateMs: srv.clock.now() });
    huaweiError(unsigned, 401, 'APIGW.0301', /UNSIGNED-PAYLOAD is accepted only on multipart/);
    const sdkDate = formatSdkDate(srv.clock.now());
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-sdk-date': sdkDate };
    const path = `/v3/projects/${ADMIN.projectId}`;
    const signature = sign(ADMIN.sk, stringToSign(canonicalRequest({ method: 'GET', url: path, headers, body: Buffer.alloc(0) }, ['content-type', 'x-sdk-date']), sdkDate));
    headers.authorization = `SDK-HMAC-SHA256 Access=${ADMIN.ak}, SignedHeaders=content-type;x-sdk-date, Signature=${signature}`;
    // The Huawei Cloud Go SDK signs its header map, which never holds Host (compat/go-sdk).
    assert.equal((await call(srv.url, 'GET', path, { headers })).status, 200, 'a signature without Host passes');
    headers['x-sdk-date'] = formatSdkDate(srv.clock.now() - 3600_000);
    huaweiError(await call(srv.url, 'GET', path, { headers }), 401, 'APIGW.0301', /Signature|signature/);
  });

  it('refuses a request signed more than 15 minutes before or after the server time', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const at = (offsetMs: number) => signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { dateMs: srv.clock.now() + offsetMs });
    assert.equal((await at(-14 * 60_000)).status, 200);
    assert.equal((await at(14 * 60_000)).status, 200);
    huaweiError(await at(-16 * 60_000), 401, 'APIGW.0301', /expired/);
    huaweiError(await at(16 * 60_000), 401, 'APIGW.0301', /expired/);
  });

  it('answers 403 APIGW.0302 for a project the key owner is not in, or an X-Project-Id that differs from the path', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const bob = await srv.server.iam.createUser('bob', 'Bob-Passw0rd!');
    const bobKey = await srv.server.iam.createAccessKey(bob.id);
    huaweiError(await signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { ak: bobKey.accessKey, sk: bobKey.secretKey, dateMs: srv.clock.now() }), 403, 'APIGW.0302');
    huaweiError(await signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { dateMs: srv.clock.now(), headers: { 'x-project-id': 'f'.repeat(32) } }), 403, 'APIGW.0302');
    huaweiError(await signedCall(srv.url, 'POST', '/v3/projects', { ak: bobKey.accessKey, sk: bobKey.secretKey, body: JSON.stringify({ project: { name: 'bobs' } }), dateMs: srv.clock.now() }), 403, 'APIGW.0302');
    assert.equal((await signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { dateMs: srv.clock.now(), headers: { 'x-project-id': ADMIN.projectId } })).status, 200);
  });

  it('answers 403 when a token scoped to one project is used on another', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const other = await signedCall(srv.url, 'POST', '/v3/projects', { body: JSON.stringify({ project: { name: 'second' } }), dateMs: srv.clock.now() });
    const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    huaweiError(await call(srv.url, 'GET', `/v3/projects/${other.body.project.id}`, { headers: { 'X-Auth-Token': token } }), 403, 'APIGW.0302');
  });

  it('answers 401 without any credential and lets everything through with auth none', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    huaweiError(await call(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`), 401, 'APIGW.0301', /no X-Auth-Token/);
    const open = await startServer(t, { ...IAM_OVERRIDES, auth: 'none' });
    assert.equal((await call(open.url, 'GET', `/v3/projects/${ADMIN.projectId}`)).status, 200);
  });
});

describe('bootstrap', () => {
  it('creates the admin, project and access key from the settings, keeps them across restarts, and stores the secret key encrypted', async (t) => {
    let srv = await startServer(t, IAM_OVERRIDES);
    assert.equal(srv.server.bootstrap.secretKey, undefined, 'a configured secret is not echoed');
    assert.equal(srv.server.bootstrap.projectId, ADMIN.projectId);
    const rows = await srv.server.db.kysely.selectFrom('iam_access_keys').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]!.secret_sealed.includes(ADMIN.sk), 'the secret key is not stored in clear');
    const users = await srv.server.db.kysely.selectFrom('iam_users').select('password_hash').execute();
    assert.match(users[0]!.password_hash, /^scrypt\$/);
    srv = await srv.restart();
    assert.equal((await signedCall(srv.url, 'GET', `/v3/projects/${ADMIN.projectId}`, { dateMs: srv.clock.now() })).status, 200);
  });

  it('generates the admin password and keys on first start and reports them once', async (t) => {
    let srv = await startServer(t);
    const first = srv.server.bootstrap;
    assert.ok(first.adminPassword && first.secretKey && first.accessKey);
    assert.match(first.projectId, /^[0-9a-f]{32}$/);
    assert.equal((await login(srv.url, 'admin', first.adminPassword!, { project: { id: first.projectId } })).status, 201);
    srv = await srv.restart();
    assert.equal(srv.server.bootstrap.adminPassword, undefined);
    assert.equal(srv.server.bootstrap.secretKey, undefined);
    assert.equal(srv.server.bootstrap.accessKey, first.accessKey);
  });
});
