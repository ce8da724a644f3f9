import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { kieDomainOf } from '../../src/kie/index.js';
import { assertError } from '../helpers/assert.js';
import { call } from '../helpers/registry-client.js';
import { startAsRoot } from '../helpers/rbac-client.js';

const KV = '/v1/default/kie/kv';

describe('config center with RBAC on', () => {
  it('needs a token, and a role granting config with the verb of the method', async (t) => {
    const { srv, root } = await startAsRoot(t);
    assertError(await call(srv.url, 'GET', KV), 401, '401204');
    const created = await root.req('POST', KV, { key: 'timeout', value: '3', labels: { app: 'a' } });
    assert.equal(created.status, 200, created.text);
    const reader = await root.newUser(['config-reader'], [{ resources: [{ type: 'config' }], verbs: ['get'] }]);
    const list = await reader.client.req('GET', `${KV}?label=app:a`);
    assert.equal(list.status, 200);
    assert.equal(list.body.total, 1);
    assertError(await reader.client.req('POST', KV, { key: 'other', value: 'x' }), 403, '403205');
    assertError(await reader.client.req('DELETE', `${KV}/${created.body.id}`), 403, '403205');
    const serviceOnly = await root.newUser(['svc-only'], [{ resources: [{ type: 'service' }], verbs: ['*'] }]);
    assertError(await serviceOnly.client.req('GET', KV), 403, '403205');
    // health stays open
    assert.equal((await call(srv.url, 'GET', '/v1/health')).status, 200);
  });
});

describe('kieDomainOf', () => {
  it('uses the token\'s domain claim when there is one, else default', () => {
    assert.equal(kieDomainOf({ rbac: { account: 'a', roles: ['admin'], domain: 'tenant1' } } as unknown as FastifyRequest), 'tenant1');
    assert.equal(kieDomainOf({ rbac: { account: 'a', roles: ['admin'] } } as unknown as FastifyRequest), 'default');
    assert.equal(kieDomainOf({ headers: { 'x-domain-name': 'ignored' } } as unknown as FastifyRequest), 'default');
  });
});
