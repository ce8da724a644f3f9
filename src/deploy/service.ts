import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Bus } from '../core/bus.js';
import { systemClock, type Clock } from '../core/clock.js';
import { LocalCluster, type Cluster } from '../core/cluster.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db/kysely.js';
import { LocalFeed, type ChangeFeed } from '../core/feed.js';
import type { Logger } from '../core/log.js';
import { Ownership, type OwnershipEvents } from '../core/ownership.js';
import type { SecretBox } from '../core/secrets.js';
import type { TomcatSettings } from './build/tomcat.js';
import { ClusterImageBuilder } from './container/image-builder.js';
import { ContainerRuntime, createPodman, findExecutable, projectUserns } from './container/runtime.js';
import { podmanPaths } from './container/setup.js';
import { deployError } from './errors.js';
import { GrayReleases, type Supersede } from './gray.js';
import { newJobId, type JobService } from './job-service.js';
import type { ImageBuilder } from './kubernetes/runtime.js';
import { processArtifactOf, ProcessRuntime } from './process/runtime.js';
import { hostIdentity } from './host/replica-service.js';
import { OwnerCalls } from './owner-call.js';
import { key, REPLICA_SET, ReplicaSets, splitKey, type ForwardedCall, type RemoteView } from './replica-set-service.js';
import { Retention } from './retention-service.js';
import { Sandbox } from './process/sandbox.js';
import type { FollowHub } from './log-follow.js';
import { followReplicaLogs, type ReplicaLogLine } from './replica-logs.js';
import { chooseRuntime, PROCESS_STACKS, type Artifact, type EndedReplica, type Release, type ReplicaWatcher, type RouteTargets, type Runtime, type RuntimeChoiceInput, type RuntimeKind } from './runtime.js';
import * as deployStore from './store.js';
import type { ComponentPlan, ComponentRuntime, ComponentStatus, DeployEvents, RuntimeChoice, TaskContext, TaskSpec } from './types.js';

/** Dependencies of DeployService, built in server.ts. */
export interface DeployDeps {
  db: Db;
  bus: Bus<DeployEvents>;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
  secrets: SecretBox;
  jobs: JobService;
  /** Renders a config file's placeholders (the config area's renderConfig). */
  renderFile: (content: string, variables: Record<string, string>) => string;
  /** Variables of the host every build and replica gets first (PATH, HOME, …). */
  hostEnv: Record<string, string>;
  /**
   * Removes the instances a stopped replica registered in the built-in registry and left
   * behind (endpoint on one of `hosts` at `port`, registered and last renewed while it ran).
   * @returns how many were removed
   */
  removeStaleInstances?: (replica: EndedReplica) => Promise<number>;
  /** Ends log follows when the server stops. */
  follows?: FollowHub;
  /** Component changes and requests forwarded to a replica set's owner reach every server through it (default: one server). */
  feed?: ChangeFeed<DeployEvents>;
  /** Each host replica set is owned by one server; a dead owner's are taken over (default: one server). */
  ownership?: Ownership;
  cluster?: Cluster;
}

/** Told when a component's removal job has removed the engine's state (the component service removes its record). */
export type ComponentRemovedListener = (project: string, componentId: string) => Promise<void>;

/** Told when a job of a component has ended and the engine's state says what runs. */
export type ComponentJobListener = (project: string, componentId: string, jobId: string, status: 'SUCCEEDED' | 'FAILED') => Promise<void>;

/** Component actions the engine runs (servicestage.md §4 action enum). */
export type EngineAction = 'start' | 'stop' | 'restart' | 'scale' | 'rollback' | 'rollback_current' | 'continue_deploy';

/** Host paths no build or replica sees besides the data directory (home directories, container storage). */
const ALWAYS_HIDDEN = ['/root', '/home', '/var/lib/containers', '/run/containers', '/run/user', '/var/run/containers'];

/**
 * The deployment engine (DESIGN.md "Deployments"; servicestage.md §4, §5): turns a component
 * plan into a job — fetch source → build → store the artifact under component/version →
 * roll out (one batch, rolling, or gray with a manual continue) → verify — on the runtime
 * the plan names (src/deploy/runtime.ts: process, container, kubernetes). Every step has a
 * timeout (config `deploy.*`). Artifacts are kept per build; rollback and restart re-run
 * exactly a stored artifact and check it exists before stopping anything.
 */
export class DeployService {
  /** The confinement of builds and replicas (process runtime; also used by others for fetches). */
  readonly sandbox: Sandbox;
  private readonly root: string;
  private readonly runtimes = new Map<RuntimeKind, Runtime>();
  /** Gray releases not ended yet (queued, first batch, waiting for continue_deploy). */
  private readonly gray = new GrayReleases();
  /** Set when the engine stops: nothing is put back in order any more (the next start does it). */
  private closing = false;
  private jobListener: ComponentJobListener | undefined;
  private readonly retention: Retention;
  /** Jobs currently running or queued per component key. */
  private readonly activeJobs = new Map<string, Set<string>>();
  private readonly state = new Map<string, deployStore.ComponentRow>();
  private readonly watchers: ReplicaWatcher[] = [];
  private removedListener: ComponentRemovedListener | undefined;
  /** Which server supervises each component's host replicas (several servers). */
  private readonly sets: ReplicaSets;
  private readonly cluster: Cluster;
  /** Reads what only a replica set's owner has (its replicas' logs) from the owner. */
  private readonly ownerCalls: OwnerCalls;

  /** @throws SandboxUnavailableError when confinement is on and bubblewrap is missing or fails */
  constructor(private readonly deps: DeployDeps) {
    const d = deps.config.deploy;
    const feed = deps.feed ?? new LocalFeed(deps.db.kysely, deps.bus);
    const cluster = (this.cluster = deps.cluster ?? new LocalCluster(systemClock));
    // One server: nothing is recorded or taken over, so the ownership needs no feed of its own.
    const alone = new Bus<OwnershipEvents>();
    const ownership = deps.ownership ?? new Ownership({ db: deps.db, feed: new LocalFeed(deps.db.kysely, alone), bus: alone, cluster, clock: systemClock, log: deps.log, serverLeaseSeconds: 10 });
    this.sets = new ReplicaSets({
      db: deps.db,
      bus: deps.bus,
      feed,
      ownership,
      cluster,
      secrets: deps.secrets,
      log: deps.log,
      serve: (project, componentId, call) => this.serve(project, componentId, call),
      reloaded: (k, row) => {
        if (row) this.state.set(k, row);
        else this.state.delete(k);
      },
      viewChanged: (k) => {
        const [project, componentId] = splitKey(k);
        for (const w of this.watchers) w.changed(project, componentId);
      },
    });
    this.ownerCalls = new OwnerCalls({ secrets: deps.secrets, cluster });
    ownership.onTakeover(REPLICA_SET, (k, from) => this.takeOver(k, from));
    ownership.onLost(REPLICA_SET, () => this.letGo());
    const hooks = {
      replicaEnded: (replica: EndedReplica) => this.replicaEnded(replica),
      serverId: () => cluster.serverId(),
      mayRun: (project: string, componentId: string) => this.sets.mayRun(key(project, componentId)),
      viewWritten: (project: string, componentId: string) => this.sets.changed(project, componentId),
    };
    this.root = join(deps.config.dataDir, 'deploy');
    const containerDir = d.containerDir || join(deps.config.dataDir, 'containers');
    const containerRun = podmanPaths({ dir: resolve(containerDir), ...(d.containerRunDir ? { runDir: d.containerRunDir } : {}) }).run;
    const hidden = [deps.config.dataDir, ...(deps.config.engines.dataDir ? [deps.config.engines.dataDir] : []), ...ALWAYS_HIDDEN, containerDir, containerRun, ...d.sandboxHide].map((p) => resolve(p));
    this.sandbox = Sandbox.create({ enabled: d.sandbox === 'on', hiddenPaths: hidden, uidBase: d.sandboxUidBase, pidsMax: d.sandboxPidsMax }, { uids: { find: (project) => deployStore.findSandboxUid(deps.db.kysely, project), insert: (project, base, nowMs) => deployStore.insertSandboxUid(deps.db.kysely, project, base, nowMs) }, clock: deps.clock, log: deps.log });
    const processRuntime = new ProcessRuntime({
      db: deps.db,
      clock: deps.clock,
      log: deps.log,
      sandbox: this.sandbox,
      root: this.root,
      hostEnv: deps.hostEnv,
      renderFile: deps.renderFile,
      tomcat: this.tomcatSettings(),
      sourceRoots: d.sourceRoots.map((p) => resolve(p)),
      mavenRepositories: d.mavenRepositories.map((p) => resolve(p)),
      buildMemoryBytes: d.buildMemoryMiB * 1024 * 1024,
      maxPackageBytes: d.packageMaxMiB * 1024 * 1024,
      maxUnpackedBytes: d.unpackedMaxMiB * 1024 * 1024,
      settleMs: d.settleSeconds * 1000,
      monitorMs: d.monitorSeconds * 1000,
      portRange: [d.portMin, d.portMax],
      readyTimeoutMs: this.readyTimeoutMs(),
      hooks,
    });
    this.register(processRuntime);
    // The container runtime, when podman is installed (else Docker-stack and image components
    // are refused at create, naming what to install).
    const path = deps.hostEnv.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    if (findExecutable(d.podmanPath, path)) {
      const podman = createPodman({ ...d, containerDir: resolve(containerDir) }, deps.config.dataDir, path);
      // Code and package components of cluster-bound environments: built (confined, as here)
      // into images pushed to the environment's registry, with the same podman.
      this.images = new ClusterImageBuilder({
        podman,
        fetchSource: (plan, step) => processRuntime.fetch(plan, step),
        buildStack: (plan, step) => processRuntime.buildForImage(plan, step),
        baseImages: { Java: d.kubernetesBaseImageJava, Tomcat: d.kubernetesBaseImageTomcat, Nodejs: d.kubernetesBaseImageNodejs, Python: d.kubernetesBaseImagePython, Go: d.kubernetesBaseImageGo },
        buildMemoryBytes: d.buildMemoryMiB * 1024 * 1024,
      });
      this.register(
        new ContainerRuntime({
          db: deps.db,
          clock: deps.clock,
          log: deps.log,
          podman,
          root: this.root,
          // A Dockerfile project is fetched exactly as the process runtime fetches: confined.
          fetchSource: (plan, step) => processRuntime.fetch(plan, step),
          usernsOf: async (project) => {
            if (!this.sandbox.asRoot || d.sandbox !== 'on') return projectUserns(d.containerUidBase, 0);
            return projectUserns(d.containerUidBase, (await this.sandbox.userOf(project)).uid - d.sandboxUidBase);
          },
          renderFile: deps.renderFile,
          buildMemoryBytes: d.buildMemoryMiB * 1024 * 1024,
          pidsLimit: d.sandboxPidsMax,
          settleMs: d.settleSeconds * 1000,
          monitorMs: d.monitorSeconds * 1000,
          portRange: [d.portMin, d.portMax],
          readyTimeoutMs: this.readyTimeoutMs(),
          hooks,
        }),
      );
    } else {
      deps.log.warn({ podmanPath: d.podmanPath }, 'podman not found: components on the Docker stack or with an image source are refused (install podman and runc, e.g. apt-get install podman runc)');
    }
    this.retention = new Retention({
      db: deps.db,
      log: deps.log,
      artifactsDir: join(this.root, 'artifacts'),
      defaultLimit: d.revisionHistoryLimit,
      runtime: (kind) => this.runtimes.get(kind),
      artifactOf: (json) => this.artifactOf(json),
      runningVersions: (project, componentId) => this.replicaViews(project, componentId).map((r) => r.version),
    });
  }

  /** Sets who is told when a component's job has ended (the component service: what runs decides its body). */
  onComponentJobEnd(listener: ComponentJobListener): void {
    this.jobListener = listener;
  }

  /**
   * Builds code and package components of cluster-bound environments into pushed images (the
   * kubernetes runtime's ImageBuilder); undefined when podman is not installed.
   */
  readonly images?: ImageBuilder;

  /** Adds a runtime (the container and Kubernetes runtimes register here when they are available). */
  register(runtime: Runtime): void {
    this.runtimes.set(runtime.kind, runtime);
    runtime.watch?.({
      changed: (project, componentId) => {
        for (const w of this.watchers) w.changed(project, componentId);
      },
      draining: async (project, componentId, instanceId) => {
        await Promise.all(this.watchers.map((w) => w.draining?.(project, componentId, instanceId)));
      },
    });
  }

  /**
   * Subscribes to replica changes on every runtime that reports them (src/routes keeps its
   * route table current with it): told synchronously, and asked to drain a replica before it
   * is stopped.
   */
  watchReplicas(watcher: ReplicaWatcher): void {
    this.watchers.push(watcher);
  }

  /**
   * Where a component's stable route leads now: its ready replicas on this host, its
   * cluster's access, or (several servers) the server that supervises its replicas; undefined
   * when nothing runs it. Map reads only.
   */
  routeTargets(project: string, componentId: string): RouteTargets | undefined {
    const remote = this.sets.remoteTargets(key(project, componentId));
    if (remote) return remote;
    for (const runtime of this.runtimes.values()) {
      const targets = runtime.routeTargets?.(project, componentId);
      if (targets) return targets;
    }
    return undefined;
  }

  /** Stack types some runtime builds and runs (Java, Tomcat, Nodejs, Python, Go, Docker). */
  readonly stackTypes: readonly string[] = [...PROCESS_STACKS, 'Docker'];

  /**
   * Where a component runs (runtime.ts chooseRuntime), or why it cannot run on this server:
   * a binding or stack no runtime serves, or a runtime this server lacks.
   */
  chooseRuntime(input: RuntimeChoiceInput): RuntimeChoice {
    const choice = chooseRuntime(input);
    if ('refused' in choice || this.runtimes.has(choice.runtime)) return choice;
    return { refused: `this component needs the ${choice.runtime} runtime, which is not available on this server${choice.runtime === 'container' ? ' (install podman and runc)' : ''}` };
  }

  /** The components the engine has deployed, with their current version (what a runtime adopts). */
  async deployedComponents(): Promise<{ project: string; componentId: string; currentVersion: string }[]> {
    return deployStore.listComponents(this.deps.db.kysely);
  }

  /**
   * Loads component states and takes over the replicas that should run, on every runtime —
   * with several servers only the replica sets this server owns (replicas of a previous run
   * of this server whose sets were handed over meanwhile are killed); the others are shown as
   * their owners wrote them.
   */
  async start(): Promise<void> {
    const { db } = this.deps;
    for (const row of await deployStore.listComponents(db.kysely)) this.state.set(key(row.project, row.componentId), row);
    const replicas = await deployStore.listReplicas(db.kysely);
    await this.sets.load([...this.state.keys()], new Set(replicas.filter((r) => r.desired === 'running').map((r) => key(r.project, r.componentId))));
    if (this.sets.recorded) {
      const me = this.cluster.serverId();
      for (const r of replicas) {
        if (r.serverId !== me || this.sets.owned.has(key(r.project, r.componentId))) continue;
        await this.killLeftover(r);
        if (r.host === hostIdentity()) await deployStore.deleteReplicas(db.kysely, [r.instanceId]);
      }
    }
    for (const runtime of this.runtimes.values()) await runtime.adopt((project, componentId, version) => this.release(project, componentId, version), (project, componentId) => this.sets.mayRun(key(project, componentId)));
    await this.recoverInterruptedRollouts();
  }

  /** Kills a replica another server (or a previous run of this one) left on this machine, with the runtime of its release. */
  private async killLeftover(r: deployStore.ReplicaRow): Promise<void> {
    const stored = await deployStore.findRelease(this.deps.db.kysely, r.project, r.componentId, r.version);
    const kind = (stored ? this.artifactOf(stored.launch)?.runtime : undefined) ?? 'process';
    await this.runtimes.get(kind)?.killLeftover?.(r);
  }

  /**
   * A replica set of a dead server was handed to this one: what the dead server left on this
   * machine is killed (records of another machine are marked stopped, for the server there
   * to kill when it comes back), then a `recover` job starts the component's replicas on this
   * host — from the stored artifact when this host can read it (it lives under the dead
   * server's data directory: the same machine), else built again from the release's sealed
   * plan. A stopped component, or one never rolled out, gets none.
   */
  private async takeOver(k: string, from: string): Promise<void> {
    const [project, componentId] = splitKey(k);
    const { db } = this.deps;
    const row = await deployStore.findComponent(db.kysely, project, componentId);
    if (!row) {
      await db.kysely.transaction().execute((trx) => this.sets.release(trx, k));
      return;
    }
    this.sets.becameOwner(k);
    this.state.set(k, row);
    for (const r of await deployStore.listReplicas(db.kysely, project, componentId)) {
      if (r.host === hostIdentity()) {
        await this.killLeftover(r);
        await deployStore.deleteReplicas(db.kysely, [r.instanceId]);
      } else {
        await deployStore.setReplicaDesired(db.kysely, [r.instanceId], 'stopped');
      }
    }
    const why = `taken over from server ${from} (its cluster lease ended)`;
    const version = row.currentVersion;
    const stopped = row.status === 'STOPPED';
    const target = { project, componentId, replicas: row.replicas };
    const ready = this.readyTimeoutMs() * Math.max(1, row.replicas) + 60_000;
    if (!version || stopped || row.replicas === 0) {
      const nothing = stopped ? 'the component is stopped: no replica is started' : version ? 'it has no replica to start' : 'no version of it was ever rolled out: no replica is started';
      await this.submit(k, target, 'recover', [{ name: 'take over', type: 'recover', timeoutMs: 60_000, run: async (ctx) => ctx.log(`${why}; ${nothing}`) }], version, stopped ? 'STOPPED' : version ? undefined : 'FAILED');
      return;
    }
    const release = await this.release(project, componentId, version);
    if (release) {
      const scaled: Release = { ...release, plan: { ...release.plan, replicas: row.replicas } };
      await this.submit(k, target, 'recover', [{ name: `take over: start ${row.replicas} replica(s) of ${version} on this host`, type: 'recover', timeoutMs: ready, run: async (ctx) => { ctx.log(why); await this.runtimeOf(scaled.plan).scale(scaled, row.replicas, ctx); } }], version);
      return;
    }
    const stored = await deployStore.findRelease(db.kysely, project, componentId, version);
    if (!stored) {
      await this.submit(k, target, 'recover', [{ name: 'take over', type: 'recover', timeoutMs: 60_000, run: async (ctx) => { ctx.log(why); throw new Error(`the release of ${version} is gone: deploy again`); } }], version);
      return;
    }
    // This host cannot read the artifact (it lives under the dead server's data directory):
    // built again from the sealed plan of the version that ran.
    const plan = { ...(JSON.parse(this.deps.secrets.decrypt(stored.planSealed)) as ComponentPlan), replicas: row.replicas };
    await this.submit(k, plan, 'recover', this.deployTasks(plan, false, `${why}; the artifact of ${version} is not readable on this host: building it again`), version);
  }

  /** This server lost its lease: it kills the replicas it supervised, without writing their records (their taker does). */
  private letGo(): void {
    const mine = this.sets.letGo();
    for (const k of mine) this.activeJobs.delete(k);
    this.gray.interruptAll('interrupted: this server lost its cluster lease');
    for (const runtime of this.runtimes.values()) void runtime.letGo?.().catch((err: unknown) => this.deps.log.error({ err }, 'letting go of replicas failed'));
    if (mine.length > 0) this.deps.log.warn({ components: mine.length }, 'cluster lease lost: replicas of the components this server supervised stopped');
  }

  /**
   * A rollout cut short by an OpenStage stop or kill (its job is FAILED as interrupted) can
   * leave replicas of a version other than the component's current one running, besides or
   * instead of the current ones. For each such component a `recover` job stops them and
   * brings the current version back to the component's replica count (a stopped component
   * stays stopped; one whose first deployment never completed is left with none, FAILED).
   */
  private async recoverInterruptedRollouts(): Promise<void> {
    for (const [k, row] of this.state) {
      if (!this.sets.supervisesView(k)) continue;
      const stray = this.replicaViews(row.project, row.componentId).filter((r) => r.version !== row.currentVersion);
      if (stray.length === 0) continue;
      const current = row.currentVersion ? await this.release(row.project, row.componentId, row.currentVersion) : undefined;
      const stored = current ? undefined : await deployStore.findRelease(this.deps.db.kysely, row.project, row.componentId, stray[0]!.version);
      const base = current?.plan ?? (stored ? (JSON.parse(this.deps.secrets.decrypt(stored.planSealed)) as ComponentPlan) : undefined);
      if (!base) continue; // no plan of either version is stored: nothing to run a job for
      const stopped = row.status === 'STOPPED';
      const plan = { ...base, replicas: row.replicas };
      const versions = [...new Set(stray.map((r) => r.version))].join(', ');
      this.deps.log.warn({ project: row.project, componentId: row.componentId, versions }, 'replicas of an interrupted rollout found; recovering');
      await this.submit(k, plan, 'recover', [
        {
          name: 'recover from an interrupted rollout',
          type: 'recover',
          timeoutMs: this.readyTimeoutMs() * Math.max(1, row.replicas) + (plan.terminationGraceSeconds + 60) * 1000,
          run: async (ctx) => {
            await this.stopAllOf(row.project, row.componentId, ctx, [...new Set(stray.map((r) => r.version))], ' left by a rollout interrupted by an OpenStage restart');
            if (current && !stopped) await this.runtimeOf(current.plan).scale(current, row.replicas, ctx);
          },
        },
      ], row.currentVersion, stopped ? 'STOPPED' : current ? undefined : 'FAILED');
    }
  }

  /** Leaves the replicas running (taken over at the next start) unless deploy.stopOnShutdown. */
  async stop(): Promise<void> {
    await this.shutdown(this.deps.config.deploy.stopOnShutdown);
  }

  /** Stops the engine: the replicas keep running (adopted at the next start) unless `stopReplicas`. */
  async shutdown(stopReplicas: boolean): Promise<void> {
    this.closing = true;
    this.gray.interruptAll('interrupted: the server is stopping');
    for (const runtime of this.runtimes.values()) await runtime.shutdown(stopReplicas);
  }

  /**
   * Deploys (first deployment or upgrade) a component version. With several servers the
   * owner of the component's replica set runs the job (the request is forwarded to it); the
   * first deployment of a process or container component makes this server its owner.
   * @returns the job id
   * @throws 400 when the plan's runtime is not available on this server; 503 when the owner cannot answer now
   */
  async deploy(plan: ComponentPlan): Promise<string> {
    const owner = await this.sets.place(key(plan.project, plan.componentId), (plan.runtime ?? 'process') !== 'kubernetes');
    if (owner) return this.sets.forward(owner, plan.project, plan.componentId, { call: 'deploy', plan });
    return this.submit(key(plan.project, plan.componentId), plan, 'deploy', this.deployTasks(plan, true), plan.version);
  }

  /** Runs a request forwarded by another server (this one owns the replica set). @returns the job id */
  private serve(project: string, componentId: string, call: ForwardedCall): Promise<string> {
    if (call.call === 'deploy') return this.submit(key(project, componentId), call.plan, 'deploy', this.deployTasks(call.plan, true), call.plan.version);
    if (call.call === 'action') return this.actionHere(project, componentId, call.action as EngineAction, call.parameters);
    return this.removeHere(project, componentId);
  }

  /**
   * The tasks of a deployment: fetch source → build → store artifact → roll out → verify →
   * revert on failure. @param gray whether a GrayRelease strategy pauses for continue_deploy
   * @param note a line the fetch task logs first (why a `recover` job builds again)
   * @throws 400 when the plan's runtime is not available on this server
   */
  private deployTasks(plan: ComponentPlan, gray: boolean, note?: string): TaskSpec[] {
    const runtime = this.runtimeOf(plan);
    const planSealed = this.deps.secrets.encrypt(JSON.stringify(plan));
    const { config } = this.deps;
    let workspace = '';
    let artifact: Artifact | undefined;
    let revision = '';
    /** The artifact of an earlier build of the same version this build replaces (removed once the new one runs). */
    let replaced: Artifact | undefined;
    // The task's own log (GET .../jobs/{id}/tasks/{task}/logs) when the job service keeps them.
    const buildLog = (ctx: TaskContext): string => ctx.logFile ?? join(this.root, 'artifacts', plan.project, plan.componentId, `${plan.version}-${ctx.jobId.slice(3, 11)}.build.log`);
    return [
      {
        name: 'fetch source',
        type: 'fetch',
        timeoutMs: config.deploy.fetchTimeoutSeconds * 1000,
        run: async (ctx) => {
          if (note) ctx.log(note);
          workspace = join(this.root, 'artifacts', plan.project, plan.componentId, `${plan.version}-${ctx.jobId.slice(3, 11)}`);
          rmSync(workspace, { recursive: true, force: true });
          mkdirSync(workspace, { recursive: true });
          revision = (await runtime.fetch(plan, { workspace, buildLog: buildLog(ctx), ctx })).revision;
          ctx.log(`source revision ${revision}`);
        },
      },
      {
        name: 'build',
        type: 'build',
        timeoutMs: config.deploy.buildTimeoutSeconds * 1000,
        run: async (ctx) => {
          artifact = await runtime.build(plan, { workspace, buildLog: buildLog(ctx), ctx });
        },
      },
      {
        name: 'store artifact',
        type: 'artifact',
        timeoutMs: 60_000,
        run: async (ctx) => {
          rmSync(join(this.root, 'tmp', ctx.jobId), { recursive: true, force: true });
          // Written only now, built: an earlier build of this version stays the stored one
          // (what runs, rollbacks, scales) until this one exists.
          const launch = JSON.stringify(artifact);
          await this.deps.db.kysely.transaction().execute(async (trx) => {
            const previous = await deployStore.findRelease(trx, plan.project, plan.componentId, plan.version);
            const earlier = previous ? this.artifactOf(previous.launch) : undefined;
            replaced = earlier && previous!.launch !== launch ? earlier : undefined;
            await deployStore.putRelease(trx, { project: plan.project, componentId: plan.componentId, version: plan.version, planSealed, launch, revision, createdAtMs: this.deps.clock.now() });
          });
          ctx.log(`artifact of ${plan.version} stored`);
        },
      },
      ...this.rolloutTasks(plan, async () => ({ plan, artifact: artifact! }), { verb: 'roll out', gray, done: (ctx) => this.retention.prune(plan, ctx, replaced) }),
    ];
  }

  /**
   * Runs a component action (servicestage.md §4 Deliver task). @returns the job id
   * @throws 400 when the action cannot run now: no deployed version, no stored artifact for
   *   the rollback target (checked before anything is stopped), nothing waiting for continue
   */
  async action(project: string, componentId: string, action: EngineAction, parameters: { replica?: number; version?: string } = {}): Promise<string> {
    const owner = await this.sets.place(key(project, componentId), await this.runsOnHost(project, componentId));
    if (owner) return this.sets.forward(owner, project, componentId, { call: 'action', action, parameters });
    return this.actionHere(project, componentId, action, parameters);
  }

  /** Whether a component's releases run on a host runtime (process, container): its replica set then has an owner. */
  private async runsOnHost(project: string, componentId: string): Promise<boolean> {
    if (!this.sets.recorded) return false;
    return (await deployStore.listReleases(this.deps.db.kysely, project, componentId)).some((r) => {
      const runtime = this.artifactOf(r.launch)?.runtime;
      return runtime !== undefined && runtime !== 'kubernetes';
    });
  }

  /** The work of action() on the server that supervises the component. */
  private async actionHere(project: string, componentId: string, action: EngineAction, parameters: { replica?: number; version?: string }): Promise<string> {
    const k = key(project, componentId);
    const current = this.state.get(k);
    if (action === 'continue_deploy') {
      const jobId = this.gray.resume(k);
      if (!jobId) throw deployError('InvalidParameter', 'no release of this component is waiting for continue_deploy');
      return jobId;
    }
    if (!current?.currentVersion) throw deployError('InvalidParameter', 'the component has no deployed version yet');
    if (action === 'rollback' || action === 'rollback_current') {
      const target = action === 'rollback' ? parameters.version : await this.rollbackCurrentTarget(project, componentId);
      if (action === 'rollback_current' && !target) throw deployError('InvalidParameter', 'there is no earlier version to roll back to');
      if (!target) throw deployError('InvalidParameter', 'parameters.version is required for rollback');
      const stored = await this.release(project, componentId, target);
      if (!stored) throw deployError('InvalidParameter', `version ${target} has no stored artifact (never built, or removed); nothing was stopped`);
      // The target's build and settings, at the component's current replica count: a scale
      // belongs to the component, not to a version (as `kubectl rollout undo` keeps replicas).
      // A rollback acts at once: never a gray release of its own.
      const strategy = stored.plan.strategy.type === 'GrayRelease' ? { type: 'OneBatchRelease' as const } : stored.plan.strategy;
      const release: Release = { ...stored, plan: { ...stored.plan, replicas: current.replicas, strategy } };
      // Checked again when the job runs: a deploy queued before it may have removed the version (retention).
      const releaseOf = async (): Promise<Release> => {
        if (!(await this.release(project, componentId, target))) throw new Error(`version ${target} has no stored artifact any more (removed by the revision history limit)`);
        return release;
      };
      this.abandonGray(k, { kind: 'rollback', reason: `abandoned: a rollback to ${target} was asked for` });
      return this.submit(k, release.plan, 'rollback', this.rolloutTasks(release.plan, releaseOf, { verb: 'roll back', gray: false }), target);
    }
    const release = await this.release(project, componentId, current.currentVersion);
    if (!release) throw deployError('InvalidParameter', `the artifact of version ${current.currentVersion} is gone; deploy again`);
    // These jobs may wait behind a deploy or another action: they read the component's
    // version, artifact and replica count when they run, not when they were asked for, and
    // report what they used (so a scale never brings back an older version, and a restart
    // keeps the replica count of a scale queued before it).
    const outcome: { version?: string; replicas?: number } = {};
    const atRun = async (): Promise<{ release: Release; replicas: number }> => {
      const now = this.state.get(k);
      if (!now?.currentVersion) throw new Error('the component has no deployed version');
      const r = await this.release(project, componentId, now.currentVersion);
      if (!r) throw new Error(`the artifact of version ${now.currentVersion} is gone; deploy again`);
      outcome.version = now.currentVersion;
      outcome.replicas ??= now.replicas;
      return { release: r, replicas: outcome.replicas };
    };
    const plan = { ...release.plan, replicas: current.replicas };
    const timeoutMs = (n: number): number => this.readyTimeoutMs() * Math.max(1, n) + 60_000;
    if (action === 'scale') {
      const n = parameters.replica;
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 100) throw deployError('InvalidParameter', 'parameters.replica must be an integer from 0 to 100');
      outcome.replicas = n;
      return this.submit(k, { ...plan, replicas: n }, 'scale', [{ name: `scale to ${n}`, type: 'scale', timeoutMs: timeoutMs(n), run: async (ctx) => { const now = await atRun(); await this.runtimeOf(now.release.plan).scale(now.release, n, ctx); } }], current.currentVersion, undefined, outcome);
    }
    if (action === 'stop') {
      this.abandonGray(k, { kind: 'stop', reason: 'abandoned: a stop was asked for' });
      return this.submit(k, plan, 'stop', [{ name: 'stop replicas', type: 'stop', timeoutMs: (plan.terminationGraceSeconds + 30) * 1000, run: async (ctx) => { await atRun(); await this.stopAllOf(project, componentId, ctx); } }], current.currentVersion, 'STOPPED', outcome);
    }
    if (action === 'start') {
      return this.submit(k, plan, 'start', [{ name: `start ${current.replicas} replicas`, type: 'start', timeoutMs: timeoutMs(Math.max(current.replicas, 10)), run: async (ctx) => { const now = await atRun(); await this.runtimeOf(now.release.plan).scale(now.release, now.replicas, ctx); } }], current.currentVersion, undefined, outcome);
    }
    if (action === 'restart') {
      return this.submit(k, plan, 'restart', [{ name: 'restart replicas', type: 'restart', timeoutMs: timeoutMs(Math.max(current.replicas, 10)), run: async (ctx) => { const now = await atRun(); await this.runtimeOf(now.release.plan).rollout(now.release, { target: now.replicas, batches: Array<number>(now.replicas).fill(1) }, ctx); } }], current.currentVersion, undefined, outcome);
    }
    throw deployError('ActionNotDefined', `action '${action as string}' is not defined`);
  }

  /**
   * The version `rollback_current` goes back to: during a gray release (queued, rolling out
   * its first batch or waiting for continue_deploy) the stable one that runs — never the gray
   * one; else the newest stored version other than the running one.
   * @returns undefined when there is none (nothing deployed, or no earlier version stored)
   */
  async rollbackCurrentTarget(project: string, componentId: string): Promise<string | undefined> {
    const k = key(project, componentId);
    const running = this.state.get(k)?.currentVersion;
    if (!running) return undefined;
    if (this.gray.active(k) || this.sets.remoteView(k)?.graying) return running;
    const releases = (await deployStore.listReleases(this.deps.db.kysely, project, componentId)).filter((r) => r.launch && r.version !== running);
    return releases.at(-1)?.version;
  }

  /**
   * Stops and removes everything of a component (replicas, releases, artifacts) in a job. A
   * gray release of it waiting for continue_deploy is abandoned (its job fails with the
   * reason and stops its gray replicas), so the removal never waits behind the pause.
   * @returns the job id
   */
  async remove(project: string, componentId: string): Promise<string> {
    const owner = await this.sets.place(key(project, componentId), false);
    if (owner) return this.sets.forward(owner, project, componentId, { call: 'remove' });
    return this.removeHere(project, componentId);
  }

  /** Sets who is told when a removal job has removed a component's engine state (the component service: its record goes). */
  onComponentRemoved(listener: ComponentRemovedListener): void {
    this.removedListener = listener;
  }

  /** The work of remove() on the server that supervises the component. */
  private async removeHere(project: string, componentId: string): Promise<string> {
    const k = key(project, componentId);
    this.abandonGray(k, { kind: 'delete', reason: 'abandoned: the component is being deleted' });
    const { job } = await this.deps.jobs.submit({
      project,
      jobType: 'delete',
      targetId: k,
      tasks: [
        {
          name: 'stop replicas and remove artifacts',
          type: 'delete',
          timeoutMs: 120_000,
          run: async (ctx) => {
            await this.stopAllOf(project, componentId, ctx);
            for (const runtime of this.runtimes.values()) await runtime.remove?.(project, componentId, ctx);
            const byRuntime = new Map<RuntimeKind, Artifact[]>();
            for (const r of await deployStore.listReleases(this.deps.db.kysely, project, componentId)) {
              const artifact = this.artifactOf(r.launch);
              if (artifact) byRuntime.set(artifact.runtime, [...(byRuntime.get(artifact.runtime) ?? []), artifact]);
            }
            for (const [kind, artifacts] of byRuntime) await this.runtimes.get(kind)?.removeArtifacts(project, componentId, artifacts);
            await this.deps.db.kysely.transaction().execute(async (trx) => {
              await deployStore.deleteComponentState(trx, project, componentId);
              await this.sets.release(trx, k);
            });
            this.state.delete(k);
            this.sets.changed(project, componentId);
            rmSync(join(this.root, 'artifacts', project, componentId), { recursive: true, force: true });
            rmSync(join(this.root, 'logs', project, componentId), { recursive: true, force: true });
            await this.removedListener?.(project, componentId);
          },
        },
      ],
    });
    return job.jobId;
  }

  /** The engine's view of a component; undefined when it was never deployed. */
  runtime(project: string, componentId: string): ComponentRuntime | undefined {
    const k = key(project, componentId);
    const row = this.state.get(k);
    if (!row) return undefined;
    // Replicas another server supervises: as that server wrote them.
    const remote = this.sets.remoteView(k);
    const replicas = remote ? remote.replicas : this.replicaViews(project, componentId);
    const available = replicas.filter((r) => r.ready).length;
    // What fails now (a runtime's live reason, e.g. a pod in CrashLoopBackOff) wins over the last job's failure.
    const live = [...this.runtimes.values()].map((r) => r.failure?.(project, componentId)).find((f) => f !== undefined);
    return { status: this.statusOf(k, row, available, remote), replica: row.replicas, availableReplica: available, failDetail: live ?? row.failDetail, lastJobId: row.lastJobId, version: row.currentVersion, replicas };
  }

  /** Versions with a stored artifact, oldest first. */
  async releases(project: string, componentId: string): Promise<{ version: string; revision: string; createdAtMs: number }[]> {
    return (await deployStore.listReleases(this.deps.db.kysely, project, componentId)).filter((r) => r.launch).map((r) => ({ version: r.version, revision: r.revision, createdAtMs: r.createdAtMs }));
  }

  /**
   * The last `lines` lines of each replica's log, running replicas first, then those that
   * stopped (newest first; `stoppedAtMs` set), whose last lines are kept when they stop. With
   * several servers they are read on the server that supervises the replicas (their log files
   * are on its host; owner-call.ts).
   * @throws 503 SVCSTG.00100503 when that server stopped (hand-over pending) or does not answer
   */
  async logs(project: string, componentId: string, lines: number): Promise<InstanceLogs[]> {
    const owner = await this.sets.place(key(project, componentId), false);
    if (owner) return (await this.ownerCalls.getJson<{ logs: InstanceLogs[] }>(owner, ownerLogsPath(project, componentId, lines, false))).logs;
    return this.logsHere(project, componentId, lines);
  }

  /**
   * Whether a call from another server (`path` with its `passHeader`, owner-call.ts) may read
   * this server's replicas of a component.
   * @throws 403 SVCSTG.00109403 without a valid pass; 503 SVCSTG.00100503 when this server does not supervise them (any more)
   */
  checkOwnerCall(project: string, componentId: string, path: string, passHeader: string | string[] | undefined): void {
    if (!this.ownerCalls.verify(passHeader, path)) throw deployError('Forbidden', 'only a server of this cluster may call this (its pass is missing, expired or not made with this cluster\'s master key)');
    if (this.sets.recorded && !this.sets.owned.has(key(project, componentId))) throw deployError('Unavailable', `server ${this.cluster.serverId()} does not supervise this component's replicas (any more); try again`);
  }

  /** logs() on the server that supervises the replicas (the answer to another server's call). */
  async logsHere(project: string, componentId: string, lines: number): Promise<InstanceLogs[]> {
    const out = [];
    for (const runtime of this.runtimes.values()) out.push(...(await runtime.logs(project, componentId, lines)));
    for (const runtime of this.runtimes.values()) out.push(...((await runtime.stoppedLogs?.(project, componentId, lines)) ?? []));
    return out;
  }

  /**
   * Follows the logs of a component's replicas (replica-logs.ts): the last `lines` lines of each
   * running replica, then every line they append, replicas started meanwhile included, until
   * `signal` aborts. Runtimes without log files on this host (kubernetes) give the tail only.
   */
  async followLogs(project: string, componentId: string, options: { lines: number; signal: AbortSignal }, emit: (line: ReplicaLogLine) => void): Promise<void> {
    const owner = await this.sets.place(key(project, componentId), false);
    if (owner) {
      const signal = this.deps.follows ? AbortSignal.any([options.signal, this.deps.follows.signal]) : options.signal;
      return this.ownerCalls.stream(owner, ownerLogsPath(project, componentId, options.lines, true), signal, emit);
    }
    return this.followLogsHere(project, componentId, options, emit);
  }

  /** followLogs() on the server that supervises the replicas (the answer to another server's call). */
  async followLogsHere(project: string, componentId: string, options: { lines: number; signal: AbortSignal }, emit: (line: ReplicaLogLine) => void): Promise<void> {
    const signal = this.deps.follows ? AbortSignal.any([options.signal, this.deps.follows.signal]) : options.signal;
    const deps = { clock: this.deps.clock, runtimes: [...this.runtimes.values()], watch: (w: ReplicaWatcher) => this.watchers.push(w), unwatch: (w: ReplicaWatcher) => this.watchers.splice(this.watchers.indexOf(w) >>> 0, 1) };
    await followReplicaLogs(deps, project, componentId, { lines: options.lines, signal }, emit);
  }

  // ───────────── jobs ─────────────

  /**
   * Submits a job for a component and records its outcome. `outcome` is filled by tasks that
   * decide when they run (start, stop, restart, scale): the version and replica count they
   * actually used, which win over `version` and `plan.replicas`.
   */
  private async submit(k: string, plan: Pick<ComponentPlan, 'project' | 'componentId' | 'replicas'>, jobType: string, tasks: TaskSpec[], version: string, endStatus?: ComponentStatus, outcome: { version?: string; replicas?: number } = {}): Promise<string> {
    const { project, componentId } = plan;
    const previous = this.state.get(k);
    const row: deployStore.ComponentRow = previous ?? { project, componentId, currentVersion: '', replicas: plan.replicas, status: 'INITIALIZING', failDetail: '', lastJobId: '', updatedAtMs: this.deps.clock.now() };
    const jobId = newJobId();
    if (tasks.some((t) => t.type === 'gray-wait')) this.gray.add(k, jobId);
    const { job } = await this.deps.jobs.submit({
      jobId,
      project,
      jobType,
      targetId: k,
      tasks,
      // The component's status settles before the job's end is committed (a client that saw
      // the job end reads the component as it left it), and is stored right after.
      onEnding: (status, detail) => {
        this.activeJobs.get(k)?.delete(detail.job.jobId);
        this.gray.end(k, detail.job.jobId);
        const current = this.state.get(k);
        if (!current) return; // removed meanwhile
        const failed = detail.tasks.find((t) => t.status === 'FAILED');
        this.state.set(k, {
          ...current,
          ...(status === 'SUCCEEDED' ? { currentVersion: outcome.version ?? version, replicas: outcome.replicas ?? plan.replicas, failDetail: '' } : { failDetail: failed ? `${failed.name}: ${failed.messages.at(-1) ?? 'failed'}` : 'failed' }),
          status: status === 'SUCCEEDED' ? (endStatus ?? 'RUNNING') : 'FAILED',
          updatedAtMs: this.deps.clock.now(),
        });
      },
      onFinish: async (status, detail) => {
        rmSync(join(this.root, 'tmp', detail.job.jobId), { recursive: true, force: true });
        const settled = this.state.get(k);
        if (!settled) return; // removed meanwhile
        await this.saveComponent(settled);
        await this.tellListener(project, componentId, detail.job.jobId, status);
      },
    });
    let active = this.activeJobs.get(k);
    if (!active) this.activeJobs.set(k, (active = new Set()));
    active.add(job.jobId);
    // The status stays what it was (STOPPED included) while the job runs: statusOf shows
    // UPGRADING/INITIALIZING from the active jobs, and a revert knows a stopped component.
    const next = { ...row, lastJobId: job.jobId, updatedAtMs: this.deps.clock.now() };
    this.state.set(k, next);
    await this.saveComponent(next);
    return job.jobId;
  }

  /** Writes a component's engine row and tells the other servers. */
  private async saveComponent(row: deployStore.ComponentRow): Promise<void> {
    await deployStore.putComponent(this.deps.db.kysely, row);
    this.sets.changed(row.project, row.componentId);
  }

  /**
   * Roll-out and verify tasks for a release, per its deploy strategy, and the clean-up task
   * that reverts a failed one (revertTask).
   * @param options.verb how the tasks are named ("roll out", "roll back")
   * @param options.gray whether a GrayRelease strategy pauses for continue_deploy (deploys; a
   *   rollback acts at once)
   * @param options.done runs in the verify task once every replica is ready
   */
  private rolloutTasks(plan: ComponentPlan, releaseOf: () => Promise<Release>, options: { verb: string; gray: boolean; done?: (ctx: TaskContext) => Promise<void> }): TaskSpec[] {
    const n = plan.replicas;
    const { verb } = options;
    const ready = this.readyTimeoutMs();
    const strategy = plan.strategy;
    const runtime = this.runtimeOf(plan);
    const k = key(plan.project, plan.componentId);
    const verify: TaskSpec = {
      name: 'verify',
      type: 'verify',
      timeoutMs: ready,
      run: async (ctx) => {
        const mine = runtime.replicas(plan.project, plan.componentId).filter((r) => r.version === plan.version);
        const readyCount = mine.filter((r) => r.ready).length;
        ctx.log(`${readyCount} of ${n} replicas of ${plan.version} ready`);
        if (readyCount < n) throw new Error(`only ${readyCount} of ${n} replicas are ready`);
        await options.done?.(ctx);
      },
    };
    const revert = this.revertTask(plan, verb);
    if (options.gray && strategy.type === 'GrayRelease' && n > 1) {
      const first = Math.min(n - 1, Math.max(1, strategy.firstBatchReplica ?? 1));
      return [
        { name: `${verb}: gray batch of ${first}`, type: 'rollout', timeoutMs: ready * first + 60_000, run: async (ctx) => runtime.rollout(await releaseOf(), { target: n, batches: [first], keepOld: true }, ctx) },
        { name: 'wait for continue_deploy', type: 'gray-wait', timeoutMs: this.deps.config.deploy.grayWaitSeconds * 1000, run: (ctx) => this.gray.wait(k, ctx) },
        { name: `${verb}: remaining ${n - first}`, type: 'rollout', timeoutMs: ready * n + 60_000, run: async (ctx) => runtime.rollout(await releaseOf(), { target: n, batches: [n - first] }, ctx) },
        verify,
        revert,
      ];
    }
    const batches = strategy.type === 'RollingRelease' ? splitBatches(n, strategy.batches ?? 2) : [n];
    const rollout: TaskSpec = {
      name: `${verb}: ${batches.length} batch${batches.length === 1 ? '' : 'es'}`,
      type: 'rollout',
      timeoutMs: ready * Math.max(1, n) + 60_000,
      run: async (ctx) => {
        const release = await releaseOf();
        // Back to the version that runs (rollback_current during a gray release): what else
        // runs stops, and it gets its replicas back — its own replicas are not replaced.
        if (!options.gray && this.state.get(k)?.currentVersion === release.plan.version) return this.restore(release, ctx, `rolled back to the running version ${release.plan.version}`);
        await runtime.rollout(release, { target: n, batches }, ctx);
      },
    };
    return [rollout, verify, revert];
  }

  /**
   * The clean-up task of a deploy or rollback job, run only when the job failed (cancelled,
   * timed out, a replica that never got ready, a gray release abandoned): the replicas of
   * versions other than the one that runs stop, and that one gets its replica count back
   * (unless the component was stopped, or a stop, rollback or delete asked for meanwhile acts
   * next). A first deployment has nothing to go back to: its replicas are left as they are.
   * Last, the component listener is told the job failed — before the job's status says so, so
   * whoever sees the job FAILED sees the component as it runs.
   */
  private revertTask(plan: ComponentPlan, verb: string): TaskSpec {
    const { project, componentId } = plan;
    const k = key(project, componentId);
    return {
      name: 'revert on failure',
      type: 'revert',
      onFailure: true,
      timeoutMs: this.readyTimeoutMs() * Math.max(1, plan.replicas) + (plan.terminationGraceSeconds + 60) * 1000,
      run: async (ctx) => {
        if (this.closing) return ctx.log('the server is stopping: its next start puts the replicas back in order');
        const row = this.state.get(k);
        const stable = row?.currentVersion;
        if (!row || !stable) return ctx.log(`no earlier version runs: the replicas of ${plan.version} that started are left as they are`);
        try {
          await this.revert(plan, ctx, stable, row.status === 'STOPPED', verb);
        } finally {
          await this.tellListener(project, componentId, ctx.jobId, 'FAILED');
        }
      },
    };
  }

  /** The work of revertTask once the version that runs (`stable`) is known. */
  private async revert(plan: ComponentPlan, ctx: TaskContext, stable: string, stopped: boolean, verb: string): Promise<void> {
    const { project, componentId } = plan;
    const k = key(project, componentId);
    const superseded = this.gray.abandoned(k, ctx.jobId);
    if (superseded) ctx.log(superseded.reason);
    const why = ` (the ${verb} of ${plan.version} did not complete)`;
    if (superseded || stopped) {
      const others = this.versionsBesides(project, componentId, stable);
      if (others.length > 0) await this.stopAllOf(project, componentId, ctx, others, why);
      return ctx.log(superseded ? `the ${superseded.kind} asked for acts next` : `the component was stopped: no replica of ${stable} is started`);
    }
    const release = await this.release(project, componentId, stable);
    if (!release) {
      const others = this.versionsBesides(project, componentId, stable);
      if (others.length > 0) await this.stopAllOf(project, componentId, ctx, others, why);
      throw new Error(`the artifact of ${stable} is gone: its replicas cannot be brought back (deploy again)`);
    }
    await this.restore(release, ctx, `reverted to ${stable}`, why);
  }

  /** Tells the component listener a job of the component ended. Never throws. */
  private async tellListener(project: string, componentId: string, jobId: string, status: 'SUCCEEDED' | 'FAILED'): Promise<void> {
    await this.jobListener?.(project, componentId, jobId, status).catch((err: unknown) => this.deps.log.error({ err, jobId }, 'component job listener failed'));
  }

  /**
   * Makes `release` the only version running, at the component's replica count: replicas of
   * other versions stop, then the missing ones of it start.
   */
  private async restore(release: Release, ctx: TaskContext, done: string, why = ''): Promise<void> {
    const { project, componentId, version } = release.plan;
    const replicas = this.state.get(key(project, componentId))?.replicas ?? release.plan.replicas;
    const others = this.versionsBesides(project, componentId, version);
    const before = this.replicaViews(project, componentId).filter((r) => r.version === version).length;
    if (others.length === 0 && before === replicas) return ctx.log(`nothing to revert: ${version} runs with ${replicas} replica(s)`);
    if (others.length > 0) await this.stopAllOf(project, componentId, ctx, others, why);
    await this.runtimeOf(release.plan).scale({ ...release, plan: { ...release.plan, replicas } }, replicas, ctx);
    ctx.log(`${done}: ${replicas} replica(s) of ${version}`);
  }

  /** Versions other than `version` that replicas of the component run. */
  private versionsBesides(project: string, componentId: string, version: string): string[] {
    return [...new Set(this.replicaViews(project, componentId).map((r) => r.version).filter((v) => v !== version))];
  }

  /** Abandons the component's unfinished gray releases (a stop, rollback or delete acts at once). */
  private abandonGray(k: string, why: Supersede): void {
    for (const jobId of this.gray.abandon(k, why)) this.deps.log.info({ jobId, reason: why.reason }, 'gray release abandoned');
  }

  /** RuntimeHooks.replicaEnded: the registry instances a stopped replica left behind go. */
  private async replicaEnded(replica: EndedReplica): Promise<void> {
    if (!this.deps.removeStaleInstances) return;
    try {
      const removed = await this.deps.removeStaleInstances(replica);
      if (removed > 0) this.deps.log.info({ project: replica.project, componentId: replica.componentId, instanceId: replica.instanceId, port: replica.port, removed }, 'registry instances of a stopped replica removed');
    } catch (err) {
      this.deps.log.warn({ err, instanceId: replica.instanceId }, 'registry instances of a stopped replica could not be removed');
    }
  }

  /**
   * Stops the component's replicas on every runtime (only those of `versions` when given) and
   * logs how many had to be killed.
   */
  private async stopAllOf(project: string, componentId: string, ctx: TaskContext, versions?: string[], why = ''): Promise<void> {
    let stopped = 0;
    let killed = 0;
    for (const runtime of this.runtimes.values()) {
      if (runtime.replicas(project, componentId).length === 0) continue;
      const outcome = await runtime.stopAll(project, componentId, ctx, versions);
      stopped += outcome.stopped;
      killed += outcome.killed;
    }
    // A replica killed after the grace period had no time to deregister or finish its work.
    ctx.log(`stopped ${stopped} replica(s)${versions ? ` of ${versions.join(', ')}` : ''}${why}${killed ? `; ${killed} did not end within the termination grace period and were killed (SIGKILL)` : ''}`);
  }

  /** The runtime a plan runs on. @throws 400 when it is not available on this server */
  private runtimeOf(plan: ComponentPlan): Runtime {
    const kind = plan.runtime ?? 'process';
    const runtime = this.runtimes.get(kind);
    if (!runtime) throw deployError('InvalidParameter', `the ${kind} runtime is not available on this server`);
    return runtime;
  }

  /** The replicas of a component on whichever runtime runs them. */
  private replicaViews(project: string, componentId: string) {
    return [...this.runtimes.values()].flatMap((r) => r.replicas(project, componentId));
  }

  /** A stored artifact (JSON of the release row), or undefined before the build finished. */
  private artifactOf(json: string): Artifact | undefined {
    if (!json) return undefined;
    const stored = JSON.parse(json) as Record<string, unknown>;
    return stored.runtime === undefined ? processArtifactOf(stored) : (stored as unknown as Artifact);
  }

  /** The stored release of a version with its artifact, or undefined when never built or removed. */
  private async release(project: string, componentId: string, version: string): Promise<Release | undefined> {
    const row = await deployStore.findRelease(this.deps.db.kysely, project, componentId, version);
    const artifact = row ? this.artifactOf(row.launch) : undefined;
    if (!row || !artifact) return undefined;
    const runtime = this.runtimes.get(artifact.runtime);
    if (!runtime || !(await runtime.hasArtifact(artifact))) return undefined;
    const plan = JSON.parse(this.deps.secrets.decrypt(row.planSealed)) as ComponentPlan;
    return { plan, artifact };
  }

  private statusOf(k: string, row: deployStore.ComponentRow, available: number, remote?: RemoteView): ComponentStatus {
    if (this.gray.waiting(k) || remote?.graying) return 'GRAYING';
    if ((this.activeJobs.get(k)?.size ?? 0) > 0 || remote?.active) return row.currentVersion ? 'UPGRADING' : 'INITIALIZING';
    if (row.status === 'STOPPED') return 'STOPPED';
    if (row.replicas === 0) return 'RUNNING';
    if (available >= row.replicas) return 'RUNNING';
    if (available > 0) return 'PARTIALLY_FAILED';
    return row.status === 'FAILED' || row.currentVersion ? 'FAILED' : 'PENDING';
  }

  /** Where Tomcat components get their Tomcat (config `deploy.tomcat*`; cache `<dataDir>/deploy/tomcat`). */
  private tomcatSettings(): TomcatSettings {
    const d = this.deps.config.deploy;
    return { home: d.tomcatHome, version: d.tomcatVersion, baseUrl: d.tomcatUrl, cacheDir: join(this.root, 'tomcat'), address: d.tomcatAddress };
  }

  private readyTimeoutMs(): number {
    return this.deps.config.deploy.readyTimeoutSeconds * 1000;
  }
}

/** Splits n replicas into `batches` batches as even as possible (first ones larger). */
export function splitBatches(n: number, batches: number): number[] {
  const b = Math.max(1, Math.min(n, Math.floor(batches)));
  const out: number[] = [];
  for (let i = 0; i < b; i++) out.push(Math.floor(n / b) + (i < n % b ? 1 : 0));
  return out.filter((x) => x > 0);
}

/** The last lines of one replica's log (DeployService.logs). */
export interface InstanceLogs {
  instanceId: string;
  version: string;
  lines: string[];
  /** Set for a replica that stopped (epoch ms). */
  stoppedAtMs?: number;
}

/** The owner's internal route for a component's replica logs (deploy/index.ts), with its query. */
export function ownerLogsPath(project: string, componentId: string, lines: number, follow: boolean): string {
  return `/internal/v1/replica-logs/${encodeURIComponent(project)}/${encodeURIComponent(componentId)}?lines=${lines}${follow ? '&follow=true' : ''}`;
}
