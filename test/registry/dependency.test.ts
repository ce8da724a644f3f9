// Dependencies S25–S27 and the ones recorded by find (servicecomb.md §1.2, §1.4; pitfalls.md Registry).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryClient, uniq, until, type Reply } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';
import { assertError, assertEmptyOk, type Svc, create } from '../helpers/assert.js';

/** serviceIds listed by GET /{id}/providers or /{id}/consumers, sorted. */
async function related(c: RegistryClient, serviceId: string, kind: 'providers' | 'consumers', query = ''): Promise<string[]> {
  const r = await c.req('GET', `/microservices/${serviceId}/${kind}${query}`);
  assert.equal(r.status, 200, r.text);
  const list = (r.body as Record<string, { serviceId: string }[] | undefined>)[kind];
  if (list === undefined) assert.deepEqual(r.body, {});
  return (list ?? []).map((s) => s.serviceId).sort();
}

async function findAs(c: RegistryClient, consumerId: string, provider: { appId: string; serviceName: string }, extra: Record<string, string> = {}): Promise<Reply<any>> {
  const r = await c.find({ appId: provider.appId, serviceName: provider.serviceName, ...extra }, { 'X-ConsumerId': consumerId });
  assert.equal(r.status, 200, r.text);
  return r;
}

const sorted = (...ids: string[]): string[] => [...ids].sort();

/** Finds `provider` as `consumer` and waits until the dependency shows (it is recorded asynchronously). */
async function depend(c: RegistryClient, consumer: Svc, provider: Svc): Promise<void> {
  await findAs(c, consumer.serviceId, provider);
  await until(async () => (await related(c, consumer.serviceId, 'providers')).includes(provider.serviceId));
}

const dependencyBody = (consumer: Svc, providers: { appId: string; serviceName: string; version: string }[]): unknown => ({
  dependencies: [{ consumer: { appId: consumer.appId, serviceName: consumer.serviceName, version: consumer.version }, providers }],
});

describe('GET /instances with X-ConsumerId (dependency recording)', () => {
  it('records consumer → provider so that providers and consumers list each other', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), []);
    assert.deepEqual(await related(c, provider.serviceId, 'consumers'), []);
    await findAs(c, consumer.serviceId, provider);
    await until(async () => (await related(c, consumer.serviceId, 'providers')).length > 0);
    const providers = await c.req('GET', `/microservices/${consumer.serviceId}/providers`);
    assert.equal(providers.body.providers.length, 1);
    const p = providers.body.providers[0];
    assert.equal(p.serviceId, provider.serviceId);
    assert.equal(p.appId, app);
    assert.equal(p.serviceName, provider.serviceName);
    assert.equal(p.version, '1.0.0');
    const consumers = await c.req('GET', `/microservices/${provider.serviceId}/consumers`);
    assert.equal(consumers.status, 200, consumers.text);
    assert.equal(consumers.body.consumers.length, 1);
    assert.equal(consumers.body.consumers[0].serviceId, consumer.serviceId);
    assert.equal(consumers.body.consumers[0].serviceName, consumer.serviceName);
  });

  it('depends on every version of the provider, including versions registered later', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const v1 = await create(c, app, uniq(), '1.0.0');
    const v2 = await create(c, app, v1.serviceName, '2.0.0');
    await findAs(c, consumer.serviceId, v1, { version: 'latest' });
    await until(async () => (await related(c, consumer.serviceId, 'providers')).length === 2);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), sorted(v1.serviceId, v2.serviceId));
    const v3 = await create(c, app, v1.serviceName, '3.0.0');
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), sorted(v1.serviceId, v2.serviceId, v3.serviceId));
    assert.deepEqual(await related(c, v3.serviceId, 'consumers'), [consumer.serviceId]);
  });

  it('records nothing when the provider does not exist (400012)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const name = uniq();
    const r = await c.find({ appId: app, serviceName: name }, { 'X-ConsumerId': consumer.serviceId });
    assertError(r, 400, '400012');
    // A provider registered afterwards is not a provider of this consumer: find never resolved it.
    const provider = await create(c, app, name);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), []);
    assert.deepEqual(await related(c, provider.serviceId, 'consumers'), []);
  });
});

describe('GET /microservices/{consumerId}/providers', () => {
  it('leaves the consumer itself out when noSelf=1', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await depend(c, consumer, provider);
    await depend(c, consumer, consumer);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), sorted(consumer.serviceId, provider.serviceId));
    assert.deepEqual(await related(c, consumer.serviceId, 'providers', '?noSelf=1'), [provider.serviceId]);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers', '?noSelf=true'), [provider.serviceId]);
  });

  it('returns 400 with errorCode 400012 when the consumer does not exist', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    assertError(await c.req('GET', '/microservices/nosuchservice/providers'), 400, '400012');
  });
});

describe('GET /microservices/{providerId}/consumers', () => {
  it('leaves the provider itself out when noSelf=1', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await depend(c, consumer, provider);
    await depend(c, provider, provider);
    assert.deepEqual(await related(c, provider.serviceId, 'consumers'), sorted(consumer.serviceId, provider.serviceId));
    assert.deepEqual(await related(c, provider.serviceId, 'consumers', '?noSelf=1'), [consumer.serviceId]);
  });
});

for (const method of ['POST', 'PUT'] as const) {
  describe(`${method} /dependencies (deprecated)`, () => {
    it('returns 200 with an empty body and the Deprecation header, and records the dependency', async (t) => {
      const srv = await startServer(t);
      const c = new RegistryClient(srv.url);
      const app = uniq('app');
      const consumer = await create(c, app);
      const provider = await create(c, app);
      const r = await c.req(method, '/dependencies', dependencyBody(consumer, [{ appId: app, serviceName: provider.serviceName, version: '0.0.0+' }]));
      assertEmptyOk(r);
      assert.equal(r.headers.get('deprecation'), 'version="v4"');
      assert.deepEqual(await related(c, consumer.serviceId, 'providers'), [provider.serviceId]);
      assert.deepEqual(await related(c, provider.serviceId, 'consumers'), [consumer.serviceId]);
    });

    it('returns 200 for 100 entries', async (t) => {
      const srv = await startServer(t);
      const c = new RegistryClient(srv.url);
      const app = uniq('app');
      const consumer = await create(c, app);
      const provider = await create(c, app);
      const one = (dependencyBody(consumer, [{ appId: app, serviceName: provider.serviceName, version: '0.0.0+' }]) as { dependencies: unknown[] }).dependencies[0];
      const r = await c.req(method, '/dependencies', { dependencies: Array.from({ length: 100 }, () => one) });
      assertEmptyOk(r);
      assert.deepEqual(await related(c, consumer.serviceId, 'providers'), [provider.serviceId]);
    });

    for (const count of [0, 101]) {
      it(`returns 400 with errorCode 400001 when there are ${count} entries`, async (t) => {
        const srv = await startServer(t);
        const c = new RegistryClient(srv.url);
        const app = uniq('app');
        const consumer = await create(c, app);
        const provider = await create(c, app);
        const one = (dependencyBody(consumer, [{ appId: app, serviceName: provider.serviceName, version: '0.0.0+' }]) as { dependencies: unknown[] }).dependencies[0];
        assertError(await c.req(method, '/dependencies', { dependencies: Array.from({ length: count }, () => one) }), 400, '400001');
        assert.deepEqual(await related(c, consumer.serviceId, 'providers'), []);
      });
    }

    it('returns 400 with errorCode 400001 when the dependencies field is missing', async (t) => {
      const srv = await startServer(t);
      const c = new RegistryClient(srv.url);
      assertError(await c.req(method, '/dependencies', {}), 400, '400001');
    });

    it('returns 400 with errorCode 400012 when the consumer does not exist', async (t) => {
      const srv = await startServer(t);
      const c = new RegistryClient(srv.url);
      const app = uniq('app');
      const provider = await create(c, app);
      const ghost: Svc = { serviceId: '', appId: app, serviceName: uniq(), version: '1.0.0' };
      const r = await c.req(method, '/dependencies', dependencyBody(ghost, [{ appId: app, serviceName: provider.serviceName, version: '0.0.0+' }]));
      assertError(r, 400, '400012');
      assert.deepEqual(await related(c, provider.serviceId, 'consumers'), []);
    });

    it('keeps a dependency on a provider that does not exist yet and resolves it when the provider registers', async (t) => {
      const srv = await startServer(t);
      const c = new RegistryClient(srv.url);
      const app = uniq('app');
      const consumer = await create(c, app);
      const name = uniq();
      assertEmptyOk(await c.req(method, '/dependencies', dependencyBody(consumer, [{ appId: app, serviceName: name, version: '0.0.0+' }])));
      assert.deepEqual(await related(c, consumer.serviceId, 'providers'), []);
      const provider = await create(c, app, name);
      assert.deepEqual(await related(c, consumer.serviceId, 'providers'), [provider.serviceId]);
      assert.deepEqual(await related(c, provider.serviceId, 'consumers'), [consumer.serviceId]);
      assertError(await c.req('DELETE', `/microservices/${provider.serviceId}`), 400, '400023');
    });
  });
}

describe('DELETE /microservices/{serviceId} with dependencies', () => {
  it('returns 400 with errorCode 400023 when another consumer depends on the provider, and keeps it', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await depend(c, consumer, provider);
    for (const q of ['', '?force=false', '?force=0']) {
      assertError(await c.req('DELETE', `/microservices/${provider.serviceId}${q}`), 400, '400023');
    }
    assert.equal((await c.req('GET', `/microservices/${provider.serviceId}`)).status, 200);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), [provider.serviceId]);
  });

  it('returns 200 and removes the provider when force=true', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await c.register(provider.serviceId);
    await depend(c, consumer, provider);
    assertEmptyOk(await c.req('DELETE', `/microservices/${provider.serviceId}?force=true`));
    assertError(await c.req('GET', `/microservices/${provider.serviceId}`), 400, '400012');
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), []);
  });

  it('returns 200 when the only consumer is the provider itself', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const self = await create(c, uniq('app'));
    await depend(c, self, self);
    assertEmptyOk(await c.req('DELETE', `/microservices/${self.serviceId}`));
    assertError(await c.req('GET', `/microservices/${self.serviceId}`), 400, '400012');
  });

  it('returns 200 for a non-force delete once the consumer was deleted', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await depend(c, consumer, provider);
    assertEmptyOk(await c.req('DELETE', `/microservices/${consumer.serviceId}`));
    assert.deepEqual(await related(c, provider.serviceId, 'consumers'), []);
    assertEmptyOk(await c.req('DELETE', `/microservices/${provider.serviceId}`));
  });
});

describe('dependencies across a restart', () => {
  it('keeps dependencies recorded by find', async (t) => {
    let srv = await startServer(t);
    let c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await depend(c, consumer, provider);
    srv = await srv.restart();
    c = new RegistryClient(srv.url);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), [provider.serviceId]);
    assert.deepEqual(await related(c, provider.serviceId, 'consumers'), [consumer.serviceId]);
    assertError(await c.req('DELETE', `/microservices/${provider.serviceId}`), 400, '400023');
  });

  it('keeps a dependency on a provider that does not exist yet and resolves it after the restart', async (t) => {
    let srv = await startServer(t);
    let c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const name = uniq();
    assertEmptyOk(await c.req('POST', '/dependencies', dependencyBody(consumer, [{ appId: app, serviceName: name, version: '0.0.0+' }])));
    srv = await srv.restart();
    c = new RegistryClient(srv.url);
    const provider = await create(c, app, name);
    assert.deepEqual(await related(c, consumer.serviceId, 'providers'), [provider.serviceId]);
    assert.deepEqual(await related(c, provider.serviceId, 'consumers'), [consumer.serviceId]);
  });
});
