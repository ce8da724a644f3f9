/** Row types of the engine-management tables, touched only by src/engines/store.ts. */
export interface EnginesEnginesTable {
  id: string;
  project: string;
  name: string;
  description: string;
  flavor: string;
  auth_type: string;
  spec_type: string;
  payment: string;
  enterprise_project_id: string;
  /** JSON EngineReference. */
  reference: string;
  status: string;
  port: number;
  /** Address the engine listens on (its owning server's host); '' = the reading server's `host`. */
  host: string;
  data_dir: string;
  /** SecretBox-sealed root password; '' for authType NONE. */
  password_sealed: string;
  pid: number | null;
  /** bigint: PostgreSQL returns it as a string. */
  start_ticks: number | string | null;
  latest_job_id: number;
  create_user: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
  /** JSON array of `{key, value}` (migration 0016). */
  tags: string;
}

export interface EnginesJobsTable {
  id: number;
  engine_id: string;
  project: string;
  type: string;
  description: string;
  status: string;
  create_user: string;
  start_time_ms: number | string;
  end_time_ms: number | string;
  /** JSON array of JobTask. */
  tasks: string;
}

export interface EnginesTables {
  engines_engines: EnginesEnginesTable;
  engines_jobs: EnginesJobsTable;
}
