import { mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, normalize, posix } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { ProbeResult } from '../../core/process/probe.js';
import type { Backoff, ExitInfo } from '../../core/process/supervisor.js';
import type { DriverState, HostReplicaSpec, ReplicaDriver, ReplicaHandle } from '../host/driver.js';
import type { ContainerArtifact } from '../runtime.js';
import { PodmanError, type ContainerEvent, type ContainerSpec, type EventStream, type Podman } from './podman.js';

/** Labels every replica container carries (`io.openstage.managed=true` marks OpenStage's). */
export const LABEL = {
  managed: 'io.openstage.managed',
  project: 'io.openstage.project',
  component: 'io.openstage.component',
  version: 'io.openstage.version',
  instance: 'io.openstage.instance',
} as const;

/** The container of a replica: its name is unique, so a replica can never run twice. */
export function containerName(instanceId: string): string {
  return `openstage-${instanceId}`;
}

/** A user namespace for a project's containers: container ids 0..size-1 are host ids hostId… */
export interface UserNamespace {
  hostId: number;
  size: number;
}

/** Dependencies of the container driver. */
export interface ContainerDriverDeps {
  podman: Podman;
  clock: Clock;
  log: Logger;
  /** The user namespace of a project's replicas as root (undefined: none); rootless podman gets none. */
  usernsOf: (project: string) => Promise<UserNamespace | undefined>;
  /** `--pids-limit` of each replica (0: podman's default). */
  pidsLimit: number;
  /** Restart back-off after a crash. */
  backoff: Backoff;
  /** Period of the full check of every container (besides podman's events), milliseconds. */
  reconcileMs: number;
  onChange: (state: DriverState) => void;
}

interface Entry {
  spec: HostReplicaSpec;
  state: DriverState;
  /** Set by stop(): no more restarts. */
  stopping: boolean;
  consecutiveCrashes: number;
  cancelRestart?: () => void;
  /** A restart (podman start) is running. */
  restarting: boolean;
  /** `podman run` has not returned yet: the periodic check must not take the missing container for a crash. */
  starting: boolean;
  /** The running restart, which a stop waits for before it removes the container. */
  restartDone?: Promise<void>;
}

/** How a container's exit code reads: 128+n is the signal n that ended its first process. */
export function exitOf(exitCode: number, atMs: number): ExitInfo {
  if (exitCode > 128 && exitCode <= 128 + 64) {
    const name = Object.entries(constants.signals).find(([, n]) => n === exitCode - 128)?.[0];
    if (name) return { code: null, signal: name, atMs };
  }
  return { code: exitCode, signal: null, atMs };
}

/**
 * The container runtime's ReplicaDriver: each replica is one podman container named
 * `openstage-<instanceId>`, labelled with its project, component, version and instance, on
 * the host's network, with the component's limits and a user namespace.
 *
 * Supervision without a process per container: one `podman events` follower reports every
 * container that dies; a died replica is started again (`podman start`, the same container
 * and log) after the back-off (1 s, doubling to 60 s, reset after a minute up). A full check
 * (`podman ps`) every `reconcileMs` and whenever the follower had to be restarted catches
 * what an event could not tell. After an OpenStage restart a replica is found again by its
 * container name.
 */
export class ContainerDriver implements ReplicaDriver {
  private readonly entries = new Map<string, Entry>();
  private follower?: EventStream;
  private followerSinceMs = 0;
  /** Wait before restarting a follower that ended: 1 s, doubling to 60 s while it keeps failing. */
  private followerRetryMs = 1000;
  private closed = false;
  private stopReconcile?: () => void;

  constructor(private readonly deps: ContainerDriverDeps) {}

  /** Config files are mounted one by one at their own paths: no CAS_MOUNT_ROOT. */
  mountRoot(): string | undefined {
    return undefined;
  }

  async start(spec: HostReplicaSpec): Promise<DriverState> {
    const entry: Entry = { spec, state: { instanceId: spec.instanceId, state: 'running', restarts: 0, adopted: false, startedAtMs: this.deps.clock.now() }, stopping: false, consecutiveCrashes: 0, restarting: false, starting: true };
    this.entries.set(spec.instanceId, entry);
    this.ensureFollower();
    try {
      const containerSpec = await this.containerSpec(spec);
      try {
        await this.deps.podman.run(containerSpec);
      } catch (err) {
        // A container of this replica left by an earlier run (a liveness restart, a start cut
        // short by a crash): it is replaced, never duplicated.
        if (!(err instanceof PodmanError && err.kind === 'name-in-use')) throw err;
        await this.deps.podman.remove(containerSpec.name);
        await this.deps.podman.run(containerSpec);
      }
    } catch (err) {
      this.entries.delete(spec.instanceId);
      throw err;
    } finally {
      entry.starting = false;
    }
    // The pid and start time follow (a command that ended at once is then seen as a crash);
    // readiness does not wait for them.
    this.refresh(entry).catch((err: unknown) => this.deps.log.warn({ err, instanceId: spec.instanceId }, 'replica container inspect failed'));
    return { ...entry.state };
  }

  async adopt(spec: HostReplicaSpec, _handle: ReplicaHandle): Promise<DriverState> {
    const name = containerName(spec.instanceId);
    const found = await this.deps.podman.inspect(name);
    if (!found) return this.start(spec);
    const entry: Entry = { spec, state: { instanceId: spec.instanceId, state: 'running', restarts: 0, adopted: found.running }, stopping: false, consecutiveCrashes: 0, restarting: false, starting: false };
    this.entries.set(spec.instanceId, entry);
    this.ensureFollower();
    if (!found.running) {
      // Ended while OpenStage was away: the same container runs again.
      this.writeFiles(spec);
      await this.deps.podman.start(name);
    }
    await this.refresh(entry);
    return { ...entry.state };
  }

  async stop(instanceId: string): Promise<ExitInfo | undefined> {
    const entry = this.entries.get(instanceId);
    const name = containerName(instanceId);
    let exit: ExitInfo | undefined;
    if (entry) {
      entry.stopping = true;
      entry.cancelRestart?.();
      await entry.restartDone;
      const wasRunning = entry.state.state === 'running';
      await this.deps.podman.stop(name, entry.spec.terminationGraceMs / 1000);
      const info = await this.deps.podman.inspect(name);
      if (wasRunning && info) exit = exitOf(info.exitCode, info.exitedAtMs ?? this.deps.clock.now());
      entry.state = { ...entry.state, state: 'stopped', ...(exit ? { lastExit: exit } : {}) };
      delete entry.state.pid;
      this.deps.onChange({ ...entry.state });
    } else {
      await this.deps.podman.stop(name, 10);
    }
    await this.deps.podman.remove(name);
    this.entries.delete(instanceId);
    return exit;
  }

  status(instanceId: string): DriverState | undefined {
    const entry = this.entries.get(instanceId);
    return entry ? { ...entry.state } : undefined;
  }

  async exec(instanceId: string, command: string[], timeoutMs: number): Promise<ProbeResult> {
    if (command.length === 0) return { ok: false, detail: 'empty probe command' };
    const { exitCode, output } = await this.deps.podman.execIn(containerName(instanceId), command, timeoutMs);
    return exitCode === 0 ? { ok: true, detail: 'exit code 0' } : { ok: false, detail: `exit code ${exitCode}${output.trim() ? `: ${output.trim().split('\n').slice(-3).join(' | ')}` : ''}` };
  }

  logs(instanceId: string, lines: number): Promise<string[]> {
    return this.deps.podman.logs(containerName(instanceId), lines).catch(() => []);
  }

  /** Removes the leftover's container (by its name) when this server's podman storage has it. */
  async killLeftover(instanceId: string): Promise<void> {
    if (this.entries.has(instanceId)) return;
    await this.deps.podman.remove(containerName(instanceId));
  }

  detachAll(): void {
    this.close();
    for (const entry of this.entries.values()) entry.cancelRestart?.();
    this.entries.clear();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.stop(id).catch((err: unknown) => this.deps.log.warn({ err, instanceId: id }, 'replica container stop failed'))));
    this.close();
  }

  /** Instance ids of the replicas supervised here. */
  supervised(): Set<string> {
    return new Set(this.entries.keys());
  }

  /** Stops the events follower and the periodic check (the containers keep running). */
  close(): void {
    this.closed = true;
    this.stopReconcile?.();
    this.stopReconcile = undefined;
    this.follower?.close();
    this.follower = undefined;
  }

  /** What podman should run for a replica: its image, environment, mounts, limits and labels. */
  private async containerSpec(spec: HostReplicaSpec): Promise<ContainerSpec> {
    const { plan, artifact } = spec.release;
    if (artifact.runtime !== 'container') throw new Error(`release ${plan.version} of ${plan.componentName} has no container image`);
    const image = (artifact as ContainerArtifact).imageId ?? artifact.image;
    const mounts = this.writeFiles(spec);
    // Rootless podman maps ids through the calling user's own ranges: no mapping is passed.
    const userns = process.getuid?.() === 0 ? await this.deps.usernsOf(spec.project) : undefined;
    const limits = plan.resources ?? {};
    return {
      name: containerName(spec.instanceId),
      image,
      labels: { [LABEL.managed]: 'true', [LABEL.project]: spec.project, [LABEL.component]: spec.componentId, [LABEL.version]: spec.version, [LABEL.instance]: spec.instanceId },
      env: spec.env,
      mounts,
      ...(plan.command?.command?.length ? { entrypoint: plan.command.command } : {}),
      ...(plan.command?.args?.length ? { command: plan.command.args } : {}),
      ...(limits.limitMemoryBytes ? { memoryBytes: limits.limitMemoryBytes } : {}),
      ...(limits.limitCpuCores ? { cpus: limits.limitCpuCores } : {}),
      ...(this.deps.pidsLimit ? { pidsLimit: this.deps.pidsLimit } : {}),
      ...(userns ? { userns } : {}),
      stopGraceSeconds: spec.terminationGraceMs / 1000,
    };
  }

  /**
   * Writes the replica's rendered config files under `<home>/mounts/<path>` (readable by the
   * container's users: its directory chain on the host is OpenStage's own, 0700) and returns
   * them as read-only bind mounts at their paths.
   */
  private writeFiles(spec: HostReplicaSpec): ContainerSpec['mounts'] {
    return spec.files.map((f) => {
      const target = posix.normalize(f.path);
      if (!posix.isAbsolute(target) || target === '/') throw new Error(`config file path '${f.path}' must be an absolute file path`);
      const source = normalize(join(spec.home, 'mounts', target));
      mkdirSync(dirname(source), { recursive: true, mode: 0o755 });
      writeFileSync(source, f.content, { mode: 0o444 });
      return { source, target, readOnly: true };
    });
  }

  /** Reads a replica's container back (pid, start time) and reports it. */
  private async refresh(entry: Entry): Promise<void> {
    const info = await this.deps.podman.inspect(containerName(entry.spec.instanceId));
    if (!info) throw new Error(`container ${containerName(entry.spec.instanceId)} vanished`);
    if (info.running) {
      entry.state = { ...entry.state, state: 'running', pid: info.pid, ...(info.startedAtMs !== undefined ? { startedAtMs: info.startedAtMs } : {}) };
    } else {
      // It ended already (a command that exits at once): supervised like any crash.
      entry.state = { ...entry.state, ...(info.startedAtMs !== undefined ? { startedAtMs: info.startedAtMs } : {}) };
      if (entry.state.state !== 'backoff') this.crashed(entry, info.exitCode, info.exitedAtMs ?? this.deps.clock.now());
    }
    this.deps.onChange({ ...entry.state });
  }

  /** Follows podman's events from now on (once), restarting the follower when podman exits. */
  private ensureFollower(): void {
    if (this.follower || this.closed) return;
    const since = this.followerSinceMs || this.deps.clock.now();
    this.followerSinceMs = since;
    const startedAtMs = this.deps.clock.now();
    const stream = this.deps.podman.events({ [LABEL.managed]: 'true' }, (e) => this.onEvent(e), since - 1000);
    this.follower = stream;
    this.stopReconcile ??= this.deps.clock.every(this.deps.reconcileMs, () => void this.reconcile());
    void stream.ended.then(({ exitCode }) => {
      if (this.follower !== stream || this.closed) return;
      this.follower = undefined;
      // A follower that ran a while is restarted at once; one that keeps failing (podman
      // missing or broken) is retried less and less often.
      this.followerRetryMs = this.deps.clock.now() - startedAtMs >= 60_000 ? 1000 : Math.min(60_000, this.followerRetryMs * 2);
      this.deps.log.warn({ exitCode, retryInMs: this.followerRetryMs }, 'podman events follower ended; restarting it');
      this.deps.clock.after(this.followerRetryMs, () => {
        this.ensureFollower();
        void this.reconcile();
      });
    });
  }

  private onEvent(e: ContainerEvent): void {
    this.followerSinceMs = Math.max(this.followerSinceMs, e.atMs);
    if (e.status !== 'died') return;
    const entry = this.entries.get(e.labels[LABEL.instance] ?? '');
    if (!entry || entry.stopping || entry.state.state !== 'running' || entry.restarting) return;
    // An event of an earlier run (replayed by a restarted follower) is not this run's end.
    if (entry.state.startedAtMs !== undefined && e.atMs < entry.state.startedAtMs) return;
    this.crashed(entry, e.exitCode ?? 0, e.atMs);
    this.deps.onChange({ ...entry.state });
  }

  /** Checks every supervised container against podman's list (what an event may have missed). */
  private async reconcile(): Promise<void> {
    if (this.closed || this.entries.size === 0) return;
    const listedAtMs = this.deps.clock.now();
    let listed;
    try {
      listed = await this.deps.podman.list({ [LABEL.managed]: 'true' });
    } catch (err) {
      this.deps.log.warn({ err }, 'podman ps failed');
      return;
    }
    const byInstance = new Map(listed.map((c) => [c.labels[LABEL.instance] ?? '', c]));
    for (const entry of this.entries.values()) {
      if (entry.stopping || entry.restarting || entry.starting || entry.state.state !== 'running') continue;
      // Started after the list was taken: not in it yet.
      if ((entry.state.startedAtMs ?? 0) >= listedAtMs - 1000) continue;
      const c = byInstance.get(entry.spec.instanceId);
      if (c?.running) continue;
      this.crashed(entry, c?.exitCode ?? 0, c?.exitedAtMs ?? this.deps.clock.now());
      this.deps.onChange({ ...entry.state });
    }
  }

  /** Records a crash and schedules the restart after the back-off. */
  private crashed(entry: Entry, exitCode: number, atMs: number): void {
    const ranMs = atMs - (entry.state.startedAtMs ?? atMs);
    entry.consecutiveCrashes = ranMs >= this.deps.backoff.resetAfterMs ? 1 : entry.consecutiveCrashes + 1;
    const delayMs = Math.min(this.deps.backoff.maxMs, this.deps.backoff.initialMs * 2 ** (entry.consecutiveCrashes - 1));
    entry.state = { ...entry.state, state: 'backoff', lastExit: exitOf(exitCode, atMs) };
    delete entry.state.pid;
    this.deps.log.info({ instanceId: entry.spec.instanceId, exitCode, restartInMs: delayMs }, 'replica container ended; restarting it');
    entry.cancelRestart?.();
    entry.cancelRestart = this.deps.clock.after(delayMs, () => {
      entry.restartDone = this.restart(entry);
    });
  }

  /** Starts a crashed replica's container again (a container gone meanwhile is created anew). */
  private async restart(entry: Entry): Promise<void> {
    entry.cancelRestart = undefined;
    if (entry.stopping || this.closed || this.entries.get(entry.spec.instanceId) !== entry) return;
    entry.restarting = true;
    try {
      const name = containerName(entry.spec.instanceId);
      try {
        await this.deps.podman.start(name);
      } catch (err) {
        if (!(err instanceof PodmanError && err.kind === 'not-found') || entry.stopping) throw err;
        await this.deps.podman.run(await this.containerSpec(entry.spec));
      }
      if (entry.stopping) return;
      entry.state = { ...entry.state, restarts: entry.state.restarts + 1 };
      entry.restarting = false;
      await this.refresh(entry);
    } catch (err) {
      entry.restarting = false;
      if (entry.stopping || this.closed) return;
      this.deps.log.warn({ err, instanceId: entry.spec.instanceId }, 'replica container restart failed');
      this.crashed(entry, entry.state.lastExit?.code ?? 0, this.deps.clock.now());
      this.deps.onChange({ ...entry.state });
    } finally {
      entry.restarting = false;
    }
  }
}
