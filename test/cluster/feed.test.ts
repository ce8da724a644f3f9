// The change feed on PostgreSQL (src/core/feed.ts): order, catch-up, acknowledgements.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { Bus } from '../../src/core/bus.js';
import { systemClock } from '../../src/core/clock.js';
import { openDatabase, type Db } from '../../src/core/db/kysely.js';
import { PgFeed } from '../../src/core/feed.js';
import { CLUSTERED, eventually } from '../helpers/cluster.js';
import { freshDatabase } from '../helpers/server.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';
const log = pino({ level: 'silent' });

interface Events {
  'test.thing.written': { from: string; n: number };
  [key: string]: unknown;
}

interface Node {
  id: string;
  db: Db;
  feed: PgFeed<Events>;
  seen: { from: string; n: number }[];
}

/** `count` feeds on one fresh database, each with its own connection pool and Bus. */
async function feeds(t: TestContext, count: number, replicationWaitMs = 2000): Promise<Node[]> {
  const { db: url, drop } = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'openstage-feed-'));
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const db = await openDatabase(url, dir, log);
    const bus = new Bus<Events>();
    const id = `node${i}`;
    const feed = new PgFeed<Events>(bus, { kysely: db.kysely, url, log, clock: systemClock, serverId: () => id, replicationWaitMs, checkPeriodMs: 60_000, onFatal: (err) => assert.fail(err) });
    const node: Node = { id, db, feed, seen: [] };
    bus.subscribe('test.thing.written', (e) => void node.seen.push(e));
    await feed.open(async () => undefined);
    nodes.push(node);
  }
  t.after(async () => {
    for (const n of nodes) {
      await n.feed.close();
      await n.db.close();
    }
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });
  return nodes;
}

const write = (node: Node, n: number): Promise<void> => node.feed.write(async (_trx, changes) => changes.emit('test.thing.written', { from: node.id, n }));

describe('the change feed on PostgreSQL', { skip }, () => {
  it('applies every change once, in the same order on every server, the writer seeing its own at once', async (t) => {
    const [a, b, c] = (await feeds(t, 3)) as [Node, Node, Node];
    await Promise.all(
      [a, b].map(async (node) => {
        for (let n = 0; n < 40; n++) {
          await write(node, n);
          assert.ok(node.seen.some((e) => e.from === node.id && e.n === n), 'published here before write() returns');
        }
      }),
    );
    await eventually(() => [a, b, c].every((x) => x.seen.length === 80), 10_000, 'every change everywhere');
    assert.deepEqual(b.seen, a.seen, 'one order');
    assert.deepEqual(c.seen, a.seen, 'one order');
    for (const from of [a.id, b.id]) assert.deepEqual(a.seen.filter((e) => e.from === from).map((e) => e.n), Array.from({ length: 40 }, (_, i) => i));
  });

  it('catches up from the log after its connection was cut', async (t) => {
    const [a, b] = (await feeds(t, 2)) as [Node, Node];
    await write(a, 0);
    await eventually(() => b.seen.length === 1, 5_000, 'the first change');
    // Cut the feed connections of the database (PostgreSQL ends them); A's writes go on.
    const admin = new pg.Client({ connectionString: process.env.OPENSTAGE_TEST_PG_URL });
    await admin.connect();
    const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [new URL(b.db.url).pathname.slice(1), 'openstage-feed']);
    await admin.end();
    assert.equal(cut.rowCount, 2, 'both feeds listened on connections of their own');
    for (let n = 1; n <= 10; n++) await write(a, n);
    await eventually(() => b.seen.length === 11, 15_000, 'the changes written while B was away');
    assert.deepEqual(b.seen.map((e) => e.n), Array.from({ length: 11 }, (_, i) => i));
  });

  it('waits for the live peers to apply a write, and not again for one that missed a wait', async (t) => {
    const [a, b] = (await feeds(t, 2, 600)) as [Node, Node];
    a.feed.setPeers([b.id]);
    await write(a, 1);
    await a.feed.replicated();
    assert.equal(b.seen.length, 1, 'B applied it before replicated() resolved');
    a.feed.setPeers([b.id, 'gone']);
    await write(a, 2);
    const started = Date.now();
    await a.feed.replicated();
    assert.ok(Date.now() - started >= 500, 'a peer that never answers is waited for up to replicationWaitMs');
    await write(a, 3);
    const again = Date.now();
    await a.feed.replicated();
    assert.ok(Date.now() - again < 500, 'and not again once it missed a wait');
    assert.equal(b.seen.length, 3);
  });
});
