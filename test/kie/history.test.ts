import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { KieClient } from '../helpers/kie-client.js';
import { startServer } from '../helpers/server.js';

describe('GET /v1/{project}/kie/revision/{kv_id}', () => {
  it('lists every version newest first, one per create and update, with paging', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v1', labels: { app: 'a' } });
    await c.update(kv.id, { value: 'v2' });
    await c.update(kv.id, { status: 'enabled' });
    const r = await c.req('GET', `/revision/${kv.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 3);
    assert.deepEqual(r.body.data.map((d: { value: string; status: string; update_revision: number }) => [d.value, d.status, d.update_revision]), [
      ['v2', 'enabled', 3],
      ['v2', 'disabled', 2],
      ['v1', 'disabled', 1],
    ]);
    assert.deepEqual(r.body.data[2], kv, 'the first version is the created document');
    const page = await c.req('GET', `/revision/${kv.id}?offset=1&limit=1`);
    assert.equal(page.body.total, 3);
    assert.equal(page.body.data.length, 1);
    assert.equal(page.body.data[0].update_revision, 2);
  });

  it('returns 404001 for an unknown or deleted kv', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    assertError(await c.req('GET', '/revision/nope'), 404, '404001');
    const kv = await c.create({ key: 'k', value: 'v' });
    await c.req('DELETE', `/kv/${kv.id}`);
    assertError(await c.req('GET', `/revision/${kv.id}`), 404, '404001');
  });

  it('keeps at most kie.historyPerKv versions', async (t) => {
    const srv = await startServer(t, { 'kie.historyPerKv': 3 });
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v0' });
    for (let i = 1; i <= 5; i++) await c.update(kv.id, { value: `v${i}` });
    const r = await c.req('GET', `/revision/${kv.id}`);
    assert.equal(r.body.total, 3);
    assert.deepEqual(r.body.data.map((d: { value: string }) => d.value), ['v5', 'v4', 'v3']);
  });
});

describe('rollback', () => {
  it('rolling back to the first version writes it as a new version and never deletes the kv', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'first', value_type: 'yaml', labels: { app: 'a' } });
    await c.update(kv.id, { value: 'second', status: 'enabled' });
    const versions = (await c.req('GET', `/revision/${kv.id}`)).body.data as { value: string; status: string }[];
    const first = versions[versions.length - 1]!;
    const rolled = await c.update(kv.id, { value: first.value, status: first.status });
    assert.equal(rolled.id, kv.id);
    assert.equal(rolled.value, 'first');
    assert.equal(rolled.status, 'disabled');
    assert.equal(rolled.value_type, 'yaml');
    assert.deepEqual(rolled.labels, { app: 'a' });
    assert.equal(rolled.update_revision, 3);
    assert.equal(rolled.create_revision, kv.create_revision);
    assert.equal((await c.req('GET', `/kv/${kv.id}`)).status, 200);
    const after = await c.req('GET', `/revision/${kv.id}`);
    assert.equal(after.body.total, 3);
    assert.equal(after.body.data[0].value, 'first');
  });
});
