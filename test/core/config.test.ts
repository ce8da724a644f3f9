import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { RegistryClient } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig();
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 30100);
    assert.equal(c.dataDir, join(process.cwd(), 'data'), 'the default ./data, resolved at start (issue #15)');
    assert.equal(c.db, 'sqlite');
    assert.equal(c.quota.services, 50000);
    assert.equal(c.quota.instances, 150000);
    assert.equal(c.registry.instanceMinIntervalSeconds, 5);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.registry));
  });

  it('applies file, then environment, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'openstage.yaml');
    writeFileSync(file, 'port: 1111\nhost: 0.0.0.0\nregistry:\n  watchPingSeconds: 7\n');
    const c = loadConfig({ file, env: { OPENSTAGE_PORT: '2222', OPENSTAGE_REGISTRY_WATCH_PING_SECONDS: '9', QUOTA_SERVICE: '12', OPENSTAGE_DATA_DIR: '/x' }, flags: { port: '3333' } });
    assert.equal(c.port, 3333);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.registry.watchPingSeconds, 9);
    assert.equal(c.quota.services, 12);
    assert.equal(c.dataDir, '/x');
  });

  const bad: [string, Parameters<typeof loadConfig>[0], RegExp][] = [
    ['a non-numeric port', { env: { OPENSTAGE_PORT: 'abc' } }, /OPENSTAGE_PORT/],
    ['a port out of range', { flags: { port: '70000' } }, /port/],
    ['an unknown flag', { flags: { nope: '1' } }, /nope/],
    ['an unknown key in the file', { overrides: { registry: { bogus: 1 } } }, /registry/],
    ['a bad log level', { env: { OPENSTAGE_LOG_LEVEL: 'loud' } }, /logLevel/],
    ['an advertised URL with a path', { env: { OPENSTAGE_CLUSTER_ADVERTISE_URL: 'http://10.0.0.5:30100/x' } }, /advertiseUrl/],
  ];
  for (const [why, options, message] of bad) {
    it(`stops with a ConfigError naming the key for ${why}`, () => {
      assert.throws(() => loadConfig(options), (err: unknown) => err instanceof ConfigError && message.test((err as Error).message));
    });
  }

  it('advertises cluster.advertiseUrl to the cluster view and in the SERVICECENTER endpoint', async (t) => {
    const srv = await startServer(t, { 'cluster.advertiseUrl': 'https://sc.example.test:8443' });
    const view = (await (await fetch(`${srv.url}/cluster`)).json()) as { servers: { url: string }[] };
    assert.deepEqual(view.servers.map((s) => s.url), ['https://sc.example.test:8443']);
    const found = await new RegistryClient(srv.url).find({ appId: 'default', serviceName: 'SERVICECENTER' });
    assert.deepEqual(found.body.instances?.map((i: { endpoints: string[] }) => i.endpoints), [['rest://sc.example.test:8443?sslEnabled=true']]);
  });
});
