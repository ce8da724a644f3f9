import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';

describe('POST /microservices/{serviceId}/instances', () => {
  it('registers with defaults: status UP, push 30 × 3, version copied from the service', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq(), version: '2.1.0' });
    const iid = await c.register(sid, { hostName: 'h' });
    assert.match(iid, /^[0-9a-f]{32}$/);
    const r = await c.req('GET', `/microservices/${sid}/instances/${iid}`);
    assert.equal(r.status, 200);
    const i = r.body.instance;
    assert.equal(i.serviceId, sid);
    assert.equal(i.status, 'UP');
    assert.equal(i.version, '2.1.0');
    assert.deepEqual(i.healthCheck, { mode: 'push', interval: 30, times: 3 });
    assert.ok(r.headers.get('x-resource-revision'));
  });

  it('clamps push interval to ≥5 s and times to ≥3, and forces pull to 30 × 3', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const a = await c.register(sid, { healthCheck: { mode: 'push', interval: 1, times: 0 } });
    const b = await c.register(sid, { healthCheck: { mode: 'pull', interval: 7, times: 9 } });
    assert.deepEqual((await c.req('GET', `/microservices/${sid}/instances/${a}`)).body.instance.healthCheck, { mode: 'push', interval: 5, times: 3 });
    assert.deepEqual((await c.req('GET', `/microservices/${sid}/instances/${b}`)).body.instance.healthCheck, { mode: 'pull', interval: 30, times: 3 });
  });

  it('re-registers: an existing instanceId with new content overwrites it; the same endpoints without an id reuse the instance (issue #18 item 11)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid, { instanceId: 'fixed-id', hostName: 'first', endpoints: ['rest://127.0.0.1:1001'] });
    assert.equal(iid, 'fixed-id');
    const rev1 = (await c.req('GET', `/microservices/${sid}/instances`)).headers.get('x-resource-revision');
    // Identical content: a heartbeat, the revision stays.
    assert.equal(await c.register(sid, { instanceId: 'fixed-id', hostName: 'first', endpoints: ['rest://127.0.0.1:1001'] }), 'fixed-id');
    assert.equal((await c.req('GET', `/microservices/${sid}/instances`)).headers.get('x-resource-revision'), rev1);
    // A provider restarted on another port with its fixed id: the old endpoint is gone.
    assert.equal(await c.register(sid, { instanceId: 'fixed-id', hostName: 'second', endpoints: ['rest://127.0.0.1:1002'] }), 'fixed-id');
    const listed = await c.req('GET', `/microservices/${sid}/instances`);
    assert.notEqual(listed.headers.get('x-resource-revision'), rev1);
    assert.deepEqual(listed.body.instances.map((i: any) => [i.instanceId, i.hostName, i.endpoints]), [['fixed-id', 'second', ['rest://127.0.0.1:1002']]]);
    // No id, the same endpoints: the existing instance's id comes back, no second instance.
    assert.equal(await c.register(sid, { hostName: 'third', endpoints: ['rest://127.0.0.1:1002'] }), 'fixed-id');
    assert.equal((await c.req('GET', `/microservices/${sid}/instances/fixed-id`)).body.instance.hostName, 'third');
    const other = await c.register(sid, { hostName: 'other', endpoints: ['rest://127.0.0.1:1003'] });
    assert.notEqual(other, 'fixed-id');
    assert.equal((await c.req('GET', `/microservices/${sid}/instances`)).body.instances.length, 2);
    // The overwrite is durable.
    const srv2 = await srv.restart();
    const again = (await new RegistryClient(srv2.url).req('GET', `/microservices/${sid}/instances/fixed-id`)).body.instance;
    assert.deepEqual([again.hostName, again.endpoints], ['third', ['rest://127.0.0.1:1002']]);
  });

  const invalid: [string, unknown][] = [
    ['the instance key is missing', { hostName: 'x' }],
    ['hostName is missing', { instance: { endpoints: [] } }],
    ['hostName is blank', { instance: { hostName: '   ' } }],
    ['hostName is longer than 64', { instance: { hostName: 'h'.repeat(65) } }],
    ['status is unknown', { instance: { hostName: 'h', status: 'ALIVE' } }],
    ['healthCheck.mode is unknown', { instance: { hostName: 'h', healthCheck: { mode: 'poll', interval: 10 } } }],
    ['healthCheck.interval is 0', { instance: { hostName: 'h', healthCheck: { mode: 'push', interval: 0 } } }],
    ['healthCheck.times is negative', { instance: { hostName: 'h', healthCheck: { mode: 'push', interval: 10, times: -1 } } }],
    ['healthCheck.port is over 65535', { instance: { hostName: 'h', healthCheck: { mode: 'pull', port: 70000 } } }],
    ['instanceId has a slash', { instance: { hostName: 'h', instanceId: 'a/b' } }],
    ['dataCenterInfo lacks region', { instance: { hostName: 'h', dataCenterInfo: { name: 'dc', availableZone: 'az' } } }],
  ];
  for (const [why, body] of invalid) {
    it(`returns 400 with errorCode 400001 when ${why}`, async (t) => {
      const srv = await startServer(t);
      const c = new RegistryClient(srv.url);
      const sid = await c.createService({ serviceName: uniq() });
      const r = await c.req('POST', `/microservices/${sid}/instances`, body);
      assert.equal(r.status, 400);
      assert.equal(r.body.errorCode, '400001');
    });
  }

  it('allows an empty endpoint list', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const r = await c.req('POST', `/microservices/${sid}/instances`, { instance: { hostName: 'h', endpoints: [] } });
    assert.equal(r.status, 200);
  });

  it('returns 400012 for an unknown service, 400100 over quota and 400001 over 5 KB', async (t) => {
    const srv = await startServer(t, { 'quota.instances': 2 });
    const c = new RegistryClient(srv.url, {}, '/v4/q/registry');
    assert.equal((await c.req('POST', '/microservices/nope/instances', { instance: { hostName: 'h' } })).body.errorCode, '400012');
    const sid = await c.createService({ serviceName: uniq() });
    await c.register(sid);
    await c.register(sid);
    const over = await c.req('POST', `/microservices/${sid}/instances`, { instance: { hostName: 'h' } });
    assert.equal(over.body.errorCode, '400100');
    const big = await c.req('POST', `/microservices/${sid}/instances`, { instance: { hostName: 'h', properties: { x: 'y'.repeat(6000) } } });
    assert.equal(big.status, 400);
    assert.equal(big.body.errorCode, '400001');
  });
});

describe('GET /microservices/{serviceId}/instances', () => {
  it('lists instances, {} when none, 304 on the same rev, and refuses a consumer from another app with 400012', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ appId: 'a1', serviceName: uniq() });
    const empty = await c.req('GET', `/microservices/${sid}/instances`);
    assert.deepEqual(empty.body, {});
    await c.register(sid);
    const list = await c.req('GET', `/microservices/${sid}/instances`);
    const rev = list.headers.get('x-resource-revision')!;
    assert.equal(list.body.instances.length, 1);
    const same = await c.req('GET', `/microservices/${sid}/instances?rev=${rev}`);
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal(same.headers.get('x-resource-revision'), rev);
    const foreign = await c.createService({ appId: 'a2', serviceName: uniq() });
    const refused = await c.req('GET', `/microservices/${sid}/instances`, undefined, { 'X-ConsumerId': foreign });
    assert.equal(refused.body.errorCode, '400012');
    const unknownConsumer = await c.req('GET', `/microservices/${sid}/instances`, undefined, { 'X-ConsumerId': 'nope' });
    assert.equal(unknownConsumer.body.errorCode, '400012');
  });
});

describe('GET /microservices/{serviceId}/instances/{instanceId}', () => {
  it('returns 400017 for an unknown instance and 400012 for an unknown service', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    assert.equal((await c.req('GET', `/microservices/${sid}/instances/nope`)).body.errorCode, '400017');
    assert.equal((await c.req('GET', '/microservices/nope/instances/nope')).body.errorCode, '400012');
  });
});

describe('DELETE /microservices/{serviceId}/instances/{instanceId}', () => {
  it('deregisters: gone from the next find, and 400017 the second time (pitfalls: deregistered means gone)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const sid = await c.createService({ appId: 'app', serviceName: name });
    const iid = await c.register(sid);
    assert.equal((await c.find({ appId: 'app', serviceName: name })).body.instances!.length, 1);
    const r = await c.req('DELETE', `/microservices/${sid}/instances/${iid}`);
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.deepEqual((await c.find({ appId: 'app', serviceName: name })).body, {});
    assert.equal((await c.req('DELETE', `/microservices/${sid}/instances/${iid}`)).body.errorCode, '400017');
  });
});

describe('PUT /microservices/{serviceId}/instances/{instanceId}/properties', () => {
  it('replaces the map; 400017 for an unknown instance', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid, { properties: { a: '1' } });
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${iid}/properties`, { properties: { b: '2' } })).status, 200);
    assert.deepEqual((await c.req('GET', `/microservices/${sid}/instances/${iid}`)).body.instance.properties, { b: '2' });
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/nope/properties`, { properties: {} })).body.errorCode, '400017');
  });
});

describe('PUT /microservices/{serviceId}/instances/{instanceId}/status', () => {
  it('sets a valid status, rejects a bad or empty one with 400001 and leaves it unchanged', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid);
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${iid}/status?value=DOWN`)).status, 200);
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${iid}/status?value=SLEEPY`)).body.errorCode, '400001');
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/${iid}/status`)).body.errorCode, '400001');
    assert.equal((await c.req('GET', `/microservices/${sid}/instances/${iid}`)).body.instance.status, 'DOWN');
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/nope/status?value=UP`)).body.errorCode, '400017');
  });
});

describe('PUT /instances/status', () => {
  it('sets the status of every instance whose properties match', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const a = await c.register(sid, { properties: { zone: 'z1', k: 'v' } });
    const b = await c.register(sid, { properties: { zone: 'z2' } });
    const r = await c.req('PUT', '/instances/status', { matches: { properties: { zone: 'z1' } }, status: 'OUTOFSERVICE' });
    assert.equal(r.status, 200);
    assert.equal((await c.req('GET', `/microservices/${sid}/instances/${a}`)).body.instance.status, 'OUTOFSERVICE');
    assert.equal((await c.req('GET', `/microservices/${sid}/instances/${b}`)).body.instance.status, 'UP');
    assert.equal((await c.req('PUT', '/instances/status', { matches: { properties: { zone: 'z1' } }, status: 'BAD' })).body.errorCode, '400001');
  });
});

describe('PUT /microservices/{serviceId}/instances/{instanceId}/heartbeat', () => {
  it('answers an empty 200 for a live instance and 400017 for an unknown one or a wrong serviceId', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const other = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid);
    // go-chassis sends Content-Type: application/json with no body
    const ok = await c.req('PUT', `/microservices/${sid}/instances/${iid}/heartbeat`, undefined, { 'content-type': 'application/json' });
    assert.equal(ok.status, 200);
    assert.equal(ok.text, '');
    assert.equal((await c.req('PUT', `/microservices/${sid}/instances/nope/heartbeat`)).body.errorCode, '400017');
    assert.equal((await c.req('PUT', `/microservices/${other}/instances/${iid}/heartbeat`)).body.errorCode, '400017');
  });
});

describe('PUT /heartbeats', () => {
  it('reports each pair, deduplicates, and always answers 200', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const iid = await c.register(sid);
    const r = await c.req('PUT', '/heartbeats', { instances: [{ serviceId: sid, instanceId: iid }, { serviceId: sid, instanceId: iid }, { serviceId: sid, instanceId: 'nope' }] });
    assert.equal(r.status, 200);
    assert.equal(r.body.instances.length, 2);
    assert.deepEqual(r.body.instances[0], { serviceId: sid, instanceId: iid });
    assert.equal(r.body.instances[1].instanceId, 'nope');
    assert.match(r.body.instances[1].errMessage, /Instance does not exist/);
    const empty = await c.req('PUT', '/heartbeats', { instances: [] });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.errorCode, '400001');
  });
});

describe('concurrent registrations (group commit)', () => {
  it('commits every parallel registration, and parallel ones with one instanceId make one instance', async (t) => {
    const srv = await startServer(t, { 'quota.instances': 50 });
    const c = new RegistryClient(srv.url, {}, '/v4/gc/registry');
    const sid = await c.createService({ serviceName: uniq() });
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => c.register(sid, { hostName: `h${i}` })));
    assert.equal(new Set(ids).size, 40);
    const same = await Promise.all(Array.from({ length: 10 }, () => c.register(sid, { instanceId: 'one-id' })));
    assert.deepEqual(new Set(same), new Set(['one-id']));
    const over = await Promise.all(Array.from({ length: 15 }, () => c.req('POST', `/microservices/${sid}/instances`, { instance: { hostName: 'x' } })));
    assert.equal(over.filter((r) => r.status === 200).length, 9, 'quota 50 = 41 + 9 more');
    assert.ok(over.filter((r) => r.status !== 200).every((r) => r.body.errorCode === '400100'));
    const restarted = await srv.restart();
    const list = await new RegistryClient(restarted.url, {}, '/v4/gc/registry').req('GET', `/microservices/${sid}/instances`);
    assert.equal(list.body.instances.length, 50, 'all acknowledged registrations are durable');
  });
});
