import { randomUUID } from 'node:crypto';
import type { Bus } from '../core/bus.js';
import type { Cluster } from '../core/cluster.js';
import type { Db } from '../core/db/kysely.js';
import { OpenStageError } from '../core/errors.js';
import type { ChangeFeed } from '../core/feed.js';
import type { Logger } from '../core/log.js';
import type { Ownership } from '../core/ownership.js';
import type { SecretBox } from '../core/secrets.js';
import { deployError } from './errors.js';
import * as deployStore from './store.js';
import type { ComponentPlan, DeployEvents, ReplicaView, RouteTargets } from './types.js';

/** Ownership kind of a component's host replica set (core_owners.kind; id `<project>/<component_id>`). */
export const REPLICA_SET = 'replica-set';

/** Longest a request forwarded to a replica set's owner waits for its answer, milliseconds (real time). */
const FORWARD_WAIT_MS = 30_000;

/** A component request run by the owner of its replica set, as it travels through the feed (sealed). */
export type ForwardedCall =
  | { call: 'deploy'; plan: ComponentPlan }
  | { call: 'action'; action: string; parameters: { replica?: number; version?: string } }
  | { call: 'remove' };

/** What this server shows of a component whose replicas another server supervises: what that server wrote. */
export interface RemoteView {
  replicas: ReplicaView[];
  /** The component's last job is still running (UPGRADING / INITIALIZING). */
  active: boolean;
  /** That job waits for continue_deploy (GRAYING). */
  graying: boolean;
}

/** Dependencies of ReplicaSets, given by DeployService. */
export interface ReplicaSetsDeps {
  db: Db;
  bus: Bus<DeployEvents>;
  feed: ChangeFeed<DeployEvents>;
  ownership: Ownership;
  cluster: Cluster;
  secrets: SecretBox;
  log: Logger;
  /** Runs a forwarded request here (this server owns the replica set). @returns the job id @throws as the engine's calls */
  serve(project: string, componentId: string, call: ForwardedCall): Promise<string>;
  /** A component's engine row was read again after another server changed it (undefined: removed). */
  reloaded(key: string, row: deployStore.ComponentRow | undefined): void;
  /** Who supervises a component, or what another server wrote of its replicas, changed (routes read routeTargets again). */
  viewChanged(key: string): void;
}

/**
 * Which server supervises each component's host replicas (issue #16 "Ownership";
 * docs/cluster.md). A process or container replica set is owned by one server through
 * core/ownership.ts (kind `replica-set`): the server that ran its first deploy job, or the
 * one it was handed to when its owner died. Only the owner starts, stops and restarts its
 * replicas and runs its jobs; a deploy, action or removal asked of another server is
 * forwarded to the owner through the change feed (`deploy.component.requested`, answered by
 * `deploy.component.answered` with the job id or the error), like a job cancel.
 *
 * Every other server shows the component as the owner wrote it: the owner writes each
 * replica's record and view (state, ready, restarts) and its component row, then emits
 * `deploy.component.changed`; the others read them again (RemoteView). Kubernetes components
 * have no owner: every server watches the cluster.
 *
 * On SQLite (one server) nothing is recorded or forwarded: this server supervises everything.
 */
export class ReplicaSets {
  /** Replica sets this server owns (supervises). */
  readonly owned = new Set<string>();
  /** Components whose replicas another server supervises, with that server ('' while unknown). */
  private readonly elsewhere = new Map<string, string>();
  private readonly views = new Map<string, RemoteView>();
  private readonly answers = new Map<string, (a: DeployEvents['deploy.component.answered']) => void>();
  private readonly reloads = new Map<string, Promise<void>>();
  /** Components whose `deploy.component.changed` is queued. */
  private readonly pending = new Set<string>();

  constructor(private readonly deps: ReplicaSetsDeps) {
    const self = (): string => deps.cluster.serverId();
    deps.bus.subscribe('deploy.component.changed', (e) => {
      if (e.from === self()) return;
      const k = key(e.project, e.componentId);
      if (e.owner && e.owner !== self()) {
        if (!this.owned.has(k)) this.elsewhere.set(k, e.owner);
      } else if (!e.owner) {
        this.elsewhere.delete(k);
        this.views.delete(k);
      }
      this.reload(k);
    });
    deps.bus.subscribe('deploy.job.ended', ({ targetId }) => {
      if (this.elsewhere.has(targetId)) this.reload(targetId);
    });
    deps.bus.subscribe('deploy.component.requested', (r) => {
      if (r.to === self()) void this.answer(r);
    });
    deps.bus.subscribe('deploy.component.answered', (a) => {
      if (a.to === self()) this.answers.get(a.requestId)?.(a);
    });
  }

  /** True when ownership is recorded (several servers on PostgreSQL). */
  get recorded(): boolean {
    return this.deps.ownership.recorded;
  }

  /** Whether this server shows the component from its own runtimes (not from what another server wrote). */
  supervisesView(k: string): boolean {
    return !this.elsewhere.has(k);
  }

  /** Whether this server may start replicas of the component (alone: always; else only its owner). */
  mayRun(k: string): boolean {
    return !this.recorded || this.owned.has(k);
  }

  /** What the owner wrote of a component another server supervises; undefined otherwise. */
  remoteView(k: string): RemoteView | undefined {
    return this.elsewhere.has(k) ? (this.views.get(k) ?? { replicas: [], active: false, graying: false }) : undefined;
  }

  /**
   * Where a route to a component another server supervises leads: that server, with the
   * ready replicas it last wrote; undefined when this server supervises it (or nobody does).
   * Map reads only (the table is kept current by `deploy.component.changed`).
   */
  remoteTargets(k: string): Extract<RouteTargets, { kind: 'remote' }> | undefined {
    const owner = this.elsewhere.get(k);
    if (owner === undefined) return undefined;
    const readyReplicas = this.views.get(k)?.replicas.filter((r) => r.ready).length ?? 0;
    return { kind: 'remote', serverId: owner, readyReplicas };
  }

  /**
   * At start: learns who owns each component (claiming the host ones that have replicas and
   * no owner yet: written before owners were recorded) and reads the others' views.
   * @param hosted keys of components with replica records
   */
  async load(keys: string[], hosted: Set<string>): Promise<void> {
    if (!this.recorded) return;
    const me = this.deps.cluster.serverId();
    for (const k of keys) {
      let owner = await this.deps.ownership.ownerOf(REPLICA_SET, k);
      if (owner === undefined && hosted.has(k)) owner = await this.deps.ownership.claimFree(REPLICA_SET, k);
      if (owner === me) this.owned.add(k);
      else if (owner !== undefined) this.elsewhere.set(k, owner);
    }
    await Promise.all([...this.elsewhere.keys()].map((k) => this.readView(k)));
  }

  /**
   * Where a request about a component runs: here (undefined), or the owner it must be
   * forwarded to. A host component nobody owns yet becomes this server's (`claim`).
   * @throws 503 SVCSTG.00100503 when its owner's lease ended and the hand-over has not happened yet
   */
  async place(k: string, claim: boolean): Promise<string | undefined> {
    if (!this.recorded) return undefined;
    const me = this.deps.cluster.serverId();
    let owner = await this.deps.ownership.ownerOf(REPLICA_SET, k);
    if (owner === undefined && claim) owner = await this.deps.ownership.claimFree(REPLICA_SET, k);
    if (owner === undefined || owner === me) {
      if (owner === me) this.becameOwner(k);
      return undefined;
    }
    if (!this.deps.cluster.liveServers().some((s) => s.serverId === owner)) {
      throw deployError('Unavailable', `server ${owner}, which supervises this component's replicas, stopped; another server takes them over within about one cluster lease — try again then`);
    }
    return owner;
  }

  /** This server supervises the component from now on (a claim, a hand-over). */
  becameOwner(k: string): void {
    this.owned.add(k);
    const was = this.elsewhere.delete(k);
    this.views.delete(k);
    if (was) this.deps.viewChanged(k);
  }

  /** This server lost its lease: it owns nothing any more. @returns what it owned */
  letGo(): string[] {
    const mine = [...this.owned];
    this.owned.clear();
    for (const k of mine) {
      this.elsewhere.set(k, '');
      this.deps.viewChanged(k);
    }
    return mine;
  }

  /** Forgets the owner of a removed component, in the caller's transaction. */
  async release(trx: Parameters<Ownership['release']>[0], k: string): Promise<void> {
    this.owned.delete(k);
    await this.deps.ownership.release(trx, REPLICA_SET, k);
  }

  /**
   * Runs a request on the owner of the component's replica set and returns its answer.
   * @returns the job id @throws the owner's error as it threw it; 503 when it did not answer in 30 s
   */
  async forward(owner: string, project: string, componentId: string, call: ForwardedCall): Promise<string> {
    const requestId = randomUUID();
    const answered = new Promise<DeployEvents['deploy.component.answered'] | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.answers.delete(requestId);
        resolve(undefined);
      }, FORWARD_WAIT_MS);
      this.answers.set(requestId, (a) => {
        clearTimeout(timer);
        this.answers.delete(requestId);
        resolve(a);
      });
    });
    const sealed = this.deps.secrets.encrypt(JSON.stringify(call));
    await this.deps.feed.write(async (_trx, changes) => changes.emit('deploy.component.requested', { requestId, from: this.deps.cluster.serverId(), to: owner, project, componentId, sealed }));
    const a = await answered;
    if (!a) throw deployError('Unavailable', `server ${owner}, which supervises this component's replicas, did not answer within ${FORWARD_WAIT_MS / 1000} s; try again`);
    if (a.error) throw new OpenStageError(a.error.code, a.error.status, a.error.message, a.error.detail);
    return a.jobId ?? '';
  }

  /**
   * Tells every server that the component's engine row or replica records changed (after
   * they were written); coalesced per component. Nothing on one server.
   */
  changed(project: string, componentId: string): void {
    if (!this.deps.feed.clustered) return;
    const k = key(project, componentId);
    if (this.pending.has(k)) return;
    this.pending.add(k);
    queueMicrotask(() => {
      this.pending.delete(k);
      const me = this.deps.cluster.serverId();
      const owner = this.owned.has(k) ? me : '';
      this.deps.feed.write(async (_trx, changes) => changes.emit('deploy.component.changed', { project, componentId, owner, from: me })).catch((err: unknown) => this.deps.log.warn({ err, project, componentId }, 'telling the other servers of a component change failed'));
    });
  }

  /** Answers a request forwarded to this server (the owner). Never throws. */
  private async answer(r: DeployEvents['deploy.component.requested']): Promise<void> {
    let reply: DeployEvents['deploy.component.answered'];
    try {
      const call = JSON.parse(this.deps.secrets.decrypt(r.sealed)) as ForwardedCall;
      if (!this.owned.has(key(r.project, r.componentId))) throw deployError('Unavailable', `server ${this.deps.cluster.serverId()} no longer supervises this component's replicas; try again`);
      reply = { requestId: r.requestId, to: r.from, jobId: await this.deps.serve(r.project, r.componentId, call) };
    } catch (err) {
      if (!(err instanceof OpenStageError)) this.deps.log.error({ err, project: r.project, componentId: r.componentId }, 'a forwarded component request failed');
      const e = err instanceof OpenStageError ? err : deployError('Internal');
      reply = { requestId: r.requestId, to: r.from, error: { code: e.code, status: e.status, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) } };
    }
    await this.deps.feed.write(async (_trx, changes) => changes.emit('deploy.component.answered', reply)).catch((err: unknown) => this.deps.log.error({ err, requestId: r.requestId }, 'answering a forwarded component request failed'));
  }

  /** Reads a component again (one read at a time per component; the last one wins). */
  private reload(k: string): void {
    const previous = this.reloads.get(k) ?? Promise.resolve();
    const next = previous
      .then(() => this.readView(k))
      .then(() => this.deps.viewChanged(k))
      .catch((err: unknown) => this.deps.log.warn({ err, component: k }, 'reading a component changed elsewhere failed'));
    this.reloads.set(k, next);
    void next.finally(() => {
      if (this.reloads.get(k) === next) this.reloads.delete(k);
    });
  }

  private async readView(k: string): Promise<void> {
    const [project, componentId] = splitKey(k);
    const { db } = this.deps;
    const row = await deployStore.findComponent(db.kysely, project, componentId);
    if (!row) {
      this.elsewhere.delete(k);
      this.views.delete(k);
      this.deps.reloaded(k, undefined);
      return;
    }
    if (!this.owned.has(k)) this.deps.reloaded(k, row);
    if (!this.elsewhere.has(k)) return;
    const replicas = (await deployStore.listReplicas(db.kysely, project, componentId))
      .filter((r) => r.desired === 'running')
      .map((r): ReplicaView => ({ instanceId: r.instanceId, version: r.version, port: r.port, ...(r.pid !== undefined ? { pid: r.pid } : {}), state: r.view.state, ready: r.view.ready, restarts: r.view.restarts }));
    const job = row.lastJobId ? await deployStore.findJob(db.kysely, row.lastJobId) : undefined;
    const active = job?.job.status === 'RUNNING';
    this.views.set(k, { replicas, active, graying: active && job!.tasks.some((t) => t.type === 'gray-wait' && t.status === 'RUNNING') });
  }
}

/** `<project>/<component_id>`: a component's key (job target, owner id). */
export function key(project: string, componentId: string): string {
  return `${project}/${componentId}`;
}

/** The project and component id of a key (the project holds no `/`). */
export function splitKey(k: string): [string, string] {
  const at = k.indexOf('/');
  return [k.slice(0, at), k.slice(at + 1)];
}
