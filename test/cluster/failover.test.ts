// Three `openstage serve` processes on one PostgreSQL database (issue #16 "Proof"): kill -9 of
// the leader under a mixed write load, and two servers started at once on an empty database.
// PostgreSQL only; real processes and real time (the phase `cluster` of scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import pg from 'pg';
import { CasClient, uniqName } from '../helpers/cas-client.js';
import { freePort } from '../helpers/cli.js';
import { CLUSTERED, CLUSTER_MASTER_KEY, eventually } from '../helpers/cluster.js';
import { nodeBody, nodeHelloRepo } from '../helpers/component.js';
import { KieClient, type Kv } from '../helpers/kie-client.js';
import { RegistryClient, call, uniq } from '../helpers/registry-client.js';
import { FIXTURE_ROOT, freshDatabase, HOST_ENV } from '../helpers/server.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';
const CLI = new URL('../../src/cli.js', import.meta.url).pathname;
const PROJECT = 'c0ffee00c0ffee00c0ffee00c0ffee00';

interface Proc {
  url: string;
  child: ChildProcess;
  dataDir: string;
  exited: Promise<unknown>;
}

/** Servers of one database: started as processes, all killed (and their replicas) when the test ends. */
async function fixture(t: TestContext): Promise<{ db: string; start: () => Promise<Proc>; procs: Proc[] }> {
  const { db, drop } = await freshDatabase();
  const gitDir = mkdtempSync(join(tmpdir(), 'openstage-failover-git-'));
  const dirs = [gitDir];
  const procs: Proc[] = [];
  const start = async (): Promise<Proc> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openstage-failover-'));
    dirs.push(dataDir);
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data-dir', dataDir, '--db', db, '--auth', 'none', '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...HOST_ENV,
        OPENSTAGE_MASTER_KEY: CLUSTER_MASTER_KEY,
        OPENSTAGE_GIT_DIR: gitDir,
        OPENSTAGE_PROJECT_ID: PROJECT,
        OPENSTAGE_CLUSTER_HEARTBEAT_MS: '300',
        OPENSTAGE_CLUSTER_SERVER_LEASE_SECONDS: '3',
        OPENSTAGE_CLUSTER_REPLICATION_WAIT_MS: '3000',
        OPENSTAGE_DEPLOY_SETTLE_SECONDS: '1',
        // Builds are confined: they may read the test's git fixtures only there.
        OPENSTAGE_DEPLOY_SOURCE_ROOTS: FIXTURE_ROOT,
        OPENSTAGE_DEPLOY_MONITOR_SECONDS: '1',
      },
    });
    const proc: Proc = { url: `http://127.0.0.1:${port}`, child, dataDir, exited: new Promise((r) => child.once('exit', r)) };
    procs.push(proc);
    return proc;
  };
  t.after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    // Replicas outlive a killed server (they are adopted when one comes back): stop them here.
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    const rows = await client.query<{ pid: number | null }>('SELECT pid FROM deploy_replicas').catch(() => ({ rows: [] as { pid: number | null }[] }));
    await client.end();
    for (const r of rows.rows) {
      try {
        if (r.pid) process.kill(-r.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return { db, start, procs };
}

/** Waits until a server answers GET /cluster, within two minutes (a loaded machine starts slowly). */
async function ready(p: Proc): Promise<void> {
  await eventually(
    async () => {
      if (p.child.exitCode !== null) throw new Error(`server ${p.url} exited with ${p.child.exitCode}`);
      try {
        return (await fetch(`${p.url}/cluster`)).status === 200;
      } catch {
        return false;
      }
    },
    120_000,
    `${p.url} to listen`,
  );
}

async function clusterView(url: string): Promise<{ leader: string; self: string; servers: { serverId: string; live: boolean; url: string }[] }> {
  return (await call(url, 'GET', '/cluster')).body;
}

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
  });
});
