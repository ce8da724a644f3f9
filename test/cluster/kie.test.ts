// Several servers on one PostgreSQL database: the config center (issue #16). PostgreSQL only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTERED, startCluster } from '../helpers/cluster.js';
import { KieClient, revisionOf } from '../helpers/kie-client.js';
import { uniq } from '../helpers/registry-client.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';

/** True once `check` holds (polled for up to 5 s of real time), false when it never did. */
async function eventuallyHeld(check: () => boolean): Promise<boolean> {
  const until = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('config center on three servers', { skip }, () => {
  it('takes revisions from one sequence: strictly increasing and never reused, whichever server writes', async (t) => {
    const { members } = await startCluster(t, 3);
    const project = uniq('proj');
    const clients = members.map((m) => new KieClient(m.url, project));
    const kvs = await Promise.all(clients.map((c, i) => c.create({ key: `k${i}`, value: 'v0', labels: { app: 'a' } })));
    const revisions: number[] = kvs.map((k) => k.update_revision);
    // Concurrent updates through every server.
    await Promise.all(
      clients.map(async (c, i) => {
        for (let n = 1; n <= 15; n++) revisions.push((await c.update(kvs[i]!.id, { value: `v${n}` })).update_revision);
      }),
    );
    assert.equal(new Set(revisions).size, revisions.length, 'no revision used twice');
    assert.deepEqual([...revisions].sort((x, y) => x - y), Array.from({ length: 48 }, (_, i) => i + 1), 'one revision per write, no gap');
    for (const c of clients) {
      const list = await c.list();
      assert.equal(revisionOf(list), 48, 'every server is at the last revision');
      assert.deepEqual(list.body.data.map((k) => k.value).sort(), ['v15', 'v15', 'v15']);
    }
    // A key created through one server exists for the others: 409, not 500.
    const dup = await clients[1]!.req('POST', '/kv', { key: 'k0', value: 'x', labels: { app: 'a' } });
    assert.equal(dup.status, 409);
  });

  it('wakes a long poll held on one server for a change written on another', async (t) => {
    const { members } = await startCluster(t, 2);
    const project = uniq('proj');
    const [a, b] = members.map((m) => new KieClient(m.url, project)) as [KieClient, KieClient];
    const kv = await a.create({ key: 'greeting', value: 'hello', labels: { app: 'shop', service: 'orders' } });
    const rev = revisionOf(await b.list({ label: 'app:shop' }));
    for (let n = 1; n <= 10; n++) {
      const held = b.list({ label: 'app:shop', revision: String(rev + n - 1), wait: '30s' });
      await new Promise((r) => setTimeout(r, 50));
      await a.update(kv.id, { value: `v${n}` });
      const woken = await held;
      assert.equal(woken.status, 200, `poll ${n} woken`);
      assert.equal(revisionOf(woken), rev + n);
      assert.equal(woken.body.data[0]!.value, `v${n}`, 'the woken poll lists the new value');
    }
  });

  it('holds the polls of a client that moves between servers', async (t) => {
    const { members, clock } = await startCluster(t, 3);
    const project = uniq('proj');
    const clients = members.map((m) => new KieClient(m.url, project));
    await clients[0]!.create({ key: 'k', value: 'v', labels: { app: 'x' } });
    let rev = revisionOf(await clients[0]!.list({ label: 'app:x' }));
    for (let i = 0; i < 6; i++) {
      // Each poll goes to the next server with the revision the previous one answered.
      const server = members[i % 3]!.server;
      const poll = clients[i % 3]!.list({ label: 'app:x', revision: String(rev), wait: '10s' });
      const held = await eventuallyHeld(() => server.kie.heldPolls() === 1);
      clock.advance(10_000);
      const r = await poll;
      assert.ok(held, `poll ${i} on server ${i % 3} is held`);
      assert.equal(r.status, 304, `poll ${i} on server ${i % 3} is answered unchanged`);
      rev = revisionOf(r);
    }
  });
});
