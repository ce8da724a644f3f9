import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import type { Cluster, LiveServer } from './cluster.js';
import * as clusterSql from './cluster-sql.js';
import type { Db, Executor } from './db/kysely.js';
import type { ChangeFeed } from './feed.js';
import type { Logger } from './log.js';

/** Feed changes of the ownership table. */
export interface OwnershipEvents {
  /** A resource of a dead server was given to `to` (fence: its new fencing number). */
  'core.owner.moved': { kind: string; id: string; from: string; to: string; fence: number };
  [key: string]: unknown;
}

/** Dependencies of Ownership, built in server.ts. */
export interface OwnershipDeps {
  db: Db;
  feed: ChangeFeed<OwnershipEvents>;
  bus: Bus<OwnershipEvents>;
  cluster: Cluster;
  /** Real time: leases are about the servers' lives, not the injectable clock of tests. */
  clock: Clock;
  log: Logger;
  /** A server's lease, seconds (cluster.serverLeaseSeconds). */
  serverLeaseSeconds: number;
}

/** How many orphaned resources the leader hands over per heartbeat. */
const HANDOVER_BATCH = 200;
/** A dead server's row is removed this many leases after its death, once it owns nothing. */
const REAP_AFTER_LEASES = 6;

type TakeoverHandler = (id: string, from: string) => Promise<void>;

/**
 * Who acts on what (issue #16 "Ownership"): every job, exclusive engine, … (a `kind` and an
 * id) that must be driven by exactly one server has an owner recorded in `core_owners`. The
 * owner's lease is its server lease (`core_servers`, renewed every cluster heartbeat), so
 * holding many resources costs nothing per resource. When a server's lease ends, the
 * leader gives each of its resources to a live server (spread by a hash of the resource),
 * moving the row only if the dead server still owns it and bumping its fence, and emits
 * `core.owner.moved`; the receiving server runs the kind's takeover handler (resume the
 * job, fail it with a reason, start the engine on its own host, …). A server that loses
 * its own lease runs the kind's lost handlers first: it stops acting on what it owned.
 *
 * On SQLite there is one server: claims are not recorded and nothing is ever taken over
 * (a restart deals with what the previous run left, as before).
 */
export class Ownership {
  private readonly takeovers = new Map<string, TakeoverHandler>();
  private readonly lost = new Map<string, () => void>();
  /** Takeovers whose handler failed, retried at the next heartbeat. */
  private readonly retries: { kind: string; id: string; from: string; attempts: number }[] = [];
  private readonly stops: (() => void)[] = [];
  private readonly log: Logger;

  constructor(private readonly deps: OwnershipDeps) {
    this.log = deps.log.child({ area: 'ownership' });
  }

  /** True when claims are recorded (PostgreSQL). */
  get recorded(): boolean {
    return this.deps.cluster.clustered;
  }

  /** Subscribes to hand-overs and to the cluster's heartbeats. */
  start(): void {
    if (!this.recorded) return;
    this.stops.push(
      this.deps.bus.subscribe('core.owner.moved', (e) => {
        if (e.to === this.deps.cluster.serverId()) void this.takeOver(e.kind, e.id, e.from, 0);
      }),
      this.deps.cluster.onRefresh((live) => this.onHeartbeat(live)),
      this.deps.cluster.onLeaseLost(() => {
        for (const [kind, fn] of this.lost) {
          try {
            fn();
          } catch (err) {
            this.log.error({ err, kind }, 'letting go of owned resources failed');
          }
        }
      }),
    );
  }

  /** Unsubscribes. */
  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  /**
   * Records, in the caller's transaction, that this server acts on (kind, id).
   * @param kind a short name: `job`, `engine`, `replica-set`, …
   */
  async claim(trx: Executor, kind: string, id: string): Promise<void> {
    if (!this.recorded) return;
    await clusterSql.putOwner(trx, kind, id, this.deps.cluster.serverId(), this.deps.clock.now());
  }

  /**
   * Makes this server the owner of (kind, id) unless another server owns it already.
   * @returns the owner (this server's id when the claim was made, or on SQLite)
   */
  async claimFree(kind: string, id: string): Promise<string> {
    if (!this.recorded) return this.deps.cluster.serverId();
    return clusterSql.claimFreeOwner(this.deps.db.kysely, kind, id, this.deps.cluster.serverId(), this.deps.clock.now());
  }

  /** Forgets the owner of (kind, id), in the caller's transaction (the work is done). */
  async release(trx: Executor, kind: string, id: string): Promise<void> {
    if (!this.recorded) return;
    await clusterSql.deleteOwner(trx, kind, id);
  }

  /** The server that owns (kind, id); this server on SQLite; undefined when nobody does. */
  async ownerOf(kind: string, id: string): Promise<string | undefined> {
    if (!this.recorded) return this.deps.cluster.serverId();
    return clusterSql.findOwner(this.deps.db.kysely, kind, id);
  }

  /** Ids of the resources of `kind` this server owns (after a restart: none — it has a new id). */
  async owned(kind: string): Promise<string[]> {
    if (!this.recorded) return [];
    return clusterSql.listOwned(this.deps.db.kysely, kind, this.deps.cluster.serverId());
  }

  /**
   * Sets what this server does with a resource of `kind` it was given because its owner
   * died: `handler(id, previousOwner)`. It must leave the resource in a final or running
   * state of its own (never as the dead server left it); a failure is retried at the next
   * heartbeat, up to 5 times.
   */
  onTakeover(kind: string, handler: TakeoverHandler): void {
    this.takeovers.set(kind, handler);
  }

  /**
   * Sets what this server does when it lost its own lease: stop acting on every resource of
   * `kind` it owned (another server takes them over), without writing their state.
   */
  onLost(kind: string, handler: () => void): void {
    this.lost.set(kind, handler);
  }

  private async onHeartbeat(live: LiveServer[]): Promise<void> {
    for (const r of this.retries.splice(0)) await this.takeOver(r.kind, r.id, r.from, r.attempts);
    if (!this.deps.cluster.isLeader()) return;
    const now = this.deps.clock.now();
    const leaseMs = this.deps.serverLeaseSeconds * 1000;
    const orphans = await clusterSql.listOrphans(this.deps.db.kysely, now - leaseMs, HANDOVER_BATCH);
    const targets = live.map((s) => s.serverId).sort();
    for (const o of orphans) {
      if (targets.length === 0) break;
      const to = targets[hashOf(`${o.kind}/${o.id}`) % targets.length]!;
      try {
        await this.deps.feed.write(async (trx, changes) => {
          const fence = await clusterSql.moveOwner(trx, o.kind, o.id, o.ownerId, to, this.deps.clock.now());
          if (fence !== undefined) changes.emit('core.owner.moved', { kind: o.kind, id: o.id, from: o.ownerId, to, fence });
        });
        this.log.info({ kind: o.kind, id: o.id, from: o.ownerId, to }, 'resource of a dead server handed over');
      } catch (err) {
        this.log.error({ err, kind: o.kind, id: o.id }, 'handing over a resource failed');
      }
    }
    const reaped = await clusterSql.reapServers(this.deps.db.kysely, now - REAP_AFTER_LEASES * leaseMs);
    if (reaped.length > 0) this.log.info({ servers: reaped }, 'dead servers removed from the cluster');
  }

  private async takeOver(kind: string, id: string, from: string, attempts: number): Promise<void> {
    const handler = this.takeovers.get(kind);
    if (!handler) {
      this.log.warn({ kind, id, from }, 'no takeover handler for this kind');
      return;
    }
    try {
      await handler(id, from);
      this.log.info({ kind, id, from }, 'resource of a dead server taken over');
    } catch (err) {
      this.log.error({ err, kind, id, from, attempts }, 'taking over a resource failed');
      if (attempts < 5) this.retries.push({ kind, id, from, attempts: attempts + 1 });
    }
  }
}

/** A small stable hash (FNV-1a) to spread resources over servers. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
