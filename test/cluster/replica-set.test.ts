// Replica sets owned by one server (issue #16 "Ownership"): a Node.js component deployed via A
// is supervised by A alone; a scale asked of B runs on A; after kill -9 of A the component
// runs again within about one lease, supervised by exactly one live server, and answers HTTP
// (built again when its artifact cannot be read); a server that lost its lease lets go of its
// replicas and another starts them.
// PostgreSQL only; real processes and real time (the phase `cluster` of scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CasClient, uniqName } from '../helpers/cas-client.js';
import { CLUSTERED, eventually } from '../helpers/cluster.js';
import { CLUSTER_PROJECT, clusterView, jobEnd, listening, processCluster, query, supervisorsOf, type ServerProcess } from '../helpers/cluster-process.js';
import { answer, nodeBody, nodeHelloRepo } from '../helpers/component.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';

interface ReplicaRecord {
  instance_id: string;
  server_id: string;
  pid: number | null;
  port: number;
  ready: number;
}

describe('replica sets on several servers', { skip }, () => {
  it('are supervised by one server, run their jobs there, and are started again on a live server after kill -9 of it', async (t) => {
    const f = await processCluster(t);
    const procs = await Promise.all([f.start(), f.start(), f.start()]);
    await Promise.all(procs.map(listening));
    await eventually(async () => (await clusterView(procs[0]!.url)).servers.filter((s) => s.live).length === 3, 30_000, 'three live servers');
    const [a, b] = procs as [ServerProcess, ServerProcess, ServerProcess];
    const idOf = new Map<string, ServerProcess>();
    for (const p of procs) idOf.set((await clusterView(p.url)).self, p);
    const aId = (await clusterView(a.url)).self;
    const casA = new CasClient(a.url, '', CLUSTER_PROJECT);
    const casB = new CasClient(b.url, '', CLUSTER_PROJECT);

    // Deployed via A: A owns the replica set.
    const env = await casA.post('/environments', { name: uniqName('env'), vpc_id: 'vpc-local' });
    assert.equal(env.status, 200, env.text);
    const app = await casA.post('/applications', { name: uniqName('app') });
    assert.equal(app.status, 200, app.text);
    const created = await casA.post(`/applications/${app.body.id}/components`, nodeBody(env.body.id, nodeHelloRepo(t)));
    assert.equal(created.status, 200, created.text);
    const componentId: string = created.body.component_id;
    const path = `/applications/${app.body.id}/components/${componentId}`;
    const deployed = await jobEnd(casA, created.body.job_id);
    assert.equal(deployed.job.execution_status, 'SUCCEEDED', JSON.stringify(deployed.tasks));
    // A second component of A, whose artifact the taker will not find (as on another machine).
    const other = await casA.post(`/applications/${app.body.id}/components`, nodeBody(env.body.id, nodeHelloRepo(t), { version: '2.0.0' }));
    assert.equal(other.status, 200, other.text);
    const otherId: string = other.body.component_id;
    assert.equal((await jobEnd(casA, other.body.job_id)).job.execution_status, 'SUCCEEDED');
    const records = (id = componentId): Promise<ReplicaRecord[]> => query<ReplicaRecord>(f.db, "SELECT instance_id, server_id, pid, port, ready FROM deploy_replicas WHERE component_id = $1 AND desired = 'running' ORDER BY instance_id", [id]);
    const [owner] = await query<{ owner_id: string }>(f.db, "SELECT owner_id FROM core_owners WHERE kind = 'replica-set' AND id = $1", [`${CLUSTER_PROJECT}/${componentId}`]);
    assert.equal(owner?.owner_id, aId, 'the server that ran the deploy job owns the replica set');

    /** Exactly one live server supervises each running replica: the one its record names, and only its process tree holds it. */
    const supervisedOnce = async (expected: number, id = componentId): Promise<ReplicaRecord[]> => {
      let rows: ReplicaRecord[] = [];
      await eventually(async () => {
        rows = await records(id);
        return rows.length === expected && rows.every((r) => r.pid !== null && r.ready === 1 && supervisorsOf(r.pid, procs).length === 1 && supervisorsOf(r.pid, procs)[0] === idOf.get(r.server_id));
      }, 120_000, `${expected} ready replica(s), each supervised by exactly one server`);
      return rows;
    };
    let rows = await supervisedOnce(1);
    assert.equal(rows[0]!.server_id, aId);
    // B shows what A wrote: the same replica, ready.
    const viewB = async (): Promise<any> => (await casB.get(path)).body.status;
    await eventually(async () => {
      const s = await viewB();
      return s.component_status === 'RUNNING' && s.available_replica === 1 && s.instances.map((i: any) => i.instance_id).join() === rows[0]!.instance_id;
    }, 30_000, "B's view to agree with A's");

    // A scale asked of B runs on A (the owner): both replicas are A's.
    const scale = await casB.post(`${path}/action`, { action: 'scale', parameters: { replica: 2 } });
    assert.equal(scale.status, 200, scale.text);
    const scaled = await jobEnd(casB, scale.body.job_id);
    assert.equal(scaled.job.execution_status, 'SUCCEEDED', JSON.stringify(scaled.tasks));
    rows = await supervisedOnce(2);
    assert.deepEqual(rows.map((r) => r.server_id), [aId, aId], 'the owner started the new replica');
    const before = rows.map((r) => r.pid!);

    // kill -9 of A: another live server starts the replicas again on its host.
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    rmSync(join(a.dataDir, 'deploy', 'artifacts', CLUSTER_PROJECT, otherId), { recursive: true, force: true });
    rows = await supervisedOnce(2);
    const tookOverIn = Date.now() - killedAt;
    const newOwner = rows[0]!.server_id;
    assert.notEqual(newOwner, aId);
    assert.ok(rows.every((r) => r.server_id === newOwner), 'one server took the whole replica set');
    assert.ok(before.every((pid) => supervisorsOf(pid, procs).length === 0), "A's replicas are supervised by nobody (killed by the taker)");
    const [moved] = await query<{ owner_id: string }>(f.db, "SELECT owner_id FROM core_owners WHERE kind = 'replica-set' AND id = $1", [`${CLUSTER_PROJECT}/${componentId}`]);
    assert.equal(moved?.owner_id, newOwner);
    for (const r of rows) assert.equal((await answer(r.port)).version, '1.0.0', `replica ${r.instance_id} answers HTTP`);
    // Every live server shows it running, with the taker's replicas; the recover job says why.
    for (const p of procs.slice(1)) {
      await eventually(async () => {
        const s = (await new CasClient(p.url, '', CLUSTER_PROJECT).get(path)).body.status;
        return s.component_status === 'RUNNING' && s.available_replica === 2 && s.instances.map((i: any) => i.instance_id).sort().join() === rows.map((r) => r.instance_id).join();
      }, 30_000, `${p.url}'s view after the takeover`);
    }
    const status = await viewB();
    const recovered = await jobEnd(casB, status.last_job_id);
    assert.equal(recovered.job.execution_status, 'SUCCEEDED', JSON.stringify(recovered.tasks));
    assert.match(recovered.tasks.map((x: any) => x.messages).join('\n'), new RegExp(`taken over from server ${aId}`));
    t.diagnostic(`replicas running again on the new owner ${tookOverIn} ms after kill -9 (server lease 3 s)`);

    // The component whose artifact was gone is built again from its stored plan by its taker.
    const rebuilt = await supervisedOnce(1, otherId);
    assert.notEqual(rebuilt[0]!.server_id, aId);
    assert.equal((await answer(rebuilt[0]!.port)).version, '2.0.0');
    const otherPath = `/applications/${app.body.id}/components/${otherId}`;
    const rebuild = await jobEnd(casB, (await casB.get(otherPath)).body.status.last_job_id);
    assert.equal(rebuild.job.execution_status, 'SUCCEEDED', JSON.stringify(rebuild.tasks));
    assert.match(rebuild.tasks[0].messages, /not readable on this host: building it again/);

    // Requests of any server now run on the new owner.
    const stop = await casB.post(`${path}/action`, { action: 'scale', parameters: { replica: 1 } });
    assert.equal(stop.status, 200, stop.text);
    assert.equal((await jobEnd(casB, stop.body.job_id)).job.execution_status, 'SUCCEEDED');
    rows = await supervisedOnce(1);
    assert.equal(rows[0]!.server_id, newOwner);
  });

  it('are let go of by a server that lost its lease (its replicas killed) and started again by another', async (t) => {
    const f = await processCluster(t);
    const procs = await Promise.all([f.start(), f.start()]);
    await Promise.all(procs.map(listening));
    await eventually(async () => (await clusterView(procs[0]!.url)).servers.filter((s) => s.live).length === 2, 30_000, 'two live servers');
    const [a, b] = procs as [ServerProcess, ServerProcess];
    const aId = (await clusterView(a.url)).self;
    const bId = (await clusterView(b.url)).self;
    const casA = new CasClient(a.url, '', CLUSTER_PROJECT);
    const env = await casA.post('/environments', { name: uniqName('env'), vpc_id: 'vpc-local' });
    const app = await casA.post('/applications', { name: uniqName('app') });
    const created = await casA.post(`/applications/${app.body.id}/components`, nodeBody(env.body.id, nodeHelloRepo(t)));
    assert.equal(created.status, 200, created.text);
    const componentId: string = created.body.component_id;
    assert.equal((await jobEnd(casA, created.body.job_id)).job.execution_status, 'SUCCEEDED');
    const records = (): Promise<ReplicaRecord[]> => query<ReplicaRecord>(f.db, "SELECT instance_id, server_id, pid, port, ready FROM deploy_replicas WHERE component_id = $1 AND desired = 'running'", [componentId]);
    let rows: ReplicaRecord[] = [];
    await eventually(async () => (rows = await records()).length === 1 && rows[0]!.ready === 1 && rows[0]!.pid !== null, 60_000, "A's replica ready");
    const old = rows[0]!;
    assert.equal(old.server_id, aId);
    assert.deepEqual(supervisorsOf(old.pid!, procs), [a]);

    // A's lease ends as if it had not renewed it in time (its row goes); A lives on.
    await query(f.db, 'DELETE FROM core_servers WHERE server_id = $1', [aId]);
    // The leader hands the set to a live server: B, or A itself once it rejoined under a new id
    // (the hand-over is a hash over the live servers) — never to A's old id, and one supervisor.
    await eventually(async () => {
      rows = await records();
      if (rows.length !== 1 || rows[0]!.server_id === aId || rows[0]!.ready !== 1 || rows[0]!.pid === null) return false;
      const supervisors = supervisorsOf(rows[0]!.pid, procs);
      return supervisors.length === 1 && (await clusterView(supervisors[0]!.url)).self === rows[0]!.server_id;
    }, 120_000, 'the replica started again on a live server (B, or A under its new id), supervised by that server alone');
    t.diagnostic(`taken over by ${rows[0]!.server_id === bId ? 'B' : 'A under its new id'}`);
    assert.equal(supervisorsOf(old.pid!, procs).length, 0, 'the replica A let go of is gone (A kills it when it notices the lost lease; B kills a leftover of its own machine)');
    assert.equal(a.child.exitCode, null, 'A still runs');
    assert.notEqual((await clusterView(a.url)).self, aId, 'A rejoined under a new id');
    assert.equal((await answer(rows[0]!.port)).version, '1.0.0');
  });
});
