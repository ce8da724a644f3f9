import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/kysely.js';
import type { Logger } from '../../core/log.js';
import { mavenSettings } from '../build/maven.js';
import { runLogged, type Runner } from '../build/run.js';
import { buildForStack, type LaunchSpec } from '../build/stacks.js';
import type { TomcatSettings } from '../build/tomcat.js';
import { HostReplicas } from '../host/replica-service.js';
import { HostRuntime, type HostReplicaSettings } from '../host/runtime.js';
import type { Artifact, BuildStep, ProcessArtifact, Release } from '../runtime.js';
import { fetchSource, PACKAGE_WORKER } from '../source.js';
import type { ComponentPlan, PlanProbe } from '../types.js';
import { ProcessDriver } from './driver.js';
import { ensureTool, readStackSpec, type ToolRequest } from './tools.js';
import type { ConfinedSpec, Sandbox } from './sandbox.js';

/** Dependencies of the process runtime, built by DeployService. */
export interface ProcessRuntimeDeps extends HostReplicaSettings {
  db: Db;
  clock: Clock;
  log: Logger;
  sandbox: Sandbox;
  /** `<data>/deploy`. */
  root: string;
  /** Variables every build and replica gets first (PATH, LANG, JAVA_HOME…; HOME is the sandbox's). */
  hostEnv: Record<string, string>;
  renderFile: (content: string, variables: Record<string, string>) => string;
  tomcat: TomcatSettings;
  /** Host paths `file://` sources may name, visible read-only to fetches and builds. */
  sourceRoots: string[];
  /** Shared read-only Maven repositories builds resolve from before the network (`deploy.mavenRepositories`; build/maven.ts). */
  mavenRepositories: string[];
  /** Memory limit of one build or fetch, bytes (0 = none). */
  buildMemoryBytes: number;
  /** Largest package download and unpacked package, bytes. */
  maxPackageBytes: number;
  maxUnpackedBytes: number;
}

/** OpenStage's own files a package fetch needs inside the sandbox (the worker and fflate). */
const PACKAGE_ROOT = dirname(dirname(dirname(dirname(dirname(PACKAGE_WORKER)))));

/**
 * The process runtime (DESIGN.md "Deployments"): Java, Tomcat, Nodejs, Python and Go
 * components built and run as confined processes on this host (src/deploy/process/sandbox.ts).
 * A build runs as the project's user in a sandbox that sees its workspace (writable), its
 * project's build caches (`<data>/deploy/home/<project>`: HOME, with Maven's ~/.m2, npm's,
 * pip's and Go's caches; writable), the `deploy.sourceRoots` and `deploy.mavenRepositories`
 * (read-only; Maven runs with `-s` and a settings file that names the latter) and a private /tmp,
 * in a control group limited to `deploy.buildMemoryMiB`, killed with OpenStage. The
 * workspace, built in place, is the artifact: replicas run there, read-only.
 */
export class ProcessRuntime extends HostRuntime {
  readonly kind = 'process' as const;
  readonly replicaSet: HostReplicas;

  constructor(private readonly deps: ProcessRuntimeDeps) {
    super(deps.readyTimeoutMs);
    let replicaSet: HostReplicas | undefined;
    const driver = new ProcessDriver({ clock: deps.clock, log: deps.log, sandbox: deps.sandbox, onChange: (state) => replicaSet?.changed(state) });
    replicaSet = new HostReplicas({
      db: deps.db,
      clock: deps.clock,
      log: deps.log,
      root: deps.root,
      driver,
      kind: 'process',
      renderFile: deps.renderFile,
      settleMs: deps.settleMs,
      monitorMs: deps.monitorMs,
      portRange: deps.portRange,
      readinessOf,
      // npm (`npm start`) would look for its own updates from each replica's fresh HOME.
      baseEnv: () => ({ ...deps.hostEnv, npm_config_update_notifier: 'false', npm_config_fund: 'false' }),
      ...(deps.onChange ? { onChange: deps.onChange } : {}),
      ...(deps.hooks ? { replicaEnded: deps.hooks.replicaEnded } : {}),
      ...(deps.hooks?.serverId ? { serverId: deps.hooks.serverId } : {}),
      ...(deps.hooks?.mayRun ? { mayRun: deps.hooks.mayRun } : {}),
      ...(deps.hooks?.viewWritten ? { viewWritten: deps.hooks.viewWritten } : {}),
    });
    this.replicaSet = replicaSet;
  }

  async fetch(plan: ComponentPlan, step: BuildStep): Promise<{ revision: string }> {
    const run = await this.runner(plan, step);
    return fetchSource(plan.source, step.workspace, { env: this.deps.hostEnv, run, log: step.ctx.log, maxPackageBytes: this.deps.maxPackageBytes, maxUnpackedBytes: this.deps.maxUnpackedBytes, ...(plan.credentials ? { credentials: plan.credentials } : {}) });
  }

  /**
   * Builds for the plan's stack. A custom stack's spec takes effect where this runtime can
   * honour it (tools.ts): its JDK runs the build and the replicas, its Tomcat runs the war;
   * what it cannot honour (a custom OS) is said in the task's messages.
   */
  async build(plan: ComponentPlan, step: BuildStep): Promise<Artifact> {
    const spec = readStackSpec(plan);
    for (const note of spec.notes) step.ctx.log(note);
    const tools: { jdk?: string; tomcat?: string } = {};
    for (const tool of spec.tools) tools[tool.kind] = await this.tool(plan, step, tool);
    const jdk = tools.jdk;
    const run = await this.runner(plan, step, jdk ? { readOnly: [jdk], env: { JAVA_HOME: jdk, PATH: `${join(jdk, 'bin')}:${this.deps.hostEnv.PATH ?? '/usr/bin:/bin'}` } } : {});
    const tomcat = tools.tomcat ? { ...this.deps.tomcat, home: tools.tomcat } : this.deps.tomcat;
    const launch = await buildForStack(plan.stackType, { dir: step.workspace, run, env: this.deps.hostEnv, logFile: step.buildLog, signal: step.ctx.signal, log: step.ctx.log, ...(plan.jvmOpts ? { jvmOpts: plan.jvmOpts } : {}), tomcat });
    if (jdk) {
      launch.javaHome = jdk;
      if (launch.command === 'java') launch.command = join(jdk, 'bin', 'java');
    }
    step.ctx.log(`start command: ${[launch.command, ...launch.args].join(' ')}`);
    return { runtime: 'process', dir: step.workspace, launch };
  }

  /** A tool of the plan's stack (a JDK, a Tomcat), fetched confined into the tools cache on first use. */
  private async tool(plan: ComponentPlan, step: BuildStep, tool: ToolRequest): Promise<string> {
    const { sandbox } = this.deps;
    const user = await sandbox.userOf(plan.project);
    return ensureTool(tool, {
      cacheRoot: join(this.deps.root, 'tools'),
      project: plan.project,
      ownedDir: (dir) => sandbox.ownedDir(dir, user),
      runner: (dir) => this.runner(plan, step, { writable: [dir] }),
      env: this.deps.hostEnv,
      log: step.ctx.log,
    });
  }

  /**
   * Builds the fetched source in `step.workspace` for an image (the kubernetes runtime's image
   * builds), confined exactly like `build`: no Tomcat download (the image's base brings it),
   * a static Go binary, and no `jvm_opts` in the start command (pods get them as
   * JAVA_TOOL_OPTIONS).
   * @returns how to start it, relative to the workspace (`war` for Tomcat)
   * @throws BuildError naming the failed command with the log's last lines
   */
  async buildForImage(plan: ComponentPlan, step: BuildStep): Promise<LaunchSpec> {
    const run = await this.runner(plan, step);
    return buildForStack(plan.stackType, { dir: step.workspace, run, env: this.deps.hostEnv, logFile: step.buildLog, signal: step.ctx.signal, log: step.ctx.log, forImage: true });
  }

  async hasArtifact(artifact: Artifact): Promise<boolean> {
    return artifact.runtime === 'process' && existsSync(artifact.dir);
  }

  async removeArtifacts(_project: string, _componentId: string, artifacts: Artifact[]): Promise<void> {
    for (const a of artifacts) if (a.runtime === 'process') rmSync(a.dir, { recursive: true, force: true });
  }

  /**
   * The confined runner of one build step: the project's user, the workspace and the
   * project's caches writable, a private /tmp, the build's control group.
   */
  private async runner(plan: ComponentPlan, step: BuildStep, extra: { writable?: string[]; readOnly?: string[]; env?: Record<string, string> } = {}): Promise<Runner> {
    const { sandbox } = this.deps;
    const user = await sandbox.userOf(plan.project);
    const scratch = join(this.deps.root, 'tmp', step.ctx.jobId);
    const home = sandbox.ownedDir(join(this.deps.root, 'home', plan.project), user);
    const tmp = sandbox.ownedDir(join(scratch, 'tmp'), user);
    sandbox.ownedDir(step.workspace, user);
    // git's global config, OpenStage's (read-only inside): a local repository belongs to
    // another user than the sandbox's, which git refuses unless safe.directory says so; and
    // nothing a build leaves in its HOME may configure the next fetch.
    mkdirSync(scratch, { recursive: true, mode: 0o700 });
    const gitConfig = join(scratch, 'gitconfig');
    writeFileSync(gitConfig, '[safe]\n\tdirectory = *\n', { mode: 0o644 });
    // Maven's settings, OpenStage's too (read-only inside): the shared repositories, if any.
    const shared = this.deps.mavenRepositories;
    const mavenFile = shared.length > 0 ? join(scratch, 'maven-settings.xml') : undefined;
    if (mavenFile) writeFileSync(mavenFile, mavenSettings(shared), { mode: 0o644 });
    const spec: ConfinedSpec = {
      user,
      hostname: `build-${plan.componentName}`,
      cwd: step.workspace,
      writable: [step.workspace, home, ...(extra.writable ?? [])],
      readOnly: [gitConfig, ...(mavenFile ? [mavenFile, ...shared] : []), ...this.deps.sourceRoots, join(PACKAGE_ROOT, 'dist'), join(PACKAGE_ROOT, 'node_modules'), join(PACKAGE_ROOT, 'package.json'), ...(extra.readOnly ?? [])],
      tmp,
      home,
      etcDir: join(scratch, 'etc'),
      dieWithParent: true,
      cgroup: { name: `build-${step.ctx.jobId}`, limits: this.deps.buildMemoryBytes ? { memoryBytes: this.deps.buildMemoryBytes } : {} },
    };
    // Per-project caches, in the project's HOME: Maven's ~/.m2 (user.home comes from the
    // sandbox's /etc/passwd), npm's, pip's and Go's.
    const cacheEnv: Record<string, string> = {
      GOPATH: join(home, 'go'),
      GOCACHE: join(home, '.cache', 'go-build'),
      GOMODCACHE: join(home, 'go', 'pkg', 'mod'),
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-buildvcs=false',
      npm_config_cache: join(home, '.npm'),
      npm_config_update_notifier: 'false',
      PIP_CACHE_DIR: join(home, '.cache', 'pip'),
      GIT_CONFIG_GLOBAL: gitConfig,
      GIT_CONFIG_NOSYSTEM: '1',
    };
    return async (command, args, options = {}) => {
      try {
        return await runLogged(command, mavenFile && command === 'mvn' ? ['-s', mavenFile, ...args] : args, {
          cwd: options.cwd ?? step.workspace,
          env: { ...this.deps.hostEnv, ...cacheEnv, ...(extra.env ?? {}), ...(options.env ?? {}) },
          logFile: step.buildLog,
          signal: step.ctx.signal,
          ...(options.captureStdout ? { captureStdout: true } : {}),
          wrap: (c, a, env, cwd) => sandbox.wrap({ ...spec, cwd }, c, a, env),
        });
      } finally {
        sandbox.release(spec.cgroup!.name);
      }
    };
  }
}

/**
 * The readiness probe of a release's replicas: the component's, else — for a war run by
 * OpenStage's Tomcat start command — a TCP connect to the replica's port (Tomcat opens its
 * connector only after deploying the war, and a JVM takes longer than `deploy.settleSeconds`
 * to get there on a busy host), else none (ready after the settle time).
 */
function readinessOf(release: Release): PlanProbe | undefined {
  const { plan, artifact } = release;
  if (plan.readinessProbe) return plan.readinessProbe;
  const launch = artifact.runtime === 'process' ? artifact.launch : undefined;
  if (launch?.tomcat && !plan.command?.command?.length) {
    const { address } = launch.tomcat;
    return { type: 'tcp', ...(address && address !== '0.0.0.0' && address !== '::' ? { host: address } : {}) };
  }
  return undefined;
}

/** Old releases stored `{command, args, tomcat?, dir}`: read as a process artifact. */
export function processArtifactOf(stored: Record<string, unknown>): ProcessArtifact | undefined {
  if (stored.runtime === 'process') return stored as unknown as ProcessArtifact;
  if (stored.runtime === undefined && typeof stored.command === 'string' && typeof stored.dir === 'string') {
    const { dir, command, args, tomcat } = stored as { dir: string; command: string; args: string[]; tomcat?: ProcessArtifact['launch']['tomcat'] };
    return { runtime: 'process', dir, launch: { command, args, ...(tomcat ? { tomcat } : {}) } };
  }
  return undefined;
}
