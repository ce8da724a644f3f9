import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { FakeClock, systemClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { newHexId } from '../../src/core/ids.js';
import { buildServer, type OpenStage } from '../../src/server.js';
import { startRoundRobin } from './round-robin.js';

/** A running test server: base URL, its fake clock, and a restart that keeps the data. */
export interface TestServer {
  url: string;
  clock: FakeClock;
  /** The server's data directory (kept across restart). */
  dataDir: string;
  server: OpenStage;
  /** Every server behind `url` (one, unless the suite runs on a cluster); `server` is the first. */
  servers: OpenStage[];
  /** Their own base URLs (`url` itself on a single server). */
  urls: string[];
  /** Closes this server and starts a new one on the same data (database and data dir). */
  restart(): Promise<TestServer>;
}

/** Which database the suite runs on: OPENSTAGE_TEST_DB = sqlite (default) | postgres. */
export const TEST_DB = process.env.OPENSTAGE_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/**
 * OPENSTAGE_TEST_CLUSTER=N (PostgreSQL only): every startServer starts N servers on one
 * database behind a round-robin balancer (test/helpers/round-robin.ts), so a suite's
 * requests are spread over them — the same flows must pass whichever server answers.
 */
export const TEST_CLUSTER = TEST_DB === 'postgres' ? Math.max(1, Number(process.env.OPENSTAGE_TEST_CLUSTER ?? 1) || 1) : 1;

/**
 * Skip reason of a test that replaces or listens to a service of `srv.server` (the first
 * server): on a cluster its requests reach the others too. `false` on one server.
 */
export const FIRST_SERVER_ONLY: string | false = TEST_CLUSTER > 1 && 'replaces or listens to a service of the first server only';

/** Creates a fresh database for one test server and returns its URL and a drop function. */
export async function freshDatabase(): Promise<{ db: string; drop: () => Promise<void> }> {
  if (TEST_DB === 'sqlite') return { db: 'sqlite', drop: async () => undefined };
  const admin = process.env.OPENSTAGE_TEST_PG_URL;
  if (!admin) throw new Error('OPENSTAGE_TEST_DB=postgres needs OPENSTAGE_TEST_PG_URL');
  const name = `openstage_test_${newHexId().slice(0, 16)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    db: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Where tests put the sources they deploy from `file://` URLs: a directory listed in every
 * test server's `deploy.sourceRoots` (builds are confined and see only those of the host's
 * paths), readable by the sandbox's project users.
 */
export const FIXTURE_ROOT = join(tmpdir(), 'openstage-fixtures');

/**
 * The deploy settings of every test server and engine: the fixture root as the only source
 * root, and the test user's own Maven repository (~/.m2/repository: .ci/run fills it with what
 * the examples' builds need) as a shared read-only repository, so that confined Maven builds
 * do not download every plugin and dependency again into each test server's fresh caches.
 */
export const TEST_DEPLOY: Record<string, unknown> = {
  'deploy.sourceRoots': [FIXTURE_ROOT],
  'deploy.mavenRepositories': [join(homedir(), '.m2', 'repository')].filter((dir) => existsSync(dir)),
};

/** A new directory under FIXTURE_ROOT, readable by everyone, removed after the test. */
export function fixtureDir(t: TestContext | undefined, prefix: string): string {
  mkdirSync(FIXTURE_ROOT, { recursive: true, mode: 0o755 });
  chmodSync(FIXTURE_ROOT, 0o755);
  const dir = mkdtempSync(join(FIXTURE_ROOT, prefix));
  chmodSync(dir, 0o755);
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Host variables builds and replicas of deployed components get (as cli.ts passes them). */
export const HOST_ENV: Record<string, string> = Object.fromEntries(
  ['PATH', 'HOME', 'LANG', 'JAVA_HOME', 'GOPATH', 'GOCACHE', 'GOMODCACHE', 'npm_config_cache'].flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : [])),
);

/**
 * Starts the real server on an ephemeral loopback port with a temp data dir, the fake clock
 * and the suite's database; everything is closed and removed when the test ends. Deployed
 * replicas are stopped when the server closes (`deploy.stopOnShutdown`, overridable); load
 * shedding and the lease stall guard are off (`http.shedLagMs`, `registry.stallThresholdMs` 0,
 * overridable).
 * @param overrides config key paths → values (e.g. `{ 'quota.services': 3 }`)
 * @param options.realClock run the server on the system clock (tests with real processes:
 *   the deployment engine waits on the clock); `clock` is then not the server's
 */
export async function startServer(t: TestContext, overrides: Record<string, unknown> = {}, options: { realClock?: boolean } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openstage-test-'));
  const { db, drop } = await freshDatabase();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  // A cluster's other servers: their own data directories, the first one's git.dir and key.
  const extraDirs = Array.from({ length: TEST_CLUSTER - 1 }, () => mkdtempSync(join(tmpdir(), 'openstage-test-')));
  // Heartbeats written every 100 ms of the fake clock: expiry waits two such periods past a lease.
  const shared = TEST_CLUSTER > 1
    ? { 'secrets.masterKey': 'c3'.repeat(32), 'git.dir': join(dataDir, 'git'), 'cluster.heartbeatMs': 500, 'cluster.serverLeaseSeconds': 5, 'cluster.replicationWaitMs': 15000, 'registry.leasePersistPeriodMs': 100 }
    : {};
  const balancer = TEST_CLUSTER > 1 ? await startRoundRobin(() => urls) : undefined;
  let urls: string[] = [];
  let current: TestServer | undefined;
  const start = async (): Promise<TestServer> => {
    const servers: OpenStage[] = [];
    urls = [];
    for (const dir of [dataDir, ...extraDirs]) {
      // Load shedding and the lease stall guard react to the real event loop, which a shared test
      // machine stalls at random: off unless a test turns them on (test/core/load-shedding.test.ts,
      // test/registry/stall.test.ts).
      const config = loadConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir: dir, db, logLevel: 'silent', 'secrets.passwordHashLog2N': 10, 'deploy.stopOnShutdown': true, ...TEST_DEPLOY, 'http.shedLagMs': 0, 'registry.stallThresholdMs': 0, ...shared, ...overrides } });
      const server = await buildServer(config, { clock: options.realClock ? systemClock : clock, hostEnv: HOST_ENV });
      servers.push(server);
      urls.push(await server.listen('127.0.0.1', 0));
    }
    // A write waits for the servers its server knows to be live: until every server has seen
    // the others join (their next membership refresh), one just started could be left out.
    if (servers.length > 1) {
      const ids = servers.map((s) => s.cluster.serverId());
      const deadline = Date.now() + 20_000;
      while (!servers.every((s) => ids.every((id) => s.cluster.liveServers().some((l) => l.serverId === id)))) {
        if (Date.now() > deadline) throw new Error('the test cluster\'s servers did not all see each other within 20 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    current = {
      url: balancer?.url ?? urls[0]!,
      clock,
      dataDir,
      server: servers[0]!,
      servers,
      urls: [...urls],
      restart: async () => {
        for (const s of servers) await s.close();
        return start();
      },
    };
    return current;
  };
  t.after(async () => {
    for (const s of current?.servers ?? []) await s.close();
    await balancer?.close();
    await drop();
    for (const d of [dataDir, ...extraDirs]) rmSync(d, { recursive: true, force: true });
  });
  return start();
}
