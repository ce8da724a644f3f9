import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/kysely.js';
import type { Logger } from '../../core/log.js';
import { runProbe, type ProbeResult, type ProbeSpec } from '../../core/process/probe.js';
import type { ExitInfo } from '../../core/process/supervisor.js';
import type { EndedReplica, LeftoverReplica, Release, ReleaseLookup, ReplicaLogFile, ReplicaWatcher, StoppedReplicaLogs } from '../runtime.js';
import * as deployStore from '../store.js';
import type { PlanProbe, ReplicaView } from '../types.js';
import type { DriverState, HostReplicaSpec, ReplicaDriver } from './driver.js';

/** Lines of a replica's log quoted when it fails. */
const FAIL_LOG_LINES = 20;

/** Lines of a stopped replica's log kept (`<root>/logs/<project>/<component>/replicas/<runtime kind>/<instance>.json`). */
export const KEPT_LOG_LINES = 1000;

/** Stopped replicas whose last lines are kept per component (the newest). */
export const KEPT_STOPPED_REPLICAS = 5;

interface Live {
  row: deployStore.ReplicaRow;
  spec: HostReplicaSpec;
  ready: boolean;
  livenessFailures: number;
  /** The job whose roll-out started it ('' when adopted or started by a scale). */
  rolloutId: string;
  /** Writes of its view (state, ready, restarts), in order. */
  writes: Promise<void>;
  /** The view last written, as `state/ready/restarts`. */
  written: string;
  /** Being stopped: out of its routes for good (the monitor must not find it ready again). */
  stopping?: boolean;
  /** Readiness checks failed in a row by the monitor (since it last became ready). */
  readinessFailures?: number;
  /** Counts changes of `ready`: a monitor check begun before the last one is stale and ignored. */
  readyChanges?: number;
}

/** Readiness checks failing in a row after which a ready replica counts as not ready (Kubernetes' failureThreshold default). */
const READINESS_FAILURES = 3;

/** Whether `port` can be bound on the loopback address right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port for a replica, from `[first, last]`: a range below the kernel's
 * ephemeral ports (32768–60999 on Linux), so that an outgoing connection cannot take the
 * port between this check and the replica's own bind. Ports of live replicas are skipped.
 * @throws Error when every port of the range is taken
 */
async function freePort(first: number, last: number, taken: ReadonlySet<number>): Promise<number> {
  const size = last - first + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = first + ((start + i) % size);
    if (!taken.has(port) && (await canBind(port))) return port;
  }
  throw new Error(`no free port in ${first}-${last} for a replica`);
}

/** A plan probe in the prober's terms (seconds → milliseconds, 1 s default timeout). */
export function toProbeSpec(p: PlanProbe): ProbeSpec {
  return { type: p.type, ...(p.host ? { host: p.host } : {}), ...(p.port ? { port: p.port } : {}), ...(p.path ? { path: p.path } : {}), ...(p.scheme ? { scheme: p.scheme } : {}), ...(p.command ? { command: p.command } : {}), timeoutMs: Math.max(1, p.timeout ?? 1) * 1000 };
}

/** Dependencies of HostReplicas. */
export interface HostReplicasDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** `<data>/deploy`: replica homes are `<root>/replicas/<instanceId>`. */
  root: string;
  driver: ReplicaDriver;
  /** Which runtime's replica records these are (the release plan's runtime). */
  kind: 'process' | 'container';
  /** Renders a config file's `${NAME}` placeholders with the replica's variables. */
  renderFile: (content: string, variables: Record<string, string>) => string;
  /** How long a replica without a readiness probe must stay up to count as ready, milliseconds. */
  settleMs: number;
  /** Period of liveness and readiness checks of running replicas, milliseconds. */
  monitorMs: number;
  /** Replica ports, inclusive. */
  portRange: [number, number];
  /** The readiness probe of a release's replicas (the plan's, or the runtime's default). */
  readinessOf: (release: Release) => PlanProbe | undefined;
  /** Variables the runtime adds to a replica's environment (before PORT and CAS_INSTANCE_*). */
  baseEnv: (release: Release) => Record<string, string>;
  onChange?: (project: string, componentId: string) => void;
  /** Told of each replica stopped on request once it has ended (RuntimeHooks.replicaEnded). */
  replicaEnded?: (replica: EndedReplica) => Promise<void>;
  /** This server's id, recorded with each replica it starts (RuntimeHooks.serverId; '' alone). */
  serverId?: () => string;
  /**
   * Whether this server may start replicas of a component now (RuntimeHooks.mayRun): with
   * several servers only the owner of its replica set may. Default: always.
   */
  mayRun?: (project: string, componentId: string) => boolean;
  /** Told after a replica's view (state, ready, restarts) was written (RuntimeHooks.viewWritten). */
  viewWritten?: (project: string, componentId: string) => void;
}

let hostIdentityCache: string | undefined;

/**
 * This machine as replica records name it: `<host name>/<boot id>` — a process recorded
 * with another boot id is gone (the machine restarted since).
 */
export function hostIdentity(): string {
  if (hostIdentityCache === undefined) {
    let boot = '';
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      // not Linux: the host name alone
    }
    hostIdentityCache = `${hostname().slice(0, 120)}/${boot}`;
  }
  return hostIdentityCache;
}

/**
 * The names and addresses of this machine an endpoint of a replica on the host's network may
 * carry: loopback, `localhost`, the wildcard, every interface address and the host name.
 */
export function hostAddresses(): string[] {
  const out = new Set(['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::', hostname()]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return [...out];
}

/**
 * The replicas of every component a host runtime runs on this machine: their records,
 * ports, variables (`PORT`, `CAS_INSTANCE_*`, `CAS_MOUNT_ROOT`), rendered config files,
 * readiness and liveness — and, through the runtime's ReplicaDriver, their processes or
 * containers. Each replica has its own directory `<data>/deploy/replicas/<instanceId>`.
 */
export class HostReplicas {
  private readonly live = new Map<string, Live>();
  private readonly watchers: ReplicaWatcher[] = [];
  private stopMonitor?: () => void;
  /** A monitor pass is running. */
  private monitoring = false;
  /** Set by `detach`: OpenStage is stopping and the replicas are left to the next start. */
  private detached = false;

  constructor(private readonly deps: HostReplicasDeps) {}

  /** Subscribes to replica changes: told synchronously, and asked to drain a replica before it is stopped. */
  watch(watcher: ReplicaWatcher): void {
    this.watchers.push(watcher);
  }

  /** Called by the driver after every state change of a replica. */
  changed(state: DriverState): void {
    const live = this.live.get(state.instanceId);
    if (!live) return;
    if (state.state !== 'running') live.ready = false;
    if (state.state === 'running' && (state.pid !== live.row.pid || state.startTicks !== live.row.startTicks)) {
      live.row.pid = state.pid;
      live.row.startTicks = state.startTicks;
      deployStore.setReplicaProcess(this.deps.db.kysely, state.instanceId, state.pid, state.startTicks).catch((err: unknown) => this.deps.log.error({ err }, 'replica write failed'));
    }
    this.notify(live.row.project, live.row.componentId);
  }

  /** Starts the periodic liveness/readiness monitor. */
  startMonitor(): void {
    this.stopMonitor = this.deps.clock.every(this.deps.monitorMs, () => void this.monitor());
  }

  /**
   * Re-adopts (or restarts) every replica of this runtime that the store says should run,
   * after an OpenStage restart — only those of the components `owns` accepts (with several
   * servers: the replica sets this server owns).
   */
  async adoptAll(releaseOf: ReleaseLookup, owns: (project: string, componentId: string) => boolean = () => true): Promise<void> {
    for (const row of await deployStore.listReplicas(this.deps.db.kysely)) {
      if (row.desired !== 'running' || !owns(row.project, row.componentId)) continue;
      const release = await releaseOf(row.project, row.componentId, row.version);
      if (!release) {
        // Another runtime's replica whose release is gone is not ours to judge.
        if (this.deps.kind === 'process') this.deps.log.warn({ instanceId: row.instanceId }, 'replica release missing; not restarted');
        continue;
      }
      if ((release.plan.runtime ?? 'process') !== this.deps.kind) continue;
      let spec: HostReplicaSpec;
      try {
        spec = await this.specOf(row, release);
      } catch (err) {
        this.deps.log.error({ err, instanceId: row.instanceId }, 'replica could not be prepared; not restarted');
        continue;
      }
      const live: Live = { row, spec, ready: false, livenessFailures: 0, rolloutId: '', writes: Promise.resolve(), written: '' };
      this.live.set(row.instanceId, live);
      try {
        const state = await this.deps.driver.adopt(spec, { ...(row.pid !== undefined ? { pid: row.pid } : {}), ...(row.startTicks !== undefined ? { startTicks: row.startTicks } : {}) });
        // A replica found alive was ready before the restart (checked again now when it has
        // a readiness probe); a new one is checked by the monitor.
        if (state.adopted) {
          const probe = this.deps.readinessOf(release);
          live.ready = probe ? (await this.probe(live, probe)).ok : true;
        }
        this.deps.log.info({ instanceId: row.instanceId, adopted: state.adopted, pid: state.pid }, 'replica taken over after restart');
      } catch (err) {
        this.deps.log.error({ err, instanceId: row.instanceId }, 'replica could not be restarted');
      }
    }
  }

  /**
   * Starts a new replica of a release: port, record, files, driver start.
   * @param rolloutId the job whose roll-out starts it ('' for a scale)
   * @throws Error when it cannot be started (command or image not found…)
   */
  async start(release: Release, rolloutId = ''): Promise<string> {
    // After a detach nothing would supervise a new replica.
    if (this.detached) throw new Error('interrupted: the server is stopping');
    const { plan } = release;
    // With several servers only the owner of the replica set starts its replicas.
    if (this.deps.mayRun && !this.deps.mayRun(plan.project, plan.componentId)) throw new Error('interrupted: this server no longer supervises the replicas of this component');
    const row: deployStore.ReplicaRow = {
      instanceId: randomUUID().replaceAll('-', '').slice(0, 20),
      project: plan.project,
      componentId: plan.componentId,
      version: plan.version,
      port: await freePort(this.deps.portRange[0], this.deps.portRange[1], new Set([...this.live.values()].map((l) => l.row.port))),
      desired: 'running',
      createdAtMs: this.deps.clock.now(),
      serverId: this.deps.serverId?.() ?? '',
      host: hostIdentity(),
      view: { state: 'running', ready: false, restarts: 0 },
    };
    await deployStore.insertReplica(this.deps.db.kysely, row);
    try {
      const spec = await this.specOf(row, release);
      this.live.set(row.instanceId, { row, spec, ready: false, livenessFailures: 0, rolloutId, writes: Promise.resolve(), written: 'running/false/0' });
      await this.deps.driver.start(spec);
    } catch (err) {
      this.live.delete(row.instanceId);
      await deployStore.deleteReplicas(this.deps.db.kysely, [row.instanceId]);
      rmSync(this.homeOf(row.instanceId), { recursive: true, force: true });
      throw err;
    }
    this.deps.viewWritten?.(plan.project, plan.componentId);
    return row.instanceId;
  }

  /**
   * Waits until a replica is ready: its readiness probe passes, or (without one) it has stayed
   * up for settleMs. Polls on the clock, 50 ms after the start and then a quarter longer
   * each time, up to once a second (a coarser schedule, doubling, made a start that took
   * 360 ms wait until 750 ms).
   * @throws Error with the exit code and the last log lines when the replica ends first,
   *   or when `timeoutMs` passes; the abort reason when `signal` aborts
   */
  async waitReady(instanceId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const live = this.live.get(instanceId);
    if (!live) throw new Error(`replica ${instanceId} is not running`);
    const readinessProbe = this.deps.readinessOf(live.spec.release);
    const startedAt = this.deps.clock.now();
    const delayMs = (readinessProbe?.delay ?? 0) * 1000;
    let attempt = 0;
    for (;;) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      const state = this.deps.driver.status(instanceId);
      if (!state || state.state !== 'running' || state.restarts > 0) {
        const exit = state?.lastExit;
        const how = exit ? (exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`) : 'no process';
        const tail = await this.deps.driver.logs(instanceId, FAIL_LOG_LINES);
        throw new Error(`replica ${instanceId} exited before it was ready (${how})${tail.length ? `; last lines of its log:\n${tail.join('\n')}` : ''}`);
      }
      const elapsed = this.deps.clock.now() - startedAt;
      if (readinessProbe) {
        if (elapsed >= delayMs && (await this.probe(live, readinessProbe)).ok) return this.markReady(live);
      } else if (elapsed >= this.deps.settleMs) {
        return this.markReady(live);
      }
      if (elapsed >= timeoutMs) {
        const tail = await this.deps.driver.logs(instanceId, FAIL_LOG_LINES);
        throw new Error(`replica ${instanceId} was not ready after ${Math.round(timeoutMs / 1000)} s${tail.length ? `; last lines of its log:\n${tail.join('\n')}` : ''}`);
      }
      // 50, 62, 78, 98 … ms up to 1 s: a fast starter is seen within a quarter of its start time, a slow one costs no more polls.
      await this.sleep(Math.min(Math.min(1000, Math.round(50 * 1.25 ** attempt++)), Math.max(1, timeoutMs - elapsed)), signal);
    }
  }

  /**
   * Stops a replica (SIGTERM, then SIGKILL after the grace) and forgets it.
   * @returns how it ended (`signal` 'SIGKILL' when the grace ran out; undefined when none ran)
   * @throws after `detach` (OpenStage stopping): the replica is left running and recorded
   */
  async stop(instanceId: string): Promise<ExitInfo | undefined> {
    // After a detach the replica is no longer ours to stop: its record stays for the next
    // start, which adopts it (and puts an interrupted rollout back in order).
    if (this.detached) throw new Error('interrupted: the server is stopping');
    const live = this.live.get(instanceId);
    // Out of every route first, and no request left in flight to it, before it is signalled.
    if (live) {
      live.stopping = true;
      await this.unready(live);
    }
    await deployStore.setReplicaDesired(this.deps.db.kysely, [instanceId], 'stopped');
    const before = live ? await this.deps.driver.logs(instanceId, KEPT_LOG_LINES).catch(() => []) : [];
    const exit = await this.deps.driver.stop(instanceId);
    // While the registry is cleaned up the replica stays listed here, so its port is given to
    // no new replica whose fresh registration could be taken for this one's.
    if (live && this.deps.replicaEnded) {
      const { row } = live;
      await this.deps.replicaEnded({ project: row.project, componentId: row.componentId, instanceId, version: row.version, hosts: hostAddresses(), port: row.port, startedAtMs: row.createdAtMs, endedAtMs: this.deps.clock.now() });
    }
    this.live.delete(instanceId);
    await deployStore.deleteReplicas(this.deps.db.kysely, [instanceId]);
    if (live) this.deps.viewWritten?.(live.row.project, live.row.componentId);
    if (live) await this.keepLog(live, before, exit);
    rmSync(this.homeOf(instanceId), { recursive: true, force: true });
    if (live) this.notify(live.row.project, live.row.componentId);
    return exit;
  }

  /** The replicas of a component, oldest first. */
  list(project: string, componentId: string): (ReplicaView & { rolloutId: string })[] {
    const views: (ReplicaView & { rolloutId: string; createdAtMs: number })[] = [];
    for (const live of this.live.values()) {
      if (live.row.project !== project || live.row.componentId !== componentId) continue;
      const s = this.deps.driver.status(live.row.instanceId);
      views.push({
        instanceId: live.row.instanceId,
        version: live.row.version,
        port: live.row.port,
        ...(s?.pid ? { pid: s.pid } : {}),
        state: s?.state ?? 'stopped',
        ready: live.ready && s?.state === 'running',
        restarts: s?.restarts ?? 0,
        ...(s?.lastExit ? { lastExit: { code: s.lastExit.code, signal: s.lastExit.signal } } : {}),
        rolloutId: live.rolloutId,
        createdAtMs: live.row.createdAtMs,
      });
    }
    return views.sort((a, b) => a.createdAtMs - b.createdAtMs || a.instanceId.localeCompare(b.instanceId)).map(({ createdAtMs: _, ...v }) => v);
  }

  /** The last `lines` lines of a replica's log. */
  logs(instanceId: string, lines: number): Promise<string[]> {
    return this.deps.driver.logs(instanceId, lines);
  }

  /** The log files of a component's live replicas that the driver writes on this host. */
  logFiles(project: string, componentId: string): ReplicaLogFile[] {
    return this.list(project, componentId).flatMap((r) => {
      const path = this.live.get(r.instanceId)?.spec.logFile;
      return path && existsSync(path) ? [{ instanceId: r.instanceId, version: r.version, path }] : [];
    });
  }

  /**
   * The last `lines` lines of the component's stopped replicas (at most KEPT_STOPPED_REPLICAS,
   * newest first): kept when they stopped, so a replica that crashed out of a roll-out or was
   * stopped still shows why. Unreadable files are skipped.
   */
  async stoppedLogs(project: string, componentId: string, lines: number): Promise<StoppedReplicaLogs[]> {
    const dir = this.keptDir(project, componentId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: StoppedReplicaLogs[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        const kept = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoppedReplicaLogs;
        out.push({ ...kept, lines: kept.lines.slice(-lines) });
      } catch {
        // half written or removed meanwhile
      }
    }
    return out.sort((a, b) => b.stoppedAtMs - a.stoppedAtMs);
  }

  /** Lets every replica run on without supervision (OpenStage stopping; the next start adopts them). */
  detach(): void {
    this.detached = true;
    this.stopMonitor?.();
    this.deps.driver.detachAll();
    this.live.clear();
  }

  /**
   * Lets go of every replica (this server lost its cluster lease: their owner is another
   * server now): they are killed (SIGTERM, SIGKILL after their grace) and forgotten, without
   * writing their records (the taker deals with those). New replicas may be started later.
   */
  async letGo(): Promise<void> {
    const gone = [...this.live.values()];
    // Forgotten first: what the driver reports while they end is nobody's to write.
    this.live.clear();
    await Promise.all(gone.map((l) => this.deps.driver.stop(l.row.instanceId).catch((err: unknown) => this.deps.log.warn({ err, instanceId: l.row.instanceId }, 'stopping a replica let go of failed'))));
    for (const k of new Set(gone.map((l) => `${l.row.project}/${l.row.componentId}`))) {
      const [project, componentId] = k.split('/') as [string, string];
      for (const w of this.watchers) w.changed(project, componentId);
    }
  }

  /**
   * Kills what is left of a replica another server supervised on this machine (it died, or
   * lost its lease, and the replica set is this server's now). A record of another machine
   * is left alone. Never throws.
   */
  async killLeftover(row: LeftoverReplica): Promise<void> {
    if (row.host !== hostIdentity()) return;
    await this.deps.driver.killLeftover(row.instanceId, { ...(row.pid !== undefined ? { pid: row.pid } : {}), ...(row.startTicks !== undefined ? { startTicks: row.startTicks } : {}) }).catch((err: unknown) => this.deps.log.warn({ err, instanceId: row.instanceId }, 'killing a leftover replica failed'));
  }

  /** Stops every replica (tests, `deploy.stopOnShutdown`). */
  async stopAll(): Promise<void> {
    this.stopMonitor?.();
    await this.deps.driver.stopAll();
    this.live.clear();
  }

  private homeOf(instanceId: string): string {
    return join(this.deps.root, 'replicas', instanceId);
  }

  /**
   * Where a component's stopped replicas' last lines are kept (removed with the component):
   * one directory per runtime, as the process and container runtimes share `root`.
   */
  private keptDir(project: string, componentId: string): string {
    return join(this.deps.root, 'logs', project, componentId, 'replicas', this.deps.kind);
  }

  /** Tells every watcher that the component's replicas changed, and writes their views. */
  private notify(project: string, componentId: string): void {
    this.deps.onChange?.(project, componentId);
    for (const w of this.watchers) w.changed(project, componentId);
    for (const live of this.live.values()) if (live.row.project === project && live.row.componentId === componentId) this.writeView(live);
  }

  /** Writes a replica's view when it changed (after its earlier writes), then tells viewWritten. */
  private writeView(live: Live): void {
    const s = this.deps.driver.status(live.row.instanceId);
    const view = { state: s?.state ?? 'stopped', ready: live.ready && s?.state === 'running', restarts: s?.restarts ?? 0 };
    const key = `${view.state}/${view.ready}/${view.restarts}`;
    if (key === live.written) return;
    live.written = key;
    const { instanceId, project, componentId } = live.row;
    live.writes = live.writes
      .then(async () => {
        // Forgotten meanwhile (stopped, let go of): its record is gone or no longer ours.
        if (this.live.get(instanceId) !== live) return;
        await deployStore.setReplicaView(this.deps.db.kysely, instanceId, view);
        this.deps.viewWritten?.(project, componentId);
      })
      .catch((err: unknown) => this.deps.log.error({ err, instanceId }, 'replica view write failed'));
  }

  /** Takes a replica out of service: not ready, watchers told, requests in flight to it finished. */
  private async unready(live: Live): Promise<void> {
    live.ready = false;
    live.readyChanges = (live.readyChanges ?? 0) + 1;
    const { project, componentId, instanceId } = live.row;
    this.notify(project, componentId);
    await Promise.all(this.watchers.map((w) => w.draining?.(project, componentId, instanceId)));
  }

  /**
   * Keeps the last lines of a replica being removed (what its log holds after the stop, else
   * what it held before) and drops the oldest kept ones beyond KEPT_STOPPED_REPLICAS.
   */
  private async keepLog(live: Live, before: string[], exit: ExitInfo | undefined): Promise<void> {
    const after = await this.deps.driver.logs(live.row.instanceId, KEPT_LOG_LINES).catch(() => [] as string[]);
    const lines = after.length ? after : before;
    const dir = this.keptDir(live.row.project, live.row.componentId);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const kept: StoppedReplicaLogs & { exit?: ExitInfo } = { instanceId: live.row.instanceId, version: live.row.version, lines, stoppedAtMs: this.deps.clock.now(), ...(exit ? { exit } : {}) };
      await writeFile(join(dir, `${live.row.instanceId}.json`), JSON.stringify(kept), { mode: 0o600 });
      const all = await this.stoppedLogs(live.row.project, live.row.componentId, 0);
      for (const old of all.slice(KEPT_STOPPED_REPLICAS)) await rm(join(dir, `${old.instanceId}.json`), { force: true });
    } catch (err) {
      this.deps.log.warn({ err, instanceId: live.row.instanceId }, 'keeping the log of a stopped replica failed');
    }
  }

  /** The driver's spec of a replica: its variables and rendered files. */
  private async specOf(row: deployStore.ReplicaRow, release: Release): Promise<HostReplicaSpec> {
    const { plan } = release;
    const home = this.homeOf(row.instanceId);
    await mkdir(home, { recursive: true, mode: 0o700 });
    const mountRoot = this.deps.driver.mountRoot(home);
    const env: Record<string, string> = {
      ...this.deps.baseEnv(release),
      ...plan.env,
      PORT: String(row.port),
      CAS_INSTANCE_ID: row.instanceId,
      CAS_INSTANCE_NAME: `${plan.componentName}-${row.instanceId.slice(0, 8)}`,
      CAS_INSTANCE_VERSION: plan.version,
      ...(mountRoot ? { CAS_MOUNT_ROOT: mountRoot } : {}),
    };
    const files = plan.files.map((f) => ({ path: f.path, content: this.deps.renderFile(f.content, env) }));
    return {
      instanceId: row.instanceId,
      project: row.project,
      componentId: row.componentId,
      version: row.version,
      release,
      port: row.port,
      env,
      files,
      home,
      logFile: join(home, 'replica.log'),
      terminationGraceMs: Math.max(0, plan.terminationGraceSeconds) * 1000,
    };
  }

  private markReady(live: Live): void {
    if (live.stopping) return;
    live.ready = true;
    live.readinessFailures = 0;
    live.readyChanges = (live.readyChanges ?? 0) + 1;
    this.notify(live.row.project, live.row.componentId);
  }

  /** Runs a probe against a replica: http/tcp from here, command probes inside its confinement. */
  private probe(live: Live, probe: PlanProbe): Promise<ProbeResult> {
    const spec = toProbeSpec(probe);
    if (spec.type === 'command') return this.deps.driver.exec(live.row.instanceId, spec.command ?? [], spec.timeoutMs);
    return runProbe(spec, { port: live.row.port, cwd: live.spec.home, env: live.spec.env });
  }

  private async monitor(): Promise<void> {
    // A pass slower than the period (probes under load) is not overlapped by the next one.
    if (this.monitoring) return;
    this.monitoring = true;
    try {
      await this.monitorPass();
    } finally {
      this.monitoring = false;
    }
  }

  private async monitorPass(): Promise<void> {
    for (const live of [...this.live.values()]) {
      const state = this.deps.driver.status(live.row.instanceId);
      if (!state || state.state !== 'running' || live.stopping) continue;
      const { plan } = live.spec.release;
      if (plan.livenessProbe && this.deps.clock.now() - (state.startedAtMs ?? 0) >= (plan.livenessProbe.delay ?? 0) * 1000) {
        const result = await this.probe(live, plan.livenessProbe);
        live.livenessFailures = result.ok ? 0 : live.livenessFailures + 1;
        if (live.livenessFailures >= 3) {
          this.deps.log.warn({ instanceId: live.row.instanceId, detail: result.detail }, 'liveness probe failed 3 times; restarting replica');
          live.livenessFailures = 0;
          await this.unready(live);
          await this.deps.driver.stop(live.row.instanceId);
          if (!this.live.has(live.row.instanceId) || this.detached) continue;
          await this.deps.driver.start(live.spec).catch((err: unknown) => this.deps.log.error({ err }, 'replica restart failed'));
          continue;
        }
      }
      const readinessProbe = this.deps.readinessOf(live.spec.release);
      if (readinessProbe) {
        const changes = live.readyChanges;
        const ok = (await this.probe(live, readinessProbe)).ok;
        // Being stopped meanwhile: it stays out of its routes. Made ready meanwhile (a rollout's
        // own check passed while this one, begun before it listened, failed): this answer is stale.
        if (live.stopping || live.readyChanges !== changes) continue;
        // As Kubernetes' defaults: ready again at the first success, unready after 3 failures in a row
        // (one slow answer of a loaded machine does not take a replica out of service).
        live.readinessFailures = ok ? 0 : (live.readinessFailures ?? 0) + 1;
        const ready = ok || (live.ready && live.readinessFailures < READINESS_FAILURES);
        if (ready !== live.ready) {
          live.ready = ready;
          live.readyChanges = (live.readyChanges ?? 0) + 1;
          this.notify(live.row.project, live.row.componentId);
        }
      } else if (!live.ready && this.deps.clock.now() - (state.startedAtMs ?? 0) >= this.deps.settleMs) {
        this.markReady(live);
      }
    }
  }

  /** Waits `ms` of clock time, or rejects when `signal` aborts. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        cancel();
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      const cancel = this.deps.clock.after(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
