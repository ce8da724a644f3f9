import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { login, PASSWORD, startAsRoot, startRbacServer } from '../helpers/rbac-client.js';
import { uniq } from '../helpers/registry-client.js';

const WRONG = 'Wrong#Pass1';
const MINUTE = 60_000;

describe('account locks after failed logins', () => {
  it('locks (name, address) on the third failure within 15 minutes, even for the right password, and releases it 15 minutes later', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('victim');
    await root.createAccount(name, ['developer']);
    assertError(await login(srv.url, name, WRONG), 401, '401202');
    srv.clock.advance(5 * MINUTE);
    assertError(await login(srv.url, name, WRONG), 401, '401202');
    srv.clock.advance(5 * MINUTE);
    assertError(await login(srv.url, name, WRONG), 401, '401202');
    const blocked = await login(srv.url, name, PASSWORD);
    assertError(blocked, 403, '403201');
    assert.equal(blocked.body.errorMessage, 'Account blocked');
    assert.equal((await login(srv.url, 'root', 'Root#Pass1')).status, 200, 'other accounts are not affected');
    srv.clock.advance(15 * MINUTE - 1000);
    assertError(await login(srv.url, name, PASSWORD), 403, '403201');
    srv.clock.advance(1000);
    assert.equal((await login(srv.url, name, PASSWORD)).status, 200);
  });

  it('counts failures from the first one: two failures 15 minutes apart do not add up', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const name = uniq('slow');
    await root.createAccount(name, ['developer']);
    await login(srv.url, name, WRONG);
    await login(srv.url, name, WRONG);
    srv.clock.advance(15 * MINUTE);
    await login(srv.url, name, WRONG);
    assert.equal((await login(srv.url, name, PASSWORD)).status, 200);
  });

  it('locks unknown account names too, so probing costs the same', async (t) => {
    const srv = await startRbacServer(t, { 'rbac.lockAfterFailures': 1 });
    const name = uniq('ghost');
    assertError(await login(srv.url, name, WRONG), 401, '401202');
    assertError(await login(srv.url, name, WRONG), 403, '403201');
  });

  it('follows rbac.lockAfterFailures and rbac.lockDurationSeconds', async (t) => {
    const { srv, root } = await startAsRoot(t, { 'rbac.lockAfterFailures': 1, 'rbac.lockDurationSeconds': 60 });
    const name = uniq('strict');
    await root.createAccount(name, ['developer']);
    await login(srv.url, name, WRONG);
    assertError(await login(srv.url, name, PASSWORD), 403, '403201');
    srv.clock.advance(MINUTE);
    assert.equal((await login(srv.url, name, PASSWORD)).status, 200);
  });

  it('counts a wrong current password on a password change, then answers 403201', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const { name, client } = await root.newUser(['developer']);
    const change = { currentPassword: WRONG, password: 'New#Pass34' };
    for (let i = 0; i < 3; i++) assertError(await client.req('POST', `/v4/accounts/${name}/password`, change), 401, '401207');
    assertError(await client.req('POST', `/v4/accounts/${name}/password`, { ...change, currentPassword: PASSWORD }), 403, '403201');
    assertError(await login(srv.url, name, PASSWORD), 403, '403201');
  });

  it('survives a restart', async (t) => {
    const { srv, root } = await startAsRoot(t, { 'rbac.lockAfterFailures': 1 });
    const name = uniq('kept');
    await root.createAccount(name, ['developer']);
    await login(srv.url, name, WRONG);
    const again = await srv.restart();
    assertError(await login(again.url, name, PASSWORD), 403, '403201');
  });
});

describe('GET /v4/account-locks', () => {
  it('lists attempted and banned keys with releaseAt in unix seconds, and drops released ones', async (t) => {
    const { srv, root } = await startAsRoot(t);
    const attempted = uniq('once');
    const banned = uniq('thrice');
    const start = Math.floor(srv.clock.now() / 1000);
    await login(srv.url, attempted, WRONG);
    for (let i = 0; i < 3; i++) await login(srv.url, banned, WRONG);
    const r = await root.req('GET', '/v4/account-locks');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 2);
    const byName = Object.fromEntries(r.body.data.map((l: any) => [l.key.split('::')[0], l]));
    assert.equal(byName[attempted].status, 'attempted');
    assert.equal(byName[attempted].releaseAt, start + 900);
    assert.equal(byName[banned].status, 'banned');
    assert.equal(byName[banned].releaseAt, start + 900);
    assert.match(byName[banned].key, new RegExp(`^${banned}::127\\.0\\.0\\.1$`));
    srv.clock.advance(15 * MINUTE);
    assert.deepEqual((await root.req('GET', '/v4/account-locks')).body, { total: 0, data: [] });
  });

  it('returns 403 with errorCode 403205 without account:get', async (t) => {
    const { root } = await startAsRoot(t);
    const { client } = await root.newUser(['developer']);
    assertError(await client.req('GET', '/v4/account-locks'), 403, '403205');
  });
});
