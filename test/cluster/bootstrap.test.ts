// First start and master key on a shared PostgreSQL database (issue #16). PostgreSQL only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { FakeClock } from '../../src/core/clock.js';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { buildServer, type OpenStage } from '../../src/server.js';
import { CLUSTERED } from '../helpers/cluster.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { freshDatabase, HOST_ENV } from '../helpers/server.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';

/** Builds servers on one fresh database; each gets its own data directory; all closed at the end. */
async function shared(t: TestContext): Promise<(overrides: Record<string, unknown>) => Promise<OpenStage>> {
  const { db, drop } = await freshDatabase();
  const dirs: string[] = [];
  const servers: OpenStage[] = [];
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  t.after(async () => {
    for (const s of servers) await s.close();
    await drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return async (overrides) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openstage-boot-'));
    dirs.push(dataDir);
    const config = loadConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir, db, logLevel: 'silent', 'secrets.passwordHashLog2N': 10, ...overrides } });
    const server = await buildServer(config, { clock, hostEnv: HOST_ENV });
    servers.push(server);
    return server;
  };
}

describe('first start and master key on one database', { skip }, () => {
  it('brings up servers started together on an empty database, with one admin, project and key', async (t) => {
    const start = await shared(t);
    const key = { 'secrets.masterKey': '5e'.repeat(32), ...IAM_OVERRIDES };
    const servers = await Promise.all([start(key), start(key), start(key)]);
    const urls = await Promise.all(servers.map((s) => s.listen('127.0.0.1', 0)));
    for (const url of urls) assert.equal((await login(url, ADMIN.name, ADMIN.password)).status, 201, `the admin logs in through ${url}`);
    const first = servers[0]!;
    assert.equal(first.iam.listUsers().filter((u) => u.name === ADMIN.name).length, 1, 'one admin');
    assert.equal(first.iam.listProjects().filter((p) => p.id === ADMIN.projectId).length, 1, 'one default project');
    assert.deepEqual(first.iam.listAccessKeys().map((k) => k.accessKey), [ADMIN.ak]);
  });

  it('refuses to start a server whose master key cannot open the stored secrets, naming the fix', async (t) => {
    const start = await shared(t);
    await start({ 'secrets.masterKey': '11'.repeat(32) });
    await assert.rejects(start({ 'secrets.masterKey': '22'.repeat(32) }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /master key cannot open the secrets stored in the database/);
      assert.match(err.message, /OPENSTAGE_MASTER_KEY/);
      return true;
    });
    // Without a key of its own setting, a second server makes its own key file: refused too.
    await assert.rejects(start({}), /master key cannot open/);
  });
});
