import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { startCas, type CasServer } from '../helpers/cas-client.js';
import { freePort } from '../helpers/cli.js';
import { envAndApp, eventually, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { httpRoute, routeAppRepo, viaRoute } from '../helpers/route.js';

// Stable routes (issue #20 item 2) end to end: real server, real replicas (confined
// processes), real traffic through the route on the server's own port.

/** Deploys ROUTE_APP (`replicas`, version 1.0.0) and waits for it; @returns its path, body and route host. */
async function deployRouteApp(t: import('node:test').TestContext, s: CasServer, over: Record<string, unknown> = {}): Promise<{ path: string; body: Record<string, any>; got: any; host: string; appName: string }> {
  const { envId, appId, appName } = await envAndApp(s);
  const body = nodeBody(envId, routeAppRepo(t), over);
  const created = await s.cas.post(`/applications/${appId}/components`, body);
  assert.equal(created.status, 200, created.text);
  const job = await waitJob(s, created.body.job_id, 180_000);
  assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
  const path = `/applications/${appId}/components/${created.body.component_id}`;
  const got = (await s.cas.get(path)).body;
  return { path, body, got, host: httpRoute(got).host, appName };
}

const portOf = (s: CasServer): number => Number(new URL(s.url).port);

describe('stable routes: <component>.<application>.localhost on the server port', () => {
  it('shows the route in the GET and answers through it, balancing over the ready replicas', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { got, host, appName, body } = await deployRouteApp(t, s, { replica: 2 });
    assert.equal(host, `${body.name.toLowerCase()}.${appName.toLowerCase()}.localhost`);
    assert.equal(httpRoute(got).url, `http://${host}:${portOf(s)}/`);
    assert.equal(got.status.routes[0].ready_replicas, 2);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await viaRoute(portOf(s), `${host}:${portOf(s)}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.version, '1.0.0');
      assert.equal(r.body.host, `${host}:${portOf(s)}`, 'the Host header reaches the replica unchanged');
      assert.equal(r.body.forwardedFor, '127.0.0.1');
      seen.add(r.body.instance);
    }
    assert.deepEqual([...seen].sort(), got.status.instances.map((i: any) => i.instance_id).sort(), 'both replicas answered');
    // The APIs still answer on the same port under other host names.
    const api = await viaRoute(portOf(s), `127.0.0.1:${portOf(s)}`, '/healthz');
    assert.equal(api.status, 200);
    // A host under the domain that names no component: 404 in the route's format.
    const unknown = await viaRoute(portOf(s), `nothing.${appName}.localhost`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error_code, 'ROUTE.0404');
  });

  it('answers 503 with a clear body when the component has no ready replica', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { path, host, body, appName } = await deployRouteApp(t, s);
    const stop = await s.cas.post(`${path}/action`, { action: 'stop' });
    assert.equal(stop.status, 200, stop.text);
    assert.equal((await waitJob(s, stop.body.job_id)).job.execution_status, 'SUCCEEDED');
    const r = await viaRoute(portOf(s), host);
    assert.equal(r.status, 503, r.text);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(r.body.error_code, 'ROUTE.0503');
    assert.match(r.body.error_msg, new RegExp(`component ${body.name} of application ${appName}.* is stopped; start it`));
    // Started again, the same address answers.
    const start = await s.cas.post(`${path}/action`, { action: 'start' });
    assert.equal((await waitJob(s, start.body.job_id)).job.execution_status, 'SUCCEEDED');
    assert.equal((await viaRoute(portOf(s), host)).status, 200);
  });

  it('loses no request during a rolling upgrade under a request loop (GET and POST)', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { path, body, host } = await deployRouteApp(t, s, { replica: 2, deploy_strategy: { type: 'RollingRelease', rolling_release: { batches: 2 } } });
    let running = true;
    const failures: string[] = [];
    const versions = new Map<string, number>();
    let total = 0;
    const loop = async (i: number): Promise<void> => {
      while (running) {
        const post = i % 2 === 1;
        try {
          const r = await viaRoute(portOf(s), host, post ? '/' : '/slow?ms=20', post ? { method: 'POST', body: 'x'.repeat(2048) } : {});
          total++;
          if (r.status !== 200 || (post && r.body.received !== 2048)) failures.push(`${r.status} ${r.text}`);
          else versions.set(r.body.version, (versions.get(r.body.version) ?? 0) + 1);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    const up = await s.cas.put(path, { ...body, version: '1.0.1' });
    assert.equal(up.status, 200, up.text);
    const job = await waitJob(s, up.body.job_id, 180_000);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    // Requests keep going a moment after the last old replica stopped.
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(loops);
    assert.deepEqual(failures, [], `${failures.length} of ${total} requests failed`);
    assert.ok((versions.get('1.0.0') ?? 0) > 0 && (versions.get('1.0.1') ?? 0) > 0, `both versions answered: ${JSON.stringify([...versions])}`);
    const after = await viaRoute(portOf(s), host);
    assert.equal(after.body.version, '1.0.1');
  });

  it('keeps a replica being stopped out of the route while its requests drain (the monitor does not find it ready again)', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { path, host } = await deployRouteApp(t, s);
    // A request the stop must wait for: longer than a few monitor periods (1 s) and the settle time (1 s).
    const slow = viaRoute(portOf(s), host, '/slow?ms=5000');
    await new Promise((r) => setTimeout(r, 300));
    const stop = await s.cas.post(`${path}/action`, { action: 'stop' });
    assert.equal(stop.status, 200, stop.text);
    await eventually('the replica out of the route', async () => ((await viaRoute(portOf(s), host)).status === 503 ? true : undefined), 20_000);
    // While its slow request drains, the replica still runs; it must stay out of the route.
    const seen: number[] = [];
    let drained = false;
    void slow.finally(() => (drained = true));
    while (!drained) {
      seen.push((await viaRoute(portOf(s), host)).status);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen.length >= 10, `polled ${seen.length} times while draining`);
    assert.deepEqual([...new Set(seen)], [503], 'only 503 while the stopped replica drains');
    const answered = await slow;
    assert.equal(answered.status, 200, 'the request in flight finished before the replica was signalled');
    assert.equal((await waitJob(s, stop.body.job_id)).job.execution_status, 'SUCCEEDED');
  });

  it('passes WebSockets and streamed responses through', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { host } = await deployRouteApp(t, s);
    // WebSocket: the upgrade and the frames both ways.
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(s)}/chat`, { headers: { host } });
    t.after(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('hello');
    assert.equal(await echoed, 'echo 1.0.0: hello');
    // Streaming: the first chunk arrives while the replica still holds the response open.
    const chunks: string[] = [];
    const done = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: portOf(s), path: '/stream', headers: { host } }, (res) => {
        res.on('data', (c: Buffer) => chunks.push(c.toString()));
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    await eventually('the first streamed chunk', async () => (chunks.join('').includes('first') ? true : undefined), 20_000);
    assert.ok(!chunks.join('').includes('last'), 'the response is still open');
    assert.equal((await viaRoute(portOf(s), host, '/release')).text, 'released');
    assert.equal(await done, 200);
    assert.equal(chunks.join(''), 'first\nlast\n');
  });

  it('gives a TCP access its port: connections reach a ready replica', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const port = await freePort();
    const { got } = await deployRouteApp(t, s, { external_accesses: [{ protocol: 'TCP', address: `:${port}` }] });
    const tcp = got.status.routes.find((r: any) => r.type === 'tcp');
    assert.deepEqual(tcp, { type: 'tcp', address: `127.0.0.1:${port}`, listening: true, ready_replicas: 1 });
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end('GET / HTTP/1.1\r\nHost: tcp-route\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 200 OK/);
    assert.match(answer, /"version":"1\.0\.0"/);
  });
});
