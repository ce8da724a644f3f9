import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { assertError } from '../helpers/assert.js';
import { login, startAsRoot, startRbacServer } from '../helpers/rbac-client.js';
import { call, RegistryClient, uniq, type Reply } from '../helpers/registry-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const R = '/v4/default/registry';

/** A registry call with the given headers. */
const registryCall = (srv: TestServer, headers: Record<string, string>, method = 'GET', path = '/microservices', body?: unknown): Promise<Reply<any>> =>
  call(srv.url, method, R + path, { headers, ...(body === undefined ? {} : { body }) });

describe('registry calls with RBAC on', () => {
  it('returns 401 with errorCode 401204 without an Authorization header', async (t) => {
    const srv = await startRbacServer(t);
    const r = await registryCall(srv, {});
    assertError(r, 401, '401204');
    assert.equal(r.body.errorMessage, 'No authorization header');
  });

  const malformed: [string, string][] = [
    ['one part', 'Bearer'],
    ['three parts', 'Bearer a b'],
    ['another scheme', 'Basic cm9vdDpyb290'],
    ['a token that is not a JWT', 'Bearer not-a-jwt'],
  ];
  for (const [why, header] of malformed) {
    it(`returns 401 with errorCode 401201 for a header with ${why}`, async (t) => {
      const srv = await startRbacServer(t);
      assertError(await registryCall(srv, { authorization: header }), 401, '401201');
    });
  }

  it('returns 401 with errorCode 401201 for a token signed with another key', async (t) => {
    const srv = await startRbacServer(t);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const nowSeconds = Math.floor(srv.clock.now() / 1000);
    const forged = await new SignJWT({ account: 'root', roles: ['admin'] }).setProtectedHeader({ alg: 'RS512' }).setIssuedAt(nowSeconds).setExpirationTime(nowSeconds + 3600).sign(privateKey);
    assertError(await registryCall(srv, { authorization: `Bearer ${forged}` }), 401, '401201');
  });

  it('returns 401 with errorCode 401201 for an unsigned token', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const [, payload] = root.token.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    assertError(await registryCall(srv, { authorization: `Bearer ${none}` }), 401, '401201');
  });

  it('returns 401 with errorCode 401205 once the token has expired', async (t) => {
    const srv = await startRbacServer(t);
    const r = await login(srv.url, 'root', 'Root#Pass1', '15m');
    const auth = { authorization: `Bearer ${r.body.token}` };
    srv.clock.advance(15 * 60_000 - 1000);
    assert.equal((await registryCall(srv, auth)).status, 200);
    srv.clock.advance(1000);
    const expired = await registryCall(srv, auth);
    assertError(expired, 401, '401205');
    assert.equal(expired.body.errorMessage, 'Token is expired');
  });

  it('returns 401 with errorCode 401206 when the account that owns the token was deleted', async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['developer']);
    assert.equal((await client.registry().req('GET', '/microservices')).status, 200);
    assert.equal((await root.req('DELETE', `/v4/accounts/${name}`)).status, 200);
    assertError(await client.registry().req('GET', '/microservices'), 401, '401206');
  });

  it('returns 401 with errorCode 401201 once the account is made inactive', async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['developer']);
    assert.equal((await root.req('PUT', `/v4/accounts/${name}`, { status: 'inactive' })).status, 200);
    assertError(await client.registry().req('GET', '/microservices'), 401, '401201');
  });

  it('serves the whitelist without a token', async (t) => {
    const srv = await startRbacServer(t);
    for (const path of ['/health', '/version', `${R}/health`, `${R}/version`]) {
      assert.equal((await call(srv.url, 'GET', path)).status, 200, path);
    }
  });

  it('lets the build-in developer role use the registry but not accounts or roles', async (t) => {
    const { root } = await startAsRoot(t);
    const { client } = await root.newUser(['developer']);
    const reg = client.registry();
    const serviceId = await reg.createService({ appId: 'rbac', serviceName: uniq() });
    assert.equal((await reg.req('PUT', `/microservices/${serviceId}/schemas/s1`, { schema: 'x', summary: 'y' })).status, 200);
    await reg.register(serviceId);
    for (const [method, path] of [['GET', '/v4/accounts'], ['GET', '/v4/roles'], ['GET', '/v4/account-locks'], ['POST', '/v4/roles']] as const) {
      const r = await client.req(method, path, method === 'POST' ? { name: uniq('r'), perms: [] } : undefined);
      assertError(r, 403, '403205');
    }
  });

  it("decides by resource type and verb from the role's permissions", async (t) => {
    const { root } = await startAsRoot(t);
    const adminReg = root.registry();
    const serviceId = await adminReg.createService({ appId: 'rbac', serviceName: uniq() });
    const role = uniq('reader');
    const { client } = await root.newUser([role], [{ resources: [{ type: 'service' }], verbs: ['get'] }]);
    const reg = client.registry();
    assert.equal((await reg.req('GET', `/microservices/${serviceId}`)).status, 200);
    assert.equal((await reg.req('GET', `/instances?appId=rbac&serviceName=x`)).status, 400, 'find passes the check (400012 comes from the registry)');
    const denied = await reg.req('POST', '/microservices', { service: { serviceName: uniq() } });
    assertError(denied, 403, '403205');
    assert.equal(denied.body.detail, 'role has no permissions[service:create]');
    assertError(await reg.req('DELETE', `/microservices/${serviceId}`), 403, '403205');
    assertError(await reg.req('PUT', `/microservices/${serviceId}/properties`, { properties: {} }), 403, '403205');
    // Schemas are their own resource type.
    assertError(await reg.req('GET', `/microservices/${serviceId}/schemas`), 403, '403205');
  });

  it('maps schema routes to service/schema', async (t) => {
    const { root } = await startAsRoot(t);
    const serviceId = await root.registry().createService({ appId: 'rbac', serviceName: uniq() });
    const role = uniq('schemas');
    const { client } = await root.newUser([role], [{ resources: [{ type: 'service/schema' }], verbs: ['*'] }]);
    const reg = client.registry();
    assert.equal((await reg.req('PUT', `/microservices/${serviceId}/schemas/s1`, { schema: 'x', summary: 'y' })).status, 200);
    assert.equal((await reg.req('GET', `/microservices/${serviceId}/schemas/s1`)).status, 200);
    assertError(await reg.req('GET', `/microservices/${serviceId}`), 403, '403205');
  });

  it('returns 403 with errorCode 403205 when the roles grant nothing', async (t) => {
    const { root } = await startAsRoot(t);
    const { client } = await root.newUser([uniq('none')], []);
    const r = await client.registry().req('GET', '/microservices');
    assertError(r, 403, '403205');
    assert.equal(r.body.detail, 'role has no any permissions');
  });

  it('does not grant through a labelled resource (labels are not matched)', async (t) => {
    const { root } = await startAsRoot(t);
    const { client } = await root.newUser([uniq('labelled')], [{ resources: [{ type: 'service', labels: { serviceName: 'orders' } }], verbs: ['*'] }]);
    assertError(await client.registry().req('GET', '/microservices'), 403, '403205');
  });

  it("applies a change of the account's roles to tokens already issued", async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser([uniq('none')], []);
    assertError(await client.registry().req('GET', '/microservices'), 403, '403205');
    assert.equal((await root.req('PUT', `/v4/accounts/${name}`, { roles: ['developer'] })).status, 200);
    assert.equal((await client.registry().req('GET', '/microservices')).status, 200);
  });

  it('lets the registry calls of a token work in every project and domain', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const reg = new RegistryClient(srv.url, { ...root.auth, 'x-domain-name': 'other' }, '/v4/p2/registry');
    assert.equal((await reg.req('GET', '/microservices')).status, 200);
  });
});

type Opened = { ok: true } | { ok: false; status: number; body: any };

/** Opens a watch socket; resolves with ok, or with the HTTP answer when the upgrade is refused. */
function openWatch(t: TestContext, srv: TestServer, serviceId: string, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}${R}/microservices/${serviceId}/watcher`, { headers });
    t.after(() => ws.terminate());
    ws.on('open', () => resolve({ ok: true }));
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        ws.removeAllListeners('error');
        ws.on('error', () => undefined);
        resolve({ ok: false, status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') });
      });
    });
  });
}

describe('GET /v4/{project}/registry/microservices/{serviceId}/watcher with RBAC on', () => {
  it('refuses the upgrade with 401 and errorCode 401204 without a token, and opens with one', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const consumer = await root.registry().createService({ appId: 'rbac', serviceName: uniq() });
    const refused = await openWatch(t, srv, consumer, {});
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.status, 401);
      assert.equal(refused.body.errorCode, '401204');
    }
    assert.deepEqual(await openWatch(t, srv, consumer, root.auth), { ok: true });
  });

  it('refuses the upgrade with 403 and errorCode 403205 without service:get', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const consumer = await root.registry().createService({ appId: 'rbac', serviceName: uniq() });
    const { client } = await root.newUser([uniq('cfg')], [{ resources: [{ type: 'config' }], verbs: ['*'] }]);
    const refused = await openWatch(t, srv, consumer, client.auth);
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errorCode, '403205');
    }
  });
});

describe('registry calls with RBAC off', () => {
  it('need no token, and a token-like header is ignored', async (t) => {
    const srv = await startServer(t);
    assert.equal((await registryCall(srv, {})).status, 200);
    assert.equal((await registryCall(srv, { authorization: 'Bearer whatever' })).status, 200);
  });
});
