import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildServer } from '../../src/server.js';
import { loadConfig } from '../../src/core/config.js';
import { assertError } from '../helpers/assert.js';
import { RegistryClient, call, uniq } from '../helpers/registry-client.js';
import { startServer, TEST_DB } from '../helpers/server.js';

/** Sends raw bytes and returns the raw response text. */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('bad requests get the ServiceComb error body', () => {
  it('answers 400012 for a 301-character serviceId (not a router 414)', async (t) => {
    const srv = await startServer(t);
    assertError(await new RegistryClient(srv.url).req('GET', `/microservices/${'a'.repeat(301)}`), 400, '400012');
  });

  it('answers 400001 for a malformed URL escape', async (t) => {
    const srv = await startServer(t);
    assertError(await call(srv.url, 'GET', '/v4/default/registry/microservices/%ZZ'), 400, '400001');
  });

  it('answers 400001 for a malformed HTTP request', async (t) => {
    const srv = await startServer(t);
    const text = await rawRequest(srv.url, 'GARBAGE\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /"errorCode":"400001"/);
  });

  it('does not route HEAD', async (t) => {
    const srv = await startServer(t);
    assert.equal((await fetch(`${srv.url}/v4/default/registry/microservices`, { method: 'HEAD' })).status, 404);
  });

  it('rejects wrong JSON types instead of converting them', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    assertError(await c.req('PUT', `/microservices/${sid}/properties`, { properties: { a: 1 } }), 400, '400001');
    assertError(await c.req('PUT', '/heartbeats', { instances: null }), 400, '400001');
    assertError(await c.req('PUT', '/heartbeats', { instances: [{ serviceId: 1, instanceId: [] }] }), 400, '400001', 'Request format invalid.');
    assertError(await c.req('DELETE', '/microservices', { serviceIds: 'x' }), 400, '400001');
    assertError(await c.req('DELETE', '/microservices', { serviceIds: [sid], force: 'true' }), 400, '400001');
  });

  it('rejects a domain or project containing "/" so that tenants cannot collide', async (t) => {
    const srv = await startServer(t);
    assertError(await new RegistryClient(srv.url, { 'X-Domain-Name': 'a/b' }).req('GET', '/microservices'), 400, '400001');
    assertError(await call(srv.url, 'GET', '/v4/b%2Fc/registry/microservices'), 400, '400001');
  });
});

describe('schema content round trip', () => {
  it('stores and returns NUL characters and lone surrogates exactly', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const sid = await c.createService({ serviceName: uniq() });
    const content = 'a\u0000b \ud800 lone "quoted" \\ back';
    assert.equal((await c.req('PUT', `/microservices/${sid}/schemas/s1`, { schema: content, summary: 'x' })).status, 200);
    const got = await c.req('GET', `/microservices/${sid}/schemas/s1`);
    assert.equal(got.body.schema, content);
  });
});

describe('one server per SQLite data directory', { skip: TEST_DB !== 'sqlite' }, () => {
  it('refuses to open a data directory another live process holds, and takes over a stale lock', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'openstage-lock-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // a lock held by a live process that is not us (our parent, the test runner)
    writeFileSync(join(dir, 'openstage.db.lock'), String(process.ppid));
    await assert.rejects(buildServer(loadConfig({ overrides: { dataDir: dir, logLevel: 'silent', 'secrets.passwordHashLog2N': 10 } })), /in use by process/);
    // a stale lock (no such process) is taken over
    writeFileSync(join(dir, 'openstage.db.lock'), '999999');
    const server = await buildServer(loadConfig({ overrides: { dataDir: dir, logLevel: 'silent', 'secrets.passwordHashLog2N': 10 } }));
    await server.close();
  });
});

describe('legacy /registry/v3 routes', () => {
  it('serve the same API with the project fixed to default and X-Tenant-Name before X-Domain-Name', async (t) => {
    const srv = await startServer(t);
    const v3 = new RegistryClient(srv.url, { 'X-Tenant-Name': 'legacy' }, '/registry/v3');
    const name = uniq();
    const sid = await v3.createService({ appId: 'app', serviceName: name });
    await v3.register(sid);
    assert.equal((await v3.find({ appId: 'app', serviceName: name })).body.instances!.length, 1);
    const v4 = new RegistryClient(srv.url, { 'X-Domain-Name': 'legacy' }, '/v4/default/registry');
    assert.equal((await v4.req('GET', `/microservices/${sid}`)).body.service.serviceName, name, 'same tenant legacy/default');
    assertError(await new RegistryClient(srv.url, {}, '/v4/default/registry').req('GET', `/microservices/${sid}`), 400, '400012');
  });
});

describe('repeated query parameters', () => {
  it('use the first value, as Go does', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const sid = await c.createService({ appId: 'app', serviceName: name });
    await c.register(sid);
    const r = await c.req('GET', `/instances?appId=app&appId=other&serviceName=${name}&serviceName=x`);
    assert.equal(r.status, 200);
    assert.equal(r.body.instances.length, 1);
  });
});
