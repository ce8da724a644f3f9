import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db/kysely.js';
import type { Logger } from '../core/log.js';
import type { LaunchSpec } from './build/stacks.js';
import { prepareCatalinaBase } from './build/tomcat.js';
import { runProbe, type ProbeSpec } from '../core/process/probe.js';
import { ProcessRuntime, tailLines, type ExitInfo, type ReplicaSpec } from '../core/process/supervisor.js';
import * as deployStore from './store.js';
import type { ComponentPlan, PlanProbe, ReplicaView } from './types.js';

/** Lines of a replica's log quoted when it fails. */
const FAIL_LOG_LINES = 20;

/**
 * The readiness probe of a release's replicas: the component's, else — for a war run by
 * OpenStage's Tomcat start command — a TCP connect to the replica's port (Tomcat opens its
 * connector only after deploying the war, and a JVM takes longer than `deploy.settleSeconds`
 * to get there on a busy host), else none (ready after the settle time).
 */
function readinessOf(runnable: Runnable): PlanProbe | undefined {
  const { plan, launch } = runnable;
  if (plan.readinessProbe) return plan.readinessProbe;
  if (launch.tomcat && !plan.command?.command?.length) {
    const { address } = launch.tomcat;
    return { type: 'tcp', ...(address && address !== '0.0.0.0' && address !== '::' ? { host: address } : {}) };
  }
  return undefined;
}

/** A built release as the replicas need it: where the artifact is and how to start it. */
export interface Runnable {
  plan: ComponentPlan;
  launch: LaunchSpec;
  /** Artifact directory (the replicas' working directory). */
  dir: string;
}

interface Live {
  row: deployStore.ReplicaRow;
  runnable: Runnable;
  spec: ReplicaSpec;
  ready: boolean;
  livenessFailures: number;
}

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

/** A plan probe in the runtime's terms (seconds → milliseconds, 1 s default timeout). */
export function toProbeSpec(p: PlanProbe): ProbeSpec {
  return { type: p.type, ...(p.host ? { host: p.host } : {}), ...(p.port ? { port: p.port } : {}), ...(p.path ? { path: p.path } : {}), ...(p.scheme ? { scheme: p.scheme } : {}), ...(p.command ? { command: p.command } : {}), timeoutMs: Math.max(1, p.timeout ?? 1) * 1000 };
}

/**
 * The replicas of every component on this host: their records, processes (through the
 * process runtime), ports, mounted files, readiness and liveness. Each replica runs in its
 * release's artifact directory with its own port (`PORT`), log file and mount root
 * (`CAS_MOUNT_ROOT`, under which each config file is written at its mount path).
 */
export class Replicas {
  private readonly live = new Map<string, Live>();
  private readonly runtime: ProcessRuntime;
  private stopMonitor?: () => void;
  /** Set by `detach`: OpenStage is stopping and the processes are left to the next start. */
  private detached = false;

  /**
   * @param deps.renderFile renders a config file's `${NAME}` placeholders with the replica's variables
   * @param deps.baseEnv variables every process gets first (PATH, HOME)
   * @param deps.settleMs how long a replica without a readiness probe must stay up to count as ready
   * @param deps.monitorMs period of liveness and readiness checks of running replicas
   */
  constructor(
    private readonly deps: {
      db: Db;
      clock: Clock;
      log: Logger;
      root: string;
      renderFile: (content: string, variables: Record<string, string>) => string;
      baseEnv: Record<string, string>;
      settleMs: number;
      monitorMs: number;
      /** Replica ports, inclusive. */
      portRange: [number, number];
      onChange?: (project: string, componentId: string) => void;
    },
  ) {
    this.runtime = new ProcessRuntime({
      clock: deps.clock,
      log: deps.log,
      backoff: { initialMs: 1000, maxMs: 60_000, resetAfterMs: 60_000 },
      pollMs: 1000,
      onChange: (state) => {
        const live = this.live.get(state.instanceId);
        if (!live) return;
        if (state.state !== 'running') live.ready = false;
        if (state.state === 'running' && (state.pid !== live.row.pid || state.startTicks !== live.row.startTicks)) {
          live.row.pid = state.pid;
          live.row.startTicks = state.startTicks;
          deployStore.setReplicaProcess(deps.db.kysely, state.instanceId, state.pid, state.startTicks).catch((err: unknown) => deps.log.error({ err }, 'replica write failed'));
        }
        deps.onChange?.(live.row.project, live.row.componentId);
      },
    });
  }

  /** Starts the periodic liveness/readiness monitor. */
  startMonitor(): void {
    this.stopMonitor = this.deps.clock.every(this.deps.monitorMs, () => void this.monitor());
  }

  /**
   * Re-adopts (or restarts) every replica the store says should run, after an OpenStage
   * restart. @param runnableOf the release of (project, component, version), or undefined
   */
  async adoptAll(runnableOf: (project: string, componentId: string, version: string) => Promise<Runnable | undefined>): Promise<void> {
    for (const row of await deployStore.listReplicas(this.deps.db.kysely)) {
      if (row.desired !== 'running') continue;
      const runnable = await runnableOf(row.project, row.componentId, row.version);
      if (!runnable) {
        this.deps.log.warn({ instanceId: row.instanceId }, 'replica release missing; not restarted');
        continue;
      }
      let spec: ReplicaSpec;
      try {
        spec = this.specOf(row, runnable);
      } catch (err) {
        this.deps.log.error({ err, instanceId: row.instanceId }, 'replica could not be prepared; not restarted');
        continue;
      }
      const live: Live = { row, runnable, spec, ready: false, livenessFailures: 0 };
      this.live.set(row.instanceId, live);
      try {
        const state = await this.runtime.adopt(spec, row.pid, row.startTicks);
        // A process found alive was ready before the restart (checked again now when it has a
        // readiness probe); a new one is checked by the monitor.
        if (state.adopted) live.ready = runnable.plan.readinessProbe ? (await runProbe(toProbeSpec(runnable.plan.readinessProbe), { port: row.port, cwd: runnable.dir, env: spec.env })).ok : true;
        this.deps.log.info({ instanceId: row.instanceId, adopted: state.adopted, pid: state.pid }, 'replica taken over after restart');
      } catch (err) {
        this.deps.log.error({ err, instanceId: row.instanceId }, 'replica could not be restarted');
      }
    }
  }

  /**
   * Starts a new replica of a release: port, record, mounted files, process.
   * @throws Error when the process cannot be started (command not found…)
   */
  async start(runnable: Runnable): Promise<string> {
    // After a detach nothing would supervise a new process.
    if (this.detached) throw new Error('interrupted: the server is stopping');
    const { plan } = runnable;
    const row: deployStore.ReplicaRow = {
      instanceId: randomUUID().replaceAll('-', '').slice(0, 20),
      project: plan.project,
      componentId: plan.componentId,
      version: plan.version,
      port: await freePort(this.deps.portRange[0], this.deps.portRange[1], new Set([...this.live.values()].map((l) => l.row.port))),
      desired: 'running',
      createdAtMs: this.deps.clock.now(),
    };
    await deployStore.insertReplica(this.deps.db.kysely, row);
    try {
      const spec = this.specOf(row, runnable);
      this.live.set(row.instanceId, { row, runnable, spec, ready: false, livenessFailures: 0 });
      await this.runtime.start(spec);
    } catch (err) {
      this.live.delete(row.instanceId);
      await deployStore.deleteReplicas(this.deps.db.kysely, [row.instanceId]);
      rmSync(join(this.deps.root, 'replicas', row.instanceId), { recursive: true, force: true });
      throw err;
    }
    return row.instanceId;
  }

  /**
   * Waits until a replica is ready: its readiness probe passes, or (without one) it has stayed
   * up for settleMs. Polls on the clock, 50 ms after the start and then twice as long each
   * time, up to once a second.
   * @throws Error with the exit code and the last log lines when the process exits first,
   *   or when `timeoutMs` passes; the abort reason when `signal` aborts
   */
  async waitReady(instanceId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const live = this.live.get(instanceId);
    if (!live) throw new Error(`replica ${instanceId} is not running`);
    const readinessProbe = readinessOf(live.runnable);
    const startedAt = this.deps.clock.now();
    const delayMs = (readinessProbe?.delay ?? 0) * 1000;
    let attempt = 0;
    for (;;) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      const state = this.runtime.status(instanceId);
      if (!state || state.state !== 'running' || state.restarts > 0) {
        const exit = state?.lastExit;
        const how = exit ? (exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`) : 'no process';
        const tail = await tailLines(live.spec.logFile, FAIL_LOG_LINES);
        throw new Error(`replica ${instanceId} exited before it was ready (${how})${tail.length ? `; last lines of its log:\n${tail.join('\n')}` : ''}`);
      }
      const elapsed = this.deps.clock.now() - startedAt;
      if (readinessProbe) {
        if (elapsed >= delayMs) {
          const result = await runProbe(toProbeSpec(readinessProbe), { port: live.row.port, cwd: live.runnable.dir, env: live.spec.env });
          if (result.ok) {
            live.ready = true;
            this.deps.onChange?.(live.row.project, live.row.componentId);
            return;
          }
        }
      } else if (elapsed >= this.deps.settleMs) {
        live.ready = true;
        this.deps.onChange?.(live.row.project, live.row.componentId);
        return;
      }
      if (elapsed >= timeoutMs) {
        const tail = await tailLines(live.spec.logFile, FAIL_LOG_LINES);
        throw new Error(`replica ${instanceId} was not ready after ${Math.round(timeoutMs / 1000)} s${tail.length ? `; last lines of its log:\n${tail.join('\n')}` : ''}`);
      }
      // 50 ms, 100 ms, … up to 1 s: a fast starter is seen at once, a slow one costs no more polls.
      await this.sleep(Math.min(Math.min(1000, 50 * 2 ** attempt++), Math.max(1, timeoutMs - elapsed)), signal);
    }
  }

  /**
   * Stops a replica's process (SIGTERM, then SIGKILL after the grace) and forgets it.
   * @returns how its process ended (`signal` 'SIGKILL' when the grace ran out; undefined
   *   when none was running)
   * @throws after `detach` (OpenStage stopping): the replica is left running and recorded
   */
  async stop(instanceId: string): Promise<ExitInfo | undefined> {
    // After a detach the process is no longer ours to stop: its record stays for the next
    // start, which adopts it (and puts an interrupted rollout back in order).
    if (this.detached) throw new Error('interrupted: the server is stopping');
    const live = this.live.get(instanceId);
    if (live) live.ready = false;
    await deployStore.setReplicaDesired(this.deps.db.kysely, [instanceId], 'stopped');
    const exit = await this.runtime.stop(instanceId);
    this.live.delete(instanceId);
    await deployStore.deleteReplicas(this.deps.db.kysely, [instanceId]);
    rmSync(join(this.deps.root, 'replicas', instanceId), { recursive: true, force: true });
    if (live) this.deps.onChange?.(live.row.project, live.row.componentId);
    return exit;
  }

  /** The replicas of a component, oldest first. */
  list(project: string, componentId: string): ReplicaView[] {
    const views: ReplicaView[] = [];
    for (const live of this.live.values()) {
      if (live.row.project !== project || live.row.componentId !== componentId) continue;
      const s = this.runtime.status(live.row.instanceId);
      views.push({
        instanceId: live.row.instanceId,
        version: live.row.version,
        port: live.row.port,
        ...(s?.pid ? { pid: s.pid } : {}),
        state: s?.state ?? 'stopped',
        ready: live.ready && s?.state === 'running',
        restarts: s?.restarts ?? 0,
        ...(s?.lastExit ? { lastExit: { code: s.lastExit.code, signal: s.lastExit.signal } } : {}),
      });
    }
    return views.sort((a, b) => (this.live.get(a.instanceId)!.row.createdAtMs - this.live.get(b.instanceId)!.row.createdAtMs) || a.instanceId.localeCompare(b.instanceId));
  }

  /** The last `lines` lines of a replica's log. */
  async logs(instanceId: string, lines: number): Promise<string[]> {
    return tailLines(join(this.deps.root, 'replicas', instanceId, 'replica.log'), lines);
  }

  /** Lets every process run on without supervision (OpenStage stopping; the next start adopts them). */
  detach(): void {
    this.detached = true;
    this.stopMonitor?.();
    this.runtime.detachAll();
    this.live.clear();
  }

  /** Stops every process (tests; never on a normal OpenStage stop). */
  async stopAll(): Promise<void> {
    this.stopMonitor?.();
    await this.runtime.stopAll();
    this.live.clear();
  }

  private specOf(row: deployStore.ReplicaRow, runnable: Runnable): ReplicaSpec {
    const { plan, launch, dir } = runnable;
    const home = join(this.deps.root, 'replicas', row.instanceId);
    const mountRoot = join(home, 'mounts');
    const env: Record<string, string> = {
      ...this.deps.baseEnv,
      ...plan.env,
      PORT: String(row.port),
      CAS_INSTANCE_ID: row.instanceId,
      CAS_INSTANCE_NAME: `${plan.componentName}-${row.instanceId.slice(0, 8)}`,
      CAS_INSTANCE_VERSION: plan.version,
      CAS_MOUNT_ROOT: mountRoot,
    };
    mkdirSync(mountRoot, { recursive: true });
    for (const file of plan.files) {
      const target = join(mountRoot, normalize(`/${file.path}`));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, this.deps.renderFile(file.content, env));
    }
    let launchArgs = launch.args;
    if (launch.tomcat) {
      // Tomcat: the replica's own CATALINA_BASE (its port, logs, temp, unpacked war); a
      // component `command` gets the same base through CATALINA_HOME / CATALINA_BASE.
      const base = join(home, 'catalina-base');
      launchArgs = [...launch.args, ...prepareCatalinaBase(base, dir, launch.tomcat, row.port)];
      Object.assign(env, { CATALINA_HOME: launch.tomcat.home, CATALINA_BASE: base });
    }
    const command = plan.command?.command?.length ? plan.command.command[0]! : launch.command;
    const args = plan.command?.command?.length ? [...plan.command.command.slice(1), ...(plan.command.args ?? [])] : [...launchArgs, ...(plan.command?.args ?? [])];
    return { instanceId: row.instanceId, command, args, cwd: dir, env, logFile: join(home, 'replica.log'), terminationGraceMs: Math.max(0, plan.terminationGraceSeconds) * 1000 };
  }

  private async monitor(): Promise<void> {
    for (const live of [...this.live.values()]) {
      const state = this.runtime.status(live.row.instanceId);
      if (!state || state.state !== 'running') continue;
      const { plan } = live.runnable;
      const context = { port: live.row.port, cwd: live.runnable.dir, env: live.spec.env };
      if (plan.livenessProbe && this.deps.clock.now() - (state.startedAtMs ?? 0) >= (plan.livenessProbe.delay ?? 0) * 1000) {
        const result = await runProbe(toProbeSpec(plan.livenessProbe), context);
        live.livenessFailures = result.ok ? 0 : live.livenessFailures + 1;
        if (live.livenessFailures >= 3) {
          this.deps.log.warn({ instanceId: live.row.instanceId, detail: result.detail }, 'liveness probe failed 3 times; restarting replica');
          live.livenessFailures = 0;
          live.ready = false;
          await this.runtime.stop(live.row.instanceId);
          await this.runtime.start(live.spec).catch((err: unknown) => this.deps.log.error({ err }, 'replica restart failed'));
          continue;
        }
      }
      const readinessProbe = readinessOf(live.runnable);
      if (readinessProbe) {
        const ready = (await runProbe(toProbeSpec(readinessProbe), context)).ok;
        if (ready !== live.ready) {
          live.ready = ready;
          this.deps.onChange?.(live.row.project, live.row.componentId);
        }
      } else if (!live.ready && this.deps.clock.now() - (state.startedAtMs ?? 0) >= this.deps.settleMs) {
        live.ready = true;
        this.deps.onChange?.(live.row.project, live.row.componentId);
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
