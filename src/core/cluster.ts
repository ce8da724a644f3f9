import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Clock } from './clock.js';
import * as clusterSql from './cluster-sql.js';
import { lockFile, type Db } from './db/kysely.js';
import type { Logger } from './log.js';

/** One server as the cluster view shows it. */
export interface ServerInfo {
  serverId: string;
  /** Base URL the server listens at. */
  url: string;
  version: string;
  startedAtMs: number;
  /** Last renewal of its lease. */
  renewedAtMs: number;
  /** Its lease has not ended. */
  live: boolean;
  /** It holds the leadership. */
  leader: boolean;
}

/** The cluster view (`GET /cluster`). */
export interface ClusterView {
  database: 'sqlite' | 'postgres';
  /** The answering server. */
  self: string;
  /** The leading server ('' while none leads). */
  leader: string;
  servers: ServerInfo[];
}

/** A live server as membership refreshes report it. */
export interface LiveServer {
  serverId: string;
  url: string;
  version: string;
  startedAtMs: number;
}

/** Settings of the cluster (the `cluster` config section). */
export interface ClusterSettings {
  /** A server that has not renewed its lease for this long is dead. */
  serverLeaseSeconds: number;
  /** Period of lease renewal, membership refresh and leadership attempts, milliseconds. */
  heartbeatMs: number;
}

/**
 * The servers sharing one database: membership (each server renews a lease in
 * `core_servers`), leadership (a PostgreSQL advisory lock, with failover) and the cluster
 * view. On SQLite there is one server and it always leads (`LocalCluster`).
 */
export interface Cluster {
  readonly clustered: boolean;
  /**
   * This server's id: `<host>-<random>`, kept in `<dataDir>/server-id` so that a restart
   * resumes what the server owned (PostgreSQL); a new one after a lost lease.
   */
  serverId(): string;
  /** True while this server holds the leadership. */
  isLeader(): boolean;
  /** Calls `fn(leading)` when leadership is gained or lost; returns the unsubscribe function. */
  onLeadership(fn: (leading: boolean) => void): () => void;
  /**
   * Calls `fn(live)` after each membership refresh (every heartbeat) with the live servers
   * (this one included); the leader hands over what dead servers owned, the registry shows
   * the servers' own instances. Returns the unsubscribe function.
   */
  onRefresh(fn: (live: LiveServer[]) => Promise<void> | void): () => void;
  /**
   * Calls `fn()` when this server lost its lease (it could not renew it in time): it must
   * stop acting on what it owned, which other servers take over. Returns the unsubscribe function.
   */
  onLeaseLost(fn: () => void): () => void;
  /** The live servers as of the last refresh (this one included). */
  liveServers(): LiveServer[];
  /** Registers this server (its URL and version) and starts renewing its lease. */
  join(url: string, version: string): Promise<void>;
  /** The live and recently seen servers, and the leader. */
  view(): Promise<ClusterView>;
  /** Leaves the cluster: stops renewing, gives up the leadership, removes this server's row. */
  leave(): Promise<void>;
  /**
   * True when no other live server was seen at start: the whole cluster (re)starts, so
   * registry leases are granted afresh (pitfalls.md "Restart after a crash").
   */
  coldStart(): boolean;
}

/** A fresh server id: `<host name>-<12 hex>`. */
export function newServerId(): string {
  return `${hostname().slice(0, 80)}-${randomBytes(6).toString('hex')}`;
}

/** The only server of a SQLite database: it always leads. */
export class LocalCluster implements Cluster {
  readonly clustered = false;
  private readonly id = newServerId();
  private url = '';
  private version = '';
  private startedAtMs = 0;

  constructor(private readonly clock: Clock) {}

  serverId(): string {
    return this.id;
  }

  isLeader(): boolean {
    return true;
  }

  onLeadership(): () => void {
    return () => undefined;
  }

  onRefresh(): () => void {
    return () => undefined;
  }

  onLeaseLost(): () => void {
    return () => undefined;
  }

  liveServers(): LiveServer[] {
    return [{ serverId: this.id, url: this.url, version: this.version, startedAtMs: this.startedAtMs }];
  }

  async join(url: string, version: string): Promise<void> {
    this.url = url;
    this.version = version;
    this.startedAtMs = this.clock.now();
  }

  async view(): Promise<ClusterView> {
    const now = this.clock.now();
    return {
      database: 'sqlite',
      self: this.id,
      leader: this.id,
      servers: [{ serverId: this.id, url: this.url, version: this.version, startedAtMs: this.startedAtMs, renewedAtMs: now, live: true, leader: true }],
    };
  }

  async leave(): Promise<void> {}

  coldStart(): boolean {
    return true;
  }
}

/** Advisory lock key of the leadership. */
const LEADER_LOCK = 7_316_002;

/**
 * Servers sharing a PostgreSQL database (see Cluster). The data directory is this server's
 * own (locked by `server.lock`): it keeps the server id across restarts.
 */
export class PgCluster implements Cluster {
  readonly clustered = true;
  private id: string;
  private readonly releaseDataDir: () => void;
  private leading = false;
  private lockClient?: pg.Client;
  private url = '';
  private version = '';
  private startedAtMs = 0;
  /** Clock time of the last lease renewal that PostgreSQL confirmed. */
  private renewedAtMs = 0;
  private live: LiveServer[] = [];
  private cold = false;
  private stopTick?: () => void;
  private ticking = false;
  private left = false;
  private readonly leadershipHandlers = new Set<(leading: boolean) => void>();
  private readonly refreshHandlers = new Set<(live: LiveServer[]) => Promise<void> | void>();
  private readonly lostHandlers = new Set<() => void>();
  private readonly leaseMs: number;

  /** @throws Error when another live process uses `dataDir` */
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly settings: ClusterSettings,
    private readonly dataDir: string,
  ) {
    this.leaseMs = settings.serverLeaseSeconds * 1000;
    mkdirSync(dataDir, { recursive: true });
    this.releaseDataDir = lockFile(join(dataDir, 'server.lock'), `the data directory ${dataDir}`);
    const file = join(dataDir, 'server-id');
    const stored = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    this.id = /^[\w.-]{1,100}$/.test(stored) ? stored : this.newId();
  }

  /** A new id, written to the data directory. */
  private newId(): string {
    const id = newServerId();
    writeFileSync(join(this.dataDir, 'server-id'), `${id}\n`);
    return id;
  }

  serverId(): string {
    return this.id;
  }

  isLeader(): boolean {
    return this.leading;
  }

  onLeadership(fn: (leading: boolean) => void): () => void {
    this.leadershipHandlers.add(fn);
    return () => this.leadershipHandlers.delete(fn);
  }

  onRefresh(fn: (live: LiveServer[]) => Promise<void> | void): () => void {
    this.refreshHandlers.add(fn);
    return () => this.refreshHandlers.delete(fn);
  }

  onLeaseLost(fn: () => void): () => void {
    this.lostHandlers.add(fn);
    return () => this.lostHandlers.delete(fn);
  }

  liveServers(): LiveServer[] {
    return this.live;
  }

  coldStart(): boolean {
    return this.cold;
  }

  /**
   * Looks at the servers already live (a cold start when there are none), then registers
   * this one. Call after the views are loaded and before serving.
   */
  async prepare(): Promise<void> {
    const now = this.clock.now();
    const others = (await clusterSql.listServers(this.db.kysely)).filter((s) => s.serverId !== this.id && s.renewedAtMs + this.leaseMs > now);
    this.cold = others.length === 0;
  }

  async join(url: string, version: string): Promise<void> {
    this.url = url;
    this.version = version;
    this.startedAtMs = this.clock.now();
    await this.register();
    await this.tick();
    this.stopTick = this.clock.every(this.settings.heartbeatMs, () => void this.tick());
  }

  private async register(): Promise<void> {
    const now = this.clock.now();
    await clusterSql.putServer(this.db.kysely, { serverId: this.id, url: this.url, version: this.version, startedAtMs: this.startedAtMs, renewedAtMs: now });
    this.renewedAtMs = now;
    this.log.info({ serverId: this.id }, 'joined the cluster');
  }

  /** Renews the lease, refreshes the membership, tries to lead; one at a time. */
  private async tick(): Promise<void> {
    if (this.ticking || this.left) return;
    this.ticking = true;
    try {
      const now = this.clock.now();
      let renewed = false;
      try {
        renewed = await clusterSql.renewServer(this.db.kysely, this.id, now, now - this.leaseMs);
        if (renewed) this.renewedAtMs = now;
      } catch (err) {
        this.log.warn({ err }, 'cluster lease renewal failed');
      }
      // A lease that could not be renewed in time is lost: others may take over what this
      // server owned, so it lets go of everything first and comes back under a new id.
      if (!renewed && (this.renewedAtMs + this.leaseMs <= this.clock.now() || (await this.rowGone()))) {
        await this.loseLease();
        return;
      }
      const servers = await clusterSql.listServers(this.db.kysely);
      const nowAfter = this.clock.now();
      this.live = servers
        .filter((s) => s.serverId === this.id || s.renewedAtMs + this.leaseMs > nowAfter)
        .map((s) => ({ serverId: s.serverId, url: s.url, version: s.version, startedAtMs: s.startedAtMs }));
      await this.tryLead();
      for (const fn of this.refreshHandlers) {
        try {
          await fn(this.live);
        } catch (err) {
          this.log.error({ err }, 'cluster refresh handler failed');
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'cluster heartbeat failed');
    } finally {
      this.ticking = false;
    }
  }

  private async rowGone(): Promise<boolean> {
    try {
      return !(await clusterSql.listServers(this.db.kysely)).some((s) => s.serverId === this.id);
    } catch {
      return false;
    }
  }

  private async loseLease(): Promise<void> {
    const old = this.id;
    this.log.error({ serverId: old }, 'cluster lease lost: letting go of what this server owned; rejoining under a new id');
    await this.stepDown();
    for (const fn of this.lostHandlers) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'lease-lost handler failed');
      }
    }
    this.id = this.newId();
    try {
      await this.register();
    } catch (err) {
      this.log.warn({ err }, 'rejoining the cluster failed; retrying');
    }
  }

  /** Takes the leadership when nobody holds it (the advisory lock on a connection of its own). */
  private async tryLead(): Promise<void> {
    if (this.leading) {
      // The lock lives as long as its connection: check that it is still there.
      try {
        await this.lockClient!.query('SELECT 1');
        await clusterSql.putSetting(this.db.kysely, 'leader', JSON.stringify({ serverId: this.id }));
      } catch {
        await this.stepDown();
      }
      return;
    }
    try {
      if (!this.lockClient) {
        const client = new pg.Client({ connectionString: this.db.url, keepAlive: true, application_name: 'openstage-leader' });
        client.on('error', () => void this.stepDown());
        client.on('end', () => void this.stepDown());
        await client.connect();
        this.lockClient = client;
      }
      const r = await this.lockClient.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [LEADER_LOCK]);
      if (!r.rows[0]?.locked) return;
      await clusterSql.putSetting(this.db.kysely, 'leader', JSON.stringify({ serverId: this.id }));
      this.leading = true;
      this.log.info({ serverId: this.id }, 'this server leads the cluster');
      for (const fn of this.leadershipHandlers) fn(true);
    } catch (err) {
      this.log.warn({ err }, 'leadership attempt failed');
      await this.stepDown();
    }
  }

  /** Gives up the leadership (closing its connection releases the lock). */
  private async stepDown(): Promise<void> {
    const client = this.lockClient;
    this.lockClient = undefined;
    const was = this.leading;
    this.leading = false;
    await client?.end().catch(() => undefined);
    if (was) {
      this.log.warn({ serverId: this.id }, 'this server no longer leads the cluster');
      for (const fn of this.leadershipHandlers) fn(false);
    }
  }

  async view(): Promise<ClusterView> {
    const now = this.clock.now();
    const servers = await clusterSql.listServers(this.db.kysely);
    const leaderSetting = await clusterSql.findSetting(this.db.kysely, 'leader');
    let leader = leaderSetting ? ((JSON.parse(leaderSetting) as { serverId?: string }).serverId ?? '') : '';
    const infos: ServerInfo[] = servers
      .map((s) => ({ ...s, live: s.serverId === this.id || s.renewedAtMs + this.leaseMs > now, leader: false }))
      .sort((a, b) => a.startedAtMs - b.startedAtMs || a.serverId.localeCompare(b.serverId));
    if (this.leading) leader = this.id;
    const leaderInfo = infos.find((s) => s.serverId === leader && s.live);
    if (leaderInfo) leaderInfo.leader = true;
    return { database: 'postgres', self: this.id, leader: leaderInfo ? leader : '', servers: infos };
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    this.stopTick?.();
    await this.stepDown();
    await clusterSql.deleteServer(this.db.kysely, this.id).catch((err: unknown) => this.log.warn({ err }, 'leaving the cluster failed'));
    this.releaseDataDir();
  }
}
