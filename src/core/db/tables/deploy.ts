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
}
