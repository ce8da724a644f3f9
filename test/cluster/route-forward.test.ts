// Stable routes and replica logs through any server (issue #16, several servers): a component
// deployed via A runs on A's host; a route request (GET, POST with a body, WebSocket) reaching
// B or C is passed on to A and answered by a replica; its logs read via B are A's; the hop
// marker only restricts (a non-owner answers 503 to it) and the owner's internal log route
// refuses a caller without the cluster's pass; after kill -9 of A and the hand-over, routes
// through the remaining servers answer from the new owner's replicas.
// PostgreSQL only; real processes and real time (the phase `cluster` of scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { CasClient, uniqName } from '../helpers/cas-client.js';
import { CLUSTERED, eventually } from '../helpers/cluster.js';
import { CLUSTER_PROJECT, clusterView, jobEnd, listening, processCluster, query, type ServerProcess } from '../helpers/cluster-process.js';
import { nodeBody } from '../helpers/component.js';
import { httpRoute, routeAppRepo, viaRoute } from '../helpers/route.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';

const portOf = (p: ServerProcess): number => Number(new URL(p.url).port);

/** Opens a WebSocket through the route on server `p`, sends `text`, @returns the echo. */
async function echoVia(p: ServerProcess, host: string, text: string): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(p)}/chat`, { headers: { host } });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send(text);
    return await echoed;
  } finally {
    ws.terminate();
  }
}

describe('stable routes and replica logs through any server', { skip }, () => {
  it('pass route requests and log reads on to the server that supervises the replicas, before and after a takeover', async (t) => {
    const f = await processCluster(t);
    const procs = await Promise.all([f.start(), f.start(), f.start()]);
    await Promise.all(procs.map(listening));
    await eventually(async () => (await clusterView(procs[0]!.url)).servers.filter((s) => s.live).length === 3, 30_000, 'three live servers');
    const [a, b, c] = procs as [ServerProcess, ServerProcess, ServerProcess];
    const aId = (await clusterView(a.url)).self;
    const casOf = (p: ServerProcess): CasClient => new CasClient(p.url, '', CLUSTER_PROJECT);

    // Deployed via A (two replicas): A owns the replica set; they listen on A's loopback.
    const env = await casOf(a).post('/environments', { name: uniqName('env'), vpc_id: 'vpc-local' });
    assert.equal(env.status, 200, env.text);
    const app = await casOf(a).post('/applications', { name: uniqName('app') });
    assert.equal(app.status, 200, app.text);
    const created = await casOf(a).post(`/applications/${app.body.id}/components`, nodeBody(env.body.id, routeAppRepo(t), { replica: 2 }));
    assert.equal(created.status, 200, created.text);
    const componentId: string = created.body.component_id;
    const path = `/applications/${app.body.id}/components/${componentId}`;
    const deployed = await jobEnd(casOf(a), created.body.job_id);
    assert.equal(deployed.job.execution_status, 'SUCCEEDED', JSON.stringify(deployed.tasks));
    const instancesOn = async (p: ServerProcess): Promise<string[]> => ((await casOf(p).get(path)).body.status.instances ?? []).map((i: any) => i.instance_id).sort();
    const onA = await instancesOn(a);
    assert.equal(onA.length, 2);
    const host = httpRoute((await casOf(a).get(path)).body).host;

    // Every server shows the route with the owner's ready replicas.
    for (const p of [b, c]) {
      let shown: unknown;
      await eventually(async () => {
        const s = (shown = (await casOf(p).get(path)).body.status);
        return s.routes?.find((r: any) => r.type === 'http')?.ready_replicas === 2 && (await instancesOn(p)).join() === onA.join();
      }, 30_000, `${p.url} to show 2 ready replicas on the route`).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(shown)}`));
    }

    // Through B and C: GETs reach both replicas; a POST's body arrives whole; a WebSocket echoes.
    for (const p of [b, c]) {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const r = await viaRoute(portOf(p), `${host}:${portOf(p)}`);
        assert.equal(r.status, 200, `${p.url}: ${r.text}`);
        assert.equal(r.body.version, '1.0.0');
        assert.equal(r.body.host, `${host}:${portOf(p)}`, 'the Host header reaches the replica unchanged');
        assert.match(r.body.forwardedFor, /^127\.0\.0\.1/, 'X-Forwarded-For names the client first');
        seen.add(r.body.instance);
      }
      assert.deepEqual([...seen].sort(), onA, `both of A's replicas answered through ${p.url}`);
      const body = 'x'.repeat(5000);
      const posted = await viaRoute(portOf(p), host, '/echo', { method: 'POST', body });
      assert.equal(posted.status, 200, posted.text);
      assert.equal(posted.body.received, 5000);
      assert.ok(onA.includes(posted.body.instance));
      assert.equal(await echoVia(p, host, 'hello'), 'echo 1.0.0: hello');
    }

    // The hop marker only restricts: A serves it from its replicas, B refuses to pass it on.
    const hopOnA = await viaRoute(portOf(a), host, '/', { headers: { 'x-openstage-route-hop': '1' } });
    assert.equal(hopOnA.status, 200, hopOnA.text);
    const hopOnB = await viaRoute(portOf(b), host, '/', { headers: { 'x-openstage-route-hop': '1' } });
    assert.equal(hopOnB.status, 503, hopOnB.text);
    assert.equal(hopOnB.body.error_code, 'ROUTE.0503');
    assert.match(hopOnB.body.error_msg, new RegExp(`passed on to server .* which does not supervise its replicas \\(server ${aId} does\\)`));

    // Logs: a line printed by a replica reads the same through A, B and C.
    const mark = `mark-${Date.now()}`;
    assert.equal((await viaRoute(portOf(b), host, `/log?text=${mark}`)).status, 200);
    const logsOf = async (p: ServerProcess): Promise<any> => {
      const r = await casOf(p).get(`${path}/logs?lines=50`);
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    let fromA: any;
    await eventually(async () => JSON.stringify((fromA = await logsOf(a))).includes(mark), 30_000, 'the marked line in the logs via A');
    assert.equal(fromA.logs.length, 2);
    assert.deepEqual(await logsOf(b), fromA, 'logs via B are the owner\'s');
    assert.deepEqual(await logsOf(c), fromA, 'logs via C are the owner\'s');
    // The owner's internal route answers only a server of the cluster.
    const internal = `/internal/v1/replica-logs/${CLUSTER_PROJECT}/${componentId}?lines=5`;
    const forged = await fetch(`${a.url}${internal}`, { headers: { 'x-openstage-internal': 'v1:AAAA:AAAA:AAAA' } });
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as any).error_code, 'SVCSTG.00109403');

    // kill -9 of A: after the hand-over the route answers through B and C from the new owner's replicas.
    a.child.kill('SIGKILL');
    await a.exited;
    let rows: { instance_id: string; server_id: string }[] = [];
    await eventually(async () => {
      rows = await query(f.db, "SELECT instance_id, server_id FROM deploy_replicas WHERE component_id = $1 AND desired = 'running' AND ready = 1", [componentId]);
      return rows.length === 2 && rows.every((r) => r.server_id !== aId);
    }, 120_000, 'two ready replicas on a live server');
    const taken = rows.map((r) => r.instance_id).sort();
    for (const p of [b, c]) {
      await eventually(async () => {
        const r = await viaRoute(portOf(p), host);
        return r.status === 200 && taken.includes(r.body.instance);
      }, 30_000, `the route through ${p.url} to answer from the new owner's replicas`);
      const posted = await viaRoute(portOf(p), host, '/echo', { method: 'POST', body: 'after' });
      assert.equal(posted.status, 200, posted.text);
      assert.equal(posted.body.received, 5);
    }
    const logsB = await logsOf(b);
    assert.deepEqual(logsB.logs.filter((l: any) => l.state === 'running').map((l: any) => l.instance_id).sort(), taken, "logs via B are the new owner's replicas'");
  });
});
