import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { openDatabase, type Db } from '../../src/core/db/kysely.js';
import { createPodman, ContainerRuntime, projectUserns } from '../../src/deploy/container/runtime.js';
import type { Podman } from '../../src/deploy/container/podman.js';
import type { BuildStep, Release } from '../../src/deploy/runtime.js';
import { runLogged, type Runner } from '../../src/deploy/build/run.js';
import { fetchSource } from '../../src/deploy/source.js';
import type { ComponentPlan, TaskContext } from '../../src/deploy/types.js';

/**
 * The container runtime of the tests and benchmarks, outside a server: a database (the
 * suite's), OpenStage's podman under `<dataDir>/containers`, the runtime over both, and the
 * releases it built (kept in memory, as the engine keeps them in deploy_releases).
 */

/** Host uid base of the tests' user namespaces (project index 0 and up). */
export const TEST_UID_BASE = 1_300_000_000;

/** A runtime with what drives it. */
export interface TestContainerRuntime {
  runtime: ContainerRuntime;
  podman: Podman;
  db: Db;
  dataDir: string;
  /** Releases by `project/component/version`. */
  releases: Map<string, Release>;
  /** A job context: a fresh job id, messages collected in `messages`. */
  ctx(project: string, signal?: AbortSignal): TaskContext;
  messages: string[];
  /** Fetches and builds a plan's version (as the engine's fetch and build tasks do). */
  release(plan: ComponentPlan, signal?: AbortSignal): Promise<Release>;
  /** Stops following podman (the containers keep running) and closes the database. */
  close(): Promise<void>;
}

let jobSeq = 0;

/** Replaces `${NAME}` with the replica's variable, as the engine's renderer does. */
export function render(content: string, variables: Record<string, string>): string {
  return content.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, n: string) => variables[n] ?? m);
}

/**
 * Opens a container runtime on `dataDir` and database `db` (`sqlite` or a PostgreSQL URL).
 * @param options.projects project names in allocation order (their user namespaces follow)
 * @param options.readyTimeoutMs longest a new replica may take to be ready (default 60 s)
 */
export async function openTestContainerRuntime(dataDir: string, db: string, options: { insecureRegistries?: string[]; projects?: string[]; readyTimeoutMs?: number } = {}): Promise<TestContainerRuntime> {
  const log = pino({ level: process.env.OPENSTAGE_TEST_LOG ?? 'silent' });
  const database = await openDatabase(db, dataDir, log);
  const podman = createPodman(
    { podmanPath: 'podman', containerDir: '', containerRunDir: '', containerInsecureRegistries: options.insecureRegistries ?? [], containerSearchRegistries: ['docker.io'], containerUidBase: TEST_UID_BASE },
    dataDir,
    process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  );
  const root = join(dataDir, 'deploy');
  const hostEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  const projects = options.projects ?? [];
  const runtime = new ContainerRuntime({
    db: database,
    clock: systemClock,
    log,
    podman,
    root,
    // Unconfined here (the server gives the process runtime's confined fetch).
    fetchSource: async (plan: ComponentPlan, step: BuildStep) => {
      const run: Runner = (command, args, opts = {}) => runLogged(command, args, { cwd: opts.cwd ?? step.workspace, env: { ...hostEnv, ...(opts.env ?? {}) }, logFile: step.buildLog, signal: step.ctx.signal, ...(opts.captureStdout ? { captureStdout: true } : {}) });
      const fetched = await fetchSource(plan.source, step.workspace, { env: hostEnv, run, log: step.ctx.log, ...(plan.credentials ? { credentials: plan.credentials } : {}) });
      return { revision: fetched.revision };
    },
    usernsOf: async (project) => projectUserns(TEST_UID_BASE, Math.max(0, projects.indexOf(project))),
    renderFile: render,
    buildMemoryBytes: 0,
    pidsLimit: 1024,
    settleMs: 1000,
    monitorMs: 1000,
    portRange: [20000, 29999],
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
  });
  const releases = new Map<string, Release>();
  const messages: string[] = [];
  const ctx = (project: string, signal = new AbortController().signal): TaskContext => ({ project, jobId: `JOB${++jobSeq}-${process.pid}`, signal, log: (line) => messages.push(line) });
  return {
    runtime,
    podman,
    db: database,
    dataDir,
    releases,
    ctx,
    messages,
    release: async (plan, signal) => {
      const workspace = join(root, 'artifacts', plan.project, plan.componentId, `${plan.version}-${jobSeq + 1}`);
      mkdirSync(workspace, { recursive: true });
      const step: BuildStep = { workspace, buildLog: `${workspace}.log`, ctx: ctx(plan.project, signal) };
      await runtime.fetch(plan, step);
      const artifact = await runtime.build(plan, step);
      const release = { plan, artifact };
      releases.set(`${plan.project}/${plan.componentId}/${plan.version}`, release);
      return release;
    },
    close: async () => {
      await runtime.shutdown(false);
      await database.close();
    },
  };
}

/** An image component's plan (runtime container, Docker stack), version `version`. */
export function imagePlan(version: string, url: string, overrides: Partial<ComponentPlan> = {}): ComponentPlan {
  return {
    project: 'p-container',
    componentId: 'comp-web',
    componentName: 'Web',
    applicationId: 'app-1',
    applicationName: 'Shop',
    environmentId: 'env-1',
    environmentName: 'dev',
    version,
    source: { kind: 'image', url },
    stackType: 'Docker',
    replicas: 1,
    env: { GREETING: `hello from ${version}` },
    files: [{ path: '/etc/app/app.yaml', content: 'instance: ${CAS_INSTANCE_ID}\nport: ${PORT}\n' }],
    strategy: { type: 'OneBatchRelease' },
    terminationGraceSeconds: 5,
    runtime: 'container',
    resources: { limitCpuCores: 0.5, limitMemoryBytes: 256 * 1024 * 1024 },
    ...overrides,
  };
}
