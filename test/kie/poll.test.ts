import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import type { Reply } from '../helpers/registry-client.js';
import { until } from '../helpers/registry-client.js';
import { KieClient, queryString, revisionOf } from '../helpers/kie-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Starts a list request in the background on its own connection (node:http, no keep-alive),
 * so that an abort really closes the socket; `settled` tells whether it has answered.
 */
function background(c: KieClient, query: Record<string, string | string[]>, signal?: AbortSignal): { reply: Promise<Reply<any>>; settled: () => boolean } {
  let done = false;
  const reply = new Promise<Reply<any>>((resolve, reject) => {
    const req = http.get(`${c.base}${c.prefix}/kv${queryString(query)}`, { agent: false, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        done = true;
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers, text, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', (err) => {
      done = true;
      reject(err);
    });
  });
  reply.catch(() => undefined);
  return { reply, settled: () => done };
}

const held = (srv: TestServer): number => srv.server.kie.heldPolls();

describe('GET /v1/{project}/kie/kv (revision)', () => {
  it('answers 200 with X-Kie-Revision without revision; 304 for the latest; 200 at once for an older or newer one', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    assert.equal((await c.list({ revision: '0' })).status, 304, 'revision 0 on an empty domain is current');
    await c.create({ key: 'k', value: 'v' });
    await c.create({ key: 'k2', value: 'v' });
    const plain = await c.list();
    assert.equal(plain.status, 200);
    assert.equal(revisionOf(plain), 2);
    const same = await c.list({ revision: '2' });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal(revisionOf(same), 2);
    for (const revision of ['1', '7', '-1']) {
      const r = await c.list({ revision, wait: '30s' });
      assert.equal(r.status, 200, `revision ${revision}`);
      assert.equal(r.body.total, 2);
      assert.equal(revisionOf(r), 2);
    }
    assert.equal(held(srv), 0);
  });
});

describe('GET /v1/{project}/kie/kv (long poll)', () => {
  it('holds a poll at the latest revision until a matching change, then answers 200 with the new revision and value', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v1', labels: { app: 'shop' } });
    const poll = background(c, { label: 'app:shop', revision: '1', wait: '30s' });
    await until(() => held(srv) === 1);
    await c.update(kv.id, { value: 'v2' });
    const r = await poll.reply;
    assert.equal(r.status, 200);
    assert.equal(revisionOf(r), 2);
    assert.equal(r.body.data[0].value, 'v2');
    assert.equal((await c.list({ label: 'app:shop' })).body.data[0].value, 'v2', 'the next list shows the new value');
    assert.equal(held(srv), 0);
    assert.equal(srv.clock.pendingTimers(), 0, 'the timeout timer is gone');
  });

  it('answers 304 on timeout, a little before the wait expires', async (t) => {
    const srv = await startServer(t, { 'kie.pollEarlyReplyMs': 1000 });
    const c = new KieClient(srv.url);
    await c.create({ key: 'k', value: 'v' });
    const poll = background(c, { revision: '1', wait: '10s' });
    await until(() => held(srv) === 1);
    srv.clock.advance(8999);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(poll.settled(), false, 'still held at 8.999 s');
    srv.clock.advance(1);
    const r = await poll.reply;
    assert.equal(r.status, 304);
    assert.equal(revisionOf(r), 1);
    assert.equal(held(srv), 0);
  });

  it('holds a poll with wait and no revision, then 304 on timeout (short waits end 10% early)', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const poll = background(c, { wait: '2s' });
    await until(() => held(srv) === 1);
    srv.clock.advance(1799);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(poll.settled(), false);
    srv.clock.advance(1);
    assert.equal((await poll.reply).status, 304);
  });

  it('wakes exactly the waiters a change matches: project, contained labels, exact label set', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const other = new KieClient(srv.url);
    const base = await c.create({ key: 'seed', value: 'v' });
    void base;
    const polls = {
      shop: background(c, { label: 'app:shop', revision: '1', wait: '60s' }),
      shopOrders: background(c, { label: ['app:shop', 'service:orders'], revision: '1', wait: '60s' }),
      shopExact: background(c, { label: 'app:shop', match: 'exact', revision: '1', wait: '60s' }),
      bank: background(c, { label: 'app:bank', revision: '1', wait: '60s' }),
      all: background(c, { revision: '1', wait: '60s' }),
      otherProject: background(other, { label: 'app:shop', revision: '1', wait: '60s' }),
    };
    await until(() => held(srv) === 6);
    await c.create({ key: 'k', value: 'v', labels: { app: 'shop', service: 'orders' } });
    for (const name of ['shop', 'shopOrders', 'all'] as const) {
      const r = await polls[name].reply;
      assert.equal(r.status, 200, name);
      assert.equal(revisionOf(r), 2, name);
    }
    await until(() => held(srv) === 3);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(polls.shopExact.settled(), false, 'exact waiter for {app:shop} is not woken by {app:shop,service:orders}');
    assert.equal(polls.bank.settled(), false);
    assert.equal(polls.otherProject.settled(), false, 'another project is not woken');
    await c.create({ key: 'k2', value: 'v', labels: { app: 'shop' } });
    assert.equal((await polls.shopExact.reply).status, 200);
    await until(() => held(srv) === 2);
    assert.equal(polls.bank.settled(), false);
    srv.clock.advance(60_000);
    assert.equal((await polls.bank.reply).status, 304);
    assert.equal((await polls.otherProject.reply).status, 304);
  });

  it('is woken by a delete and by a batch delete', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const a = await c.create({ key: 'a', value: 'v', labels: { app: 'x' } });
    const b = await c.create({ key: 'b', value: 'v', labels: { app: 'y' } });
    let poll = background(c, { label: 'app:x', revision: '2', wait: '30s' });
    await until(() => held(srv) === 1);
    await c.req('DELETE', `/kv/${a.id}`);
    let r = await poll.reply;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { total: 0, data: [] });
    assert.equal(revisionOf(r), 3);
    poll = background(c, { label: 'app:y', revision: '3', wait: '30s' });
    await until(() => held(srv) === 1);
    await c.req('DELETE', '/kv', { ids: [b.id] });
    r = await poll.reply;
    assert.equal(r.status, 200);
    assert.equal(revisionOf(r), 4);
  });

  it('removes the waiter and its timer when the client disconnects', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const ctrl = new AbortController();
    const poll = background(c, { revision: '0', wait: '60s' }, ctrl.signal);
    await until(() => held(srv) === 1);
    ctrl.abort();
    await poll.reply.catch(() => undefined);
    await until(() => held(srv) === 0);
    assert.equal(srv.clock.pendingTimers(), 0);
  });

  it('answers held polls with 304 when the server stops', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const poll = background(c, { revision: '0', wait: '60s' });
    await until(() => held(srv) === 1);
    const restarted = await srv.restart();
    assert.equal((await poll.reply).status, 304);
    assert.equal(restarted.server.kie.heldPolls(), 0);
  });

  it('never leaks waiters: 10,000 polls that timed out or whose clients left hold nothing, and a PUT is as fast as before', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v', labels: { app: 'leak' } });
    const timePuts = async (n: number): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const start = performance.now();
        await c.update(kv.id, { value: `v${i}` });
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
    };
    const before = await timePuts(20);
    const BATCH = 1000;
    for (let round = 0; round < 10; round++) {
      const revision = String(revisionOf(await c.list()));
      const ctrl = new AbortController();
      const polls = Array.from({ length: BATCH }, (_, i) => background(c, { label: [`app:leak${i % 50}`], revision, wait: '60s' }, round % 2 ? ctrl.signal : undefined));
      await until(() => held(srv) === BATCH, 20_000);
      if (round % 2) ctrl.abort();
      else srv.clock.advance(60_000);
      await Promise.all(polls.map((p) => p.reply.catch(() => undefined)));
      await until(() => held(srv) === 0, 20_000);
    }
    assert.equal(srv.clock.pendingTimers(), 0);
    const after = await timePuts(20);
    assert.ok(after < before * 3 + 5, `median PUT ${after.toFixed(2)} ms after vs ${before.toFixed(2)} ms before`);
  });
});
