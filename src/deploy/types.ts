/**
 * Deployment jobs (servicestage.md §5, DESIGN.md "Deployments"): a job is an ordered list of
 * tasks run one after another outside any transaction, each with its own timeout; jobs on the
 * same target (a component, an add-on) run one at a time in submission order.
 */

/** Where a component runs (src/deploy/runtime.ts): this host's processes or containers, or a Kubernetes cluster. */
export type RuntimeKind = 'process' | 'container' | 'kubernetes';

/** Where a component would run, or why it cannot run anywhere this server serves (DeployService.chooseRuntime). */
export type RuntimeChoice = { runtime: RuntimeKind } | { refused: string };

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
  /** Appends a line to the task's messages (persisted in order, not awaited by the caller) and to its log file. */
  log(line: string): void;
  /**
   * The task's whole log (`GET .../jobs/{job_id}/tasks/{task_id}/logs`): where commands it runs
   * append their output; its messages are written there too. Absent in contexts made outside
   * a job.
   */
  logFile?: string;
}

/** One step of a job to run. */
export interface TaskSpec {
  name: string;
  type: string;
  /** Longest the step may run, milliseconds; then it fails with a timeout message. */
  timeoutMs: number;
  /**
   * A clean-up step: runs only when an earlier task of the job failed (a cancel and a timeout
   * included; not when the server is stopping), and is not aborted by the job's cancel; it is
   * SKIPPED when every earlier task succeeded. The job stays FAILED whatever it does.
   */
  onFailure?: boolean;
  /**
   * Does the work. Resolves when done; rejects (with a message for the task) to fail the job.
   * Must stop what it started (child processes) when `ctx.signal` aborts.
   */
  run(ctx: TaskContext): Promise<void>;
}

/** A job to submit. */
export interface JobSpec {
  /** The id to use (from newJobId(), when the caller must record it before the job can end); default: a new one. */
  jobId?: string;
  project: string;
  jobType: string;
  targetId: string;
  rollbackEnabled?: boolean;
  tasks: TaskSpec[];
  /**
   * Called once, synchronously, when the job's outcome is known and just before it is
   * committed: in-memory views that derive from the job settle first, so that whoever sees
   * the job ended (a client polling it, the `deploy.job.ended` change) sees them settled too.
   */
  onEnding?: (status: 'SUCCEEDED' | 'FAILED', detail: JobDetail) => void;
  /** Called once after the job ends (committed), with its final status. */
  onFinish?: (status: 'SUCCEEDED' | 'FAILED', detail: JobDetail) => void | Promise<void>;
}

/** Bus events of the deploy area, published after commit. */
export type DeployEvents = {
  /** On the server that ran the job only (local work may follow it). */
  'deploy.job.finished': { project: string; jobId: string; targetId: string; status: 'SUCCEEDED' | 'FAILED' };
  /** Feed change, on every server: a job ended (also one a dead server left, ended by its taker). */
  'deploy.job.ended': { project: string; jobId: string; targetId: string; status: 'SUCCEEDED' | 'FAILED' };
  /** Feed change, on every server: cancel a job; the server running it aborts it. */
  'deploy.job.cancel-requested': { jobId: string; by: string };
  /**
   * Feed change: a component's engine row or replica records changed on `from`; `owner` is
   * the server that supervises its replicas ('' for none: a Kubernetes component, or removed).
   */
  'deploy.component.changed': { project: string; componentId: string; owner: string; from: string };
  /** Feed change: a deploy, action or removal for the owner `to` of the component's replica set (sealed ForwardedCall). */
  'deploy.component.requested': { requestId: string; from: string; to: string; project: string; componentId: string; sealed: string };
  /** Feed change: the owner's answer to `to`: the job id, or the error it threw. */
  'deploy.component.answered': { requestId: string; to: string; jobId?: string; error?: { code: string; status: number; message: string; detail?: string } };
};

/**
 * How a job left by a dead server goes on (JobService.setResumer): the tasks to run, in the
 * job's order, for the tasks that did not succeed; undefined = the job fails with a reason.
 */
export type JobResumer = (detail: JobDetail) => Promise<TaskSpec[] | undefined>;

/** A config file to mount into each replica: its template and where it goes. */
export interface MountedFile {
  /** Mount path as the component gives it (e.g. `/opt/app/config/app.yaml`); written under the replica's mount root. */
  path: string;
  /** Content with `${NAME}` placeholders, rendered per replica. */
  content: string;
  /** From a `Secret` storage: the kubernetes runtime mounts it from a Secret, not a ConfigMap. */
  secret?: boolean;
}

/** A probe of the plan (servicestage.md §4.1 liveness_probe / readiness_probe), times in seconds as on the wire. */
export interface PlanProbe {
  type: 'http' | 'tcp' | 'command';
  host?: string;
  port?: number;
  path?: string;
  scheme?: 'HTTP' | 'HTTPS';
  command?: string[];
  /** Seconds before the first check. */
  delay?: number;
  /** Seconds a check may take. */
  timeout?: number;
}

/**
 * Everything the engine needs to build and run one version of a component, resolved by the
 * component service (names, variables, bound resources, rendered nothing yet). Stored sealed
 * with its release so that a rollback re-runs exactly this.
 */
export interface ComponentPlan {
  project: string;
  componentId: string;
  componentName: string;
  applicationId: string;
  applicationName: string;
  environmentId: string;
  environmentName: string;
  version: string;
  /** servicestage.md §4.1 source: kind code | package | image, url, repo_url, repo_ref. */
  source: { kind: 'code' | 'package' | 'image'; url?: string; repo_url?: string; repo_ref?: string };
  /** Clone credentials from the git authorization named by source.repo_auth. */
  credentials?: { username: string; password: string };
  /** Runtime stack type: Java | Tomcat | Nodejs | Python | Go | Docker. */
  stackType: string;
  replicas: number;
  /** Variables of the process: application configuration, component envs and system variables (CAS_*, PAAS_*, RELATIONAL_DATABASE_*…). The engine adds PORT and CAS_INSTANCE_*. */
  env: Record<string, string>;
  files: MountedFile[];
  /** `command` of the component: replaces the stack's start command when given. */
  command?: { command?: string[]; args?: string[] };
  jvmOpts?: string[];
  readinessProbe?: PlanProbe;
  livenessProbe?: PlanProbe;
  strategy: { type: 'OneBatchRelease' | 'RollingRelease' | 'GrayRelease'; batches?: number; firstBatchReplica?: number };
  /** Seconds between SIGTERM and SIGKILL. */
  terminationGraceSeconds: number;
  /** Where it runs (runtime.ts chooseRuntime). Plans stored before runtimes existed have none: process. */
  runtime?: RuntimeKind;
  /** The body's limit_cpu / request_cpu (cores) and limit_memory / request_memory (GiB on the wire, bytes here). */
  resources?: PlanResources;
  /** build.parameters.dockerfile_path for container builds (default `Dockerfile`). */
  dockerfilePath?: string;
  /** The body's `labels` (key → value): labels of the workload and its pods (kubernetes runtime). */
  labels?: Record<string, string>;
  /** `post_start` / `pre_stop` hooks (servicestage.md §4.1; kubernetes runtime). */
  postStart?: PlanHook;
  preStop?: PlanHook;
  /** `affinity` / `anti_affinity` as rules (both wire forms: NJS object, TF list; kubernetes runtime). */
  affinity?: PlanAffinityRule[];
  antiAffinity?: PlanAffinityRule[];
  /** `external_accesses` (kubernetes runtime: a NodePort Service, or an Ingress when the cluster binding names an ingress class). */
  externalAccesses?: { protocol: string; address?: string; forwardPort?: number }[];
  /** `storages` other than config files: EmptyDir, HostPath, PersistentVolumeClaim (kubernetes runtime). */
  volumes?: PlanVolume[];
  /** `update_strategy` fields a Kubernetes Deployment takes (counts or percentages such as `25%`; seconds). */
  updateStrategy?: { maxSurge?: number | string; maxUnavailable?: number | string; minReadySeconds?: number; progressDeadlineSeconds?: number; revisionHistoryLimit?: number };
  /**
   * The cluster binding (`cce` / `custom_k8s` managed resource) the component runs on: the one
   * a `refer_resources` entry of that type names, else the environment's first; `namespace`
   * from that entry's parameters overrides the binding's. Only ids: the kubeconfig is read
   * from the environment when the runtime connects, never stored in the plan.
   */
  cluster?: { resourceId: string; type: string; namespace?: string };
  /**
   * update_strategy.revision_history_limit: how many stored versions besides the running (and
   * gray) one are kept; older ones and their artifacts are removed. Absent: `deploy.revisionHistoryLimit`.
   */
  revisionHistoryLimit?: number;
  /** The runtime stack the component names (servicestage.md §6), with a custom stack's `spec`; each runtime honours what it can. */
  stack?: PlanStack;
}

/** A component's runtime stack as the runtimes see it. */
export interface PlanStack {
  name: string;
  /** True for a built-in stack (its spec is empty). */
  system: boolean;
  /** A custom stack's spec: `sdk`, `os`, `parameters` (jdk_url, tomcat_url, os_url, os_type…), all free text. */
  spec: { sdk?: string; os?: string; parameters?: Record<string, string> };
}

/** A lifecycle hook of the plan: an HTTP GET or a command. */
export interface PlanHook {
  type: 'http' | 'command';
  scheme?: 'HTTP' | 'HTTPS';
  host?: string;
  port?: number;
  path?: string;
  command?: string[];
}

/**
 * One affinity rule: `kind` node places pods on nodes whose labels match; pod places them in
 * the topology (`topologyKey`, default kubernetes.io/hostname) of pods whose labels match.
 * `required` rules must hold; `preferred` ones are weighed (1–100).
 */
export interface PlanAffinityRule {
  kind: 'node' | 'pod';
  condition: 'required' | 'preferred';
  weight: number;
  topologyKey?: string;
  matchExpressions: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: string[] }[];
}

/** A volume of the plan (a `storages` entry that is not a config file). */
export interface PlanVolume {
  type: 'EmptyDir' | 'HostPath' | 'PersistentVolumeClaim';
  /** HostPath: the host's path. */
  path?: string;
  /** PersistentVolumeClaim: the claim's name. */
  claimName?: string;
  /** EmptyDir: `Memory` for a tmpfs. */
  medium?: string;
  mounts: { path: string; subPath?: string; readOnly?: boolean }[];
}

/** A component's resource limits and requests (servicestage.md §4.1 limit_* / request_*). */
export interface PlanResources {
  limitCpuCores?: number;
  requestCpuCores?: number;
  limitMemoryBytes?: number;
  requestMemoryBytes?: number;
}

/** component_status values (servicestage.md §4.2). */
export type ComponentStatus = 'INITIALIZING' | 'UPGRADING' | 'RUNNING' | 'PENDING' | 'GRAYING' | 'PARTIALLY_FAILED' | 'FAILED' | 'STOPPED' | 'UNKNOWN';

/** One replica as the engine reports it. */
export interface ReplicaView {
  instanceId: string;
  version: string;
  port: number;
  pid?: number;
  /** running | backoff | stopped | starting. */
  state: string;
  ready: boolean;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null };
}

/** The engine's view of a component (servicestage.md §4.2 status object). */
export interface ComponentRuntime {
  status: ComponentStatus;
  /** Desired replicas. */
  replica: number;
  /** Replicas running and ready. */
  availableReplica: number;
  failDetail: string;
  lastJobId: string;
  /** Version rolled out ('' before the first success). */
  version: string;
  replicas: ReplicaView[];
}

/**
 * Told about replica changes (DeployService.watchReplicas; the stable routes of src/routes).
 * Called synchronously, so a listener sees a replica leave before anything stops it.
 */
export interface ReplicaWatcher {
  /** A replica of the component changed (started, became ready or not, crashed, stopped): read routeTargets again. */
  changed(project: string, componentId: string): void;
  /**
   * A replica is about to be stopped and is no longer ready: resolves when no request sent
   * to it is in flight any more (the watcher bounds the wait; it never rejects).
   */
  draining?(project: string, componentId: string, instanceId: string): Promise<void>;
}

/** A ready replica a route may send traffic to (host runtimes: a port on this host). */
export interface RouteEndpoint {
  instanceId: string;
  host: string;
  port: number;
}

/** What a component's stable route leads to, as its runtime reports it. */
export type RouteTargets =
  /** Replicas on this host (process, container runtimes): the route proxies to the ready ones. */
  | { kind: 'proxy'; endpoints: RouteEndpoint[] }
  /**
   * A cluster's own access (kubernetes runtime): the NodePort Service's ports, or the
   * Ingress hosts and paths, as the cluster assigned them; OpenStage does not proxy these.
   */
  | { kind: 'cluster'; namespace: string; service: string; nodePorts: { port: number; nodePort: number }[]; ingress: { host: string; path: string }[] }
  /**
   * Replicas another server supervises (several servers; replica-set-service.ts): they listen
   * on that server's host, so a route passes requests on to it. `serverId` is '' while the
   * owner is not known (its lease ended, the hand-over pending); `readyReplicas` is what the
   * owner last wrote to the database.
   */
  | { kind: 'remote'; serverId: string; readyReplicas: number };
