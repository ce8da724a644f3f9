import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { ProbeResult } from '../../core/process/probe.js';
import { processStartTicks, ProcessRuntime as Supervisor, signalGroup, tailLines, type ExitInfo, type ReplicaSpec } from '../../core/process/supervisor.js';
import { prepareCatalinaBase } from '../build/tomcat.js';
import type { DriverState, HostReplicaSpec, ReplicaDriver, ReplicaHandle } from '../host/driver.js';
import type { ProcessArtifact } from '../runtime.js';
import type { ConfinedSpec, Sandbox } from './sandbox.js';

/** Sandbox settings of a replica's process, beyond the project's user. */
interface Confinement {
  spec: ConfinedSpec;
  env: Record<string, string>;
  logFile: string;
}

/**
 * The process runtime's ReplicaDriver: each replica is a process tree confined by the
 * Sandbox (bubblewrap, the project's uid, its control group), supervised by the core process
 * supervisor (own process group, detached so that it outlives an OpenStage crash, restarted
 * with back-off, adopted by pid and start time after a restart).
 *
 * A replica sees: the host read-only; its release's artifact directory read-only (it runs
 * there); its config files read-only under CAS_MOUNT_ROOT; Tomcat's CATALINA_HOME
 * read-only; writable only its own work directory (HOME), its Tomcat base's logs/temp/work
 * and a private /tmp.
 */
export class ProcessDriver implements ReplicaDriver {
  private readonly supervisor: Supervisor;
  private readonly confined = new Map<string, Confinement>();

  constructor(
    private readonly deps: { clock: Clock; log: Logger; sandbox: Sandbox; onChange: (state: DriverState) => void },
  ) {
    this.supervisor = new Supervisor({
      clock: deps.clock,
      log: deps.log,
      backoff: { initialMs: 1000, maxMs: 60_000, resetAfterMs: 60_000 },
      pollMs: 1000,
      onChange: (state) => deps.onChange(state),
    });
  }

  mountRoot(home: string): string {
    return join(home, 'mounts');
  }

  async start(spec: HostReplicaSpec): Promise<DriverState> {
    return this.supervisor.start(await this.prepare(spec));
  }

  async adopt(spec: HostReplicaSpec, handle: ReplicaHandle): Promise<DriverState> {
    return this.supervisor.adopt(await this.prepare(spec), handle.pid, handle.startTicks);
  }

  async stop(instanceId: string): Promise<ExitInfo | undefined> {
    const exit = await this.supervisor.stop(instanceId);
    this.confined.delete(instanceId);
    this.deps.sandbox.release(cgroupName(instanceId));
    return exit;
  }

  status(instanceId: string): DriverState | undefined {
    return this.supervisor.status(instanceId);
  }

  /** A command probe in a sandbox of its own with the replica's user, files and control group. */
  exec(instanceId: string, command: string[], timeoutMs: number): Promise<ProbeResult> {
    const c = this.confined.get(instanceId);
    const [cmd, ...args] = command;
    if (!c || !cmd) return Promise.resolve({ ok: false, detail: cmd ? `replica ${instanceId} is not running here` : 'command probe without a command' });
    const run = this.deps.sandbox.wrap({ ...c.spec, dieWithParent: true }, cmd, args, c.env);
    return new Promise((resolve) => {
      execFile(run.command, run.args, { cwd: run.cwd, env: run.env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err) => {
        if (!err) return resolve({ ok: true, detail: `${cmd} exited 0` });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        resolve({ ok: false, detail: e.killed ? `${cmd} timed out after ${timeoutMs} ms` : `${cmd}: ${typeof e.code === 'number' ? `exit code ${e.code}` : (e.code ?? e.message)}` });
      });
    });
  }

  logs(instanceId: string, lines: number): Promise<string[]> {
    const c = this.confined.get(instanceId);
    return c ? tailLines(c.logFile, lines) : Promise.resolve([]);
  }

  /** Kills the leftover's process group when its pid is still the process started at its start time. */
  async killLeftover(_instanceId: string, handle: ReplicaHandle): Promise<void> {
    const { pid, startTicks } = handle;
    if (pid === undefined || startTicks === undefined || processStartTicks(pid) !== startTicks) return;
    signalGroup(pid, 'SIGKILL');
    for (let i = 0; i < 50 && processStartTicks(pid) === startTicks; i++) await new Promise((r) => setTimeout(r, 100));
  }

  detachAll(): void {
    this.supervisor.detachAll();
  }

  async stopAll(): Promise<void> {
    const ids = [...this.confined.keys()];
    await this.supervisor.stopAll();
    for (const id of ids) this.deps.sandbox.release(cgroupName(id));
  }

  /**
   * Writes the replica's files (config files under mounts/, Tomcat's base), makes its own
   * directories and turns its start command into the supervisor's confined spec.
   */
  private async prepare(spec: HostReplicaSpec): Promise<ReplicaSpec> {
    const { sandbox } = this.deps;
    const artifact = spec.release.artifact as ProcessArtifact;
    const { plan } = spec.release;
    const user = await sandbox.userOf(spec.project);
    // The replica's home (spec.home) and mounts/ belong to OpenStage; work/ and tmp/ to the replica.
    const mounts = this.mountRoot(spec.home);
    mkdirSync(mounts, { recursive: true, mode: 0o755 });
    for (const file of spec.files) {
      const target = join(mounts, normalize(`/${file.path}`));
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      writeFileSync(target, file.content, { mode: 0o644 });
    }
    const work = sandbox.ownedDir(join(spec.home, 'work'), user);
    const tmp = sandbox.ownedDir(join(spec.home, 'tmp'), user);
    const env = { ...spec.env };
    const { launch } = artifact;
    let launchArgs = launch.args;
    const readOnly = [artifact.dir, mounts];
    const writable = [work];
    if (launch.tomcat) {
      // Tomcat: the replica's own CATALINA_BASE (its port, logs, temp, work); a component
      // `command` gets the same base through CATALINA_HOME / CATALINA_BASE.
      const base = join(spec.home, 'catalina-base');
      mkdirSync(base, { recursive: true, mode: 0o755 });
      launchArgs = [...launch.args, ...prepareCatalinaBase(base, artifact.dir, launch.tomcat, spec.port, (d) => sandbox.ownedDir(d, user))];
      Object.assign(env, { CATALINA_HOME: launch.tomcat.home, CATALINA_BASE: base });
      readOnly.push(launch.tomcat.home, join(base, 'conf'), join(base, 'webapps'));
      writable.push(...['logs', 'temp', 'work'].map((d) => join(base, d)));
    }
    if (launch.javaHome) {
      // The JDK of the component's runtime stack (parameters.jdk_url), for `java` and a component `command` alike.
      Object.assign(env, { JAVA_HOME: launch.javaHome, PATH: `${join(launch.javaHome, 'bin')}:${env.PATH ?? '/usr/bin:/bin'}` });
      readOnly.push(launch.javaHome);
    }
    const command = plan.command?.command?.length ? plan.command.command[0]! : launch.command;
    const args = plan.command?.command?.length ? [...plan.command.command.slice(1), ...(plan.command.args ?? [])] : [...launchArgs, ...(plan.command?.args ?? [])];
    const r = plan.resources ?? {};
    const confinedSpec: ConfinedSpec = {
      user,
      hostname: `${plan.componentName}-${spec.instanceId.slice(0, 8)}`,
      cwd: artifact.dir,
      writable,
      readOnly,
      tmp,
      home: work,
      etcDir: join(spec.home, 'etc'),
      dieWithParent: false,
      cgroup: {
        name: cgroupName(spec.instanceId),
        limits: {
          ...(r.limitMemoryBytes ? { memoryBytes: r.limitMemoryBytes } : {}),
          ...(r.requestMemoryBytes ? { requestMemoryBytes: r.requestMemoryBytes } : {}),
          ...(r.limitCpuCores ? { cpuCores: r.limitCpuCores } : {}),
          ...(r.requestCpuCores ? { requestCpuCores: r.requestCpuCores } : {}),
        },
      },
    };
    const wrapped = sandbox.wrap(confinedSpec, command, args, env);
    this.confined.set(spec.instanceId, { spec: confinedSpec, env, logFile: spec.logFile });
    return {
      instanceId: spec.instanceId,
      command: wrapped.command,
      args: wrapped.args,
      cwd: wrapped.cwd,
      env: wrapped.env,
      logFile: spec.logFile,
      terminationGraceMs: spec.terminationGraceMs,
    };
  }
}

/** The control group of a replica. */
function cgroupName(instanceId: string): string {
  return `replica-${instanceId}`;
}
