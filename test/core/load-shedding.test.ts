import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { EventLoopLag } from '../../src/core/event-loop-lag.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { call, RegistryClient, uniq, until } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

/** Holds this process's event loop (the test server's too) for `ms` milliseconds. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: nothing else runs
  }
}

describe('EventLoopLag', () => {
  it('reports how late the loop runs, fading with a 250 ms half-life, and how overdue the next sample is', () => {
    let now = 1000;
    const lag = new EventLoopLag(() => now);
    assert.equal(lag.currentMs(), 0, '0 before it starts');
    lag.start();
    lag.stop();
    now += 20;
    lag.tick();
    assert.equal(lag.currentMs(), 0);
    now += 420; // the sample fired 400 ms late
    lag.tick();
    assert.equal(lag.currentMs(), 400);
    now += 250; // a half-life later, nothing new: 200 (the next sample is 230 ms overdue, less)
    assert.equal(Math.round(lag.currentMs()), 230);
    lag.tick();
    assert.equal(Math.round(lag.currentMs()), 230, 'the late sample itself');
    now += 20;
    lag.tick();
    assert.ok(lag.currentMs() < 230 && lag.currentMs() > 100);
  });
});

/** Retries `send` while it is shed (this shared test machine lags on its own now and then). */
async function unshed<T extends { status: number }>(send: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await send();
    if (r.status !== 429 || i === 50) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe('load shedding (issue #15, service-center#552)', () => {
  it('answers writes 429 with Retry-After in each API\'s format while the event loop lags, and keeps heartbeats and reads', async (t) => {
    const srv = await startServer(t, { ...IAM_OVERRIDES, 'http.shedLagMs': 100 });
    const c = new RegistryClient(srv.url);
    const created = await unshed(() => c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'default', version: '1.0.0' } }));
    const serviceId = created.body.serviceId as string;
    const registered = await unshed(() => c.req('POST', `/microservices/${serviceId}/instances`, { instance: { hostName: 'h', endpoints: ['rest://127.0.0.1:8080'] } }));
    const instanceId = registered.body.instanceId as string;
    const token = (await unshed(() => login(srv.url, ADMIN.name, ADMIN.password))).headers.get('x-subject-token')!;
    const requests = {
      register: c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } }),
      heartbeat: c.req('PUT', `/microservices/${serviceId}/instances/${instanceId}/heartbeat`),
      heartbeats: c.req('PUT', '/heartbeats', { instances: [{ serviceId, instanceId }] }),
      find: c.req('GET', `/instances?appId=default&serviceName=${encodeURIComponent('x')}&version=latest`),
      batchFind: c.req('POST', '/instances/action?type=query', { services: [{ service: { appId: 'default', serviceName: 'nope', version: 'latest' } }] }),
      kv: call(srv.url, 'POST', '/v1/default/kie/kv', { body: { key: 'k', value: 'v' } }),
      application: call(srv.url, 'POST', `/v3/${ADMIN.projectId}/cas/applications`, { body: { name: uniq('app') }, headers: { 'x-auth-token': token } }),
      projects: call(srv.url, 'GET', '/v3/auth/projects', { headers: { 'x-auth-token': token } }),
    };
    stall(400);
    const r = Object.fromEntries(await Promise.all(Object.entries(requests).map(async ([k, p]) => [k, await p] as const)));
    for (const shed of ['register', 'kv', 'application']) {
      assert.equal(r[shed]!.status, 429, `${shed}: ${r[shed]!.text}`);
      assert.equal(r[shed]!.headers.get('retry-after'), '1');
    }
    assert.equal(r.register!.body.errorCode, '429001');
    assert.match(r.register!.body.detail, /event loop lags \d+ ms/);
    assert.equal(r.kv!.body.errorCode, '429001');
    assert.equal(r.application!.body.error_code, 'APIGW.0308');
    for (const kept of ['heartbeat', 'heartbeats', 'find', 'batchFind', 'projects']) assert.notEqual(r[kept]!.status, 429, `${kept} is not shed`);
    assert.equal(r.heartbeat!.status, 200);

    // Once the loop keeps time again, writes pass.
    assert.equal((await unshed(() => c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } }))).status, 200);
  });

  it('answers a write 429 while http.maxWritesInFlight writes are in progress, and takes it once they end', async (t) => {
    const srv = await startServer(t, { 'http.maxWritesInFlight': 2 });
    const { port } = new URL(srv.url);
    const body = JSON.stringify({ service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } });
    // Two registrations whose bodies are still arriving: in progress.
    const slow = await Promise.all([0, 1].map(() => new Promise<Socket>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /v4/default/registry/microservices HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
        resolve(socket);
      });
    })));
    t.after(() => slow.forEach((s) => s.destroy()));
    const c = new RegistryClient(srv.url);
    await until(async () => (await c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } })).status === 429);
    const shed = await c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } });
    assert.equal(shed.status, 429);
    assert.equal(shed.body.detail, '2 writes are in progress (http.maxWritesInFlight 2)');
    assert.equal((await c.req('PUT', '/heartbeats', { instances: [{ serviceId: 'x', instanceId: 'y' }] })).status, 200, 'heartbeats are not counted or shed');
    slow.forEach((s) => s.end(body.slice(10)));
    await until(async () => (await c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } })).status === 200);
  });

  it('never sheds with http.shedLagMs 0', async (t) => {
    const srv = await startServer(t, { 'http.shedLagMs': 0 });
    const c = new RegistryClient(srv.url);
    const pending = c.req('POST', '/microservices', { service: { serviceName: uniq('svc'), appId: 'a', version: '1.0.0' } });
    stall(400);
    assert.equal((await pending).status, 200);
  });
});
