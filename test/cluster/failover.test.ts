// Three `openstage serve` processes on one PostgreSQL database (issue #16 "Proof"): kill -9 of
// the leader under a mixed write load, and two servers started at once on an empty database.
// PostgreSQL only; real processes and real time (the phase `cluster` of scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CasClient, uniqName } from '../helpers/cas-client.js';
import { CLUSTERED, eventually } from '../helpers/cluster.js';
import { CLUSTER_PROJECT, clusterView, listening as ready, processCluster as fixture, query, supervisorsOf } from '../helpers/cluster-process.js';
import { nodeBody, nodeHelloRepo } from '../helpers/component.js';
import { KieClient, type Kv } from '../helpers/kie-client.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';
const PROJECT = CLUSTER_PROJECT;

describe('three servers on one database', { skip }, () => {
  it('two servers started at once on an empty database both come up', async (t) => {
    const f = await fixture(t);
    const [a, b] = await Promise.all([f.start(), f.start()]);
    await Promise.all([ready(a!), ready(b!)]);
    const view = await clusterView(a!.url);
    assert.equal(view.servers.filter((s) => s.live).length, 2);
    assert.ok(view.leader, 'one of them leads');
    // Both answer with what the other wrote.
    const sid = await new RegistryClient(a!.url).createService({ appId: 'app', serviceName: uniq('s'), version: '1.0.0' });
    assert.equal((await new RegistryClient(b!.url).req('GET', `/microservices/${sid}`)).status, 200);
  });

  it('kill -9 of the leader under a mixed write load: no acknowledged write lost, no mass expiry, the running job ends', async (t) => {
    const f = await fixture(t);
    const procs = await Promise.all([f.start(), f.start(), f.start()]);
    await Promise.all(procs.map(ready));
    await eventually(async () => (await clusterView(procs[0]!.url)).servers.filter((s) => s.live).length === 3 && !!(await clusterView(procs[0]!.url)).leader, 30_000, 'three live servers and a leader');
    const view = await clusterView(procs[0]!.url);
    const leader = procs.find((p) => view.servers.some((s) => s.serverId === view.leader && s.url === p.url))!;
    assert.ok(leader, 'the leader is one of the three');
    const survivors = procs.filter((p) => p !== leader);
    let alive = [...procs];
    let turn = 0;
    const next = (): string => alive[turn++ % alive.length]!.url;

    // Long-lived instances, heartbeating every second through the servers in turn (TTL 20 s).
    const reg = (url: string): RegistryClient => new RegistryClient(url);
    const provider = uniq('prov');
    const sid = await reg(next()).createService({ appId: 'fo', serviceName: provider, version: '1.0.0' });
    const steady: string[] = [];
    for (let i = 0; i < 30; i++) steady.push(await reg(next()).register(sid, { hostName: `steady${i}`, healthCheck: { mode: 'push', interval: 5, times: 3 } }));

    // A deployment job running on the leader.
    const cas = new CasClient(leader.url, '', PROJECT);
    const env = await cas.post('/environments', { name: uniqName('env'), vpc_id: 'vpc-local' });
    assert.equal(env.status, 200, env.text);
    const app = await cas.post('/applications', { name: uniqName('app') });
    assert.equal(app.status, 200, app.text);
    const comp = await cas.post(`/applications/${app.body.id}/components`, nodeBody(env.body.id, nodeHelloRepo(t)));
    assert.equal(comp.status, 200, comp.text);
    const jobId: string = comp.body.job_id;

    const acked = { services: [] as string[], instances: [] as { sid: string; iid: string }[], kvs: new Map<string, Kv>(), envs: [] as string[] };
    const kieProject = uniq('kp');
    let stop = false;
    const loop = async (body: () => Promise<void>): Promise<void> => {
      while (!stop) {
        try {
          await body();
        } catch {
          /* a request to the killed server */
        }
      }
    };
    const heartbeats = loop(async () => {
      await Promise.all(steady.map((iid) => reg(next()).req('PUT', `/microservices/${sid}/instances/${iid}/heartbeat`)));
      await new Promise((r) => setTimeout(r, 1000));
    });
    const registrations = loop(async () => {
      const url = next();
      const s = await reg(url).req('POST', '/microservices', { service: { appId: 'fo', serviceName: uniq('w'), version: '1.0.0' } });
      if (s.status !== 200) return;
      acked.services.push(s.body.serviceId);
      const i = await reg(next()).req('POST', `/microservices/${s.body.serviceId}/instances`, { instance: { hostName: 'h', endpoints: ['rest://127.0.0.1:1'], healthCheck: { mode: 'push', interval: 30, times: 3 } } });
      if (i.status === 200) acked.instances.push({ sid: s.body.serviceId, iid: i.body.instanceId });
    });
    let n = 0;
    const kvWrites = loop(async () => {
      const key = `k${n++ % 20}`;
      const c = new KieClient(next(), kieProject);
      const created = acked.kvs.get(key);
      const r = created ? await c.req<Kv>('PUT', `/kv/${created.id}`, { value: `v${n}` }) : await c.req<Kv>('POST', '/kv', { key, value: `v${n}`, labels: { app: 'fo' } });
      if (r.status === 200) acked.kvs.set(key, r.body);
    });
    const envCreates = loop(async () => {
      const name = uniqName('env');
      const r = await new CasClient(next(), '', PROJECT).post('/environments', { name, vpc_id: 'vpc-local' });
      if (r.status === 200) acked.envs.push(r.body.id);
      await new Promise((r2) => setTimeout(r2, 200));
    });

    await new Promise((r) => setTimeout(r, 4000));
    leader.child.kill('SIGKILL');
    await leader.exited;
    alive = survivors;
    await new Promise((r) => setTimeout(r, 12_000));
    stop = true;
    await Promise.all([heartbeats, registrations, kvWrites, envCreates]);

    // A new leader among the survivors.
    await eventually(async () => survivors.some((p) => p.url === p.url) && !!(await clusterView(survivors[0]!.url)).leader && (await clusterView(survivors[0]!.url)).leader !== view.leader, 30_000, 'a new leader');
    assert.ok(acked.services.length > 0 && acked.kvs.size > 0 && acked.envs.length > 0, 'the load wrote through every area');
    for (const p of survivors) {
      const r = reg(p.url);
      for (const id of acked.services) assert.equal((await r.req('GET', `/microservices/${id}`)).status, 200, `service ${id} acknowledged before or after the kill`);
      for (const x of acked.instances) assert.equal((await r.req('GET', `/microservices/${x.sid}/instances/${x.iid}`)).status, 200, `instance ${x.iid}`);
      for (const iid of steady) assert.equal((await r.req('GET', `/microservices/${sid}/instances/${iid}`)).status, 200, `heartbeating instance ${iid} did not expire`);
      const kvs = await new KieClient(p.url, kieProject).list();
      for (const [key, kv] of acked.kvs) {
        const stored = kvs.body.data.find((k) => k.key === key);
        assert.ok(stored && stored.update_revision >= kv.update_revision, `kv ${key} at revision ${kv.update_revision} or later`);
      }
      for (const id of acked.envs) assert.equal((await new CasClient(p.url, '', PROJECT).get(`/environments/${id}`)).status, 200, `environment ${id}`);
    }
    // The job the leader ran ends: done, or failed with the reason.
    const survivorCas = new CasClient(survivors[0]!.url, '', PROJECT);
    let job: any;
    await eventually(async () => {
      job = (await survivorCas.get(`/jobs/${jobId}`)).body;
      return job?.job?.execution_status !== 'RUNNING';
    }, 60_000, 'the job to end');
    t.diagnostic(`acknowledged: ${acked.services.length} services, ${acked.instances.length} instances, ${acked.kvs.size} kvs, ${acked.envs.length} environments; job ${job.job.execution_status}`);
    if (job.job.execution_status === 'FAILED') {
      assert.ok(job.tasks.some((x: any) => /interrupted/.test(x.messages)), `a failed job says why: ${JSON.stringify(job.tasks.map((x: any) => x.messages))}`);
    } else {
      assert.equal(job.job.execution_status, 'SUCCEEDED');
    }
    // Every replica of the component is supervised by exactly one live server afterwards:
    // the one its record names (the replica set was handed over with the leader's death).
    const live = await clusterView(survivors[0]!.url);
    const urlOf = new Map(live.servers.filter((x) => x.live).map((x) => [x.serverId, x.url]));
    let replicas: { instance_id: string; server_id: string; pid: number | null }[] = [];
    await eventually(async () => {
      replicas = await query(f.db, "SELECT instance_id, server_id, pid FROM deploy_replicas WHERE component_id = $1 AND desired = 'running'", [comp.body.component_id]);
      // A deployment that succeeded runs its one replica again; a failed one may have none.
      if (job.job.execution_status === 'SUCCEEDED' && replicas.length !== 1) return false;
      return replicas.every((r) => r.pid !== null && urlOf.has(r.server_id) && supervisorsOf(r.pid, survivors).map((p) => p.url).join() === urlOf.get(r.server_id));
    }, 90_000, 'every replica supervised by exactly one live server');
    t.diagnostic(`replicas after the kill: ${replicas.length}`);
  });
});
