import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import pino from 'pino';
import { FakeClock } from '../../../src/core/clock.js';
import type { RouteEndpoint } from '../../../src/deploy/types.js';
import { RouteProxy, type Balanced } from '../../../src/routes/proxy.js';
import { freePort } from '../../helpers/cli.js';

// RouteProxy with real sockets: a front server whose every request goes through the proxy to
// replicas that are plain HTTP servers, or closed ports (a replica that refuses connections).

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** A replica answering its name; `hold` keeps requests until released. */
async function replica(t: TestContext, name: string): Promise<{ endpoint: RouteEndpoint; release: () => void; requests: () => number }> {
  let held: (() => void)[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const answer = (): void => void res.end(name);
    if (req.url === '/hold') held.push(answer);
    else answer();
  });
  const port = await listen(t, server);
  return {
    endpoint: { instanceId: name, host: '127.0.0.1', port },
    release: () => {
      for (const a of held) a();
      held = [];
    },
    requests: () => count,
  };
}

async function front(t: TestContext, proxy: RouteProxy, target: Balanced): Promise<number> {
  t.after(() => proxy.close());
  return listen(t, createServer((req, res) => proxy.web(req, res, target)));
}

function send(port: number, path = '/', method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const deps = () => ({ log: pino({ level: 'silent' }), clock: new FakeClock(0), proxyTimeoutMs: 10_000 });

describe('RouteProxy', () => {
  it('sends an idempotent request a replica refused to the next ready one', async (t) => {
    const live = await replica(t, 'live');
    const dead: RouteEndpoint = { instanceId: 'dead', host: '127.0.0.1', port: await freePort() };
    const target: Balanced = { endpoints: [dead, live.endpoint], cursor: 0, unavailable: () => 'none' };
    const port = await front(t, new RouteProxy(deps()), target);
    for (let i = 0; i < 4; i++) assert.deepEqual(await send(port), { status: 200, text: 'live' });
    // A request with a body is not sent twice: the one that met the dead replica is a 502.
    const posts = await Promise.all([0, 1].map(() => send(port, '/', 'POST', 'data')));
    assert.deepEqual(posts.map((p) => p.status).sort(), [200, 502]);
    assert.match(posts.find((p) => p.status === 502)!.text, /"error_code":"ROUTE\.0502".*replica dead: ECONNREFUSED/);
  });

  it('answers 503 with the reason when no replica is ready', async (t) => {
    const port = await front(t, new RouteProxy(deps()), { endpoints: [], cursor: 0, unavailable: () => 'component web: 0 of 2 ready' });
    const r = await send(port);
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.text), { error_code: 'ROUTE.0503', error_msg: 'The component has no ready replica: component web: 0 of 2 ready' });
  });

  it('drains: resolves when the requests in flight to a replica have finished, or after the timeout', async (t) => {
    const a = await replica(t, 'a');
    const clock = new FakeClock(0);
    const proxy = new RouteProxy({ ...deps(), clock });
    const port = await front(t, proxy, { endpoints: [a.endpoint], cursor: 0, unavailable: () => '' });
    const pending = send(port, '/hold');
    while (a.requests() === 0) await new Promise((r) => setTimeout(r, 10));
    assert.equal(proxy.inFlight('a'), 1);
    let drained = false;
    const drain = proxy.drain('a', 60_000).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, false, 'a request is still in flight');
    a.release();
    assert.equal((await pending).text, 'a');
    await drain;
    assert.equal(proxy.inFlight('a'), 0);
    // The timeout bounds the wait (clock time).
    const stuck = send(port, '/hold');
    while (proxy.inFlight('a') === 0) await new Promise((r) => setTimeout(r, 10));
    const bounded = proxy.drain('a', 5000);
    clock.advance(5000);
    await bounded;
    a.release();
    await stuck;
  });
});
