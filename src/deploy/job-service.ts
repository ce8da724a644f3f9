import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { LocalCluster, type Cluster } from '../core/cluster.js';
import type { Db } from '../core/db/kysely.js';
import { LocalFeed, type ChangeFeed } from '../core/feed.js';
import type { Logger } from '../core/log.js';
import { Ownership, type OwnershipEvents } from '../core/ownership.js';
import { deployError } from './errors.js';
import { FileTail, serialized, watchFile, type FollowHub } from './log-follow.js';
import * as deployStore from './store.js';
import { MAX_TASK_MESSAGES, type DeployEvents, type JobDetail, type JobResumer, type JobSpec, type Task, type TaskStatus } from './types.js';

/** A new job id as ServiceStage prints them: `JOB` + a UUID. */
export function newJobId(): string {
  return `JOB${randomUUID()}`;
}

/** Dependencies of JobService, built in server.ts. */
export interface JobDeps {
  db: Db;
  bus: Bus<DeployEvents>;
  /** Job ends and cancel requests reach every server through it (default: one server). */
  feed?: ChangeFeed<DeployEvents>;
  /** Each job is owned by the server that runs it; a dead owner's jobs are taken over (default: one server). */
  ownership?: Ownership;
  cluster?: Cluster;
  clock: Clock;
  log: Logger;
  /**
   * Where task logs go: `<logRoot>/<target>/jobs/<job_id>/<task index>.log`, the target's id
   * split at `/` (a component's `<project>/<component_id>`, so its logs go with it). Without
   * it tasks keep only their messages.
   */
  logRoot?: string;
  /** Ends log follows when the server stops. */
  follows?: FollowHub;
}

/** Most bytes of a task log answered at once (the start of a longer one is left out and said so). */
export const MAX_TASK_LOG_BYTES = 8 * 1024 * 1024;

/** One task's whole log. */
export interface TaskLog {
  task: Task;
  /** The log's lines (the last MAX_TASK_LOG_BYTES of it). */
  lines: string[];
  /** Bytes left out at the start. */
  skippedBytes: number;
}

/** Ownership kind of jobs (core_owners.kind). */
const JOB = 'job';
/** Longest a cancel waits for the server running the job to end it, milliseconds. */
const REMOTE_CANCEL_WAIT_MS = 60_000;

/** Why a task was aborted: the job was cancelled, its timeout passed, the server stopped or lost its lease. */
class AbortReason extends Error {
  constructor(readonly kind: 'cancelled' | 'timeout' | 'shutdown' | 'lost', message: string) {
    super(message);
  }
}

/** The in-memory side of a submitted, unfinished job. */
interface Live {
  detail: JobDetail;
  spec: JobSpec;
  /** Set while a task runs; aborting it ends the task at once. */
  controller?: AbortController;
  /** Set by cancel(): no further task starts, the running one is aborted. */
  cancelReason?: string;
  /** Persisted message writes of this job, in order. */
  writes: Promise<void>;
  /** Settles when the job has ended (committed). */
  done: Promise<void>;
  release: () => void;
  /** True once the job's final status is decided (no task runs after that). */
  ended: boolean;
  /** Set while a clean-up task (TaskSpec.onFailure) runs: a cancel no longer aborts it. */
  cleaning?: boolean;
  /** Settles when the last task's own work has ended (an aborted task may still be stopping what it started). */
  lastRun?: Promise<unknown>;
  /** This server lost its lease: the job's state is no longer written here (its taker ends it). */
  lost?: boolean;
}

/** Longest a clean-up task waits for the aborted task before it to stop what it started, milliseconds. */
const CLEANUP_WAIT_MS = 30_000;

/**
 * Runs deployment jobs (servicestage.md §5; pitfalls.md "No job runs forever", "Cancel really
 * cancels"). A job and its tasks are committed before anything runs; tasks then run one after
 * another outside any transaction, each aborted when its timeout passes or the job is
 * cancelled — the runner does not wait for a task that ignores the abort, so a job always
 * ends. Jobs on one target run one at a time in submission order (on the server they were
 * submitted to).
 *
 * A job is owned by the server that runs it (core/ownership.ts, committed with the job). When
 * that server dies, the server the job is handed to resumes it (a resumer registered for its
 * type gives the tasks to run again) or fails it with the reason in the interrupted task's
 * messages — never is it left RUNNING. A cancel sent to another server reaches the owner
 * through the change feed. On SQLite (one server) a restart fails the jobs the previous run
 * left RUNNING.
 */
export class JobService {
  private readonly live = new Map<string, Live>();
  /** Tail of each target's queue: settles when the target's last submitted job ends. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Follows waiting for a change of a live job's tasks. */
  private readonly taskWaiters = new Map<string, Set<() => void>>();
  private readonly resumers = new Map<string, JobResumer>();
  /** Callers waiting for a job another server runs to end. */
  private readonly endWaits = new Map<string, Set<() => void>>();
  private stopping = false;
  private readonly deps: JobDeps & Required<Pick<JobDeps, 'feed' | 'cluster' | 'ownership'>>;

  constructor(deps: JobDeps) {
    const feed = deps.feed ?? new LocalFeed(deps.db.kysely, deps.bus);
    const cluster = deps.cluster ?? new LocalCluster(systemClock);
    // One server: nothing is recorded or taken over, so the ownership needs no feed of its own.
    const alone = new Bus<OwnershipEvents>();
    const ownership = deps.ownership ?? new Ownership({ db: deps.db, feed: new LocalFeed(deps.db.kysely, alone), bus: alone, cluster, clock: systemClock, log: deps.log, serverLeaseSeconds: 10 });
    this.deps = { ...deps, feed, cluster, ownership };
    deps.bus.subscribe('deploy.job.cancel-requested', ({ jobId, by }) => {
      const live = this.live.get(jobId);
      if (live) void this.cancelLive(live, by);
    });
    deps.bus.subscribe('deploy.job.ended', ({ jobId }) => {
      const waits = this.endWaits.get(jobId);
      this.endWaits.delete(jobId);
      for (const resolve of waits ?? []) resolve();
    });
    ownership.onTakeover(JOB, (jobId, from) => this.takeOver(jobId, from));
    ownership.onLost(JOB, () => {
      for (const live of this.live.values()) {
        live.lost = true;
        live.controller?.abort(new AbortReason('lost', 'interrupted: this server lost its cluster lease'));
      }
    });
  }

  /**
   * Ends the jobs nobody will end: those a previous run of this server left RUNNING (on
   * PostgreSQL: owned by this server's id, or by nobody — written before owners were
   * recorded). Jobs of other servers are not touched: a dead one's are handed over when its
   * lease ends. Call once before serving.
   */
  async start(): Promise<void> {
    const { db, log, ownership, cluster } = this.deps;
    for (const jobId of await deployStore.listRunningJobIds(db.kysely)) {
      if (ownership.recorded) {
        const owner = await ownership.ownerOf(JOB, jobId);
        if (owner !== undefined && owner !== cluster.serverId()) continue;
      }
      const detail = await deployStore.findJob(db.kysely, jobId);
      if (!detail) continue;
      await this.failInterrupted(detail, 'interrupted: the server stopped while this task ran');
      log.warn({ jobId }, 'job interrupted by a restart marked failed');
    }
  }

  /**
   * Sets how jobs of `jobType` left by a dead server go on: `resumer(detail)` returns the
   * tasks to run (in the job's order; the tasks that had not succeeded run again, the
   * interrupted one first) or undefined to fail the job with the reason.
   */
  setResumer(jobType: string, resumer: JobResumer): void {
    this.resumers.set(jobType, resumer);
  }

  /**
   * Persists a job (RUNNING, every task PENDING) and queues it behind the target's earlier
   * jobs. @returns the stored job (ids assigned)
   */
  async submit(spec: JobSpec): Promise<JobDetail> {
    const now = this.deps.clock.now();
    const jobId = spec.jobId ?? newJobId();
    const detail: JobDetail = {
      job: { project: spec.project, jobId, jobType: spec.jobType, targetId: spec.targetId, status: 'RUNNING', rollbackEnabled: spec.rollbackEnabled ?? false, createdAtMs: now, updatedAtMs: now },
      tasks: spec.tasks.map((t, index) => ({ jobId, index, taskId: `TASK${randomUUID()}`, name: t.name, type: t.type, status: 'PENDING', messages: [], timeoutMs: t.timeoutMs, createdAtMs: now, updatedAtMs: now })),
    };
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      await deployStore.insertJob(trx, detail);
      await this.deps.ownership.claim(trx, JOB, jobId);
    });
    const live = this.track(detail, spec);
    const previous = this.queues.get(spec.targetId) ?? Promise.resolve();
    // The queue waits for the job's turn, not its `done`: a cancelled queued job ends at once
    // while the jobs ahead of it still hold the target.
    const turn = previous.then(() => this.run(live));
    this.queues.set(spec.targetId, turn);
    void turn.finally(() => {
      if (this.queues.get(spec.targetId) === turn) this.queues.delete(spec.targetId);
    });
    return structuredClone(detail);
  }

  private track(detail: JobDetail, spec: JobSpec): Live {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const live: Live = { detail, spec, writes: Promise.resolve(), done, release, ended: false };
    this.live.set(detail.job.jobId, live);
    return live;
  }

  /**
   * A job of `project` with its tasks. @throws 404 SVCSTG.00100429 when it does not exist
   * (or belongs to another project)
   */
  async get(project: string, jobId: string): Promise<JobDetail> {
    const live = this.live.get(jobId);
    if (live && live.detail.job.project === project) return structuredClone(live.detail);
    const stored = await deployStore.findJob(this.deps.db.kysely, jobId);
    if (!stored || stored.job.project !== project) throw deployError('JobNotFound', jobId);
    return stored;
  }

  /**
   * Cancels a job: a queued job ends without running, a running task is aborted (its child
   * processes are stopped by the task) and the job ends FAILED with "cancelled" in the
   * task's messages; the target's next job then starts. Idempotent: an ended job is returned
   * unchanged. @throws 404 SVCSTG.00100429 when the job does not exist
   */
  async cancel(project: string, jobId: string, by: string): Promise<JobDetail> {
    const live = this.live.get(jobId);
    if (!live || live.detail.job.project !== project) {
      const stored = await this.get(project, jobId);
      if (stored.job.status !== 'RUNNING' || !this.deps.ownership.recorded) return stored;
      // Another server runs it: ask through the feed and wait for it to end.
      const ended = this.waitEnded(jobId, REMOTE_CANCEL_WAIT_MS);
      await this.deps.feed.write(async (_trx, changes) => changes.emit('deploy.job.cancel-requested', { jobId, by }));
      await ended;
      return this.get(project, jobId);
    }
    await this.cancelLive(live, by);
    return this.get(project, jobId);
  }

  private async cancelLive(live: Live, by: string): Promise<void> {
    const reason = `cancelled by ${by}`;
    live.cancelReason ??= reason;
    if (live.controller) {
      // The job has failed already and is putting things back: let that finish.
      if (!live.cleaning) live.controller.abort(new AbortReason('cancelled', reason));
    }
    // Still queued: it ends now, without running, and never holds the target.
    else if (!live.ended) await this.run(live);
    await live.done;
  }

  /** Resolves when `deploy.job.ended` of the job arrives, or after `timeoutMs` (real time). */
  private waitEnded(jobId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let waits = this.endWaits.get(jobId);
      if (!waits) this.endWaits.set(jobId, (waits = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        waits!.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waits.add(done);
    });
  }

  /**
   * A task's whole log (OpenStage's addition: `GET .../jobs/{job_id}/tasks/{task_id}/logs`):
   * its messages and the output of the commands it ran (a build's npm, Maven, go…), the last
   * `lines` lines (all when absent), at most the last MAX_TASK_LOG_BYTES.
   * @throws 404 SVCSTG.00100429 when the job does not exist; 404 SVCSTG.00100408 when it has no such task
   */
  async taskLog(project: string, jobId: string, taskId: string, lines?: number): Promise<TaskLog> {
    const { task, path } = await this.taskOf(project, jobId, taskId);
    const size = path ? await stat(path).then((s) => s.size, () => 0) : 0;
    const skippedBytes = Math.max(0, size - MAX_TASK_LOG_BYTES);
    let text = '';
    if (path && size > 0) {
      const buffer = await readFile(path);
      text = buffer.subarray(skippedBytes).toString('utf8');
    }
    let all = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    // A log written before task logs existed (or elsewhere): the messages are the log.
    if (!path || size === 0) all = [...task.messages];
    return { task, lines: lines === undefined ? all : all.slice(-lines), skippedBytes };
  }

  /**
   * Follows a task's log: `emit` gets each line appended from now on (after the last `lines`
   * lines already there) until the task has ended (every line read) or `signal` aborts.
   * @returns the task's status when the follow ended
   * @throws as taskLog
   */
  async followTaskLog(project: string, jobId: string, taskId: string, options: { lines: number; signal: AbortSignal }, emit: (line: string) => void): Promise<Task['status']> {
    const first = await this.taskLog(project, jobId, taskId, options.lines);
    for (const line of first.lines) emit(line);
    let { task } = first;
    const { path } = await this.taskOf(project, jobId, taskId);
    if (!path || (task.status !== 'RUNNING' && task.status !== 'PENDING')) return task.status;
    const tail = await FileTail.atEnd(path);
    const signal = this.deps.follows ? AbortSignal.any([options.signal, this.deps.follows.signal]) : options.signal;
    const pump = serialized(async () => {
      for (const line of await tail.read()) emit(line);
    });
    await new Promise<void>((resolve) => {
      let stopWatch = (): void => undefined;
      const waiters = this.taskWaiters.get(jobId) ?? new Set();
      this.taskWaiters.set(jobId, waiters);
      const finish = (): void => {
        stopWatch();
        waiters.delete(check);
        if (waiters.size === 0 && this.taskWaiters.get(jobId) === waiters) this.taskWaiters.delete(jobId);
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const check = (): void => {
        const live = this.live.get(jobId)?.detail.tasks.find((t) => t.taskId === taskId);
        if (live && (live.status === 'RUNNING' || live.status === 'PENDING')) {
          void pump();
          return;
        }
        if (live) task = structuredClone(live);
        void pump().then(() => {
          for (const line of tail.rest()) emit(line);
        }).finally(finish);
      };
      waiters.add(check);
      signal.addEventListener('abort', finish, { once: true });
      if (signal.aborted) return finish();
      stopWatch = watchFile(path, this.deps.clock, 1000, () => void pump());
      check();
    });
    if (!this.live.has(jobId)) task = (await this.taskOf(project, jobId, taskId)).task;
    return task.status;
  }

  /** Resolves when the job has ended (tests, callers that wait). Unknown or ended jobs resolve at once. */
  async settled(jobId: string): Promise<void> {
    await this.live.get(jobId)?.done;
  }

  /** Aborts every running job (its task fails with "interrupted") and waits for them to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const live of this.live.values()) live.controller?.abort(new AbortReason('shutdown', 'interrupted: the server is stopping'));
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  private async run(live: Live): Promise<void> {
    if (live.ended) return;
    live.ended = true;
    const { detail, spec } = live;
    const { log } = this.deps;
    let failed = false;
    /** Whether a task ran (a job cancelled while queued ran none, and has nothing to clean up). */
    let ran = false;
    try {
      for (const task of detail.tasks) {
        const taskSpec = spec.tasks[task.index]!;
        if (taskSpec.onFailure) {
          // A clean-up step: only after a failure, never while the server stops (the next
          // start takes over what runs), and not cut short by the cancel that failed the job.
          if (!failed || !ran || this.stopping) {
            await this.setTask(live, task, 'SKIPPED');
            continue;
          }
          live.cleaning = true;
          try {
            // The task the job failed in may have been aborted mid-way (a cancel, a timeout)
            // and still be stopping what it started: clean up after it, not beside it.
            let cancelWait!: () => void;
            await Promise.race([live.lastRun, new Promise<void>((resolve) => (cancelWait = this.deps.clock.after(CLEANUP_WAIT_MS, resolve)))]);
            cancelWait();
            await this.runTask(live, task, taskSpec.run);
          } finally {
            live.cleaning = false;
          }
          continue;
        }
        if (failed) {
          await this.setTask(live, task, 'SKIPPED');
          continue;
        }
        const abortedEarly = live.cancelReason ?? (this.stopping ? 'interrupted: the server is stopping' : undefined);
        if (abortedEarly) {
          task.messages.push(abortedEarly);
          await this.setTask(live, task, 'FAILED');
          failed = true;
          continue;
        }
        ran = true;
        failed = !(await this.runTask(live, task, taskSpec.run));
      }
      const status = failed ? 'FAILED' : 'SUCCEEDED';
      detail.job.status = status;
      detail.job.updatedAtMs = this.deps.clock.now();
      if (live.lost) {
        log.warn({ jobId: detail.job.jobId }, 'job left to the server that takes it over (this server lost its lease)');
        return;
      }
      spec.onEnding?.(status, detail);
      await this.finish(detail, status, detail.job.updatedAtMs);
      log.info({ jobId: detail.job.jobId, jobType: detail.job.jobType, status }, 'job ended');
      this.deps.bus.publish('deploy.job.finished', { project: detail.job.project, jobId: detail.job.jobId, targetId: detail.job.targetId, status });
      await spec.onFinish?.(status, structuredClone(detail));
    } catch (err) {
      log.error({ err, jobId: detail.job.jobId }, 'job runner failed');
    } finally {
      this.live.delete(detail.job.jobId);
      live.release();
      const waiters = this.taskWaiters.get(detail.job.jobId);
      this.taskWaiters.delete(detail.job.jobId);
      for (const wake of waiters ?? []) wake();
    }
  }

  /** Runs one task under its timeout and the job's abort. @returns true when it succeeded */
  private async runTask(live: Live, task: Task, run: JobSpec['tasks'][number]['run']): Promise<boolean> {
    const controller = new AbortController();
    // A task may wait on many things at once (a scale to 50 waits for 50 replicas).
    setMaxListeners(0, controller.signal);
    live.controller = controller;
    if (live.cancelReason && !live.cleaning) controller.abort(new AbortReason('cancelled', live.cancelReason));
    await this.setTask(live, task, 'RUNNING');
    const cancelTimer = this.deps.clock.after(task.timeoutMs, () => controller.abort(new AbortReason('timeout', `timed out after ${Math.round(task.timeoutMs / 1000)} s`)));
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(controller.signal.reason);
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined); // an abort after the task settled is nobody's error
    const logFile = this.logFileOf(live.detail.job, task.index);
    if (logFile) {
      try {
        mkdirSync(join(logFile, '..'), { recursive: true, mode: 0o700 });
      } catch (err) {
        this.deps.log.warn({ err, jobId: task.jobId }, 'task log directory could not be made');
      }
    }
    const ctx = {
      project: live.detail.job.project,
      jobId: live.detail.job.jobId,
      signal: controller.signal,
      log: (line: string) => {
        task.messages.push(line);
        if (task.messages.length > MAX_TASK_MESSAGES) task.messages.splice(0, task.messages.length - MAX_TASK_MESSAGES);
        this.persist(live, task);
        if (logFile) this.appendLog(logFile, `${line}\n`);
      },
      ...(logFile ? { logFile } : {}),
    };
    let ok = true;
    try {
      // A task that ignores the abort is left behind: the job never waits for it.
      const work = Promise.resolve().then(() => run(ctx));
      live.lastRun = work.catch(() => undefined);
      await Promise.race([work, aborted]);
    } catch (err) {
      ok = false;
      const line = err instanceof AbortReason ? err.message : `failed: ${(err as Error)?.message ?? String(err)}`;
      task.messages.push(line);
      if (logFile) this.appendLog(logFile, `${line}\n`);
    } finally {
      cancelTimer();
      controller.signal.removeEventListener('abort', onAbort);
      live.controller = undefined;
    }
    await this.setTask(live, task, ok ? 'SUCCEEDED' : 'FAILED');
    return ok;
  }

  /** Writes a job's final status, lets go of it and tells every server (one transaction). */
  private async finish(detail: JobDetail, status: 'SUCCEEDED' | 'FAILED', nowMs: number): Promise<void> {
    const { job } = detail;
    await this.deps.feed.write(async (trx, changes) => {
      await deployStore.updateJobStatus(trx, job.jobId, status, nowMs);
      await this.deps.ownership.release(trx, JOB, job.jobId);
      changes.emit('deploy.job.ended', { project: job.project, jobId: job.jobId, targetId: job.targetId, status });
    });
  }

  /** Fails a job nobody runs any more: the running task gets `reason`, pending ones are skipped. */
  private async failInterrupted(detail: JobDetail, reason: string): Promise<void> {
    const now = this.deps.clock.now();
    const { job } = detail;
    await this.deps.feed.write(async (trx, changes) => {
      let noted = false;
      for (const task of detail.tasks) {
        if (task.status === 'RUNNING' || (!noted && task.status === 'PENDING')) {
          // A job that had not started a task yet says why on its first one.
          noted = true;
          await deployStore.updateTask(trx, job.jobId, task.index, 'FAILED', capped([...task.messages, reason]), now);
        } else if (task.status === 'PENDING') {
          await deployStore.updateTask(trx, job.jobId, task.index, 'SKIPPED', task.messages, now);
        }
      }
      await deployStore.updateJobStatus(trx, job.jobId, 'FAILED', now);
      await this.deps.ownership.release(trx, JOB, job.jobId);
      changes.emit('deploy.job.ended', { project: job.project, jobId: job.jobId, targetId: job.targetId, status: 'FAILED' });
    });
  }

  /**
   * A job of a dead server was handed to this one: resumed when its type has a resumer that
   * gives its tasks, else failed with the reason.
   */
  private async takeOver(jobId: string, from: string): Promise<void> {
    const detail = await deployStore.findJob(this.deps.db.kysely, jobId);
    if (!detail || detail.job.status !== 'RUNNING') {
      await this.deps.db.kysely.transaction().execute((trx) => this.deps.ownership.release(trx, JOB, jobId));
      return;
    }
    const resumer = this.resumers.get(detail.job.jobType);
    const tasks = resumer ? await resumer(structuredClone(detail)).catch((err: unknown) => {
      this.deps.log.error({ err, jobId }, 'resuming a job failed');
      return undefined;
    }) : undefined;
    if (!tasks || tasks.length !== detail.tasks.length) {
      await this.failInterrupted(detail, `interrupted: server ${from}, which ran this job, stopped (its cluster lease ended); failed by server ${this.deps.cluster.serverId()}, which took it over`);
      this.deps.log.warn({ jobId, from }, 'job of a dead server failed');
      return;
    }
    // Resumed: the interrupted task and those after it run again here.
    for (const task of detail.tasks) {
      if (task.status === 'RUNNING') {
        task.messages = capped([...task.messages, `resumed by server ${this.deps.cluster.serverId()} after server ${from} stopped`]);
        task.status = 'PENDING';
      }
    }
    const spec: JobSpec = { jobId, project: detail.job.project, jobType: detail.job.jobType, targetId: detail.job.targetId, rollbackEnabled: detail.job.rollbackEnabled, tasks };
    const live = this.track(detail, spec);
    this.deps.log.info({ jobId, from }, 'job of a dead server resumed');
    const previous = this.queues.get(spec.targetId) ?? Promise.resolve();
    const turn = previous.then(() => this.run(live));
    this.queues.set(spec.targetId, turn);
    void turn.finally(() => {
      if (this.queues.get(spec.targetId) === turn) this.queues.delete(spec.targetId);
    });
  }

  /** Sets a task's status and writes it (after the job's earlier writes); wakes the follows of the job. */
  private async setTask(live: Live, task: Task, status: TaskStatus): Promise<void> {
    task.status = status;
    this.persist(live, task);
    await live.writes;
    for (const wake of this.taskWaiters.get(task.jobId) ?? []) wake();
  }

  /** The task of a job and its log file (undefined without a log root). @throws as taskLog */
  private async taskOf(project: string, jobId: string, taskId: string): Promise<{ task: Task; path: string | undefined }> {
    const detail = await this.get(project, jobId);
    const task = detail.tasks.find((t) => t.taskId === taskId);
    if (!task) throw deployError('RequestNotFound', `job ${jobId} has no task ${taskId}`);
    return { task, path: this.logFileOf(detail.job, task.index) };
  }

  /** `<logRoot>/<target>/jobs/<job_id>/<index>.log`; each part of the target reduced to file-name characters. */
  private logFileOf(job: { targetId: string; jobId: string }, index: number): string | undefined {
    if (!this.deps.logRoot) return undefined;
    const parts = job.targetId.split('/').map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+$/, '_'));
    return join(this.deps.logRoot, ...parts, 'jobs', job.jobId.replace(/[^A-Za-z0-9_-]/g, '_'), `${index}.log`);
  }

  /** Appends to a task log; a failure is logged, never thrown (the messages still have the line). */
  private appendLog(file: string, text: string): void {
    try {
      appendFileSync(file, text);
    } catch (err) {
      // A component's removal removes its logs, the removal's own included.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log.warn({ err, file }, 'task log write failed');
    }
  }

  /** Queues a write of the task's current status and messages behind the job's earlier writes. */
  private persist(live: Live, task: Task): void {
    if (live.lost) return;
    const now = this.deps.clock.now();
    task.updatedAtMs = now;
    const status = task.status;
    const messages = capped(task.messages);
    live.writes = live.writes
      .then(() => deployStore.updateTask(this.deps.db.kysely, task.jobId, task.index, status, messages, now))
      .catch((err: unknown) => this.deps.log.error({ err, jobId: task.jobId }, 'task write failed'));
  }
}

function capped(messages: string[]): string[] {
  return messages.length > MAX_TASK_MESSAGES ? messages.slice(-MAX_TASK_MESSAGES) : [...messages];
}
