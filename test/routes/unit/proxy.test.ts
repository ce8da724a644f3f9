import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
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

/** A replica answering what it received: method, url, headers and body (as JSON). */
async function echo(t: TestContext): Promise<RouteEndpoint> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  return { instanceId: 'echo', host: '127.0.0.1', port: await listen(t, server) };
}

/** A raw request through the front: `head` is the request line and headers, without the blank line. */
function raw(port: number, head: string, body = ''): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    // Not half-closed: Node's server drops the request of a client that ended its side.
    const socket = createConnection(port, '127.0.0.1', () => socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => {
      const [headPart = '', ...rest] = text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '').split('\r\n\r\n');
      const [statusLine = '', ...lines] = headPart.split('\r\n');
      const headers: Record<string, string | string[] | undefined> = {};
      for (const line of lines) {
        const name = line.slice(0, line.indexOf(':')).toLowerCase();
        const value = line.slice(line.indexOf(':') + 1).trim();
        const had = headers[name];
        headers[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: rest.join('\r\n\r\n') });
    });
  });
}

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

  it('passes method, path, headers and a chunked body on, adds X-Forwarded-* and drops the connection headers', async (t) => {
    const port = await front(t, new RouteProxy(deps()), { endpoints: [await echo(t)], cursor: 0, unavailable: () => '' });
    const r = await raw(
      port,
      ['PATCH /a/b?c=1&d=%20 HTTP/1.1', 'Host: web.shop.localhost:8080', 'X-Custom: one', 'X-Forwarded-For: 10.0.0.1', 'Keep-Alive: timeout=5', 'Transfer-Encoding: chunked', 'Expect: 100-continue'].join('\r\n'),
      '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text);
    assert.equal(seen.method, 'PATCH');
    assert.equal(seen.url, '/a/b?c=1&d=%20');
    assert.equal(seen.body, 'hello world');
    assert.equal(seen.headers.host, 'web.shop.localhost:8080', 'the Host header reaches the replica unchanged');
    assert.equal(seen.headers['x-custom'], 'one');
    assert.equal(seen.headers['x-forwarded-for'], '10.0.0.1,127.0.0.1', "appended to the client's own");
    assert.equal(seen.headers['x-forwarded-port'], '8080');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'web.shop.localhost:8080');
    for (const name of ['keep-alive', 'expect']) assert.equal(seen.headers[name], undefined, name);
  });

  it("returns the replica's status, message and headers (each Set-Cookie) and streams a large body whole", async (t) => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'x');
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/big' ? 200 : 201, 'Made Here', { 'set-cookie': ['a=1', 'b=2'], 'x-replica': 'r1', 'keep-alive': 'timeout=5' });
      res.end(req.url === '/big' ? big : 'made');
    });
    const port = await front(t, new RouteProxy(deps()), { endpoints: [{ instanceId: 'r1', host: '127.0.0.1', port: await listen(t, server) }], cursor: 0, unavailable: () => '' });
    const get = (path: string): Promise<{ res: IncomingMessage; bytes: number; text: string }> =>
      new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ res, bytes: Buffer.concat(chunks).length, text: chunks.length < 4 ? Buffer.concat(chunks).toString() : '' }));
        })
          .on('error', reject)
          .end();
      });
    const r = await get('/things');
    assert.equal(r.res.statusCode, 201);
    assert.equal(r.res.statusMessage, 'Made Here');
    assert.equal(r.text, 'made');
    assert.deepEqual(r.res.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(r.res.headers['x-replica'], 'r1');
    assert.equal(r.res.headers['keep-alive'], undefined, "the replica's connection headers stay behind");
    assert.equal((await get('/big')).bytes, big.length);
  });

  it('answers 504 when the replica sends no response headers within proxyTimeoutMs', async (t) => {
    const a = await replica(t, 'slow');
    t.after(() => a.release());
    const proxy = new RouteProxy({ ...deps(), proxyTimeoutMs: 200 });
    const port = await front(t, proxy, { endpoints: [a.endpoint], cursor: 0, unavailable: () => '' });
    const r = await send(port, '/hold');
    assert.equal(r.status, 504);
    assert.deepEqual(JSON.parse(r.text), { error_code: 'ROUTE.0504', error_msg: 'The replica did not answer in time: replica slow gave no answer within 0 s' });
    assert.equal(proxy.inFlight('slow'), 0);
  });

  it('abandons the request to the replica when the client leaves (no longer in flight)', async (t) => {
    let replicaSawClose = false;
    const server = createServer((req) => req.socket.once('close', () => (replicaSawClose = true)));
    const proxy = new RouteProxy(deps());
    const port = await front(t, proxy, { endpoints: [{ instanceId: 'r1', host: '127.0.0.1', port: await listen(t, server) }], cursor: 0, unavailable: () => '' });
    const client = request({ host: '127.0.0.1', port, path: '/hold' });
    client.on('error', () => {});
    client.end();
    while (proxy.inFlight('r1') === 0) await new Promise((r) => setTimeout(r, 10));
    client.destroy();
    while (proxy.inFlight('r1') > 0 || !replicaSawClose) await new Promise((r) => setTimeout(r, 10));
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
