import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { FakeClock } from '../../src/core/clock.js';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { buildServer } from '../../src/server.js';
import { login, ROOT_PASSWORD } from '../helpers/rbac-client.js';
import { freshDatabase } from '../helpers/server.js';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

/** A data dir and a database that several builds share; removed when the test ends. */
async function storage(t: TestContext): Promise<{ dataDir: string; db: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openstage-rbac-'));
  const { db, drop } = await freshDatabase();
  t.after(async () => {
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { dataDir, db };
}

/** Builds (without listening) a server on `s` with RBAC on and `rbac` settings. */
function build(s: { dataDir: string; db: string }, rbac: Record<string, unknown>): ReturnType<typeof buildServer> {
  const config = loadConfig({ overrides: { ...s, logLevel: 'silent', 'secrets.passwordHashLog2N': 10, 'rbac.enabled': true, ...rbac } });
  return buildServer(config, { clock: new FakeClock() });
}

describe('starting with RBAC on', () => {
  it('refuses to start while there is no root account and no root password', async (t) => {
    const s = await storage(t);
    await assert.rejects(build(s, {}), (err: unknown) => err instanceof ConfigError && /OPENSTAGE_ROOT_PASSWORD/.test((err as Error).message));
  });

  it('refuses a root password that breaks the password rule, without echoing it', async (t) => {
    const s = await storage(t);
    await assert.rejects(build(s, { 'rbac.rootPassword': 'rootroot' }), (err: unknown) => err instanceof ConfigError && /rbac\.rootPassword/.test((err as Error).message) && !(err as Error).message.includes('rootroot'));
  });

  it('needs no root password once root exists, and ignores a different one', async (t) => {
    const s = await storage(t);
    await (await build(s, { 'rbac.rootPassword': ROOT_PASSWORD })).close();
    const second = await build(s, {});
    await second.close();
    const third = await build(s, { 'rbac.rootPassword': 'Other#Pass9' });
    t.after(() => third.close());
    const url = await third.listen('127.0.0.1', 0);
    assert.equal((await login(url, 'root', ROOT_PASSWORD)).status, 200);
  });

  it('refuses to start when the master key is not the one that sealed the signing key', async (t) => {
    const s = await storage(t);
    await (await build(s, { 'rbac.rootPassword': ROOT_PASSWORD, 'secrets.masterKey': 'a'.repeat(64) })).close();
    await assert.rejects(build(s, { 'secrets.masterKey': 'b'.repeat(64) }), (err: unknown) => err instanceof ConfigError && /master/.test((err as Error).message));
  });
});

describe('RBAC settings', () => {
  it('reads OPENSTAGE_RBAC, OPENSTAGE_ROOT_PASSWORD and ServiceComb SC_INIT_ROOT_PASSWORD', () => {
    assert.equal(loadConfig().rbac.enabled, false);
    const c = loadConfig({ env: { OPENSTAGE_RBAC: 'true', SC_INIT_ROOT_PASSWORD: 'Sc#Pass123' } });
    assert.equal(c.rbac.enabled, true);
    assert.equal(c.rbac.rootPassword, 'Sc#Pass123');
    assert.equal(loadConfig({ env: { SC_INIT_ROOT_PASSWORD: 'Sc#Pass123', OPENSTAGE_ROOT_PASSWORD: 'Os#Pass123' } }).rbac.rootPassword, 'Os#Pass123');
    assert.equal(loadConfig({ flags: { 'rbac.enabled': 'true' } }).rbac.enabled, true);
  });

  it('rejects a default token lifetime outside 15m–24h', () => {
    assert.throws(() => loadConfig({ overrides: { 'rbac.tokenExpirySeconds': 60 } }), ConfigError);
  });
});

/** Runs `openstage serve` and returns its exit code and stderr (it must exit on its own). */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, OPENSTAGE_ROOT_PASSWORD: '', SC_INIT_ROOT_PASSWORD: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('openstage serve --rbac', () => {
  it('exits with status 2 and names OPENSTAGE_ROOT_PASSWORD when root cannot be created', async (t) => {
    const s = await storage(t);
    const { code, stderr } = await runCli(['--rbac', '--port', '0', '--data-dir', s.dataDir, '--db', s.db, '--log-level', 'warn'], {});
    assert.equal(code, 2);
    assert.match(stderr, /OPENSTAGE_ROOT_PASSWORD/);
  });
});
