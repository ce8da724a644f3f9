import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { RegistryClient, uniq, until } from '../helpers/registry-client.js';

/** Registers `versions` of one provider name, one instance each; returns serviceIds by version. */
async function provider(c: RegistryClient, name: string, versions: string[], extra: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const version of versions) {
    ids[version] = await c.createService({ appId: 'app', serviceName: name, version, ...extra });
    await c.register(ids[version]!, { hostName: `h-${version}` });
  }
  return ids;
}

const versionsOf = (r: { body: { instances?: any[] } }): string[] => (r.body.instances ?? []).map((i) => i.version).sort();

describe('GET /instances', () => {
  it('returns every version without a version parameter and applies latest, x+, a-b and exact rules', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    await provider(c, name, ['1.0.0', '1.1.0', '2.0.0', '2.0.0.1']);
    const f = (version?: string) => c.find({ appId: 'app', serviceName: name, ...(version === undefined ? {} : { version }) });
    assert.deepEqual(versionsOf(await f()), ['1.0.0', '1.1.0', '2.0.0', '2.0.0.1']);
    assert.deepEqual(versionsOf(await f('latest')), ['2.0.0.1']);
    assert.deepEqual(versionsOf(await f('1.1.0+')), ['1.1.0', '2.0.0', '2.0.0.1']);
    assert.deepEqual(versionsOf(await f('1.0.0-2.0.0')), ['1.0.0', '1.1.0'], 'half-open: 2.0.0 excluded');
    assert.deepEqual(versionsOf(await f('2.0.0-1.0.0')), ['1.0.0', '1.1.0'], 'reversed bounds are swapped');
    assert.deepEqual(versionsOf(await f('0.0.0.0+')), ['1.0.0', '1.1.0', '2.0.0', '2.0.0.1'], '4 segments accepted');
    assert.deepEqual(versionsOf(await f('1+')), ['1.0.0', '1.1.0', '2.0.0', '2.0.0.1'], '1 segment accepted');
    assert.deepEqual(versionsOf(await f('1.1.0')), ['1.1.0']);
    assert.deepEqual((await f('3.0.0+')).body, {}, 'a rule matching nothing is 200 {}');
    assert.equal((await f('9.9.9')).body.errorCode, '400012', 'a missing exact version is 400012');
    assert.equal((await f('1.x')).body.errorCode, '400001');
  });

  it('evaluates latest on every find: registering 1.1.0 switches the answer at once (pitfalls)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    await provider(c, name, ['1.0.0']);
    const first = await c.find({ appId: 'app', serviceName: name, version: 'latest' });
    assert.deepEqual(versionsOf(first), ['1.0.0']);
    await provider(c, name, ['1.1.0']);
    const second = await c.find({ appId: 'app', serviceName: name, version: 'latest', rev: first.headers.get('x-resource-revision')! });
    assert.equal(second.status, 200);
    assert.deepEqual(versionsOf(second), ['1.1.0']);
  });

  it('answers 304 with the revision header while nothing changes, and 200 after any change of the matched set', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const ids = await provider(c, name, ['1.0.0']);
    const sid = ids['1.0.0']!;
    const q = { appId: 'app', serviceName: name };
    let rev = (await c.find(q)).headers.get('x-resource-revision')!;
    assert.ok(rev);
    const same = await c.find({ ...q, rev });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal(same.headers.get('x-resource-revision'), rev);
    const changes: [string, () => Promise<unknown>][] = [
      ['register', () => c.register(sid, { hostName: 'second' })],
      ['status', async () => c.req('PUT', `/microservices/${sid}/instances/${(await c.find(q)).body.instances![0].instanceId}/status?value=DOWN`)],
      ['properties', async () => c.req('PUT', `/microservices/${sid}/instances/${(await c.find(q)).body.instances![0].instanceId}/properties`, { properties: { a: 'b' } })],
      ['deregister', async () => c.req('DELETE', `/microservices/${sid}/instances/${(await c.find(q)).body.instances![0].instanceId}`)],
      // On several servers the leader expires after checking the heartbeats the others wrote
      // (two write periods late, asynchronously), and the others apply it after: wait until
      // every server's find shows it (the balancer takes them in turn).
      ['lease expiry', async () => {
        srv.clock.advance(123_000);
        await until(async () => {
          for (let k = 0; k < srv.urls.length; k++) if ((await c.find({ ...q, rev })).status !== 200) return false;
          return true;
        }, 10_000);
      }],
    ];
    for (const [what, change] of changes) {
      await change();
      const r = await c.find({ ...q, rev });
      assert.equal(r.status, 200, `${what} changes the revision`);
      assert.notEqual(r.headers.get('x-resource-revision'), rev);
      rev = r.headers.get('x-resource-revision')!;
    }
  });

  it('keeps service A\'s revision when only service B changes (per-resource revisions)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const a = uniq('a');
    const b = uniq('b');
    await provider(c, a, ['1.0.0']);
    const ids = await provider(c, b, ['1.0.0']);
    const rev = (await c.find({ appId: 'app', serviceName: a })).headers.get('x-resource-revision')!;
    await c.register(ids['1.0.0']!, { hostName: 'more' });
    await c.createService({ appId: 'app', serviceName: uniq() });
    assert.equal((await c.find({ appId: 'app', serviceName: a, rev })).status, 304);
  });

  it('uses the consumer\'s environment instead of env, filters cross-app providers unless allowCrossApp, and does not filter by status', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const prodId = await c.createService({ appId: 'app', serviceName: name, version: '1.0.0', environment: 'production' });
    const prodInst = await c.register(prodId);
    await c.req('PUT', `/microservices/${prodId}/instances/${prodInst}/status?value=DOWN`);
    await provider(c, name, ['1.0.0']); // environment ""
    const prodConsumer = await c.createService({ appId: 'app', serviceName: uniq(), environment: 'production' });
    const r = await c.find({ appId: 'app', serviceName: name, env: '' }, { 'X-ConsumerId': prodConsumer });
    assert.equal(r.body.instances!.length, 1);
    assert.equal(r.body.instances![0].serviceId, prodId);
    assert.equal(r.body.instances![0].status, 'DOWN');

    const otherApp = await c.createService({ appId: 'other', serviceName: uniq(), environment: 'production' });
    const hidden = await c.find({ appId: 'app', serviceName: name }, { 'X-ConsumerId': otherApp });
    assert.equal(hidden.status, 200);
    assert.deepEqual(hidden.body, {});
    await c.req('PUT', `/microservices/${prodId}/properties`, { properties: { allowCrossApp: 'TRUE' } });
    const shown = await c.find({ appId: 'app', serviceName: name }, { 'X-ConsumerId': otherApp });
    assert.equal(shown.body.instances!.length, 1);
  });

  it('finds by alias, filters by service tags, and returns {} for a provider without instances', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const sid = await c.createService({ appId: 'app', serviceName: name, alias: `${name}-alias` });
    assert.deepEqual((await c.find({ appId: 'app', serviceName: name })).body, {});
    await c.register(sid);
    assert.equal((await c.find({ appId: 'app', serviceName: `${name}-alias` })).body.instances!.length, 1);
    assert.deepEqual((await c.find({ appId: 'app', serviceName: name, tags: 'team' })).body, {});
    await c.req('POST', `/microservices/${sid}/tags`, { tags: { team: 'blue' } });
    assert.equal((await c.find({ appId: 'app', serviceName: name, tags: 'team' })).body.instances!.length, 1);
  });

  it('returns 400012 for an unknown provider or consumer and 400001 without serviceName', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    assert.equal((await c.find({ appId: 'app', serviceName: uniq() })).body.errorCode, '400012');
    const name = uniq();
    await provider(c, name, ['1.0.0']);
    assert.equal((await c.find({ appId: 'app', serviceName: name }, { 'X-ConsumerId': 'ghost' })).body.errorCode, '400012');
    assert.equal((await c.find({ appId: 'app' })).body.errorCode, '400001');
  });

  it('finds the shared SERVICECENTER from any tenant', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url, { 'X-Domain-Name': 'elsewhere' }, '/v4/p1/registry');
    const own = srv.urls.map((u) => u.replace('http://', 'rest://')).sort();
    // One instance per server (several when the suite runs on a cluster: each server sees the
    // others at its next membership refresh, a few seconds after they started).
    let seen: string[] = [];
    await until(async () => {
      const r = await c.find({ appId: 'default', serviceName: 'SERVICECENTER' });
      assert.equal(r.status, 200);
      seen = r.body.instances!.map((i) => i.endpoints![0]!).sort();
      return JSON.stringify(seen) === JSON.stringify(own);
    }, 20_000).catch(() => undefined);
    assert.deepEqual(seen, own);
  });
});

describe('POST /instances/action?type=query', () => {
  it('answers updated, notModified and failed per item', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const ids = await provider(c, name, ['1.0.0']);
    const sid = ids['1.0.0']!;
    const iid = (await c.find({ appId: 'app', serviceName: name })).body.instances![0].instanceId;
    const first = await c.req('POST', '/instances/action?type=query', {
      services: [{ service: { appId: 'app', serviceName: name } }, { service: { appId: 'app', serviceName: uniq() } }],
      instances: [{ instance: { serviceId: sid, instanceId: iid } }, { instance: { serviceId: sid, instanceId: 'nope' } }],
    });
    assert.equal(first.status, 200);
    const su = first.body.services.updated[0];
    assert.equal(su.index, 0);
    assert.equal(su.instances[0].instanceId, iid);
    assert.deepEqual(first.body.services.failed, [{ indexes: [1], error: first.body.services.failed[0].error }]);
    assert.equal(first.body.services.failed[0].error.errorCode, '400012');
    assert.equal(first.body.instances.updated[0].instances[0].instanceId, iid);
    assert.equal(first.body.instances.failed[0].error.errorCode, '400017');
    const second = await c.req('POST', '/instances/action?type=query', {
      services: [{ service: { appId: 'app', serviceName: name }, rev: su.rev }],
      instances: [{ instance: { serviceId: sid, instanceId: iid }, rev: first.body.instances.updated[0].rev }],
    });
    assert.deepEqual(second.body, { services: { notModified: [0] }, instances: { notModified: [0] } });
  });

  it('returns 400001 without type=query or with both lists empty', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    assert.equal((await c.req('POST', '/instances/action', { services: [{ service: { serviceName: 'x' } }] })).body.errorCode, '400001');
    assert.equal((await c.req('POST', '/instances/action?type=query', { services: [], instances: [] })).body.errorCode, '400001');
  });
});
