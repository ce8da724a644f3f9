/** Row types of the deploy area's tables (jobs and their tasks), touched only by src/deploy/store.ts. */
export interface DeployJobsTable {
  project: string;
  job_id: string;
  job_type: string;
  target_id: string;
  status: string;
  /** 0 | 1. */
  rollback_enabled: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface DeployTasksTable {
  job_id: string;
  task_index: number;
  task_id: string;
  name: string;
  type: string;
  status: string;
  /** JSON array of message lines. */
  messages: string;
  timeout_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface DeployTables {
  deploy_jobs: DeployJobsTable;
  deploy_tasks: DeployTasksTable;
  deploy_releases: DeployReleasesTable;
  deploy_replicas: DeployReplicasTable;
  deploy_components: DeployComponentsTable;
  deploy_sandbox_users: DeploySandboxUsersTable;
}

/** A component version the engine built: its plan (sealed JSON) and artifact. */
export interface DeployReleasesTable {
  project: string;
  component_id: string;
  version: string;
  /** SecretBox-sealed JSON of the ComponentPlan (env values may be secrets). */
  plan_sealed: string;
  /** JSON LaunchSpec; '' until the build finished. */
  launch: string;
  /** Source revision built (commit sha or package URL). */
  revision: string;
  created_at_ms: number;
}

/** One replica (supervised process) of a component. */
export interface DeployReplicasTable {
  instance_id: string;
  project: string;
  component_id: string;
  version: string;
  port: number;
  /** 'running' | 'stopped': what the engine wants. */
  desired: string;
  pid: number | null;
  start_ticks: number | null;
  created_at_ms: number;
  /** The server that supervises it ('' before several servers were supported). */
  server_id: string;
  /** `<host name>/<boot id>` of the machine it runs on ('' when unknown). */
  host: string;
  /** What its server sees: 'running' | 'backoff' | 'stopped'. */
  state: string;
  /** 1 when ready, as its server's probes say. */
  ready: number;
  /** Crash restarts so far. */
  restarts: number;
}

/** Per-component engine state (the component's runtime status). */
export interface DeployComponentsTable {
  project: string;
  component_id: string;
  /** Version currently rolled out ('' before the first success). */
  current_version: string;
  /** Desired replica count. */
  replicas: number;
  /** Last known component_status. */
  status: string;
  fail_detail: string;
  last_job_id: string;
  updated_at_ms: number;
}

/** The unprivileged uid of a project's sandboxed builds and replicas. */
export interface DeploySandboxUsersTable {
  project: string;
  uid: number;
  created_at_ms: number;
}
