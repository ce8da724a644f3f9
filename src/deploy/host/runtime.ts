import type { Artifact, BuildStep, LeftoverReplica, Release, ReleaseLookup, ReplicaLogFile, ReplicaLogs, ReplicaWatcher, RolloutOptions, RouteTargets, Runtime, RuntimeHooks, StopOutcome, StoppedReplicaLogs } from '../runtime.js';
import type { ComponentPlan, ReplicaView, TaskContext } from '../types.js';
import type { HostReplicas } from './replica-service.js';

/** The replica settings every host runtime (process, container) takes from the engine; times in milliseconds. */
export interface HostReplicaSettings {
  /** Without a readiness probe, how long a replica must stay up to count as ready. */
  settleMs: number;
  /** Liveness/readiness monitor period. */
  monitorMs: number;
  /** Ports replicas get their PORT from, inclusive. */
  portRange: [number, number];
  /** Longest a new replica may take to become ready. */
  readyTimeoutMs: number;
  onChange?: (project: string, componentId: string) => void;
  /** What the engine gives every runtime (runtime.ts RuntimeHooks). */
  hooks?: RuntimeHooks;
}

/**
 * What the host runtimes (process, container) share: batches, scale and stop over
 * HostReplicas (DESIGN.md "Deployments"). A subclass fetches and builds, and gives the
 * HostReplicas built with its ReplicaDriver.
 */
export abstract class HostRuntime implements Runtime {
  abstract readonly kind: 'process' | 'container';
  abstract readonly replicaSet: HostReplicas;

  abstract fetch(plan: ComponentPlan, step: BuildStep): Promise<{ revision: string }>;
  abstract build(plan: ComponentPlan, step: BuildStep): Promise<Artifact>;
  abstract hasArtifact(artifact: Artifact): Promise<boolean>;
  abstract removeArtifacts(project: string, componentId: string, artifacts: Artifact[]): Promise<void>;

  /** @param readyTimeoutMs longest a new replica may take to be ready */
  constructor(protected readonly readyTimeoutMs: number) {}

  async rollout(release: Release, options: RolloutOptions, ctx: TaskContext): Promise<void> {
    const { project, componentId, version } = release.plan;
    const set = this.replicaSet;
    const fresh = new Set(set.list(project, componentId).filter((r) => r.rolloutId === ctx.jobId).map((r) => r.instanceId));
    const old = set.list(project, componentId).filter((r) => !fresh.has(r.instanceId)).map((r) => r.instanceId);
    for (const size of options.batches) {
      const batch: string[] = [];
      try {
        for (let i = 0; i < size && fresh.size < options.target; i++) {
          const id = await set.start(release, ctx.jobId);
          batch.push(id);
          fresh.add(id);
        }
        ctx.log(`started ${batch.length} replica(s) of ${version}; waiting until ready`);
        await Promise.all(batch.map((id) => set.waitReady(id, this.readyTimeoutMs, ctx.signal)));
      } catch (err) {
        for (const id of batch) {
          fresh.delete(id);
          await set.stop(id).catch(() => undefined);
        }
        throw err;
      }
      for (const id of old.splice(0, batch.length)) await set.stop(id);
      ctx.log(`${batch.length} replica(s) ready`);
    }
    if (!options.keepOld) for (const id of old.splice(0)) await set.stop(id);
  }

  async scale(release: Release, replicas: number, ctx: TaskContext): Promise<void> {
    const { project, componentId } = release.plan;
    const set = this.replicaSet;
    const existing = set.list(project, componentId);
    if (existing.length > replicas) {
      for (const r of existing.slice(replicas).reverse()) await set.stop(r.instanceId);
      ctx.log(`stopped ${existing.length - replicas} replica(s)`);
      return;
    }
    const added: string[] = [];
    try {
      for (let i = existing.length; i < replicas; i++) added.push(await set.start(release));
      await Promise.all(added.map((id) => set.waitReady(id, this.readyTimeoutMs, ctx.signal)));
    } catch (err) {
      for (const id of added) await set.stop(id).catch(() => undefined);
      throw err;
    }
    ctx.log(`${replicas} replica(s) running`);
  }

  async stopAll(project: string, componentId: string, _ctx: TaskContext, versions?: string[]): Promise<StopOutcome> {
    const all = this.replicaSet.list(project, componentId).filter((r) => !versions || versions.includes(r.version));
    const exits = await Promise.all(all.map((r) => this.replicaSet.stop(r.instanceId)));
    return { stopped: all.length, killed: exits.filter((e) => e?.signal === 'SIGKILL').length };
  }

  replicas(project: string, componentId: string): ReplicaView[] {
    return this.replicaSet.list(project, componentId).map(({ rolloutId: _, ...view }) => view);
  }

  async logs(project: string, componentId: string, lines: number): Promise<ReplicaLogs[]> {
    const out: ReplicaLogs[] = [];
    for (const r of this.replicaSet.list(project, componentId)) out.push({ instanceId: r.instanceId, version: r.version, lines: await this.replicaSet.logs(r.instanceId, lines) });
    return out;
  }

  stoppedLogs(project: string, componentId: string, lines: number): Promise<StoppedReplicaLogs[]> {
    return this.replicaSet.stoppedLogs(project, componentId, lines);
  }

  logFiles(project: string, componentId: string): ReplicaLogFile[] {
    return this.replicaSet.logFiles(project, componentId);
  }

  watch(watcher: ReplicaWatcher): void {
    this.replicaSet.watch(watcher);
  }

  /** The ready replicas, on this host's loopback at their ports; undefined when none runs here. */
  routeTargets(project: string, componentId: string): RouteTargets | undefined {
    const all = this.replicaSet.list(project, componentId);
    if (all.length === 0) return undefined;
    return { kind: 'proxy', endpoints: all.filter((r) => r.ready).map((r) => ({ instanceId: r.instanceId, host: '127.0.0.1', port: r.port })) };
  }

  async adopt(releaseOf: ReleaseLookup, owns?: (project: string, componentId: string) => boolean): Promise<void> {
    await this.replicaSet.adoptAll(releaseOf, owns);
    this.replicaSet.startMonitor();
  }

  letGo(): Promise<void> {
    return this.replicaSet.letGo();
  }

  killLeftover(replica: LeftoverReplica): Promise<void> {
    return this.replicaSet.killLeftover(replica);
  }

  async shutdown(stopReplicas: boolean): Promise<void> {
    if (stopReplicas) await this.replicaSet.stopAll();
    else this.replicaSet.detach();
  }
}
