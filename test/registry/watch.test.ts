// Watch S32: WebSocket per consumer (servicecomb.md §1.2, §1.4; pitfalls.md Registry).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { RegistryClient, call, uniq, until, type Reply } from '../helpers/registry-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { assertError, assertEmptyOk, type Svc, create } from '../helpers/assert.js';

const watchPath = (consumerId: string, project = 'default'): string => `/v4/${project}/registry/microservices/${consumerId}/watcher`;

/** An open watch socket with a queue of the text frames it received. */
class Watch {
  private readonly frames: { text: string; binary: boolean }[] = [];
  private wake?: () => void;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.frames.push({ text: Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'), binary: isBinary });
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** The next event (a JSON text frame); fails after `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<any> {
    const end = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = end - Date.now();
      if (left <= 0) throw new Error('no watch event in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const frame = this.frames.shift()!;
    assert.equal(frame.binary, false, 'watch events are text frames');
    return JSON.parse(frame.text);
  }

  /** Resolves true when the socket closes within `timeoutMs`, false otherwise. */
  async closesWithin(timeoutMs = 3000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Frames received and not yet taken. */
  pending(): number {
    return this.frames.length;
  }
}

type Opened = { ok: true; watch: Watch } | { ok: false; status: number; body: any; text: string };

/** Opens a watch socket; resolves with the socket, or with the HTTP answer when the upgrade is refused. */
function openWatch(t: TestContext, srv: TestServer, consumerId: string, headers: Record<string, string> = {}, project = 'default'): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(srv.url.replace(/^http/, 'ws') + watchPath(consumerId, project), { headers });
    t.after(() => ws.terminate());
    ws.on('error', (err) => reject(err));
    ws.on('open', () => resolve({ ok: true, watch: new Watch(ws) }));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        ws.removeAllListeners('error');
        ws.on('error', () => undefined);
        resolve({ ok: false, status: res.statusCode ?? 0, body, text });
      });
    });
  });
}

async function mustOpen(t: TestContext, srv: TestServer, consumerId: string): Promise<Watch> {
  const opened = await openWatch(t, srv, consumerId);
  if (!opened.ok) throw new Error(`watch refused: ${opened.status} ${opened.text}`);
  return opened.watch;
}

/** Finds `provider` as `consumer` and waits until the dependency is recorded. */
async function depend(c: RegistryClient, consumer: Svc, provider: Svc, version?: string): Promise<void> {
  const r = await c.find({ appId: provider.appId, serviceName: provider.serviceName, ...(version ? { version } : {}) }, { 'X-ConsumerId': consumer.serviceId });
  assert.equal(r.status, 200, r.text);
  await until(async () => {
    const p = await c.req<{ providers?: { serviceId: string }[] }>('GET', `/microservices/${consumer.serviceId}/providers`);
    return (p.body.providers ?? []).some((s) => s.serviceId === provider.serviceId);
  });
}

function assertKey(event: any, provider: Svc): void {
  assert.equal(event.key.appId, provider.appId);
  assert.equal(event.key.serviceName, provider.serviceName);
  assert.equal(event.key.version, provider.version);
  assert.equal(event.key.tenant, 'default/default');
}

/** A server, a consumer and a provider in one app, with the dependency recorded. */
async function setup(t: TestContext): Promise<{ srv: TestServer; c: RegistryClient; consumer: Svc; provider: Svc }> {
  const srv = await startServer(t);
  const c = new RegistryClient(srv.url);
  const app = uniq('app');
  const consumer = await create(c, app);
  const provider = await create(c, app);
  await depend(c, consumer, provider);
  return { srv, c, consumer, provider };
}

describe('GET /microservices/{consumerId}/watcher', () => {
  it('returns 400 with errorCode 400012 and refuses the upgrade when the consumer does not exist', async (t) => {
    const srv = await startServer(t);
    const opened = await openWatch(t, srv, 'nosuchconsumer');
    assert.equal(opened.ok, false, 'the upgrade must be refused');
    if (opened.ok) return;
    assertError(opened, 400, '400012');
  });

  it('returns 400 with errorCode 400012 when the consumer exists only in another domain', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url, { 'X-Domain-Name': uniq('dom') });
    const consumer = await create(c, uniq('app'));
    const opened = await openWatch(t, srv, consumer.serviceId);
    assert.equal(opened.ok, false, 'the upgrade must be refused');
    if (opened.ok) return;
    assertError(opened, 400, '400012');
  });

  it('returns 400 for a plain GET without an upgrade', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const consumer = await create(c, uniq('app'));
    const r = await call(srv.url, 'GET', watchPath(consumer.serviceId));
    assert.equal(r.status, 400, r.text);
  });

  it('pushes CREATE, UPDATE and DELETE events for instances of a provider the consumer found', async (t) => {
    const { srv, c, consumer, provider } = await setup(t);
    const watch = await mustOpen(t, srv, consumer.serviceId);

    const instanceId = await c.register(provider.serviceId, { hostName: 'watched', endpoints: ['rest://10.0.0.1:8080'] });
    const created = await watch.next();
    assert.equal(created.action, 'CREATE');
    assertKey(created, provider);
    assert.equal(created.instance.instanceId, instanceId);
    assert.equal(created.instance.serviceId, provider.serviceId);
    assert.equal(created.instance.hostName, 'watched');
    assert.deepEqual(created.instance.endpoints, ['rest://10.0.0.1:8080']);
    assert.equal(created.instance.status, 'UP');

    assertEmptyOk(await c.req('PUT', `/microservices/${provider.serviceId}/instances/${instanceId}/status?value=DOWN`));
    const updated = await watch.next();
    assert.equal(updated.action, 'UPDATE');
    assertKey(updated, provider);
    assert.equal(updated.instance.instanceId, instanceId);
    assert.equal(updated.instance.status, 'DOWN');

    assertEmptyOk(await c.req('DELETE', `/microservices/${provider.serviceId}/instances/${instanceId}`));
    const deleted = await watch.next();
    assert.equal(deleted.action, 'DELETE');
    assertKey(deleted, provider);
    assert.equal(deleted.instance.instanceId, instanceId);
  });

  it('pushes UPDATE when the instance properties change', async (t) => {
    const { srv, c, consumer, provider } = await setup(t);
    const instanceId = await c.register(provider.serviceId);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    assertEmptyOk(await c.req('PUT', `/microservices/${provider.serviceId}/instances/${instanceId}/properties`, { properties: { color: 'blue' } }));
    const updated = await watch.next();
    assert.equal(updated.action, 'UPDATE');
    assertKey(updated, provider);
    assert.equal(updated.instance.instanceId, instanceId);
    assert.equal(updated.instance.properties?.color, 'blue');
  });

  it('pushes DELETE when the lease of an instance expires, and not before', async (t) => {
    const { srv, c, consumer, provider } = await setup(t);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    // interval 5 s × (times 3 + 1) = a 20 s lease.
    const expiring = await c.register(provider.serviceId, { hostName: 'expiring', healthCheck: { mode: 'push', interval: 5, times: 3 } });
    assert.equal((await watch.next()).action, 'CREATE');

    srv.clock.advance(19_000);
    // Another instance's CREATE must be the next event: the first lease has not ended yet.
    const marker = await c.register(provider.serviceId, { hostName: 'marker', healthCheck: { mode: 'push', interval: 30, times: 3 } });
    const next = await watch.next();
    assert.equal(next.action, 'CREATE');
    assert.equal(next.instance.instanceId, marker);

    srv.clock.advance(2_000);
    const deleted = await watch.next();
    assert.equal(deleted.action, 'DELETE');
    assertKey(deleted, provider);
    assert.equal(deleted.instance.instanceId, expiring);
    // On several servers the find may reach one that applies the expiry a moment later.
    const ids = async (): Promise<string[]> => ((await c.find({ appId: provider.appId, serviceName: provider.serviceName })).body.instances ?? []).map((i: { instanceId: string }) => i.instanceId);
    await until(async () => (await ids()).length === 1);
    assert.deepEqual(await ids(), [marker]);
  });

  it('pushes no event for a provider the consumer does not depend on', async (t) => {
    const { srv, c, consumer, provider } = await setup(t);
    const unrelated = await create(c, provider.appId);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    const ignoredId = await c.register(unrelated.serviceId, { hostName: 'ignored' });
    assertEmptyOk(await c.req('PUT', `/microservices/${unrelated.serviceId}/instances/${ignoredId}/status?value=DOWN`));
    assertEmptyOk(await c.req('DELETE', `/microservices/${unrelated.serviceId}/instances/${ignoredId}`));
    const watchedId = await c.register(provider.serviceId, { hostName: 'watched' });
    const event = await watch.next();
    assert.equal(event.action, 'CREATE');
    assertKey(event, provider);
    assert.equal(event.instance.instanceId, watchedId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(watch.pending(), 0);
  });

  it('pushes no event to a second consumer that did not find the provider', async (t) => {
    const { srv, c, consumer, provider } = await setup(t);
    const other = await create(c, provider.appId);
    const otherWatch = await mustOpen(t, srv, other.serviceId);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    await c.register(provider.serviceId);
    assert.equal((await watch.next()).action, 'CREATE');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(otherWatch.pending(), 0);
  });

  it('pushes an event when version 1.1.0 of a provider found with "latest" registers an instance', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const app = uniq('app');
    const consumer = await create(c, app);
    const v100 = await create(c, app, uniq(), '1.0.0');
    const oldInstance = await c.register(v100.serviceId);
    await depend(c, consumer, v100, 'latest');
    const watch = await mustOpen(t, srv, consumer.serviceId);

    const v110 = await create(c, app, v100.serviceName, '1.1.0');
    const newInstance = await c.register(v110.serviceId, { hostName: 'newer' });
    const event = await watch.next();
    assert.equal(event.action, 'CREATE');
    assertKey(event, v110);
    assert.equal(event.instance.instanceId, newInstance);
    assert.equal(event.instance.serviceId, v110.serviceId);
    assert.equal(event.instance.version, '1.1.0');

    // The old version's instances still push events too: the consumer depends on all versions.
    assertEmptyOk(await c.req('DELETE', `/microservices/${v100.serviceId}/instances/${oldInstance}`));
    const deleted = await watch.next();
    assert.equal(deleted.action, 'DELETE');
    assertKey(deleted, v100);
  });

  it('closes the socket when the consumer service is deleted', async (t) => {
    const { srv, c, consumer } = await setup(t);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    assertEmptyOk(await c.req('DELETE', `/microservices/${consumer.serviceId}`));
    assert.equal(await watch.closesWithin(), true, 'the socket must be closed');
  });

  it('keeps the socket of another consumer open when one consumer is deleted', async (t) => {
    const { srv, c, consumer, provider } = await setup(t);
    const other = await create(c, provider.appId);
    await depend(c, other, provider);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    const otherWatch = await mustOpen(t, srv, other.serviceId);
    assertEmptyOk(await c.req('DELETE', `/microservices/${consumer.serviceId}`));
    assert.equal(await watch.closesWithin(), true, 'the deleted consumer\'s socket must be closed');
    const instanceId = await c.register(provider.serviceId);
    const event = await otherWatch.next();
    assert.equal(event.action, 'CREATE');
    assert.equal(event.instance.instanceId, instanceId);
    assert.equal(otherWatch.ws.readyState, WebSocket.OPEN);
  });

  it('uses the domain and project of the request in the event key', async (t) => {
    const srv = await startServer(t);
    const domain = uniq('dom');
    const project = uniq('proj');
    const c = new RegistryClient(srv.url, { 'X-Domain-Name': domain }, `/v4/${project}/registry`);
    const app = uniq('app');
    const consumer = await create(c, app);
    const provider = await create(c, app);
    await depend(c, consumer, provider);
    const opened = await openWatch(t, srv, consumer.serviceId, { 'X-Domain-Name': domain }, project);
    if (!opened.ok) throw new Error(`watch refused: ${opened.status} ${opened.text}`);
    const instanceId = await c.register(provider.serviceId);
    const event = await opened.watch.next();
    assert.equal(event.action, 'CREATE');
    assert.equal(event.key.tenant, `${domain}/${project}`);
    assert.equal(event.instance.instanceId, instanceId);
  });
});

describe('watch pings', () => {
  it('pings every open socket each registry.watchPingSeconds of clock time', async (t) => {
    const { srv, consumer } = await setup(t);
    const watch = await mustOpen(t, srv, consumer.serviceId);
    let pings = 0;
    watch.ws.on('ping', () => pings++);
    srv.clock.advance(29_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pings, 0);
    srv.clock.advance(1_000);
    await until(() => pings === 1);
    srv.clock.advance(30_000);
    await until(() => pings === 2);
  });
});
