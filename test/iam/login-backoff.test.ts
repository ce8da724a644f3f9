import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { ADMIN, IAM_OVERRIDES } from '../helpers/iam-client.js';
import { startServer } from '../helpers/server.js';

/** POST /v3/auth/tokens from a chosen loopback address (127.0.0.0/8 all reach the server). */
function loginFrom(base: string, localAddress: string, user: string, password: string): Promise<{ status: number; retryAfter?: string; body: any; ms: number }> {
  const { hostname, port } = new URL(base);
  const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: 'openstage' } } } }, scope: { project: { id: ADMIN.projectId } } } });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method: 'POST', path: '/v3/auth/tokens', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}), body: text ? JSON.parse(text) : undefined, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('POST /v3/auth/tokens: no user enumeration, backoff (issue #15 M4)', () => {
  it('takes as long for a name no user has as for a wrong password of a real user (a dummy hash)', async (t) => {
    // A real cost (scrypt N = 2^13; the default 2^15 hid a gap of 461 ms against 0.9 ms).
    const srv = await startServer(t, { ...IAM_OVERRIDES, 'secrets.passwordHashLog2N': 13, 'login.pairFailures': 100, 'login.userFailures': 100, 'login.addressFailures': 100 });
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      const k = await loginFrom(srv.url, '127.0.0.1', ADMIN.name, `wrong-${i}`);
      const u = await loginFrom(srv.url, '127.0.0.1', `ghost-${i}`, `wrong-${i}`);
      assert.equal(k.status, 401);
      assert.equal(u.status, 401);
      assert.deepEqual(k.body, u.body, 'the same answer');
      known.push(k.ms);
      unknown.push(u.ms);
    }
    const ratio = median(known) / median(unknown);
    t.diagnostic(`median wrong password ${median(known).toFixed(1)} ms, unknown user ${median(unknown).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
    assert.ok(ratio > 0.33 && ratio < 3, `ratio ${ratio}`);
  });

  it('backs a user off after 5 failures from one address (401 IAM.0102 with Retry-After, no hash), lets it in after the wait, and keeps other addresses open', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    for (let i = 0; i < 5; i++) assert.equal((await loginFrom(srv.url, '127.0.0.2', ADMIN.name, 'wrong')).status, 401);
    const locked = await loginFrom(srv.url, '127.0.0.2', ADMIN.name, ADMIN.password);
    assert.equal(locked.status, 401);
    assert.equal(locked.body.error_code, 'IAM.0102');
    assert.equal(locked.body.error.message.startsWith('The account is locked.'), true, locked.body.error.message);
    assert.equal(locked.retryAfter, '1');
    assert.equal((await loginFrom(srv.url, '127.0.0.1', ADMIN.name, ADMIN.password)).status, 201, 'another address is not held back by the pair');
    srv.clock.advance(1000);
    assert.equal((await loginFrom(srv.url, '127.0.0.2', ADMIN.name, 'wrong')).status, 401);
    const longer = await loginFrom(srv.url, '127.0.0.2', ADMIN.name, ADMIN.password);
    assert.equal(longer.body.error_code, 'IAM.0102');
    assert.equal(longer.retryAfter, '2', 'each further failure doubles the wait');
    srv.clock.advance(2000);
    assert.equal((await loginFrom(srv.url, '127.0.0.2', ADMIN.name, ADMIN.password)).status, 201);
  });

  it('backs an address off after 20 failures over any names (a flood costs no hashing), and names that do not exist count the same', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => loginFrom(srv.url, '127.0.0.3', `user-${i}`, 'wrong')));
    const hashed = flood.filter((r) => r.body.error_code === 'IAM.0101').length;
    const refused = flood.filter((r) => r.body.error_code === 'IAM.0102').length;
    t.diagnostic(`40 concurrent wrong logins from one address: ${hashed} checked, ${refused} refused unchecked`);
    assert.equal(hashed, 20, 'attempts in flight count against the address: no more checks than one after another');
    assert.equal(refused, 20);
    const after = await loginFrom(srv.url, '127.0.0.3', ADMIN.name, ADMIN.password);
    assert.equal(after.body.error_code, 'IAM.0102', 'even the right password waits: the address backs off');
    assert.equal((await loginFrom(srv.url, '127.0.0.1', ADMIN.name, ADMIN.password)).status, 201, 'the real user logs in from elsewhere');
  });

  it('checks a real login before the queued checks of a flood of wrong ones from another address', async (t) => {
    // scrypt N = 2^14: each check takes tens of milliseconds, so the flood's checks queue.
    const srv = await startServer(t, { ...IAM_OVERRIDES, 'secrets.passwordHashLog2N': 14 });
    let pending = 20;
    const flood = Promise.all(Array.from({ length: 20 }, (_, i) => loginFrom(srv.url, '127.0.0.4', `user-${i}`, 'wrong').finally(() => pending--)));
    await new Promise((r) => setTimeout(r, 150));
    const real = await loginFrom(srv.url, '127.0.0.1', ADMIN.name, ADMIN.password);
    const left = pending;
    const answers = await flood;
    assert.equal(real.status, 201);
    assert.ok(answers.every((a) => a.body.error_code === 'IAM.0101'), 'every flood attempt was checked (20 is the address allowance)');
    t.diagnostic(`the real login took ${real.ms.toFixed(0)} ms; ${left} of the flood's 20 checks were still waiting then`);
    assert.ok(left >= 10, `the real login waited for the flood: only ${left} of 20 flood checks were left when it was answered`);
  });

  it('backs a user off after 20 failures from many addresses, whatever the address', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    for (let i = 0; i < 20; i++) assert.equal((await loginFrom(srv.url, `127.0.1.${i + 1}`, 'ghost', 'wrong')).status, 401);
    const r = await loginFrom(srv.url, '127.0.2.1', 'ghost', 'wrong');
    assert.equal(r.body.error_code, 'IAM.0102');
    assert.equal((await loginFrom(srv.url, '127.0.2.1', ADMIN.name, 'wrong')).body.error_code, 'IAM.0101', 'other users are not held back');
  });
});
