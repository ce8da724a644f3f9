import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertEmptyOk, assertError } from '../helpers/assert.js';
import { login, PASSWORD, RbacClient, startAsRoot, startRbacServer } from '../helpers/rbac-client.js';
import { uniq } from '../helpers/registry-client.js';

describe('POST /v4/accounts', () => {
  it('creates an account (empty 200) that can log in, active by default', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('acct');
    assertEmptyOk(await root.req('POST', '/v4/accounts', { name, roles: ['developer'], password: PASSWORD }));
    const got = await root.req('GET', `/v4/accounts/${name}`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(Object.keys(got.body).sort(), ['createTime', 'id', 'name', 'roles', 'status', 'updateTime']);
    assert.equal(got.body.name, name);
    assert.deepEqual(got.body.roles, ['developer']);
    assert.equal(got.body.status, 'active');
    assert.equal(got.body.createTime, String(Math.floor(srv.clock.now() / 1000)));
    assert.match(got.body.id, /^[0-9a-f]{32}$/);
    assert.equal((await login(srv.url, name, PASSWORD)).status, 200);
  });

  const invalid: [string, Record<string, unknown>][] = [
    ['name is missing', { roles: ['developer'], password: PASSWORD }],
    ['name has a bad character', { name: 'a b', roles: ['developer'], password: PASSWORD }],
    ['name is longer than 64', { name: 'a'.repeat(65), roles: ['developer'], password: PASSWORD }],
    ['roles are missing', { name: 'x1', password: PASSWORD }],
    ['roles are empty', { name: 'x1', roles: [], password: PASSWORD }],
    ['there are 6 roles', { name: 'x1', roles: ['a', 'b', 'c', 'd', 'e', 'f'], password: PASSWORD }],
    ['a role name is bad', { name: 'x1', roles: ['-bad'], password: PASSWORD }],
    ['password is missing', { name: 'x1', roles: ['developer'] }],
    ['password is 7 characters', { name: 'x1', roles: ['developer'], password: 'Ab#4567' }],
    ['password is 33 characters', { name: 'x1', roles: ['developer'], password: `Ab#4${'x'.repeat(29)}` }],
    ['password has no upper-case letter', { name: 'x1', roles: ['developer'], password: 'abc#12345' }],
    ['password has no lower-case letter', { name: 'x1', roles: ['developer'], password: 'ABC#12345' }],
    ['password has no digit', { name: 'x1', roles: ['developer'], password: 'Abc#defgh' }],
    ['password has no special character', { name: 'x1', roles: ['developer'], password: 'Abc123456' }],
    ['password equals the name', { name: 'Abc-12345', roles: ['developer'], password: 'Abc-12345' }],
    ['password is the reversed name', { name: 'Ab-12345', roles: ['developer'], password: '54321-bA' }],
    ['status is unknown', { name: 'x1', roles: ['developer'], password: PASSWORD, status: 'frozen' }],
    ['name is not a string', { name: { a: 1 }, roles: ['developer'], password: PASSWORD }],
  ];
  for (const [why, body] of invalid) {
    it(`returns 400 with errorCode 400001 when ${why}`, async (t) => {
      const { root } = await startAsRoot(t);
      assertError(await root.req('POST', '/v4/accounts', body), 400, '400001');
    });
  }

  it('returns 400 with errorCode 400202 when a role does not exist', async (t) => {
    const { root } = await startAsRoot(t);
    const r = await root.req('POST', '/v4/accounts', { name: uniq('a'), roles: ['developer', 'ghost'], password: PASSWORD });
    assertError(r, 400, '400202', 'role [ghost] not exist');
  });

  it('returns 409 with errorCode 409200 when the name is taken', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('dup');
    await root.createAccount(name, ['developer']);
    assertError(await root.req('POST', '/v4/accounts', { name, roles: ['developer'], password: PASSWORD }), 409, '409200');
    assertError(await root.req('POST', '/v4/accounts', { name: 'root', roles: ['admin'], password: PASSWORD }), 409, '409200');
  });

  it('returns 400 with errorCode 400203 past quota.accounts (root counts)', async (t) => {
    const { root } = await startAsRoot(t, { 'quota.accounts': 2 });
    await root.createAccount(uniq('a'), ['developer']);
    assertError(await root.req('POST', '/v4/accounts', { name: uniq('a'), roles: ['developer'], password: PASSWORD }), 400, '400203');
  });

  it('returns 401 with errorCode 401204 without a token', async (t) => {
    const srv = await startRbacServer(t);
    const anonymous = new RbacClient(srv.url, '');
    assertError(await anonymous.req('POST', '/v4/accounts', { name: uniq('a'), roles: ['developer'], password: PASSWORD }, { authorization: '' }), 401, '401204');
  });

  it('keeps accounts across a restart', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('durable');
    await root.createAccount(name, ['developer']);
    const again = await srv.restart();
    assert.equal((await login(again.url, name, PASSWORD)).status, 200);
  });
});

describe('POST /v4/accounts/batch-create', () => {
  it('creates each account on its own and reports the failures', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const ok = uniq('ok');
    const noPassword = uniq('nopw');
    const r = await root.req('POST', '/v4/accounts/batch-create', {
      accounts: [
        { name: ok, roles: ['developer'], password: PASSWORD },
        { name: 'root', roles: ['admin'], password: PASSWORD },
        { name: uniq('bad'), roles: ['ghost'], password: PASSWORD },
        { name: noPassword, roles: ['developer'] },
      ],
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.accounts[0], { name: ok });
    assert.equal(r.body.accounts[1].name, 'root');
    assert.equal(r.body.accounts[1].errorCode, '409200');
    assert.equal(typeof r.body.accounts[1].errorMessage, 'string');
    assert.equal(r.body.accounts[2].errorCode, '400202');
    assert.deepEqual(r.body.accounts[3], { name: noPassword });
    // An account created without a password gets a random one; an admin sets a known one.
    assert.equal((await root.req('POST', `/v4/accounts/${noPassword}/password`, { password: PASSWORD })).status, 200);
    assert.equal((await login(srv.url, noPassword, PASSWORD)).status, 200);
    assert.equal((await login(srv.url, ok, PASSWORD)).status, 200);
  });

  for (const [why, accounts] of [
    ['the list is empty', []],
    ['the list has 21 accounts', Array.from({ length: 21 }, (_, i) => ({ name: `n${i}`, roles: ['developer'] }))],
  ] as const) {
    it(`returns 400 with errorCode 400001 when ${why}`, async (t) => {
      const { root } = await startAsRoot(t);
      assertError(await root.req('POST', '/v4/accounts/batch-create', { accounts }), 400, '400001');
    });
  }
});

describe('GET /v4/accounts', () => {
  it('returns {total, data} without passwords', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('listed');
    await root.createAccount(name, ['developer']);
    const r = await root.req('GET', '/v4/accounts');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 2);
    assert.deepEqual(r.body.data.map((a: any) => a.name).sort(), [name, 'root'].sort());
    assert.ok(!r.text.includes('password') && !r.text.includes('scrypt'));
  });
});

describe('GET /v4/accounts/{name}', () => {
  it('returns 400 with errorCode 400200 for an unknown account', async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('GET', `/v4/accounts/${uniq('ghost')}`), 400, '400200');
  });
});

describe('PUT /v4/accounts/{name}', () => {
  it('changes roles and status; an empty field is left as it is', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('edit');
    await root.createAccount(name, ['developer']);
    srv.clock.advance(5000);
    assertEmptyOk(await root.req('PUT', `/v4/accounts/${name}`, { roles: ['admin', 'developer'] }));
    assertEmptyOk(await root.req('PUT', `/v4/accounts/${name}`, { status: 'inactive', roles: [] }));
    const got = await root.req('GET', `/v4/accounts/${name}`);
    assert.deepEqual(got.body.roles, ['admin', 'developer']);
    assert.equal(got.body.status, 'inactive');
    assert.equal(Number(got.body.updateTime), Number(got.body.createTime) + 5);
  });

  it('returns 403 with errorCode 403202 for root', async (t) => {
    const { root } = await startAsRoot(t);
    const { client } = await root.newUser(['admin']);
    assertError(await client.req('PUT', '/v4/accounts/root', { roles: ['developer'] }), 403, '403202');
  });

  it("returns 403 with errorCode 403204 for the caller's own account", async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['admin']);
    assertError(await client.req('PUT', `/v4/accounts/${name}`, { status: 'inactive' }), 403, '403204');
  });

  it('returns 400 with errorCode 400001 when roles and status are both empty, or a field is bad', async (t) => {
    const { root } = await startAsRoot(t);
    const name = uniq('edit');
    await root.createAccount(name, ['developer']);
    assertError(await root.req('PUT', `/v4/accounts/${name}`, {}), 400, '400001');
    assertError(await root.req('PUT', `/v4/accounts/${name}`, { status: 'frozen' }), 400, '400001');
    assertError(await root.req('PUT', `/v4/accounts/${name}`, { roles: ['a', 'b', 'c', 'd', 'e', 'f'] }), 400, '400001');
  });

  it('returns 400 with errorCode 400200 for an unknown account and 400202 for an unknown role', async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('PUT', `/v4/accounts/${uniq('ghost')}`, { status: 'active' }), 400, '400200');
    const name = uniq('edit');
    await root.createAccount(name, ['developer']);
    assertError(await root.req('PUT', `/v4/accounts/${name}`, { roles: ['ghost'] }), 400, '400202');
  });

  it('returns 403 with errorCode 403205 for a developer', async (t) => {
    const { root } = await startAsRoot(t);
    const { client } = await root.newUser(['developer']);
    const name = uniq('edit');
    await root.createAccount(name, ['developer']);
    assertError(await client.req('PUT', `/v4/accounts/${name}`, { status: 'inactive' }), 403, '403205');
  });
});

describe('DELETE /v4/accounts/{name}', () => {
  it('deletes an account (empty 200); it is then unknown and cannot log in', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('gone');
    await root.createAccount(name, ['developer']);
    assertEmptyOk(await root.req('DELETE', `/v4/accounts/${name}`));
    assertError(await root.req('GET', `/v4/accounts/${name}`), 400, '400200');
    assertError(await login(srv.url, name, PASSWORD), 401, '401202');
  });

  it("returns 403202 for root, 403204 for the caller's own account, 400200 for an unknown one", async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('DELETE', '/v4/accounts/root'), 403, '403202');
    const { name, client } = await root.newUser(['admin']);
    assertError(await client.req('DELETE', `/v4/accounts/${name}`), 403, '403204');
    assertError(await root.req('DELETE', `/v4/accounts/${uniq('ghost')}`), 400, '400200');
  });
});

describe('POST /v4/accounts/{name}/password', () => {
  const NEW = 'New#Pass34';

  it("changes the caller's own password with the current one; the old one stops working", async (t) => {
    const { srv, root } = await startAsRoot(t);
    const { name, client } = await root.newUser([uniq('nothing')], []);
    assertEmptyOk(await client.req('POST', `/v4/accounts/${name}/password`, { currentPassword: PASSWORD, password: NEW }));
    assertError(await login(srv.url, name, PASSWORD), 401, '401202');
    assert.equal((await login(srv.url, name, NEW)).status, 200);
  });

  it('lets root change its own password', async (t) => {
    const { srv, root } = await startAsRoot(t);
    assertEmptyOk(await root.req('POST', '/v4/accounts/root/password', { currentPassword: 'Root#Pass1', password: NEW }));
    const again = await srv.restart();
    assert.equal((await login(again.url, 'root', NEW)).status, 200, 'rbac.rootPassword does not reset an existing root');
  });

  it('returns 400 with errorCode 400001 without currentPassword, or with a weak new password', async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['developer']);
    assertError(await client.req('POST', `/v4/accounts/${name}/password`, { password: NEW }), 400, '400001');
    assertError(await client.req('POST', `/v4/accounts/${name}/password`, { currentPassword: PASSWORD, password: 'weak' }), 400, '400001');
  });

  it('returns 400 with errorCode 400206 when the new password is the current one', async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['developer']);
    assertError(await client.req('POST', `/v4/accounts/${name}/password`, { currentPassword: PASSWORD, password: PASSWORD }), 400, '400206');
  });

  it('returns 401 with errorCode 401207 when the current password is wrong', async (t) => {
    const { root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['developer']);
    const r = await client.req('POST', `/v4/accounts/${name}/password`, { currentPassword: 'Wrong#Pass1', password: NEW });
    assertError(r, 401, '401207');
    assert.equal(r.body.errorMessage, 'Password is wrong');
  });

  it("returns 403 with errorCode 403001 for someone else's password unless the caller is an admin", async (t) => {
    const { srv, root } = await startAsRoot(t);
    const { client } = await root.newUser(['developer']);
    const other = uniq('other');
    await root.createAccount(other, ['developer']);
    assertError(await client.req('POST', `/v4/accounts/${other}/password`, { currentPassword: PASSWORD, password: NEW }), 403, '403001');
    assertEmptyOk(await root.req('POST', `/v4/accounts/${other}/password`, { password: NEW }));
    assert.equal((await login(srv.url, other, NEW)).status, 200);
  });

  it('returns 400 with errorCode 400200 when an admin names an unknown account', async (t) => {
    const { root } = await startAsRoot(t);
    assertError(await root.req('POST', `/v4/accounts/${uniq('ghost')}/password`, { password: NEW }), 400, '400200');
  });

  it('returns 401 with errorCode 401204 without a token', async (t) => {
    const srv = await startRbacServer(t);
    const anonymous = new RbacClient(srv.url, '');
    assertError(await anonymous.req('POST', '/v4/accounts/root/password', { currentPassword: 'Root#Pass1', password: NEW }, { authorization: '' }), 401, '401204');
  });
});
