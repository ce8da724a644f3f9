import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { login, PASSWORD, ROOT_PASSWORD, startAsRoot, startRbacServer } from '../helpers/rbac-client.js';
import { call, uniq } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

/** Decodes the header and payload of a JWT without verifying it. */
function decode(token: string): { header: any; payload: any } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}

describe('POST /v4/token', () => {
  it('returns an RS512 JWT with account, roles, iat and exp 12 h ahead by default', async (t) => {
    const srv = await startRbacServer(t);
    const r = await login(srv.url, 'root', ROOT_PASSWORD);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(r.body), ['token']);
    const { header, payload } = decode(r.body.token);
    assert.equal(header.alg, 'RS512');
    assert.equal(payload.account, 'root');
    assert.deepEqual(payload.roles, ['admin']);
    const nowSeconds = Math.floor(srv.clock.now() / 1000);
    assert.equal(payload.iat, nowSeconds);
    assert.equal(payload.exp, nowSeconds + 12 * 3600);
  });

  it('honours tokenExpirationTime as a Go duration', async (t) => {
    const srv = await startRbacServer(t);
    const r = await login(srv.url, 'root', ROOT_PASSWORD, '1h30m');
    assert.equal(r.status, 200, r.text);
    assert.equal(decode(r.body.token).payload.exp, Math.floor(srv.clock.now() / 1000) + 5400);
  });

  it('uses rbac.tokenExpirySeconds when no tokenExpirationTime is given', async (t) => {
    const srv = await startRbacServer(t, { 'rbac.tokenExpirySeconds': 1800 });
    const r = await login(srv.url, 'root', ROOT_PASSWORD);
    assert.equal(decode(r.body.token).payload.exp, Math.floor(srv.clock.now() / 1000) + 1800);
  });

  for (const bad of ['14m59s', '24h0m1s', '1d', 'abc', '12', '-1h']) {
    it(`returns 400 with errorCode 400001 when tokenExpirationTime is ${JSON.stringify(bad)}`, async (t) => {
      const srv = await startRbacServer(t);
      assertError(await login(srv.url, 'root', ROOT_PASSWORD, bad), 400, '400001');
    });
  }

  it('accepts the limits 15m and 24h', async (t) => {
    const srv = await startRbacServer(t);
    for (const ok of ['15m', '24h', '900s', '0.25h']) assert.equal((await login(srv.url, 'root', ROOT_PASSWORD, ok)).status, 200, ok);
  });

  it('returns 401 with errorCode 401202 for a wrong password and for an unknown account', async (t) => {
    const srv = await startRbacServer(t);
    assertError(await login(srv.url, 'root', 'Wrong#Pass1'), 401, '401202');
    assertError(await login(srv.url, uniq('nobody'), ROOT_PASSWORD), 401, '401202');
    const r = await login(srv.url, 'root', 'Wrong#Pass1');
    assert.equal(r.body.errorMessage, 'User name or password is wrong');
  });

  it('returns 400 with errorCode 400001 when the body is missing or not JSON', async (t) => {
    const srv = await startRbacServer(t);
    assertError(await call(srv.url, 'POST', '/v4/token'), 400, '400001');
    assertError(await call(srv.url, 'POST', '/v4/token', { body: '{"name":' }), 400, '400001');
  });

  it('accepts a body sent as a form content type, as curl -d does', async (t) => {
    const srv = await startRbacServer(t);
    const r = await call(srv.url, 'POST', '/v4/token', { body: JSON.stringify({ name: 'root', password: ROOT_PASSWORD }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200, r.text);
  });

  it('returns 403 with errorCode 403201 when the account is inactive, even with the right password', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('idle');
    assert.equal((await root.req('POST', '/v4/accounts', { name, roles: ['developer'], password: PASSWORD, status: 'inactive' })).status, 200);
    assertError(await login(srv.url, name, PASSWORD), 403, '403201');
  });

  it('keeps tokens valid across a restart (the signing key is stored)', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const again = await srv.restart();
    const r = await call(again.url, 'GET', '/v4/accounts', { headers: root.auth });
    assert.equal(r.status, 200, r.text);
  });

  it('stores the signing key sealed and passwords as scrypt hashes', async (t) => {
    const srv = await startRbacServer(t);
    const key = await srv.server.db.kysely.selectFrom('rbac_keys').selectAll().executeTakeFirstOrThrow();
    assert.match(key.private_key, /^v1:/);
    assert.doesNotMatch(key.private_key, /PRIVATE KEY/);
    assert.match(key.public_key, /BEGIN PUBLIC KEY/);
    const root = await srv.server.db.kysely.selectFrom('rbac_accounts').selectAll().where('name', '=', 'root').executeTakeFirstOrThrow();
    assert.match(root.password_hash, /^scrypt\$/);
    assert.ok(!root.password_hash.includes(ROOT_PASSWORD));
  });

  it('is not served when RBAC is off', async (t) => {
    const srv = await startServer(t);
    const r = await login(srv.url, 'root', ROOT_PASSWORD);
    assert.equal(r.status, 404);
  });
});

describe('GET /v4/self-perms', () => {
  it('lists the permissions of every role of the caller, without any account permission', async (t) => {
    const { root } = await startAsRoot(t);
    const r1 = uniq('r');
    const r2 = uniq('r');
    const p1 = { resources: [{ type: 'service' }], verbs: ['get'] };
    const p2 = { resources: [{ type: 'config', labels: { app: 'a' } }], verbs: ['create', 'update'] };
    await root.createRole(r1, [p1]);
    await root.createRole(r2, [p2]);
    const { client } = await root.newUser([r1, r2]);
    const r = await client.req('GET', '/v4/self-perms');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { perms: [p1, p2] });
  });

  it('returns {} for an account whose roles grant nothing', async (t) => {
    const { root } = await startAsRoot(t);
    const role = uniq('empty');
    const { client } = await root.newUser([role], []);
    const r = await client.req('GET', '/v4/self-perms');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {});
  });

  it('returns 401 with errorCode 401204 without a token', async (t) => {
    const srv = await startRbacServer(t);
    assertError(await call(srv.url, 'GET', '/v4/self-perms'), 401, '401204');
  });
});
