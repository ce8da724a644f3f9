import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';

const exists = async (c: RegistryClient, sid: string, iid: string): Promise<boolean> =>
  (await c.req('GET', `/microservices/${sid}/instances/${iid}`)).status === 200;

describe('instance leases', () => {
  it('expires an instance after interval × (times + 1) seconds without heartbeats', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid, { healthCheck: { mode: 'push', interval: 10, times: 2 } }); // times clamped to 3: TTL 40 s
    srv.clock.advance(39_000);
    assert.equal(await exists(c, sid, iid), true);
    srv.clock.advance(2_000);
    assert.equal(await exists(c, sid, iid), false);
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${iid}/heartbeat`)).body.errorCode, '400017');
  });

  it('GET .../leases tells each instance\'s TTL and when it last heartbeat (OpenStage\'s addition)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const registeredAt = srv.clock.now();
    const a = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 3 } }); // 20 s
    const b = await c.register(sid);
    srv.clock.advance(7_000);
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${a}/heartbeat`)).status, 200);
    const r = await c.req('GET', `/microservices/${sid}/leases`);
    assert.equal(r.status, 200);
    const byId = new Map(r.body.leases.map((l: any) => [l.instanceId, l]));
    assert.deepEqual(byId.get(a), { instanceId: a, ttlSeconds: 20, lastHeartbeatAtMs: registeredAt + 7_000, expiresAtMs: registeredAt + 27_000 });
    assert.deepEqual(byId.get(b), { instanceId: b, ttlSeconds: 120, lastHeartbeatAtMs: registeredAt, expiresAtMs: registeredAt + 120_000 });
    assert.equal((await c.req('GET', '/microservices/nope/leases')).body.errorCode, '400012');
  });

  it('honours each instance\'s own TTL, not a global default', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const short = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 3 } }); // 20 s
    const long = await c.register(sid); // default 120 s
    srv.clock.advance(21_000);
    assert.equal(await exists(c, sid, short), false);
    assert.equal(await exists(c, sid, long), true);
    srv.clock.advance(100_000);
    assert.equal(await exists(c, sid, long), false);
  });

  it('keeps an instance alive while it heartbeats (single and batch)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const a = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 3 } });
    const b = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 3 } });
    for (let i = 0; i < 10; i++) {
      srv.clock.advance(15_000);
      assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${a}/heartbeat`)).status, 200);
      assert.equal((await c.req('PUT', '/heartbeats', { instances: [{ serviceId: sid, instanceId: b }] })).body.instances[0].errMessage, undefined);
    }
    assert.equal(await exists(c, sid, a), true);
    assert.equal(await exists(c, sid, b), true);
  });

  it('a re-register with the known instanceId renews the lease', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid, { instanceId: 'keep-me', healthCheck: { mode: 'push', interval: 5, times: 3 } });
    srv.clock.advance(15_000);
    await c.register(sid, { instanceId: iid });
    srv.clock.advance(15_000);
    assert.equal(await exists(c, sid, iid), true);
  });

  it('applies the server-wide TTL override when set', async (t) => {
    const srv = await startServer(t, { 'registry.instanceTtlSeconds': 10 });
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid);
    srv.clock.advance(11_000);
    assert.equal(await exists(c, sid, iid), false);
  });

  it('after a restart every instance gets one full TTL from the start, and a dead one is gone a TTL later', async (t) => {
    let srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const live = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 5 } }); // 30 s
    const dead = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 5 } });
    srv.clock.advance(25_000); // both close to expiry
    srv = await srv.restart();
    const c2 = new RegistryClient(srv.url);
    srv.clock.advance(20_000); // 45 s since register: would be expired without the restart grace
    assert.equal(await exists(c2, sid, live), true);
    assert.equal(await exists(c2, sid, dead), true);
    assert.equal((await c2.req('PUT', `/microservices/${sid}/instances/${live}/heartbeat`)).status, 200);
    srv.clock.advance(11_000); // 31 s after restart
    assert.equal(await exists(c2, sid, live), true);
    assert.equal(await exists(c2, sid, dead), false);
  });

  it('an expired instance stays gone after a restart', async (t) => {
    let srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid, { healthCheck: { mode: 'push', interval: 5, times: 3 } });
    srv.clock.advance(21_000);
    assert.equal(await exists(c, sid, iid), false);
    srv = await srv.restart();
    assert.equal(await exists(new RegistryClient(srv.url), sid, iid), false);
  });
});
