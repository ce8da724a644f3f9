import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliFixture, killHard, startCli } from '../helpers/cli.js';
import { KieClient, revisionOf, type Kv } from '../helpers/kie-client.js';
import { until } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

describe('restart', () => {
  it('keeps kvs, history and the revision; the next write continues the counter', async (t) => {
    let srv = await startServer(t, { auth: 'none' }); // the import below sits behind the IAM check
    const c = new KieClient(srv.url, 'restartproj');
    const a = await c.create({ key: 'a', value: 'v1', labels: { app: 'x' }, priority: 1 });
    await c.update(a.id, { value: 'v2', status: 'enabled' });
    const b = await c.create({ key: 'b', value: 'v' });
    await c.req('DELETE', `/kv/${b.id}`);
    await c.req('POST', '/file', { data: [{ key: 'c', value: 'imported', labels: { app: 'x' } }] });
    const before = await c.list();
    assert.equal(revisionOf(before), 5);
    srv = await srv.restart();
    const c2 = new KieClient(srv.url, 'restartproj');
    const after = await c2.list();
    assert.equal(revisionOf(after), 5);
    assert.deepEqual(after.body, before.body);
    assert.equal((await c2.req('GET', `/revision/${a.id}`)).body.total, 2);
    const d = await c2.create({ key: 'd', value: 'v' });
    assert.equal(d.create_revision, 6);
    assert.equal((await c2.list({ label: 'app:x', revision: '6' })).status, 304);
  });
});

describe('SIGKILL', () => {
  it('loses no acknowledged write and the revision never goes backwards', async (t) => {
    const f = await cliFixture(t);
    let child = await startCli(f.port, f.dataDir, f.db, '/v1/health');
    f.children.push(child);
    const c = new KieClient(`http://127.0.0.1:${f.port}`, 'crashproj');
    const acked = new Map<string, Kv>();
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        try {
          const i = n++;
          const r = await c.req<Kv>('POST', '/kv', { key: `k${i}`, value: 'v0', labels: { app: 'crash' } });
          if (r.status !== 200) continue;
          acked.set(r.body.id, r.body);
          const u = await c.req<Kv>('PUT', `/kv/${r.body.id}`, { value: 'v1' });
          if (u.status === 200) acked.set(u.body.id, u.body);
        } catch {
          // connection refused once the server is killed
        }
      }
    })();
    await until(() => acked.size >= 30, 30_000);
    await killHard(child);
    stop = true;
    await writer;
    const maxRevision = Math.max(...[...acked.values()].map((k) => k.update_revision));

    child = await startCli(f.port, f.dataDir, f.db, '/v1/health');
    f.children.push(child);
    const list = await c.list({ label: 'app:crash' });
    assert.ok(revisionOf(list) >= maxRevision, `revision ${revisionOf(list)} ≥ ${maxRevision}`);
    const byId = new Map(list.body.data.map((k) => [k.id, k]));
    for (const kv of acked.values()) {
      const got = byId.get(kv.id);
      assert.ok(got, `kv ${kv.key} acknowledged before the crash`);
      assert.ok(got.update_revision >= kv.update_revision);
      if (kv.value === 'v1') assert.equal(got.value, 'v1');
    }
    const next = await c.create({ key: 'after', value: 'v' });
    assert.ok(next.create_revision > revisionOf(list));
    await killHard(child);
  });
});
