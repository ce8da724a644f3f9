import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertEmptyOk, assertError } from '../helpers/assert.js';
import { startAsRoot } from '../helpers/rbac-client.js';
import { uniq } from '../helpers/registry-client.js';

const READ_SERVICES = { resources: [{ type: 'service' }], verbs: ['get'] };

describe('GET /v4/roles', () => {
  it('lists the build-in roles: admin with every resource type, developer without account and role', async (t) => {
    const { root } = await startAsRoot(t);
    const r = await root.req('GET', '/v4/roles');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 2);
    const byName = Object.fromEntries(r.body.data.map((role: any) => [role.name, role]));
    const types = (role: any): string[] => role.perms.flatMap((p: any) => p.resources.map((x: any) => x.type)).sort();
    assert.deepEqual(types(byName.admin), ['account', 'config', 'governance', 'ops', 'role', 'service', 'service/schema']);
    assert.deepEqual(types(byName.developer), ['config', 'governance', 'ops', 'service', 'service/schema']);
    assert.deepEqual(byName.admin.perms[0].verbs, ['*']);
    assert.match(byName.admin.id, /^[0-9a-f]{32}$/);
    assert.equal(typeof byName.admin.createTime, 'string');
  });
});

describe('POST /v4/roles', () => {
  it('creates a role (empty 200) that GET returns with its permissions', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('role');
    const perms = [READ_SERVICES, { resources: [{ type: 'service', labels: { serviceName: 'orders' } }], verbs: ['update', 'delete'] }];
    assertEmptyOk(await root.req('POST', '/v4/roles', { name, perms }));
    const got = await root.req('GET', `/v4/roles/${name}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.name, name);
    assert.deepEqual(got.body.perms, perms);
  });

  it('creates a role without permissions; perms is then left out', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('empty');
    assertEmptyOk(await root.req('POST', '/v4/roles', { name }));
    const got = await root.req('GET', `/v4/roles/${name}`);
    assert.equal('perms' in got.body, false);
  });

  const invalid: [string, unknown][] = [
    ['the name is missing', { perms: [READ_SERVICES] }],
    ['the name has a bad character', { name: 'a b', perms: [] }],
    ['a resource type is unknown', { name: 'r1', perms: [{ resources: [{ type: 'services' }], verbs: ['get'] }] }],
    ['a verb is unknown', { name: 'r1', perms: [{ resources: [{ type: 'service' }], verbs: ['read'] }] }],
    ['labels are not strings', { name: 'r1', perms: [{ resources: [{ type: 'service', labels: { a: 1 } }], verbs: ['get'] }] }],
    ['perms is not a list', { name: 'r1', perms: 'all' }],
  ];
  for (const [why, body] of invalid) {
    it(`returns 400 with errorCode 400001 when ${why}`, async (t) => {
      const { root } = await startAsRoot(t);
      assertError(await root.req('POST', '/v4/roles', body), 400, '400001');
    });
  }

  it('returns 409 with errorCode 409201 when the name is taken, build-in names included', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('dup');
    await root.createRole(name, []);
    assertError(await root.req('POST', '/v4/roles', { name, perms: [] }), 409, '409201');
    assertError(await root.req('POST', '/v4/roles', { name: 'developer', perms: [] }), 409, '409201');
  });

  it('returns 400 with errorCode 400204 past quota.roles (build-in roles count)', async (t) => {
    const { root } = await startAsRoot(t, { 'quota.roles': 3 });
    await root.createRole(uniq('r'), []);
    assertError(await root.req('POST', '/v4/roles', { name: uniq('r'), perms: [] }), 400, '400204');
  });
});

describe('GET /v4/roles/{roleName}', () => {
  it('returns 400 with errorCode 400201 for an unknown role', async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('GET', `/v4/roles/${uniq('ghost')}`), 400, '400201');
  });
});

describe('PUT /v4/roles/{roleName}', () => {
  it('replaces the permissions, and accounts holding the role get them at once', async (t) => {
    const { root } = await startAsRoot(t);
    const role = uniq('grow');
    const { client } = await root.newUser([role], [READ_SERVICES]);
    assertError(await client.registry().req('POST', '/microservices', { service: { serviceName: uniq() } }), 403, '403205');
    assertEmptyOk(await root.req('PUT', `/v4/roles/${role}`, { perms: [{ resources: [{ type: 'service' }], verbs: ['get', 'create'] }] }));
    assert.equal((await client.registry().req('POST', '/microservices', { service: { serviceName: uniq() } })).status, 200);
    const got = await root.req('GET', `/v4/roles/${role}`);
    assert.deepEqual(got.body.perms[0].verbs, ['get', 'create']);
  });

  it('returns 403 with errorCode 403203 for a build-in role', async (t) => {
    const { root } = await startAsRoot(t);
    for (const name of ['admin', 'developer']) assertError(await root.req('PUT', `/v4/roles/${name}`, { perms: [] }), 403, '403203');
  });

  it('returns 400 with errorCode 400201 for an unknown role and 400001 for bad perms', async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('PUT', `/v4/roles/${uniq('ghost')}`, { perms: [] }), 400, '400201');
    const name = uniq('r');
    await root.createRole(name, []);
    assertError(await root.req('PUT', `/v4/roles/${name}`, { perms: [{ resources: [{ type: 'everything' }], verbs: ['*'] }] }), 400, '400001');
  });
});

describe('DELETE /v4/roles/{roleName}', () => {
  it('deletes a role nobody holds (empty 200)', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('gone');
    await root.createRole(name, [READ_SERVICES]);
    assertEmptyOk(await root.req('DELETE', `/v4/roles/${name}`));
    assertError(await root.req('GET', `/v4/roles/${name}`), 400, '400201');
  });

  it('returns 400 with errorCode 400205 while an account holds the role', async (t) => {
    const { root } = await startAsRoot(t);
    const role = uniq('held');
    const { name } = await root.newUser([role], []);
    assertError(await root.req('DELETE', `/v4/roles/${role}`), 400, '400205');
    assert.equal((await root.req('DELETE', `/v4/accounts/${name}`)).status, 200);
    assertEmptyOk(await root.req('DELETE', `/v4/roles/${role}`));
  });

  it('returns 403203 for a build-in role and 400201 for an unknown one', async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('DELETE', '/v4/roles/admin'), 403, '403203');
    assertError(await root.req('DELETE', `/v4/roles/${uniq('ghost')}`), 400, '400201');
  });

  it('returns 403 with errorCode 403205 without role:delete', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('r');
    await root.createRole(name, []);
    const { client } = await root.newUser([uniq('roleReader')], [{ resources: [{ type: 'role' }], verbs: ['get'] }]);
    assert.equal((await client.req('GET', `/v4/roles/${name}`)).status, 200);
    assertError(await client.req('DELETE', `/v4/roles/${name}`), 403, '403205');
  });
});
