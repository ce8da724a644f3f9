/** An add-on in an environment (servicestage.md §8). */
export interface CasAddonsTable {
  id: string;
  project_id: string;
  environment_id: string;
  name: string;
  version: string;
  cce_id: string;
  /** "" when not given. */
  cse_id: string;
  /** The last job (`JOB` + UUID). */
  job_id: string;
  /** INITIALIZING | UPGRADING | FAILED | SUCCEEDED | DELETING. */
  status: string;
  /** bigint: PostgreSQL returns it as a string. */
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** Row types of the add-on tables, touched only by src/cas/addon/store.ts. */
export interface CasAddonTables {
  cas_addons: CasAddonsTable;
}
