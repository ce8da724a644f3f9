import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { RegistryClient, uniq, until } from '../helpers/registry-client.js';

describe('POST /microservices', () => {
  it('creates a service with defaults and a deterministic 40-hex serviceId', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const r = await c.req('POST', '/microservices', { service: { serviceName: name } });
    assert.equal(r.status, 200);
    assert.match(r.body.serviceId, /^[0-9a-f]{40}$/);
    const got = await c.req('GET', `/microservices/${r.body.serviceId}`);
    assert.equal(got.status, 200);
    const s = got.body.service;
    assert.equal(s.appId, 'default');
    assert.equal(s.version, '0.0.1');
    assert.equal(s.level, 'BACK');
    assert.equal(s.status, 'UP');
    assert.equal(s.serviceName, name);
    assert.equal(typeof s.timestamp, 'string');
    assert.equal(s.timestamp, String(Math.floor(srv.clock.now() / 1000)));
    assert.equal('environment' in s, false, 'empty environment is omitted');
    assert.equal('schemas' in s, false, 'empty schemas are omitted');
  });

  it('is idempotent on the same key and returns the existing serviceId', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const service = { appId: 'app', serviceName: uniq(), version: '1.0.0' };
    const a = await c.createService(service);
    const b = await c.createService(service);
    assert.equal(a, b);
    const other = await c.createService({ ...service, version: '1.0' });
    assert.notEqual(other, a, '1.0 and 1.0.0 are different services');
  });

  it('accepts a custom serviceId and returns 400010 when it clashes', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const service = { appId: 'app', serviceName: uniq(), version: '1.0.0', serviceId: 'my-custom-id' };
    assert.equal(await c.createService(service), 'my-custom-id');
    const sameKeyOtherId = await c.req('POST', '/microservices', { service: { ...service, serviceId: 'another-id' } });
    assert.equal(sameKeyOtherId.status, 400);
    assert.equal(sameKeyOtherId.body.errorCode, '400010');
    const sameIdOtherKey = await c.req('POST', '/microservices', { service: { ...service, serviceName: uniq() } });
    assert.equal(sameIdOtherKey.status, 400);
    assert.equal(sameIdOtherKey.body.errorCode, '400010');
    assert.equal(sameIdOtherKey.body.errorMessage, 'Micro-service already exists');
  });

  const invalid: [string, Record<string, unknown>][] = [
    ['serviceName is missing', { appId: 'a' }],
    ['serviceName has a bad character', { serviceName: 'a b' }],
    ['serviceName is longer than 128', { serviceName: 'a'.repeat(129) }],
    ['version has 5 segments', { serviceName: 'x', version: '1.2.3.4.5' }],
    ['a version segment exceeds 32767', { serviceName: 'x', version: '1.32768.0' }],
    ['environment is unknown', { serviceName: 'x', environment: 'staging' }],
    ['level is unknown', { serviceName: 'x', level: 'TOP' }],
    ['a schema id is malformed', { serviceName: 'x', schemas: ['bad id'] }],
    ['alias has a space', { serviceName: 'x', alias: 'a b' }],
    ['description is longer than 256', { serviceName: 'x', description: 'd'.repeat(257) }],
  ];
  for (const [why, service] of invalid) {
    it(`returns 400 with errorCode 400001 when ${why}`, async (t) => {
      const srv = await startServer(t);
      const r = await new RegistryClient(srv.url).req('POST', '/microservices', { service });
      assert.equal(r.status, 400);
      assert.equal(r.body.errorCode, '400001');
      assert.equal(r.body.errorMessage, 'Invalid parameter(s)');
      assert.equal(typeof r.body.detail, 'string');
    });
  }

  it('returns 400001 "Unmarshal error" for a body that is not JSON, and when the body key is missing', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const bad = await c.req('POST', '/microservices', '{not json');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { errorCode: '400001', errorMessage: 'Invalid parameter(s)', detail: 'Unmarshal error' });
    const missing = await c.req('POST', '/microservices', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errorCode, '400001');
  });

  it('creates tags and instances given in the same body', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const id = await c.createService({ serviceName: uniq(), version: '1.0.0' }, { tags: { team: 'blue' }, instances: [{ hostName: 'h1', endpoints: ['rest://1.1.1.1:1'] }] });
    assert.deepEqual((await c.req('GET', `/microservices/${id}/tags`)).body, { tags: { team: 'blue' } });
    const list = await c.req('GET', `/microservices/${id}/instances`);
    assert.equal(list.body.instances.length, 1);
    assert.equal(list.body.instances[0].hostName, 'h1');
  });

  it('returns 400100 when the service quota is used up', async (t) => {
    const srv = await startServer(t, { 'quota.services': 2 });
    const c = new RegistryClient(srv.url);
    await c.createService({ serviceName: uniq() });
    // the server's own SERVICECENTER lives in default/default, so use another project
    const p = new RegistryClient(srv.url, {}, '/v4/quota/registry');
    await p.createService({ serviceName: uniq() });
    await p.createService({ serviceName: uniq() });
    const r = await p.req('POST', '/microservices', { service: { serviceName: uniq() } });
    assert.equal(r.status, 400);
    assert.equal(r.body.errorCode, '400100');
  });
});

describe('GET /microservices', () => {
  it('lists services, hides the shared SERVICECENTER unless withShared=true, and answers {} when empty', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const empty = await c.req('GET', '/microservices');
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, {});
    const id = await c.createService({ serviceName: uniq() });
    const list = await c.req('GET', '/microservices');
    assert.deepEqual(list.body.services.map((s: any) => s.serviceId), [id]);
    const shared = await c.req('GET', '/microservices?withShared=true');
    assert.equal(shared.body.services.length, 2);
    assert.ok(shared.body.services.some((s: any) => s.serviceName === 'SERVICECENTER'));
  });
});

describe('GET /microservices/{serviceId}', () => {
  it('returns 400 with errorCode 400012 for an unknown id', async (t) => {
    const srv = await startServer(t);
    const r = await new RegistryClient(srv.url).req('GET', '/microservices/nope');
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.deepEqual(Object.keys(r.body).sort(), ['detail', 'errorCode', 'errorMessage']);
    assert.equal(r.body.errorCode, '400012');
    assert.equal(r.body.errorMessage, 'Micro-service does not exist');
  });
});

describe('PUT /microservices/{serviceId}/properties', () => {
  it('replaces the whole map, updates modTimestamp and answers an empty 200', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const id = await c.createService({ serviceName: uniq(), properties: { a: '1', b: '2' } });
    srv.clock.advance(5000);
    const r = await c.req('PUT', `/microservices/${id}/properties`, { properties: { c: '3' } });
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const s = (await c.req('GET', `/microservices/${id}`)).body.service;
    assert.deepEqual(s.properties, { c: '3' });
    assert.equal(Number(s.modTimestamp) - Number(s.timestamp), 5);
  });

  it('returns 400012 for an unknown service and 400001 when the body is over 3 KB', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    assert.equal((await c.req('PUT', '/microservices/nope/properties', { properties: {} })).body.errorCode, '400012');
    const id = await c.createService({ serviceName: uniq() });
    const big = await c.req('PUT', `/microservices/${id}/properties`, { properties: { a: 'x'.repeat(4000) } });
    assert.equal(big.status, 400);
    assert.equal(big.body.errorCode, '400001');
  });
});

describe('DELETE /microservices/{serviceId}', () => {
  it('refuses a service with instances (400013) unless force, and validates force', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const id = await c.createService({ serviceName: uniq() });
    await c.register(id);
    const r = await c.req('DELETE', `/microservices/${id}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.errorCode, '400013');
    const badForce = await c.req('DELETE', `/microservices/${id}?force=yes`);
    assert.equal(badForce.body.errorCode, '400001');
    const forced = await c.req('DELETE', `/microservices/${id}?force=1`);
    assert.equal(forced.status, 200);
    assert.equal(forced.text, '');
    assert.equal((await c.req('GET', `/microservices/${id}`)).body.errorCode, '400012');
    assert.equal((await c.req('DELETE', `/microservices/${id}`)).body.errorCode, '400012');
  });

  it('refuses to delete the server\'s own SERVICECENTER service with 400001', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const health = await c.req('GET', '/health');
    const scId = health.body.instances[0].serviceId;
    const r = await c.req('DELETE', `/microservices/${scId}?force=true`);
    assert.equal(r.status, 400);
    assert.equal(r.body.errorCode, '400001');
  });
});

describe('DELETE /microservices', () => {
  it('deletes several, reports each outcome and skips duplicates', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const a = await c.createService({ serviceName: uniq() });
    const b = await c.createService({ serviceName: uniq() });
    await c.register(b);
    const r = await c.req('DELETE', '/microservices', { serviceIds: [a, a, b, 'missing'], force: false });
    assert.equal(r.status, 200);
    assert.equal(r.body.services.length, 3);
    assert.deepEqual(r.body.services[0], { serviceId: a });
    assert.equal(r.body.services[1].serviceId, b);
    assert.match(r.body.services[1].errMessage, /instance/);
    assert.match(r.body.services[2].errMessage, /does not exist/);
  });

  it('returns 400001 for an empty list or a malformed id', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    assert.equal((await c.req('DELETE', '/microservices', { serviceIds: [] })).body.errorCode, '400001');
    assert.equal((await c.req('DELETE', '/microservices', { serviceIds: ['has space'] })).body.errorCode, '400001');
  });
});

describe('GET /existence?type=microservice', () => {
  it('finds by exact key or alias, 400026 for a missing version, 400012 for a missing name, 400001 for bad input', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const id = await c.createService({ appId: 'app', serviceName: name, version: '1.0.0', alias: `${name}-alias`, environment: 'production' });
    const q = (p: Record<string, string>) => c.req('GET', `/existence?${new URLSearchParams({ type: 'microservice', ...p })}`);
    assert.deepEqual((await q({ appId: 'app', serviceName: name, version: '1.0.0', env: 'production' })).body, { serviceId: id });
    assert.deepEqual((await q({ appId: 'app', serviceName: `${name}-alias`, version: '1.0.0', env: 'production' })).body, { serviceId: id });
    assert.equal((await q({ appId: 'app', serviceName: name, version: '2.0.0', env: 'production' })).body.errorCode, '400026');
    assert.equal((await q({ appId: 'app', serviceName: name, version: '1.0.0' })).body.errorCode, '400012', 'other environment');
    assert.equal((await q({ appId: 'app', serviceName: uniq(), version: '1.0.0' })).body.errorCode, '400012');
    assert.equal((await q({ appId: '', serviceName: name, version: '1.0.0' })).body.errorCode, '400001');
    assert.equal((await q({ appId: 'app', serviceName: name, version: 'latest' })).body.errorCode, '400001');
    assert.equal((await c.req('GET', '/existence?type=other')).body.errorCode, '400001');
  });
});

describe('unknown routes', () => {
  it('answers a plain 404', async (t) => {
    const srv = await startServer(t);
    const r = await fetch(`${srv.url}/v4/default/registry/nothing-here`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
  });
});

describe('GET /version and /health', () => {
  it('report the API version and the server\'s own rest:// endpoint', async (t) => {
    const srv = await startServer(t);
    const v = await (await fetch(`${srv.url}/version`)).json();
    assert.equal(v.apiVersion, '4.0.0');
    assert.equal(typeof v.version, 'string');
    const own = srv.urls.map((u) => u.replace('http://', 'rest://')).sort();
    for (const path of ['/health', '/v4/default/registry/health']) {
      // One per server (several when the suite runs on a cluster: each server sees the others
      // at its next membership refresh, a few seconds after they started).
      let seen: string[] = [];
      await until(async () => {
        const h = await (await fetch(srv.url + path)).json();
        seen = h.instances.map((i: { endpoints: string[] }) => i.endpoints[0]).sort();
        return JSON.stringify(seen) === JSON.stringify(own);
      }, 20_000).catch(() => undefined);
      assert.deepEqual(seen, own);
    }
  });
});
