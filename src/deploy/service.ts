import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db/kysely.js';
import type { Logger } from '../core/log.js';
import type { SecretBox } from '../core/secrets.js';
import { buildForStack, type LaunchSpec } from './build/stacks.js';
import type { TomcatSettings } from './build/tomcat.js';
import { deployError } from './errors.js';
import { Replicas, type Runnable } from './replica-service.js';
import type { JobService } from './job-service.js';
import { fetchSource } from './source.js';
import * as deployStore from './store.js';
import type { ComponentPlan, ComponentRuntime, ComponentStatus, DeployEvents, TaskContext, TaskSpec } from './types.js';

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
}

/** A stored launch: how to start a release and where its artifact is. */
interface StoredLaunch extends LaunchSpec {
  dir: string;
}

/** Component actions the engine runs (servicestage.md §4 action enum). */
export type EngineAction = 'start' | 'stop' | 'restart' | 'scale' | 'rollback' | 'rollback_current' | 'continue_deploy';

/**
 * The deployment engine (DESIGN.md "Deployments"; servicestage.md §4, §5): turns a component
 * plan into a job — fetch source → build → store the artifact under component/version →
 * roll out (one batch, rolling, or gray with a manual continue) → verify — and runs the
 * replicas as supervised processes. Every step has a timeout (config `deploy.*`). Artifacts
 * are kept per build; rollback and restart re-run exactly a stored artifact and check it
 * exists before stopping anything.
 */
export class DeployService {
  readonly replicas: Replicas;
  private readonly root: string;
  /** Gray releases waiting for continue_deploy: key → resolve. */
  private readonly grayWaits = new Map<string, { jobId: string; resume: () => void }>();
  /** Jobs currently running or queued per component key. */
  private readonly activeJobs = new Map<string, Set<string>>();
  private readonly state = new Map<string, deployStore.ComponentRow>();

  constructor(private readonly deps: DeployDeps) {
    this.root = join(deps.config.dataDir, 'deploy');
    this.replicas = new Replicas({
      db: deps.db,
      clock: deps.clock,
      log: deps.log,
      root: this.root,
      renderFile: deps.renderFile,
      baseEnv: deps.hostEnv,
      settleMs: deps.config.deploy.settleSeconds * 1000,
      monitorMs: deps.config.deploy.monitorSeconds * 1000,
      portRange: [deps.config.deploy.portMin, deps.config.deploy.portMax],
    });
  }

  /** Loads component states and takes over the replicas that should run. */
  async start(): Promise<void> {
    for (const row of await deployStore.listComponents(this.deps.db.kysely)) this.state.set(key(row.project, row.componentId), row);
    await this.replicas.adoptAll((project, componentId, version) => this.runnable(project, componentId, version));
    this.replicas.startMonitor();
    await this.recoverInterruptedRollouts();
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
      const stray = this.replicas.list(row.project, row.componentId).filter((r) => r.version !== row.currentVersion);
      if (stray.length === 0) continue;
      const current = row.currentVersion ? await this.runnable(row.project, row.componentId, row.currentVersion) : undefined;
      const release = current ? undefined : await deployStore.findRelease(this.deps.db.kysely, row.project, row.componentId, stray[0]!.version);
      const base = current?.plan ?? (release ? (JSON.parse(this.deps.secrets.decrypt(release.planSealed)) as ComponentPlan) : undefined);
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
            for (const r of stray) await this.replicas.stop(r.instanceId);
            ctx.log(`stopped ${stray.length} replica(s) of ${versions} left by a rollout interrupted by an OpenStage restart`);
            if (current && !stopped) await this.scaleTo(current, row.replicas, ctx);
          },
        },
      ], row.currentVersion, stopped ? 'STOPPED' : current ? undefined : 'FAILED');
    }
  }

  /** Leaves the replicas running (taken over at the next start) unless deploy.stopOnShutdown. */
  async stop(): Promise<void> {
    for (const wait of this.grayWaits.values()) wait.resume();
    if (this.deps.config.deploy.stopOnShutdown) await this.replicas.stopAll();
    else this.replicas.detach();
  }

  /**
   * Deploys (first deployment or upgrade) a component version. @returns the job id
   */
  async deploy(plan: ComponentPlan): Promise<string> {
    const k = key(plan.project, plan.componentId);
    const planSealed = this.deps.secrets.encrypt(JSON.stringify(plan));
    await deployStore.putRelease(this.deps.db.kysely, { project: plan.project, componentId: plan.componentId, version: plan.version, planSealed, launch: '', revision: '', createdAtMs: this.deps.clock.now() });
    const { config } = this.deps;
    let artifactDir = '';
    let launch: LaunchSpec | undefined;
    let revision = '';
    const buildLog = (jobId: string): string => join(this.root, 'artifacts', plan.project, plan.componentId, `${plan.version}-${jobId.slice(3, 11)}.build.log`);
    const tasks: TaskSpec[] = [
      {
        name: 'fetch source',
        type: 'fetch',
        timeoutMs: config.deploy.fetchTimeoutSeconds * 1000,
        run: async (ctx) => {
          artifactDir = join(this.root, 'artifacts', plan.project, plan.componentId, `${plan.version}-${ctx.jobId.slice(3, 11)}`);
          rmSync(artifactDir, { recursive: true, force: true });
          mkdirSync(artifactDir, { recursive: true });
          const fetched = await fetchSource(plan.source, artifactDir, { env: this.deps.hostEnv, logFile: buildLog(ctx.jobId), signal: ctx.signal, ...(plan.credentials ? { credentials: plan.credentials } : {}), log: ctx.log });
          revision = fetched.revision;
          ctx.log(`source revision ${revision}`);
        },
      },
      {
        name: 'build',
        type: 'build',
        timeoutMs: config.deploy.buildTimeoutSeconds * 1000,
        run: async (ctx) => {
          launch = await buildForStack(plan.stackType, { dir: artifactDir, env: this.deps.hostEnv, logFile: buildLog(ctx.jobId), signal: ctx.signal, log: ctx.log, ...(plan.jvmOpts ? { jvmOpts: plan.jvmOpts } : {}), tomcat: this.tomcatSettings() });
          ctx.log(`start command: ${[launch.command, ...launch.args].join(' ')}`);
        },
      },
      {
        name: 'store artifact',
        type: 'artifact',
        timeoutMs: 60_000,
        run: async (ctx) => {
          const stored: StoredLaunch = { ...launch!, dir: artifactDir };
          await deployStore.setReleaseBuild(this.deps.db.kysely, plan.project, plan.componentId, plan.version, JSON.stringify(stored), revision);
          ctx.log(`artifact of ${plan.version} stored`);
        },
      },
      ...this.rolloutTasks(plan, async () => ({ plan, launch: launch!, dir: artifactDir })),
    ];
    return this.submit(k, plan, 'deploy', tasks, plan.version);
  }

  /**
   * Runs a component action (servicestage.md §4 Deliver task). @returns the job id
   * @throws 400 when the action cannot run now: no deployed version, no stored artifact for
   *   the rollback target (checked before anything is stopped), nothing waiting for continue
   */
  async action(project: string, componentId: string, action: EngineAction, parameters: { replica?: number; version?: string } = {}): Promise<string> {
    const k = key(project, componentId);
    const current = this.state.get(k);
    if (action === 'continue_deploy') {
      const wait = this.grayWaits.get(k);
      if (!wait) throw deployError('InvalidParameter', 'no release of this component is waiting for continue_deploy');
      wait.resume();
      return wait.jobId;
    }
    if (!current?.currentVersion) throw deployError('InvalidParameter', 'the component has no deployed version yet');
    if (action === 'rollback' || action === 'rollback_current') {
      let target = parameters.version;
      if (action === 'rollback_current') {
        const releases = (await deployStore.listReleases(this.deps.db.kysely, project, componentId)).filter((r) => r.launch && r.version !== current.currentVersion);
        target = releases.at(-1)?.version;
        if (!target) throw deployError('InvalidParameter', 'there is no earlier version to roll back to');
      }
      if (!target) throw deployError('InvalidParameter', 'parameters.version is required for rollback');
      const stored = await this.runnable(project, componentId, target);
      if (!stored) throw deployError('InvalidParameter', `version ${target} has no stored artifact (never built, or removed); nothing was stopped`);
      // The target's build and settings, at the component's current replica count: a scale
      // belongs to the component, not to a version (as `kubectl rollout undo` keeps replicas).
      const runnable: Runnable = { ...stored, plan: { ...stored.plan, replicas: current.replicas } };
      return this.submit(k, runnable.plan, 'rollback', this.rolloutTasks(runnable.plan, async () => runnable, 'roll back'), target);
    }
    const runnable = await this.runnable(project, componentId, current.currentVersion);
    if (!runnable) throw deployError('InvalidParameter', `the artifact of version ${current.currentVersion} is gone; deploy again`);
    // These jobs may wait behind a deploy or another action: they read the component's
    // version, artifact and replica count when they run, not when they were asked for, and
    // report what they used (so a scale never brings back an older version, and a restart
    // keeps the replica count of a scale queued before it).
    const outcome: { version?: string; replicas?: number } = {};
    const atRun = async (): Promise<{ runnable: Runnable; replicas: number }> => {
      const now = this.state.get(k);
      if (!now?.currentVersion) throw new Error('the component has no deployed version');
      const r = await this.runnable(project, componentId, now.currentVersion);
      if (!r) throw new Error(`the artifact of version ${now.currentVersion} is gone; deploy again`);
      outcome.version = now.currentVersion;
      outcome.replicas ??= now.replicas;
      return { runnable: r, replicas: outcome.replicas };
    };
    const plan = { ...runnable.plan, replicas: current.replicas };
    const timeoutMs = (n: number): number => this.readyTimeoutMs() * Math.max(1, n) + 60_000;
    if (action === 'scale') {
      const n = parameters.replica;
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 100) throw deployError('InvalidParameter', 'parameters.replica must be an integer from 0 to 100');
      outcome.replicas = n;
      return this.submit(k, { ...plan, replicas: n }, 'scale', [{ name: `scale to ${n}`, type: 'scale', timeoutMs: timeoutMs(n), run: async (ctx) => this.scaleTo((await atRun()).runnable, n, ctx) }], current.currentVersion, undefined, outcome);
    }
    if (action === 'stop') {
      return this.submit(k, plan, 'stop', [{ name: 'stop replicas', type: 'stop', timeoutMs: (plan.terminationGraceSeconds + 30) * 1000, run: async (ctx) => { await atRun(); await this.stopAllOf(project, componentId, ctx); } }], current.currentVersion, 'STOPPED', outcome);
    }
    if (action === 'start') {
      return this.submit(k, plan, 'start', [{ name: `start ${current.replicas} replicas`, type: 'start', timeoutMs: timeoutMs(Math.max(current.replicas, 10)), run: async (ctx) => { const now = await atRun(); await this.scaleTo(now.runnable, now.replicas, ctx); } }], current.currentVersion, undefined, outcome);
    }
    if (action === 'restart') {
      return this.submit(k, plan, 'restart', [{ name: 'restart replicas', type: 'restart', timeoutMs: timeoutMs(Math.max(current.replicas, 10)), run: async (ctx) => { const now = await atRun(); await this.replaceAll(now.runnable, now.replicas, Array<number>(now.replicas).fill(1), ctx); } }], current.currentVersion, undefined, outcome);
    }
    throw deployError('ActionNotDefined', `action '${action as string}' is not defined`);
  }

  /**
   * Stops and removes everything of a component (replicas, releases, artifacts) in a job.
   * @returns the job id
   */
  async remove(project: string, componentId: string, onRemoved?: () => Promise<void>): Promise<string> {
    const k = key(project, componentId);
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
            await deployStore.deleteComponentState(this.deps.db.kysely, project, componentId);
            this.state.delete(k);
            rmSync(join(this.root, 'artifacts', project, componentId), { recursive: true, force: true });
            await onRemoved?.();
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
    const replicas = this.replicas.list(project, componentId);
    const available = replicas.filter((r) => r.ready).length;
    return { status: this.statusOf(k, row, available), replica: row.replicas, availableReplica: available, failDetail: row.failDetail, lastJobId: row.lastJobId, version: row.currentVersion, replicas };
  }

  /** Versions with a stored artifact, oldest first. */
  async releases(project: string, componentId: string): Promise<{ version: string; revision: string; createdAtMs: number }[]> {
    return (await deployStore.listReleases(this.deps.db.kysely, project, componentId)).filter((r) => r.launch).map((r) => ({ version: r.version, revision: r.revision, createdAtMs: r.createdAtMs }));
  }

  /** The last `lines` lines of each replica's log. */
  async logs(project: string, componentId: string, lines: number): Promise<{ instanceId: string; version: string; lines: string[] }[]> {
    const out = [];
    for (const r of this.replicas.list(project, componentId)) out.push({ instanceId: r.instanceId, version: r.version, lines: await this.replicas.logs(r.instanceId, lines) });
    return out;
  }

  // ───────────── jobs ─────────────

  /**
   * Submits a job for a component and records its outcome. `outcome` is filled by tasks that
   * decide when they run (start, stop, restart, scale): the version and replica count they
   * actually used, which win over `version` and `plan.replicas`.
   */
  private async submit(k: string, plan: ComponentPlan, jobType: string, tasks: TaskSpec[], version: string, endStatus?: ComponentStatus, outcome: { version?: string; replicas?: number } = {}): Promise<string> {
    const { project, componentId } = plan;
    const previous = this.state.get(k);
    const row: deployStore.ComponentRow = previous ?? { project, componentId, currentVersion: '', replicas: plan.replicas, status: 'INITIALIZING', failDetail: '', lastJobId: '', updatedAtMs: this.deps.clock.now() };
    const { job } = await this.deps.jobs.submit({
      project,
      jobType,
      targetId: k,
      tasks,
      onFinish: async (status, detail) => {
        this.activeJobs.get(k)?.delete(detail.job.jobId);
        const current = this.state.get(k);
        if (!current) return; // removed meanwhile
        const failed = detail.tasks.find((t) => t.status === 'FAILED');
        const next: deployStore.ComponentRow = {
          ...current,
          ...(status === 'SUCCEEDED' ? { currentVersion: outcome.version ?? version, replicas: outcome.replicas ?? plan.replicas, failDetail: '' } : { failDetail: failed ? `${failed.name}: ${failed.messages.at(-1) ?? 'failed'}` : 'failed' }),
          status: status === 'SUCCEEDED' ? (endStatus ?? 'RUNNING') : 'FAILED',
          updatedAtMs: this.deps.clock.now(),
        };
        this.state.set(k, next);
        await deployStore.putComponent(this.deps.db.kysely, next);
      },
    });
    let active = this.activeJobs.get(k);
    if (!active) this.activeJobs.set(k, (active = new Set()));
    active.add(job.jobId);
    const next = { ...row, lastJobId: job.jobId, status: row.currentVersion ? 'UPGRADING' : 'INITIALIZING', updatedAtMs: this.deps.clock.now() };
    this.state.set(k, next);
    await deployStore.putComponent(this.deps.db.kysely, next);
    return job.jobId;
  }

  /** Roll-out and verify tasks for a release, per its deploy strategy. */
  private rolloutTasks(plan: ComponentPlan, runnableOf: () => Promise<Runnable>, verb = 'roll out'): TaskSpec[] {
    const n = plan.replicas;
    const ready = this.readyTimeoutMs();
    const strategy = plan.strategy;
    const verify: TaskSpec = {
      name: 'verify',
      type: 'verify',
      timeoutMs: ready,
      run: async (ctx) => {
        const mine = this.replicas.list(plan.project, plan.componentId).filter((r) => r.version === plan.version);
        const readyCount = mine.filter((r) => r.ready).length;
        ctx.log(`${readyCount} of ${n} replicas of ${plan.version} ready`);
        if (readyCount < n) throw new Error(`only ${readyCount} of ${n} replicas are ready`);
      },
    };
    if (strategy.type === 'GrayRelease' && n > 1) {
      const first = Math.min(n - 1, Math.max(1, strategy.firstBatchReplica ?? 1));
      const k = key(plan.project, plan.componentId);
      const fresh = new Set<string>();
      return [
        { name: `${verb}: gray batch of ${first}`, type: 'rollout', timeoutMs: ready * first + 60_000, run: async (ctx) => this.replaceAll(await runnableOf(), n, [first], ctx, fresh, true) },
        {
          name: 'wait for continue_deploy',
          type: 'gray-wait',
          timeoutMs: this.deps.config.deploy.grayWaitSeconds * 1000,
          run: (ctx) =>
            new Promise<void>((resolve, reject) => {
              ctx.log(`gray batch running; waiting for continue_deploy`);
              this.grayWaits.set(k, { jobId: ctx.jobId, resume: resolve });
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
            }).finally(() => this.grayWaits.delete(k)),
        },
        { name: `${verb}: remaining ${n - first}`, type: 'rollout', timeoutMs: ready * n + 60_000, run: async (ctx) => this.replaceAll(await runnableOf(), n, [n - first], ctx, fresh) },
        verify,
      ];
    }
    const batches = strategy.type === 'RollingRelease' ? splitBatches(n, strategy.batches ?? 2) : [n];
    return [{ name: `${verb}: ${batches.length} batch${batches.length === 1 ? '' : 'es'}`, type: 'rollout', timeoutMs: ready * Math.max(1, n) + 60_000, run: async (ctx) => this.replaceAll(await runnableOf(), n, batches, ctx) }, verify];
  }

  /**
   * Replaces the component's replicas with `target` replicas of `runnable`, batch by batch:
   * start the batch, wait until it is ready, then stop as many old replicas. `fresh` holds the
   * replicas this rollout already started (a gray release's first batch); `keepRest` leaves
   * the old replicas beyond the batches running (the gray phase). A batch that fails is
   * stopped and the old replicas stay.
   */
  private async replaceAll(runnable: Runnable, target: number, batches: number[], ctx: TaskContext, fresh: Set<string> = new Set(), keepRest = false): Promise<void> {
    const { project, componentId } = runnable.plan;
    const old = this.replicas.list(project, componentId).filter((r) => !fresh.has(r.instanceId)).map((r) => r.instanceId);
    for (const size of batches) {
      const batch: string[] = [];
      try {
        for (let i = 0; i < size && fresh.size < target; i++) {
          const id = await this.replicas.start(runnable);
          batch.push(id);
          fresh.add(id);
        }
        ctx.log(`started ${batch.length} replica(s) of ${runnable.plan.version}; waiting until ready`);
        await Promise.all(batch.map((id) => this.replicas.waitReady(id, this.readyTimeoutMs(), ctx.signal)));
      } catch (err) {
        for (const id of batch) {
          fresh.delete(id);
          await this.replicas.stop(id).catch(() => undefined);
        }
        throw err;
      }
      for (const id of old.splice(0, batch.length)) await this.replicas.stop(id);
      ctx.log(`${batch.length} replica(s) ready`);
    }
    if (!keepRest) for (const id of old.splice(0)) await this.replicas.stop(id);
  }

  /** Adds replicas of the current release or stops the newest extra ones. */
  private async scaleTo(runnable: Runnable, n: number, ctx: TaskContext): Promise<void> {
    const { project, componentId } = runnable.plan;
    const existing = this.replicas.list(project, componentId);
    if (existing.length > n) {
      for (const r of existing.slice(n).reverse()) await this.replicas.stop(r.instanceId);
      ctx.log(`stopped ${existing.length - n} replica(s)`);
      return;
    }
    const added: string[] = [];
    try {
      for (let i = existing.length; i < n; i++) added.push(await this.replicas.start(runnable));
      await Promise.all(added.map((id) => this.replicas.waitReady(id, this.readyTimeoutMs(), ctx.signal)));
    } catch (err) {
      for (const id of added) await this.replicas.stop(id).catch(() => undefined);
      throw err;
    }
    ctx.log(`${n} replica(s) running`);
  }

  private async stopAllOf(project: string, componentId: string, ctx: TaskContext): Promise<void> {
    const all = this.replicas.list(project, componentId);
    const exits = await Promise.all(all.map((r) => this.replicas.stop(r.instanceId)));
    const killed = exits.filter((e) => e?.signal === 'SIGKILL').length;
    // A replica killed after the grace period had no time to deregister or finish its work.
    ctx.log(`stopped ${all.length} replica(s)${killed ? `; ${killed} did not end within the termination grace period and were killed (SIGKILL)` : ''}`);
  }

  /** The stored release of a version with its artifact, or undefined when never built or removed. */
  private async runnable(project: string, componentId: string, version: string): Promise<Runnable | undefined> {
    const release = await deployStore.findRelease(this.deps.db.kysely, project, componentId, version);
    if (!release?.launch) return undefined;
    const launch = JSON.parse(release.launch) as StoredLaunch;
    if (!existsSync(launch.dir)) return undefined;
    const plan = JSON.parse(this.deps.secrets.decrypt(release.planSealed)) as ComponentPlan;
    return { plan, launch: { command: launch.command, args: launch.args, ...(launch.tomcat ? { tomcat: launch.tomcat } : {}) }, dir: launch.dir };
  }

  private statusOf(k: string, row: deployStore.ComponentRow, available: number): ComponentStatus {
    if (this.grayWaits.has(k)) return 'GRAYING';
    if ((this.activeJobs.get(k)?.size ?? 0) > 0) return row.currentVersion ? 'UPGRADING' : 'INITIALIZING';
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

function key(project: string, componentId: string): string {
  return `${project}/${componentId}`;
}

/** Splits n replicas into `batches` batches as even as possible (first ones larger). */
export function splitBatches(n: number, batches: number): number[] {
  const b = Math.max(1, Math.min(n, Math.floor(batches)));
  const out: number[] = [];
  for (let i = 0; i < b; i++) out.push(Math.floor(n / b) + (i < n % b ? 1 : 0));
  return out.filter((x) => x > 0);
}
