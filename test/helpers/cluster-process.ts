import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { freePort } from './cli.js';
import type { CasClient } from './cas-client.js';
import { CLUSTER_MASTER_KEY, eventually } from './cluster.js';
import { call } from './registry-client.js';
import { FIXTURE_ROOT, freshDatabase, HOST_ENV } from './server.js';

/** Servers as processes (kill -9 tests of test/cluster/): one PostgreSQL database, real time. */

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

/** The project every server of a fixture is given (`--auth none`). */
export const CLUSTER_PROJECT = 'c0ffee00c0ffee00c0ffee00c0ffee00';

/** One `openstage serve` process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  exited: Promise<unknown>;
}

/** Servers of one fresh database; all killed (and their replicas) when the test ends. */
export interface ProcessCluster {
  db: string;
  start: () => Promise<ServerProcess>;
  procs: ServerProcess[];
}

/**
 * A fresh database and a way to start servers on it as processes (`--auth none`, a 300 ms
 * heartbeat, 3 s server leases, builds confined with the test fixtures as their only source
 * root). Every server is killed when the test ends, and so is every replica the database
 * still records (replicas outlive a killed server).
 */
export async function processCluster(t: TestContext): Promise<ProcessCluster> {
  const { db, drop } = await freshDatabase();
  const gitDir = mkdtempSync(join(tmpdir(), 'openstage-failover-git-'));
  const dirs = [gitDir];
  const procs: ServerProcess[] = [];
  const start = async (): Promise<ServerProcess> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openstage-failover-'));
    dirs.push(dataDir);
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data-dir', dataDir, '--db', db, '--auth', 'none', '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...HOST_ENV,
        OPENSTAGE_MASTER_KEY: CLUSTER_MASTER_KEY,
        OPENSTAGE_GIT_DIR: gitDir,
        OPENSTAGE_PROJECT_ID: CLUSTER_PROJECT,
        OPENSTAGE_CLUSTER_HEARTBEAT_MS: '300',
        OPENSTAGE_CLUSTER_SERVER_LEASE_SECONDS: '3',
        OPENSTAGE_CLUSTER_REPLICATION_WAIT_MS: '3000',
        OPENSTAGE_DEPLOY_SETTLE_SECONDS: '1',
        // Builds are confined: they may read the test's git fixtures only there.
        OPENSTAGE_DEPLOY_SOURCE_ROOTS: FIXTURE_ROOT,
        OPENSTAGE_DEPLOY_MONITOR_SECONDS: '1',
        // The test machine's load stalls the servers at random: no load shedding in tests.
        OPENSTAGE_HTTP_SHED_LAG_MS: '0',
      },
    });
    const proc: ServerProcess = { url: `http://127.0.0.1:${port}`, child, dataDir, exited: new Promise((r) => child.once('exit', r)) };
    procs.push(proc);
    return proc;
  };
  t.after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const rows = await query<{ pid: number | null }>(db, 'SELECT pid FROM deploy_replicas').catch(() => [] as { pid: number | null }[]);
    for (const r of rows) {
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

/** Runs one query on the fixture's database. */
export async function query<R>(db: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Waits until a server answers GET /cluster, within two minutes (a loaded machine starts slowly). */
export async function listening(p: ServerProcess): Promise<void> {
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

/** GET /cluster of a server. */
export async function clusterView(url: string): Promise<{ leader: string; self: string; servers: { serverId: string; live: boolean; url: string }[] }> {
  return (await call(url, 'GET', '/cluster')).body;
}

/** The parent pid of a live process; undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The server processes (of `procs`) whose process tree holds `pid`: [] when none does (or it is gone). */
export function supervisorsOf(pid: number, procs: ServerProcess[]): ServerProcess[] {
  const ancestors = new Set<number>();
  for (let p: number | undefined = pid; p !== undefined && p > 1 && !ancestors.has(p); p = parentOf(p)) ancestors.add(p);
  return procs.filter((s) => s.child.pid !== undefined && s.child.exitCode === null && s.child.signalCode === null && ancestors.has(s.child.pid));
}

/** Polls a job through `cas` until it leaves RUNNING. @returns the job detail */
export async function jobEnd(cas: CasClient, jobId: string, timeoutMs = 180_000): Promise<any> {
  let job: any;
  await eventually(async () => {
    job = (await cas.get(`/jobs/${jobId}`)).body;
    return job?.job?.execution_status !== undefined && job.job.execution_status !== 'RUNNING';
  }, timeoutMs, `job ${jobId} to end`);
  return job;
}
