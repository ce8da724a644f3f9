// Tenancy: X-Domain-Name and the project in the path (servicecomb.md §0 "Base path", "Tenant").
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { RegistryClient, uniq, type Reply } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';
import { assertError, type Svc } from '../helpers/assert.js';

/** Clients for domain A / project p1 (the owner), domain B / p1, domain A / p2. */
async function setup(t: TestContext): Promise<{ owner: RegistryClient; otherDomain: RegistryClient; otherProject: RegistryClient; svc: Svc; url: string }> {
  const srv = await startServer(t);
  const domainA = uniq('doma');
  const domainB = uniq('domb');
  const p1 = uniq('p1');
  const p2 = uniq('p2');
  const owner = new RegistryClient(srv.url, { 'X-Domain-Name': domainA }, `/v4/${p1}/registry`);
  const otherDomain = new RegistryClient(srv.url, { 'X-Domain-Name': domainB }, `/v4/${p1}/registry`);
  const otherProject = new RegistryClient(srv.url, { 'X-Domain-Name': domainA }, `/v4/${p2}/registry`);
  const svc: Svc = { serviceId: '', appId: uniq('app'), serviceName: uniq(), version: '1.0.0' };
  svc.serviceId = await owner.createService({ appId: svc.appId, serviceName: svc.serviceName, version: svc.version });
  await owner.register(svc.serviceId);
  return { owner, otherDomain, otherProject, svc, url: srv.url };
}

const existence = (c: RegistryClient, s: Svc): Promise<Reply<any>> =>
  c.req('GET', `/existence?${new URLSearchParams({ type: 'microservice', appId: s.appId, serviceName: s.serviceName, version: s.version })}`);

async function listedIds(c: RegistryClient): Promise<string[]> {
  const r = await c.req('GET', '/microservices');
  assert.equal(r.status, 200, r.text);
  return ((r.body.services ?? []) as { serviceId: string }[]).map((s) => s.serviceId);
}

describe('tenancy: the owning domain and project', () => {
  it('sees its service in get, list, find and existence', async (t) => {
    const { owner, svc } = await setup(t);
    const got = await owner.req('GET', `/microservices/${svc.serviceId}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.service.serviceName, svc.serviceName);
    assert.deepEqual(await listedIds(owner), [svc.serviceId]);
    const found = await owner.find({ appId: svc.appId, serviceName: svc.serviceName });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.instances?.length, 1);
    const exists = await existence(owner, svc);
    assert.equal(exists.status, 200, exists.text);
    assert.deepEqual(exists.body, { serviceId: svc.serviceId });
  });
});

for (const other of ['otherDomain', 'otherProject'] as const) {
  const label = other === 'otherDomain' ? 'another domain (X-Domain-Name)' : 'another project (path)';
  describe(`tenancy: ${label}`, () => {
    it('returns 400 with errorCode 400012 for GET /microservices/{serviceId}', async (t) => {
      const ctx = await setup(t);
      assertError(await ctx[other].req('GET', `/microservices/${ctx.svc.serviceId}`), 400, '400012');
    });

    it('returns 200 with {} for GET /microservices', async (t) => {
      const ctx = await setup(t);
      const r = await ctx[other].req('GET', '/microservices');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, {});
    });

    it('returns 400 with errorCode 400012 for GET /instances', async (t) => {
      const ctx = await setup(t);
      assertError(await ctx[other].find({ appId: ctx.svc.appId, serviceName: ctx.svc.serviceName }), 400, '400012');
    });

    it('returns 400 with errorCode 400012 for GET /existence?type=microservice', async (t) => {
      const ctx = await setup(t);
      assertError(await existence(ctx[other], ctx.svc), 400, '400012');
    });

    it('returns 400 with errorCode 400012 for GET /microservices/{serviceId}/instances', async (t) => {
      const ctx = await setup(t);
      assertError(await ctx[other].req('GET', `/microservices/${ctx.svc.serviceId}/instances`), 400, '400012');
    });

    it('returns 400 with errorCode 400012 when the owner service is used as X-ConsumerId', async (t) => {
      const ctx = await setup(t);
      const name = uniq();
      await ctx[other].createService({ appId: ctx.svc.appId, serviceName: name, version: '1.0.0' });
      const r = await ctx[other].find({ appId: ctx.svc.appId, serviceName: name }, { 'X-ConsumerId': ctx.svc.serviceId });
      assertError(r, 400, '400012');
    });

    it('returns 400 with errorCode 400012 for DELETE /microservices/{serviceId} and leaves the service alone', async (t) => {
      const ctx = await setup(t);
      assertError(await ctx[other].req('DELETE', `/microservices/${ctx.svc.serviceId}?force=true`), 400, '400012');
      assert.equal((await ctx.owner.req('GET', `/microservices/${ctx.svc.serviceId}`)).status, 200);
    });

    it('creates a separate service for the same key, with its own serviceId', async (t) => {
      const ctx = await setup(t);
      const id = await ctx[other].createService({ appId: ctx.svc.appId, serviceName: ctx.svc.serviceName, version: ctx.svc.version });
      assert.notEqual(id, ctx.svc.serviceId);
      assert.deepEqual(await listedIds(ctx[other]), [id]);
      assert.deepEqual(await listedIds(ctx.owner), [ctx.svc.serviceId]);
      // The new service has no instance; the owner's instance stays in the owner's tenant.
      const found = await ctx[other].find({ appId: ctx.svc.appId, serviceName: ctx.svc.serviceName });
      assert.equal(found.status, 200, found.text);
      assert.deepEqual(found.body, {});
      const exists = await existence(ctx[other], ctx.svc);
      assert.deepEqual(exists.body, { serviceId: id });
      // Deleting it leaves the owner's service in place.
      assert.equal((await ctx[other].req('DELETE', `/microservices/${id}`)).status, 200);
      assert.equal((await ctx.owner.req('GET', `/microservices/${ctx.svc.serviceId}`)).status, 200);
      assert.equal((await existence(ctx.owner, ctx.svc)).body.serviceId, ctx.svc.serviceId);
    });
  });
}

describe('tenancy: the default domain', () => {
  it('is "default" when X-Domain-Name is absent', async (t) => {
    const srv = await startServer(t);
    const project = uniq('proj');
    const prefix = `/v4/${project}/registry`;
    const noHeader = new RegistryClient(srv.url, {}, prefix);
    const defaultHeader = new RegistryClient(srv.url, { 'X-Domain-Name': 'default' }, prefix);
    const otherHeader = new RegistryClient(srv.url, { 'X-Domain-Name': uniq('dom') }, prefix);
    const a: Svc = { serviceId: '', appId: uniq('app'), serviceName: uniq(), version: '1.0.0' };
    a.serviceId = await noHeader.createService({ appId: a.appId, serviceName: a.serviceName, version: a.version });
    const b: Svc = { serviceId: '', appId: uniq('app'), serviceName: uniq(), version: '1.0.0' };
    b.serviceId = await defaultHeader.createService({ appId: b.appId, serviceName: b.serviceName, version: b.version });

    for (const [client, s] of [[defaultHeader, a], [noHeader, b]] as const) {
      assert.equal((await client.req('GET', `/microservices/${s.serviceId}`)).status, 200);
      assert.deepEqual((await existence(client, s)).body, { serviceId: s.serviceId });
      assert.equal((await client.find({ appId: s.appId, serviceName: s.serviceName })).status, 200);
    }
    assert.deepEqual((await listedIds(noHeader)).sort(), [a.serviceId, b.serviceId].sort());
    assert.deepEqual((await listedIds(defaultHeader)).sort(), [a.serviceId, b.serviceId].sort());
    for (const s of [a, b]) {
      assertError(await otherHeader.req('GET', `/microservices/${s.serviceId}`), 400, '400012');
      assertError(await existence(otherHeader, s), 400, '400012');
    }
  });

  it('reads the domain from a lower-case x-domain-name header', async (t) => {
    const srv = await startServer(t);
    const domain = uniq('dom');
    const upper = new RegistryClient(srv.url, { 'X-Domain-Name': domain });
    const lower = new RegistryClient(srv.url, { 'x-domain-name': domain });
    const id = await upper.createService({ appId: uniq('app'), serviceName: uniq(), version: '1.0.0' });
    assert.equal((await lower.req('GET', `/microservices/${id}`)).status, 200);
    assertError(await new RegistryClient(srv.url).req('GET', `/microservices/${id}`), 400, '400012');
  });

  it('lets every tenant find the shared SERVICECENTER service', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url, { 'X-Domain-Name': uniq('dom') }, `/v4/${uniq('proj')}/registry`);
    const r = await c.find({ appId: 'default', serviceName: 'SERVICECENTER' });
    assert.equal(r.status, 200, r.text);
    assert.ok((r.body.instances?.length ?? 0) >= 1, r.text);
    assert.ok(r.body.instances!.every((i: { endpoints?: string[] }) => (i.endpoints ?? []).some((e) => e.startsWith('rest://'))), r.text);
    // ...but it is not listed as one of that tenant's services.
    const list = await c.req('GET', '/microservices');
    assert.deepEqual(list.body, {});
  });
});
