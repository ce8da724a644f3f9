import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FakeClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { buildServer, type OpenStage } from '../../src/server.js';
import { freshDatabase, HOST_ENV, TEST_DB } from './server.js';

/** One server of an in-process cluster. */
export interface ClusterMember {
  url: string;
  server: OpenStage;
  dataDir: string;
  /** Closes it (SIGTERM-like) and starts it again on the same data directory. */
  restart(): Promise<ClusterMember>;
}

/** Several servers on one PostgreSQL database, in this process, sharing one fake clock. */
export interface TestCluster {
  members: ClusterMember[];
  clock: FakeClock;
  /** The shared `git.dir`. */
  gitDir: string;
  /** Starts one more server on the same database. */
  add(overrides?: Record<string, unknown>): Promise<ClusterMember>;
}

/** The master key every member shares (64 hex characters). */
export const CLUSTER_MASTER_KEY = 'a1'.repeat(32);

/** True when the suite runs on PostgreSQL (cluster tests are skipped on SQLite). */
export const CLUSTERED = TEST_DB === 'postgres';

/**
 * Starts `count` servers on one fresh PostgreSQL database: ports chosen by the kernel, a
 * data directory each, one shared `git.dir`, one master key and one FakeClock (registry
 * leases); membership runs on real time with a short heartbeat. Everything is closed and
 * removed when the test ends.
 */
export async function startCluster(t: TestContext, count: number, overrides: Record<string, unknown> = {}): Promise<TestCluster> {
  const { db, drop } = await freshDatabase();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const gitDir = mkdtempSync(join(tmpdir(), 'openstage-cluster-git-'));
  const dirs: string[] = [gitDir];
  const running = new Set<OpenStage>();
  const start = async (dataDir: string, extra: Record<string, unknown>): Promise<ClusterMember> => {
    const config = loadConfig({
      overrides: {
        host: '127.0.0.1',
        port: 0,
        dataDir,
        db,
        logLevel: 'silent',
        'secrets.passwordHashLog2N': 10,
        'secrets.masterKey': CLUSTER_MASTER_KEY,
        'git.dir': gitDir,
        'deploy.stopOnShutdown': true,
        'cluster.heartbeatMs': 200,
        'cluster.serverLeaseSeconds': 3,
        'cluster.replicationWaitMs': 5000,
        // Three servers in one test process stall each other's event loop: shedding and the
        // stall guard, which react to it, are off as in startServer.
        'http.shedLagMs': 0,
        'registry.stallThresholdMs': 0,
        ...overrides,
        ...extra,
      },
    });
    const server = await buildServer(config, { clock, hostEnv: HOST_ENV });
    const url = await server.listen('127.0.0.1', 0);
    running.add(server);
    const member: ClusterMember = {
      url,
      server,
      dataDir,
      restart: async () => {
        await server.close();
        running.delete(server);
        return start(dataDir, extra);
      },
    };
    return member;
  };
  const add = async (extra: Record<string, unknown> = {}): Promise<ClusterMember> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openstage-cluster-'));
    dirs.push(dataDir);
    const member = await start(dataDir, extra);
    cluster.members.push(member);
    return member;
  };
  const cluster: TestCluster = { members: [], clock, gitDir, add };
  t.after(async () => {
    for (const s of running) await s.close();
    await drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  for (let i = 0; i < count; i++) await add();
  return cluster;
}

/** Polls `check` every 20 ms of real time until it is true. @throws after `timeoutMs` */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
