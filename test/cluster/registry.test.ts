// Several servers on one PostgreSQL database: the registry answers the same whichever server a
// client reaches (issue #16). PostgreSQL only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { CLUSTERED, eventually, startCluster } from '../helpers/cluster.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';

/** Collects the watch events of a consumer on one server. */
function watch(url: string, consumerId: string): { events: any[]; open: Promise<void>; close: () => void } {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v4/default/registry/microservices/${consumerId}/watcher`);
  const events: any[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data))));
  return { events, open: new Promise((resolve) => ws.once('open', () => resolve())), close: () => ws.close() };
}

describe('registry on three servers', { skip }, () => {
  it('knows on every server what was written on one: services, instances, revisions, heartbeats', async (t) => {
    const { members } = await startCluster(t, 3);
    const [a, b, c] = members.map((m) => new RegistryClient(m.url)) as [RegistryClient, RegistryClient, RegistryClient];
    const name = uniq('prov');
    const sid = await a.createService({ appId: 'app', serviceName: name, version: '1.0.0' });
    // The same key created through another server is the same service, not 400010.
    assert.equal(await b.createService({ appId: 'app', serviceName: name, version: '1.0.0' }), sid);
    assert.equal((await c.req('GET', `/microservices/${sid}`)).body.service.serviceName, name);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await [a, b, c][i % 3]!.register(sid, { hostName: `h${i}` }));
    const finds = await Promise.all([a, b, c].map((x) => x.req('GET', `/instances?appId=app&serviceName=${name}`)));
    for (const f of finds) assert.equal(f.body.instances.length, 20);
    const revs = new Set(finds.map((f) => f.headers.get('x-resource-revision')));
    assert.equal(revs.size, 1, 'every server answers the same revision for the same instances');
    const rev = [...revs][0]!;
    // A client moving between servers keeps its 304.
    for (const x of [a, b, c]) assert.equal((await x.req('GET', `/instances?appId=app&serviceName=${name}&rev=${rev}`)).status, 304);
    for (const [i, id] of ids.entries()) assert.equal((await [b, c, a][i % 3]!.req('PUT', `/microservices/${sid}/instances/${id}/heartbeat`)).status, 200);
    // An update through one server is what the next read through another answers.
    await c.req('PUT', `/microservices/${sid}/instances/${ids[0]}/status?value=DOWN`);
    assert.equal((await a.req('GET', `/microservices/${sid}/instances/${ids[0]}`)).body.instance.status, 'DOWN');
    await b.req('DELETE', `/microservices/${sid}/instances/${ids[1]}`);
    assert.equal((await c.req('GET', `/microservices/${sid}/instances/${ids[1]}`)).status, 400);
    assert.equal((await a.req('GET', `/instances?appId=app&serviceName=${name}`)).body.instances.length, 19);
  });

  it('wakes a watcher on one server for registrations made on another', async (t) => {
    const { members } = await startCluster(t, 3);
    const [a, b] = members.map((m) => new RegistryClient(m.url)) as [RegistryClient, RegistryClient];
    const name = uniq('prov');
    const sid = await a.createService({ appId: 'app', serviceName: name, version: '1.0.0' });
    const consumer = await a.createService({ appId: 'app', serviceName: uniq('cons'), version: '1.0.0' });
    await b.req('GET', `/instances?appId=app&serviceName=${name}`, undefined, { 'x-consumerid': consumer });
    const w = watch(members[2]!.url, consumer);
    t.after(() => w.close());
    await w.open;
    // The dependency recorded through B reaches C, whose watcher then gets A's registrations.
    await eventually(() => members[2]!.server.registry.consumerIdsOf('default/default', members[2]!.server.registry.getService('default/default', sid)).has(consumer), 5000, 'the dependency on C');
    for (let i = 0; i < 20; i++) await a.register(sid, { hostName: `w${i}` });
    await eventually(() => w.events.length >= 20, 5000, '20 watch events on C');
    assert.equal(w.events.filter((e) => e.action === 'CREATE').length, 20);
  });

  it('expires a lease once, on the leader, after heartbeats that alternated between servers', async (t) => {
    const { members, clock } = await startCluster(t, 3);
    const [a, b, c] = members.map((m) => new RegistryClient(m.url)) as [RegistryClient, RegistryClient, RegistryClient];
    const name = uniq('lease');
    const sid = await a.createService({ appId: 'app', serviceName: name, version: '1.0.0' });
    const consumer = await a.createService({ appId: 'app', serviceName: uniq('cons'), version: '1.0.0' });
    await a.req('GET', `/instances?appId=app&serviceName=${name}`, undefined, { 'x-consumerid': consumer });
    const live = await a.register(sid, { hostName: 'live', healthCheck: { mode: 'push', interval: 30, times: 3 } });
    const dead = await b.register(sid, { hostName: 'dead', healthCheck: { mode: 'push', interval: 30, times: 3 } });
    const watches = members.map((m) => watch(m.url, consumer));
    t.after(() => watches.forEach((w) => w.close()));
    await Promise.all(watches.map((w) => w.open));
    await eventually(() => members.every((m) => m.server.cluster.liveServers().length === 3), 10_000, 'three live servers');
    // 4 minutes of heartbeats every 30 s, each through the next server; `dead` stops after the first.
    for (let step = 0; step < 8; step++) {
      clock.advance(30_000);
      assert.equal((await [a, b, c][step % 3]!.req('PUT', `/microservices/${sid}/instances/${live}/heartbeat`)).status, 200, `heartbeat ${step}`);
      if (step === 0) await c.req('PUT', `/microservices/${sid}/instances/${dead}/heartbeat`);
      // Let the written renewals land and the leader look at them (real time).
      clock.advance(2_100);
      await new Promise((r) => setTimeout(r, 300));
    }
    await eventually(async () => (await c.req('GET', `/microservices/${sid}/instances/${dead}`)).status === 400, 10_000, 'the dead instance to expire');
    for (const x of [a, b, c]) {
      assert.equal((await x.req('GET', `/microservices/${sid}/instances/${live}`)).status, 200, 'the instance renewed through every server lives on');
      assert.equal((await x.req('GET', `/microservices/${sid}/instances/${dead}`)).status, 400);
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const w of watches) {
      const deletes = w.events.filter((e) => e.action === 'DELETE');
      assert.deepEqual(deletes.map((e) => e.instance.instanceId), [dead], 'one DELETE per server, for the dead instance only');
    }
  });
});
