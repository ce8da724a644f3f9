import { sql, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import type { Executor } from './db/kysely.js';
import type { Database } from './db/schema.js';
import type { Logger } from './log.js';

/**
 * The change feed (DESIGN.md "Storage and several servers"). Every write that an in-memory
 * view depends on runs through `write`: the changes it emits are committed with it and then
 * published on the local Bus, in commit order, on every server — the writer included — so
 * the views (registry index, Kie index and waiters, IAM maps, caches, …) are kept by Bus
 * subscribers and never by the writer alone.
 *
 * - SQLite (one server): `LocalFeed` publishes right after the commit; nothing is stored.
 * - PostgreSQL: `PgFeed` appends one `core_changes` row per transaction, numbered by the
 *   `core_feed` counter row (so `seq` order is commit order, without gaps), and NOTIFYs
 *   `openstage_feed` in the same transaction (the changes themselves ride along when they
 *   fit in a notification). Each server LISTENs, applies rows strictly in `seq` order and
 *   catches up from the table after a gap, a reconnect or a missed notification. After
 *   applying, a server acknowledges (`openstage_ack`); `replicated(seq)` waits for the
 *   acknowledgements of the live peers, so an answered write is served by every server.
 */

/** Collects the changes of a `write`: published on every server once committed. */
export interface Changes<E> {
  emit<K extends keyof E & string>(topic: K, data: E[K]): void;
}

/** A change as stored: a Bus topic and its JSON-safe payload. */
interface Change {
  topic: string;
  data: unknown;
}

function collector<E>(into: Change[]): Changes<E> {
  return { emit: (topic, data) => void into.push({ topic, data }) };
}

/** What every area writes through. */
export interface ChangeFeed<E extends Record<string, unknown>> {
  /** True on PostgreSQL, where several servers may share the database. */
  readonly clustered: boolean;
  /**
   * Runs `fn` in one transaction; the changes it emits are committed with it and published
   * (on the local Bus, in commit order) before this resolves — on this server; other
   * servers follow within milliseconds (see `replicated`).
   * @param options.oneStatement `fn` runs a single statement: on SQLite it then runs
   *   without a transaction of its own (the single-server path stays as cheap as before)
   * @throws what `fn` or the commit throws (nothing is published then)
   */
  write<T>(fn: (trx: Executor, changes: Changes<E>) => Promise<T>, options?: { oneStatement?: boolean }): Promise<T>;
  /** Resolves once every change committed before the call has been applied here. */
  sync(): Promise<void>;
  /**
   * Resolves once every live peer applied the changes this server committed so far, or
   * after `cluster.replicationWaitMs` (a peer that misses it is not waited for again until
   * it has caught up). Immediate on SQLite.
   */
  replicated(): Promise<void>;
  /** True while this server committed changes that some live peer has not acknowledged. */
  replicating(): boolean;
}

/** The single-server feed: a transaction, then the changes on the Bus. */
export class LocalFeed<E extends Record<string, unknown>> implements ChangeFeed<E> {
  readonly clustered = false;

  constructor(
    private readonly kysely: Kysely<Database>,
    private readonly bus: Bus<E>,
  ) {}

  async write<T>(fn: (trx: Executor, changes: Changes<E>) => Promise<T>, options?: { oneStatement?: boolean }): Promise<T> {
    const emitted: Change[] = [];
    const changes = collector<E>(emitted);
    const result = options?.oneStatement ? await fn(this.kysely, changes) : await this.kysely.transaction().execute((trx) => fn(trx, changes));
    for (const c of emitted) this.bus.publish(c.topic as keyof E & string, c.data as E[keyof E & string]);
    return result;
  }

  async sync(): Promise<void> {}

  async replicated(): Promise<void> {}

  replicating(): boolean {
    return false;
  }
}

/** Settings of the PostgreSQL feed. */
export interface PgFeedOptions {
  kysely: Kysely<Database>;
  /** postgres:// URL for the LISTEN connection. */
  url: string;
  log: Logger;
  clock: Clock;
  /** This server's id (the `origin` of its rows and the sender of its acknowledgements). */
  serverId: () => string;
  /** Longest a write waits for the peers' acknowledgements, milliseconds. */
  replicationWaitMs: number;
  /** Period of the safety catch-up (a missed notification is found within it), milliseconds. */
  checkPeriodMs?: number;
  /** Called when the feed cannot go on (this server fell behind the retained log). */
  onFatal: (err: Error) => void;
}

const FEED_CHANNEL = 'openstage_feed';
const ACK_CHANNEL = 'openstage_ack';
/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more. */
const MAX_INLINE_BYTES = 7_800;
const PAGE = 500;

interface ReplicaWait {
  seq: number;
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/** The PostgreSQL feed (see the file comment). */
export class PgFeed<E extends Record<string, unknown>> implements ChangeFeed<E> {
  readonly clustered = true;
  /** Last seq published on this server. */
  private applied = 0;
  /** Highest seq this server committed. */
  private committed = 0;
  private started = false;
  private closed = false;
  private listener?: pg.Client;
  private reconnecting?: NodeJS.Timeout;
  private checkTimer?: NodeJS.Timeout;
  /** Changes known before their turn: this server's own commits, notification payloads. */
  private readonly early = new Map<number, Change[]>();
  private readonly waiting: { seq: number; resolve: () => void }[] = [];
  private catching?: Promise<void>;
  private again = false;
  private retryTimer?: NodeJS.Timeout;
  // replication
  private peers = new Set<string>();
  private readonly acks = new Map<string, number>();
  /** Peers that missed a wait, with the seq they must reach to be waited for again. */
  private readonly lagging = new Map<string, number>();
  private readonly replicaWaits = new Set<ReplicaWait>();
  private acking = false;
  private ackSent = 0;

  constructor(
    private readonly bus: Bus<E>,
    private readonly options: PgFeedOptions,
  ) {}

  /**
   * Starts listening, then loads every view from one snapshot (`load` gets a REPEATABLE
   * READ transaction that also reads the log position), then applies what was committed
   * since. @throws when PostgreSQL cannot be reached or `load` fails
   */
  async open(load: (snapshot: Executor) => Promise<void>): Promise<void> {
    this.listener = await this.connect();
    await this.options.kysely
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const row = await trx.selectFrom('core_feed').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
        this.applied = Number(row.seq);
        await load(trx);
      });
    this.started = true;
    for (const seq of this.early.keys()) if (seq <= this.applied) this.early.delete(seq);
    await this.catchUp();
    this.checkTimer = setInterval(() => void this.catchUp(), this.options.checkPeriodMs ?? 5_000);
    this.checkTimer.unref();
  }

  /** Stops listening; waits for nothing else. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checkTimer);
    clearTimeout(this.reconnecting);
    clearTimeout(this.retryTimer);
    for (const w of this.replicaWaits) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.replicaWaits.clear();
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Position of this server in the log (the last seq applied). */
  position(): number {
    return this.applied;
  }

  async write<T>(fn: (trx: Executor, changes: Changes<E>) => Promise<T>): Promise<T> {
    const emitted: Change[] = [];
    const { result, seq } = await this.options.kysely.transaction().execute(async (trx) => {
      const result = await fn(trx, collector<E>(emitted));
      return { result, seq: emitted.length > 0 ? await this.append(trx, emitted) : 0 };
    });
    if (seq > 0) {
      this.committed = Math.max(this.committed, seq);
      await this.publishThrough(seq, emitted);
    }
    return result;
  }

  sync(): Promise<void> {
    return this.catchUp();
  }

  replicated(): Promise<void> {
    const seq = this.committed;
    if (this.behind(seq).length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wait: ReplicaWait = {
        seq,
        resolve,
        timer: setTimeout(() => {
          this.replicaWaits.delete(wait);
          const late = this.behind(seq);
          for (const peer of late) this.lagging.set(peer, seq);
          if (late.length > 0) this.options.log.warn({ peers: late, seq }, 'peers did not apply a change in time; not waiting for them until they catch up');
          resolve();
        }, this.options.replicationWaitMs),
      };
      this.replicaWaits.add(wait);
    });
  }

  replicating(): boolean {
    return this.behind(this.committed).length > 0;
  }

  /** The live servers other than this one (from the cluster's membership). */
  setPeers(ids: Iterable<string>): void {
    this.peers = new Set(ids);
    for (const id of [...this.acks.keys()]) if (!this.peers.has(id)) this.acks.delete(id);
    for (const id of [...this.lagging.keys()]) if (!this.peers.has(id)) this.lagging.delete(id);
    this.settleReplicaWaits();
  }

  /** Appends the transaction's changes to the log; the NOTIFY is sent on commit. @returns the seq */
  private async append(trx: Transaction<Database>, changes: Change[]): Promise<number> {
    const json = JSON.stringify(changes);
    const inline = Buffer.byteLength(json) <= MAX_INLINE_BYTES;
    const r = await sql<{ seq: string }>`
      WITH s AS (UPDATE core_feed SET seq = seq + 1 WHERE id = 1 RETURNING seq),
      i AS (INSERT INTO core_changes (seq, origin, changes, created_at_ms) SELECT seq, ${this.options.serverId()}, ${json}, ${this.options.clock.now()} FROM s RETURNING seq, changes)
      SELECT seq, pg_notify(${FEED_CHANNEL}, CASE WHEN ${inline} THEN seq::text || ' ' || changes ELSE seq::text END) AS sent FROM i`.execute(trx);
    return Number(r.rows[0]!.seq);
  }

  /** Publishes this server's own commit `seq` (and whatever precedes it) before returning. */
  private async publishThrough(seq: number, changes: Change[]): Promise<void> {
    if (seq <= this.applied) return;
    this.early.set(seq, changes);
    this.drain();
    if (this.applied >= seq) return;
    const applied = new Promise<void>((resolve) => this.waiting.push({ seq, resolve }));
    void this.catchUp();
    await applied;
  }

  private onNotification(msg: pg.Notification): void {
    const payload = msg.payload ?? '';
    if (msg.channel === ACK_CHANNEL) {
      const [id, seqText] = payload.split(' ');
      const seq = Number(seqText);
      if (!id || !Number.isFinite(seq)) return;
      if (seq > (this.acks.get(id) ?? 0)) this.acks.set(id, seq);
      const mark = this.lagging.get(id);
      if (mark !== undefined && seq >= mark) this.lagging.delete(id);
      this.settleReplicaWaits();
      return;
    }
    const space = payload.indexOf(' ');
    const seq = Number(space < 0 ? payload : payload.slice(0, space));
    if (!Number.isFinite(seq) || seq <= this.applied) return;
    if (space >= 0 && !this.early.has(seq)) {
      try {
        this.early.set(seq, JSON.parse(payload.slice(space + 1)) as Change[]);
      } catch {
        /* read from the table instead */
      }
    }
    if (!this.started) return;
    this.drain();
    if (seq > this.applied) void this.catchUp();
  }

  /** Publishes the known changes that are next in line. */
  private drain(): void {
    if (!this.started) return;
    for (let next = this.early.get(this.applied + 1); next; next = this.early.get(this.applied + 1)) {
      this.early.delete(this.applied + 1);
      this.publish(this.applied + 1, next);
    }
  }

  private publish(seq: number, changes: Change[]): void {
    this.applied = seq;
    for (const c of changes) this.bus.publish(c.topic as keyof E & string, c.data as E[keyof E & string]);
    if (this.waiting.length > 0) {
      const done = this.waiting.filter((w) => w.seq <= seq);
      if (done.length > 0) {
        this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((w) => w.seq > seq));
        for (const w of done) w.resolve();
      }
    }
    this.sendAck();
  }

  /**
   * Reads and publishes every row after the last applied one. One query runs at a time; a
   * call made while one runs makes it look once more, so a catch-up always covers what was
   * committed before it was asked for. Failures are retried every 500 ms.
   */
  private catchUp(): Promise<void> {
    if (!this.started || this.closed) return Promise.resolve();
    if (this.catching) {
      this.again = true;
      return this.catching;
    }
    this.catching = (async () => {
      do {
        this.again = false;
        for (;;) {
          const rows = await this.options.kysely.selectFrom('core_changes').select(['seq', 'changes']).where('seq', '>', this.applied).orderBy('seq').limit(PAGE).execute();
          for (const row of rows) {
            const seq = Number(row.seq);
            if (seq <= this.applied) continue;
            if (seq !== this.applied + 1) {
              throw new FeedGapError(`the change log no longer holds changes ${this.applied + 1}–${seq - 1} (pruned while this server was away); restart it to reload its views`);
            }
            const changes = this.early.get(seq) ?? (JSON.parse(row.changes) as Change[]);
            this.early.delete(seq);
            this.publish(seq, changes);
          }
          this.drain();
          if (rows.length < PAGE) break;
        }
      } while (this.again);
    })()
      .catch((err: unknown) => {
        if (err instanceof FeedGapError) {
          this.closed = true;
          this.options.onFatal(err);
          return;
        }
        this.options.log.warn({ err }, 'change feed catch-up failed; retrying');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => void this.catchUp(), 500);
        this.retryTimer.unref();
      })
      .finally(() => {
        this.catching = undefined;
      });
    return this.catching;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.url, keepAlive: true, application_name: 'openstage-feed' });
    client.on('notification', (msg) => this.onNotification(msg));
    client.on('error', (err) => {
      if (!this.closed) this.options.log.warn({ err }, 'change feed connection failed');
      this.dropped(client);
    });
    client.on('end', () => this.dropped(client));
    await client.connect();
    await client.query(`LISTEN ${FEED_CHANNEL}; LISTEN ${ACK_CHANNEL}`);
    return client;
  }

  /** The LISTEN connection is gone: reconnect with a 1 s back-off, then catch up. */
  private dropped(client: pg.Client): void {
    if (this.listener !== client || this.closed) return;
    this.listener = undefined;
    client.end().catch(() => undefined);
    const retry = (): void => {
      this.reconnecting = setTimeout(() => {
        if (this.closed) return;
        this.connect().then(
          (fresh) => {
            if (this.closed) {
              fresh.end().catch(() => undefined);
              return;
            }
            this.listener = fresh;
            this.options.log.info('change feed reconnected');
            this.ackSent = 0;
            void this.catchUp();
            this.sendAck();
          },
          () => retry(),
        );
      }, 1_000);
      this.reconnecting.unref();
    };
    retry();
  }

  /** Tells the peers how far this server has applied (one notification in flight at a time). */
  private sendAck(): void {
    const client = this.listener;
    if (this.acking || !client || this.ackSent >= this.applied) return;
    this.acking = true;
    const seq = this.applied;
    client.query('SELECT pg_notify($1, $2)', [ACK_CHANNEL, `${this.options.serverId()} ${seq}`]).then(
      () => {
        this.ackSent = Math.max(this.ackSent, seq);
        this.acking = false;
        this.sendAck();
      },
      () => {
        this.acking = false;
      },
    );
  }

  /** Live peers that have not acknowledged `seq` and are waited for. */
  private behind(seq: number): string[] {
    const out: string[] = [];
    for (const peer of this.peers) {
      const acked = this.acks.get(peer) ?? 0;
      if (acked >= seq) continue;
      const mark = this.lagging.get(peer);
      if (mark !== undefined && acked < mark) continue;
      out.push(peer);
    }
    return out;
  }

  private settleReplicaWaits(): void {
    for (const w of this.replicaWaits) {
      if (this.behind(w.seq).length > 0) continue;
      clearTimeout(w.timer);
      this.replicaWaits.delete(w);
      w.resolve();
    }
  }
}

/** This server missed changes that are no longer in the log. */
export class FeedGapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedGapError';
  }
}
