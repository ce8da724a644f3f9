/**
 * Deployment jobs (servicestage.md §5, DESIGN.md "Deployments"): a job is an ordered list of
 * tasks run one after another outside any transaction, each with its own timeout; jobs on the
 * same target (a component, an add-on) run one at a time in submission order.
 */

/** `job.execution_status` on the wire. A queued job is RUNNING with every task PENDING. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** `task_status` on the wire; PENDING (not started yet) is OpenStage's addition (INF). */
export type TaskStatus = 'PENDING' | 'RUNNING' | 'SKIPPED' | 'FAILED' | 'SUCCEEDED';

/** A stored job. Times are epoch milliseconds. */
export interface Job {
  project: string;
  /** `JOB` + a UUID. */
  jobId: string;
  /** What the job does, e.g. `deploy`, `scale`, `addon-install`. */
  jobType: string;
  /** The resource whose jobs are serialised (a component id, an add-on id). */
  targetId: string;
  status: ExecutionStatus;
  rollbackEnabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A stored task of a job. */
export interface Task {
  jobId: string;
  /** Position in the job, from 0. */
  index: number;
  taskId: string;
  name: string;
  type: string;
  status: TaskStatus;
  /** Human-readable lines, oldest first (at most MAX_TASK_MESSAGES kept). */
  messages: string[];
  /** Longest the task may run, milliseconds. */
  timeoutMs: number;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A job with its tasks in order. */
export interface JobDetail {
  job: Job;
  tasks: Task[];
}

/** Most message lines kept per task (the oldest are dropped first). */
export const MAX_TASK_MESSAGES = 200;

/** What a running task is given. */
export interface TaskContext {
  project: string;
  jobId: string;
  /** Aborted when the job is cancelled or the task's timeout passes; the reason says which. */
  signal: AbortSignal;
  /** Appends a line to the task's messages (persisted in order, not awaited by the caller). */
  log(line: string): void;
}

/** One step of a job to run. */
export interface TaskSpec {
  name: string;
  type: string;
  /** Longest the step may run, milliseconds; then it fails with a timeout message. */
  timeoutMs: number;
  /**
   * Does the work. Resolves when done; rejects (with a message for the task) to fail the job.
   * Must stop what it started (child processes) when `ctx.signal` aborts.
   */
  run(ctx: TaskContext): Promise<void>;
}

/** A job to submit. */
export interface JobSpec {
  project: string;
  jobType: string;
  targetId: string;
  rollbackEnabled?: boolean;
  tasks: TaskSpec[];
  /** Called once after the job ends (committed), with its final status. */
  onFinish?: (status: 'SUCCEEDED' | 'FAILED', detail: JobDetail) => void | Promise<void>;
}

/** Bus events of the deploy area, published after commit. */
export type DeployEvents = {
  'deploy.job.finished': { project: string; jobId: string; targetId: string; status: 'SUCCEEDED' | 'FAILED' };
};
