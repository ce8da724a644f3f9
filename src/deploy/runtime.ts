import type { LaunchSpec } from './build/stacks.js';
import type { ComponentPlan, ReplicaView, ReplicaWatcher, RouteEndpoint, RouteTargets, RuntimeChoice, RuntimeKind, TaskContext } from './types.js';

export type { ReplicaWatcher, RouteEndpoint, RouteTargets, RuntimeKind };

/**
 * The runtime contract (DESIGN.md "Deployments"): what the deployment engine asks of every
 * place a component can run. The engine (src/deploy/service.ts: jobs, tasks, batches,
 * rolling/gray, rollback, records, status) is written once against this interface; each
 * runtime lives in its own folder:
 *
 * | runtime      | folder                    | serves                                               |
 * |--------------|---------------------------|------------------------------------------------------|
 * | `process`    | src/deploy/process/       | Java, Tomcat, Nodejs, Python, Go stacks (bubblewrap) |
 * | `container`  | src/deploy/container/     | the Docker stack and `source.kind: image` (podman)   |
 * | `kubernetes` | src/deploy/kubernetes/    | environments that bind a `cce` / `custom_k8s` cluster |
 *
 * The host runtimes (process, container) share the replica bookkeeping of src/deploy/host/
 * (ports, mounted files, probes, supervision, adoption) and differ only in how one replica
 * is started, stopped and watched (a ReplicaDriver).
 */
/** A version built by the process runtime: the directory it runs in and how to start it. */
export interface ProcessArtifact {
  runtime: 'process';
  /** The artifact directory (the replicas' working directory, read-only to them). */
  dir: string;
  launch: LaunchSpec;
}

/** A version as an image for the container runtime. */
export interface ContainerArtifact {
  runtime: 'container';
  /** Image reference the replicas run (a local tag `<app>/<component>:<version>` or a pulled reference). */
  image: string;
  /** Image id (digest of its config) when known: what a rollback runs even if the tag moved. */
  imageId?: string;
}

/** A version as an image in the registry the cluster pulls from. */
export interface KubernetesArtifact {
  runtime: 'kubernetes';
  /** Image reference the Deployment runs (by digest when the runtime pushed it). */
  image: string;
}

/** What a build produces and the release keeps (stored as JSON with the sealed plan). */
export type Artifact = ProcessArtifact | ContainerArtifact | KubernetesArtifact;

/** One built version of a component: the plan it was deployed with and its artifact. */
export interface Release {
  plan: ComponentPlan;
  artifact: Artifact;
}

/** Where a build step works. */
export interface BuildStep {
  /**
   * A fresh directory for this build (`<data>/deploy/artifacts/<project>/<component>/<version>-<job>`):
   * the process runtime builds in place and keeps it as the artifact; others may remove it.
   */
  workspace: string;
  /** The build log file (appended; served by the logs API). */
  buildLog: string;
  ctx: TaskContext;
}

/** What a roll-out step asks (see Runtime.rollout). */
export interface RolloutOptions {
  /** Replicas of the release wanted when the whole roll-out is done. */
  target: number;
  /**
   * Sizes of the batches to start, in order: each batch is started and must be ready before
   * as many replicas of the old versions stop. [target] is one batch (OneBatchRelease).
   */
  batches: number[];
  /**
   * Gray release, first phase: leave the old replicas beyond the batches running (the job
   * then waits for continue_deploy and calls rollout again for the rest, with the same job).
   */
  keepOld?: boolean;
}

/** How a stop went. */
export interface StopOutcome {
  stopped: number;
  /** Replicas that did not end within the termination grace and were killed. */
  killed: number;
}

/** The last lines of one replica's log. */
export interface ReplicaLogs {
  instanceId: string;
  version: string;
  lines: string[];
}

/**
 * A replica a runtime stopped on request (a stop, a scale-down, replaced by a roll-out or a
 * revert) and that has ended: where it listened, for removing what it left in the registry.
 */
export interface EndedReplica {
  project: string;
  componentId: string;
  instanceId: string;
  version: string;
  /**
   * Host names and addresses its endpoints may name: for the host runtimes this machine's
   * (loopback, `localhost`, the interface addresses and the host name); for a cluster the pod's.
   */
  hosts: string[];
  /** The port it listened on (its PORT). */
  port: number;
  /** When the replica was first started and when it ended, epoch milliseconds (engine clock). */
  startedAtMs: number;
  endedAtMs: number;
}

/** What the engine gives every runtime it registers. */
export interface RuntimeHooks {
  /**
   * Called by the runtime after a replica it stopped has ended and before that stop resolves
   * (so a finished stop job leaves no stale registry instance); the port must not be given to
   * another replica before it returns. Removes the instances the replica registered in the
   * built-in registry and did not deregister itself. Never throws.
   */
  replicaEnded(replica: EndedReplica): Promise<void>;
  /** This server's id, recorded with each replica a host runtime starts (several servers). */
  serverId?: () => string;
  /**
   * Whether this server may start replicas of a component now: with several servers only the
   * owner of its replica set may (a task still running after its server lost its lease is refused).
   */
  mayRun?: (project: string, componentId: string) => boolean;
  /** Told after a host runtime wrote a replica's record or view (the other servers reload theirs). */
  viewWritten?: (project: string, componentId: string) => void;
}

/** A replica record another server left (it died or lost its lease). */
export interface LeftoverReplica {
  instanceId: string;
  /** `<host name>/<boot id>` of its machine. */
  host: string;
  pid?: number;
  startTicks?: number;
}

/** The last lines of a replica that is no longer running (kept when it stopped). */
export interface StoppedReplicaLogs extends ReplicaLogs {
  /** Epoch milliseconds when it was stopped. */
  stoppedAtMs: number;
}

/** A running replica's log file, for following it. */
export interface ReplicaLogFile {
  instanceId: string;
  version: string;
  /** Path on this host, appended to while the replica runs (and across its crash restarts). */
  path: string;
}

/** Looks up a stored release (after a restart, to take over what runs). */
export type ReleaseLookup = (project: string, componentId: string, version: string) => Promise<Release | undefined>;

/**
 * One place components run. Every method that starts or stops something runs inside a job
 * task and must honour `ctx.signal` (cancel, task timeout): stop what it started and reject
 * with the signal's reason. Errors are Error objects whose message is shown in the task's
 * messages (no secrets in them).
 */
export interface Runtime {
  readonly kind: RuntimeKind;

  /**
   * Job task "fetch source": brings the plan's source into `step.workspace` (git clone, a
   * package download, an image pull — confined like a build).
   * @returns the revision fetched (commit sha, package URL, image digest)
   * @throws BuildError with a clear reason
   */
  fetch(plan: ComponentPlan, step: BuildStep): Promise<{ revision: string }>;

  /**
   * Job task "build": builds the fetched source for the plan's runtime stack (confined).
   * @returns the artifact to store with the release
   * @throws BuildError naming the failed command with the log's last lines
   */
  build(plan: ComponentPlan, step: BuildStep): Promise<Artifact>;

  /** Whether a stored artifact can still run (checked before a rollback stops anything). */
  hasArtifact(artifact: Artifact): Promise<boolean>;

  /** Removes stored artifacts (retention, component delete); one a replica runs is never passed. */
  removeArtifacts(project: string, componentId: string, artifacts: Artifact[]): Promise<void>;

  /**
   * Replaces the component's replicas with `options.target` replicas of `release`, batch by
   * batch: start a batch, wait until it is ready, stop as many old replicas. A batch that
   * fails is stopped and the old replicas keep running; the error names the replica's exit
   * code and last log lines (or the cluster's reason). Replicas started by an earlier call
   * of the same job (`ctx.jobId`, a gray release's first phase) count as new.
   */
  rollout(release: Release, options: RolloutOptions, ctx: TaskContext): Promise<void>;

  /** Adds replicas of `release` until there are `replicas`, or stops the newest extra ones. */
  scale(release: Release, replicas: number, ctx: TaskContext): Promise<void>;

  /**
   * Stops every replica of a component — only those of `versions` when given (what an
   * interrupted roll-out left) — with SIGTERM, then SIGKILL after the plan's grace.
   */
  stopAll(project: string, componentId: string, ctx: TaskContext, versions?: string[]): Promise<StopOutcome>;

  /**
   * Component delete, after stopAll: removes whatever else the runtime made for the
   * component (the kubernetes runtime's Deployment, Services, ConfigMaps, Secrets). Runtimes
   * with nothing beyond replicas and artifacts leave it out.
   */
  remove?(project: string, componentId: string, ctx: TaskContext): Promise<void>;

  /** The component's replicas as the runtime sees them now, oldest first (no I/O). */
  replicas(project: string, componentId: string): ReplicaView[];

  /**
   * Why the component's replicas do not run now, in the runtime's own words (the kubernetes
   * runtime: the cluster's reason — ImagePullBackOff, CrashLoopBackOff, FailedScheduling,
   * ProgressDeadlineExceeded), or undefined; no I/O. Shown as the component's fail detail.
   * Runtimes whose failures reach the engine only through their jobs leave it out.
   */
  failure?(project: string, componentId: string): string | undefined;

  /** The last `lines` lines of each replica's log. */
  logs(project: string, componentId: string, lines: number): Promise<ReplicaLogs[]>;

  /** The last `lines` lines of the component's replicas that stopped (newest first), kept when they stopped. */
  stoppedLogs?(project: string, componentId: string, lines: number): Promise<StoppedReplicaLogs[]>;

  /** The log files of the component's replicas on this host (follow); runtimes without files leave it out. */
  logFiles?(project: string, componentId: string): ReplicaLogFile[];

  /** Subscribes to replica changes (see ReplicaWatcher). */
  watch?(watcher: ReplicaWatcher): void;

  /** Where the component's stable route leads, or undefined when this runtime does not run it (no I/O). */
  routeTargets?(project: string, componentId: string): RouteTargets | undefined;

  /**
   * After an OpenStage start: takes over (adopts) what should run, starting what is gone —
   * host runtimes only the components `owns` accepts (with several servers: the replica sets
   * this server owns; default all).
   */
  adopt(releaseOf: ReleaseLookup, owns?: (project: string, componentId: string) => boolean): Promise<void>;

  /**
   * This server lost its cluster lease (host runtimes): every replica it supervised is killed
   * and forgotten without writing its record; another server takes the replica sets over.
   */
  letGo?(): Promise<void>;

  /** Kills a replica another server left on this machine (host runtimes); one elsewhere is left alone. Never throws. */
  killLeftover?(replica: LeftoverReplica): Promise<void>;

  /**
   * OpenStage stopping: with `stopReplicas` false the replicas keep running and the next
   * start adopts them; nothing is started or stopped afterwards.
   */
  shutdown(stopReplicas: boolean): Promise<void>;
}

/** What decides where a component runs. */
export interface RuntimeChoiceInput {
  /** Runtime stack type in its canonical spelling (Java, Tomcat, Nodejs, Python, Go, Docker). */
  stackType: string;
  sourceKind: 'code' | 'package' | 'image';
  /** The environment's managed resources (type and id). */
  bindings: readonly { type: string; id: string; name?: string }[];
}

/** Stack types the process runtime builds and runs. */
export const PROCESS_STACKS = ['Java', 'Tomcat', 'Nodejs', 'Python', 'Go'] as const;

/**
 * The runtime of a component (DESIGN.md "Deployments": the environment's bindings choose):
 * 1. an environment binding a `cce` or `custom_k8s` cluster → kubernetes;
 * 2. else an `ecs` binding other than `local` (this machine) → refused: no runtime reaches
 *    another host, and a component is never run somewhere other than where it was bound;
 * 3. else the Docker stack or `source.kind: image` → container;
 * 4. else a process stack → process.
 * @returns the runtime, or `refused` naming the binding or stack that no runtime serves
 */
export function chooseRuntime(input: RuntimeChoiceInput): RuntimeChoice {
  const cluster = input.bindings.find((b) => b.type === 'cce' || b.type === 'custom_k8s');
  if (cluster) return { runtime: 'kubernetes' };
  const remote = input.bindings.find((b) => b.type === 'ecs' && b.id !== 'local');
  if (remote) {
    return { refused: `the environment binds the ecs host ${remote.id}${remote.name ? ` (${remote.name})` : ''}, which no OpenStage runtime reaches; bind ecs "local" (this machine) or a cce / custom_k8s cluster` };
  }
  if (input.stackType === 'Docker' || input.sourceKind === 'image') {
    if (input.sourceKind === 'image' && input.stackType !== 'Docker') return { refused: `source.kind image runs on the Docker runtime stack, not ${input.stackType}` };
    return { runtime: 'container' };
  }
  if ((PROCESS_STACKS as readonly string[]).includes(input.stackType)) return { runtime: 'process' };
  return { refused: `runtime_stack.type '${input.stackType}' is not served by any runtime; supported: ${[...PROCESS_STACKS, 'Docker'].join(', ')}` };
}
