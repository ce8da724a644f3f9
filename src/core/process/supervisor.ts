import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';

/** What to run for one replica (one supervised child process). */
export interface ReplicaSpec {
  /** The replica's instance id (unique on this host). */
  instanceId: string;
  /** Executable (looked up in PATH) and its arguments; never run through a shell. */
  command: string;
  args: string[];
  /** Working directory. */
  cwd: string;
  /** The whole environment of the process (nothing is inherited from OpenStage). */
  env: Record<string, string>;
  /** File receiving stdout and stderr (appended). */
  logFile: string;
  /** Wait between SIGTERM and SIGKILL on stop, milliseconds. */
  terminationGraceMs: number;
}

/** How a process ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Epoch milliseconds. */
  atMs: number;
}

/** What the supervisor knows about a replica. */
export interface ReplicaState {
  instanceId: string;
  /** `running`: a process is up; `backoff`: crashed, restart scheduled; `stopped`: stopped on request. */
  state: 'running' | 'backoff' | 'stopped';
  pid?: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  startTicks?: number;
  /** Epoch milliseconds when the current process started. */
  startedAtMs?: number;
  /** Crash restarts so far. */
  restarts: number;
  lastExit?: ExitInfo;
  /** True when the process was found running after an OpenStage restart (not our child). */
  adopted: boolean;
}

/** Restart back-off: initialMs, doubled per consecutive crash up to maxMs; reset after a run of resetAfterMs. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

/** Reads a live process's start time (ticks since boot); undefined when it is gone or a zombie. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

interface Entry {
  spec: ReplicaSpec;
  state: ReplicaState;
  child?: ChildProcess;
  consecutiveCrashes: number;
  cancelRestart?: () => void;
  stopPoll?: () => void;
  /** Resolvers waiting for the current process to end. */
  exitWaiters: ((info: ExitInfo) => void)[];
}

/**
 * The process runtime (DESIGN.md "Deployments"): each replica is a child process in its own
 * process group, detached so that it outlives an OpenStage crash, with stdout and stderr
 * appended to its log file. A process that ends without being asked is restarted after a
 * back-off; `stop` sends SIGTERM to the group, then SIGKILL after the grace period. After an
 * OpenStage restart `adopt` takes over a process that is still running (same pid and start
 * time) and watches it by polling; otherwise it starts a new one.
 */
export class ProcessRuntime {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param deps.pollMs how often adopted processes are checked, milliseconds of `clock` time
   * @param deps.onChange called after every state change (start, crash, restart, stop)
   */
  constructor(
    private readonly deps: { clock: Clock; log: Logger; backoff: Backoff; pollMs: number; onChange?: (state: ReplicaState) => void },
  ) {}

  /**
   * Starts a replica's process. @throws Error naming the command when it cannot be started
   * (not found, not executable, bad working directory)
   */
  async start(spec: ReplicaSpec): Promise<ReplicaState> {
    const existing = this.entries.get(spec.instanceId);
    if (existing && existing.state.state !== 'stopped') throw new Error(`replica ${spec.instanceId} is already running`);
    const entry: Entry = { spec, state: { instanceId: spec.instanceId, state: 'stopped', restarts: 0, adopted: false }, consecutiveCrashes: 0, exitWaiters: [] };
    this.entries.set(spec.instanceId, entry);
    try {
      await this.spawnProcess(entry);
    } catch (err) {
      this.entries.delete(spec.instanceId);
      throw err;
    }
    return { ...entry.state };
  }

  /**
   * Takes over a replica after an OpenStage restart: watches the process `pid` when it is
   * still the one started at `startTicks`, else starts a new process.
   */
  async adopt(spec: ReplicaSpec, pid: number | undefined, startTicks: number | undefined): Promise<ReplicaState> {
    if (pid !== undefined && startTicks !== undefined && processStartTicks(pid) === startTicks) {
      const entry: Entry = {
        spec,
        state: { instanceId: spec.instanceId, state: 'running', pid, startTicks, startedAtMs: this.deps.clock.now(), restarts: 0, adopted: true },
        consecutiveCrashes: 0,
        exitWaiters: [],
      };
      this.entries.set(spec.instanceId, entry);
      this.watchAdopted(entry);
      this.changed(entry);
      return { ...entry.state };
    }
    return this.start(spec);
  }

  /** The replica's state, or undefined when unknown. */
  status(instanceId: string): ReplicaState | undefined {
    const e = this.entries.get(instanceId);
    return e ? { ...e.state } : undefined;
  }

  /**
   * Stops a replica: no more restarts; SIGTERM to its process group, SIGKILL to the group
   * after the grace period (clock time) unless every process of the group (the replica's
   * process and whatever it started) has ended by then. Resolves when the group is empty.
   * @returns how the replica's process ended (undefined when none was running)
   */
  async stop(instanceId: string): Promise<ExitInfo | undefined> {
    const entry = this.entries.get(instanceId);
    if (!entry) return undefined;
    entry.cancelRestart?.();
    entry.cancelRestart = undefined;
    const pid = entry.state.pid;
    if (entry.state.state !== 'running' || pid === undefined) {
      entry.state.state = 'stopped';
      this.entries.delete(instanceId);
      this.changed(entry);
      return undefined;
    }
    entry.state.state = 'stopped';
    const ended = new Promise<ExitInfo>((resolve) => entry.exitWaiters.push(resolve));
    signalGroup(pid, 'SIGTERM');
    if (!entry.child) this.awaitAdoptedExit(entry, pid, entry.state.startTicks);
    let killed = false;
    const cancelKill = this.deps.clock.after(entry.spec.terminationGraceMs, () => {
      killed = true;
      signalGroup(pid, 'SIGKILL');
    });
    const info = await ended;
    // The group leader is gone, but what it started (npm's node, a shell's java) may still
    // be ending, or ignore SIGTERM: the grace period and the SIGKILL hold for the whole group.
    await groupEnded(pid, () => killed);
    cancelKill();
    // A replica of the same id started (or adopted) while this one ended is not touched:
    // its entry stays, and what is reported last is its state, not this one's end.
    if (this.entries.get(instanceId) === entry) {
      this.entries.delete(instanceId);
      this.changed(entry);
    }
    // The leader may be a wrapper (the sandbox's bwrap) that ended at SIGTERM while what it
    // ran ignored it: a group that had to be killed ended by SIGKILL, whatever the leader did.
    return killed ? { ...info, code: null, signal: 'SIGKILL' } : info;
  }

  /** Stops every replica (used by tests and a full shutdown of the platform's apps). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.stop(id)));
  }

  /**
   * Lets go of every replica without stopping it (OpenStage is stopping; the processes keep
   * running and are adopted by the next start).
   */
  detachAll(): void {
    for (const entry of this.entries.values()) {
      entry.cancelRestart?.();
      entry.stopPoll?.();
      entry.child?.removeAllListeners('exit');
      entry.child?.unref();
    }
    this.entries.clear();
  }

  /** The last `lines` lines of a replica's log file (its spec's logFile). */
  async logTail(logFile: string, lines: number): Promise<string[]> {
    return tailLines(logFile, lines);
  }

  /** Starts the entry's process; `restart` counts it as a crash restart once it is up. */
  private async spawnProcess(entry: Entry, restart = false): Promise<void> {
    const { spec } = entry;
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', fd, fd] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (err) => reject(new Error(`cannot start '${spec.command}': ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
      });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid!;
    entry.child = child;
    entry.state = { ...entry.state, state: 'running', pid, startTicks: processStartTicks(pid), startedAtMs: this.deps.clock.now(), adopted: false, restarts: entry.state.restarts + (restart ? 1 : 0) };
    child.once('exit', (code, signal) => this.exited(entry, child, { code, signal, atMs: this.deps.clock.now() }));
    this.deps.log.info({ instanceId: spec.instanceId, pid }, 'replica started');
    this.changed(entry);
  }

  private watchAdopted(entry: Entry): void {
    const { pid, startTicks } = entry.state;
    entry.stopPoll = this.deps.clock.every(this.deps.pollMs, () => {
      if (processStartTicks(pid!) === startTicks) return;
      entry.stopPoll?.();
      entry.stopPoll = undefined;
      this.exited(entry, undefined, { code: null, signal: null, atMs: this.deps.clock.now() });
    });
  }

  /**
   * Waits for an adopted process (not our child, so no 'exit' event) to end after a signal:
   * checked every 20 ms of real time — this waits for the kernel, not for a timer of ours.
   */
  private awaitAdoptedExit(entry: Entry, pid: number, startTicks: number | undefined): void {
    const check = (): void => {
      if (processStartTicks(pid) === startTicks) {
        setTimeout(check, 20).unref();
        return;
      }
      entry.stopPoll?.();
      entry.stopPoll = undefined;
      this.exited(entry, undefined, { code: null, signal: null, atMs: this.deps.clock.now() });
    };
    setTimeout(check, 20).unref();
  }

  private exited(entry: Entry, child: ChildProcess | undefined, info: ExitInfo): void {
    if (child && entry.child !== child) return;
    const waiters = entry.exitWaiters.splice(0);
    entry.child = undefined;
    entry.state.lastExit = info;
    entry.state.pid = undefined;
    entry.state.startTicks = undefined;
    if (waiters.length > 0 || entry.state.state === 'stopped') {
      for (const w of waiters) w(info);
      return;
    }
    // Not asked to stop: a crash. Restart after the back-off.
    const ranMs = info.atMs - (entry.state.startedAtMs ?? info.atMs);
    if (ranMs >= this.deps.backoff.resetAfterMs) entry.consecutiveCrashes = 0;
    const delayMs = Math.min(this.deps.backoff.maxMs, this.deps.backoff.initialMs * 2 ** entry.consecutiveCrashes);
    entry.consecutiveCrashes += 1;
    entry.state.state = 'backoff';
    this.deps.log.warn({ instanceId: entry.spec.instanceId, code: info.code, signal: info.signal, restartInMs: delayMs }, 'replica exited; restarting');
    this.changed(entry);
    entry.cancelRestart = this.deps.clock.after(delayMs, () => {
      entry.cancelRestart = undefined;
      if (entry.state.state !== 'backoff') return;
      this.spawnProcess(entry, true).catch((err: unknown) => {
        this.deps.log.error({ err, instanceId: entry.spec.instanceId }, 'replica restart failed');
        this.exited(entry, undefined, { code: null, signal: null, atMs: this.deps.clock.now() });
      });
    });
  }

  private changed(entry: Entry): void {
    this.deps.onChange?.({ ...entry.state });
  }
}

/**
 * Resolves when no live process is left in process group `pgid` (checked every 20 ms of
 * real time — this waits for the kernel), or 1 s after `killed()` turns true (members that
 * are zombies nobody reaps, or that could not be killed, are not waited for any longer).
 */
async function groupEnded(pgid: number, killed: () => boolean): Promise<void> {
  let polls = 0;
  let pollsSinceKill = 0;
  for (;;) {
    if (!groupHasProcesses(pgid)) return;
    // kill(-pgid, 0) also finds zombies: look closer now and then.
    if (++polls % 25 === 0 && !groupHasLiveMembers(pgid)) return;
    if (killed() && ++pollsSinceKill > 50) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** True when some process (a zombie included) is in process group `pgid`. */
function groupHasProcesses(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a process of group `pgid` that is not a zombie exists (scans /proc). */
function groupHasLiveMembers(pgid: number): boolean {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** Sends `signal` to a process group (or, failing that, the process); one already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The last `lines` lines of a text file (reads at most its last `maxBytes`, default 256 KiB); [] when it is missing. */
export async function tailLines(file: string, lines: number, maxBytes = 256 * 1024): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString('utf8').replace(/\n$/, '');
    if (text === '') return [];
    return text.split('\n').slice(-lines);
  } finally {
    await handle.close();
  }
}
