/**
 * Row types of the cas-environment tables (servicestage.md §2), touched only by
 * src/cas/environment/store.ts. bigint columns come back from PostgreSQL as strings.
 */
export interface CasEnvironmentTables {
  cas_environments: CasEnvironmentsTable;
  cas_environment_resources: CasEnvironmentResourcesTable;
  cas_environment_iac_resources: CasEnvironmentIacResourcesTable;
  cas_environment_provisions: CasEnvironmentProvisionsTable;
}

/** One environment; unique by (project, name). */
export interface CasEnvironmentsTable {
  id: string;
  project: string;
  name: string;
  description: string;
  enterprise_project_id: string;
  deploy_mode: string;
  type: string;
  resource_create_mode: string;
  config_mode: string;
  /** Empty when the client sent none (OpenStage has no VPCs). */
  vpc_id: string;
  /** JSON array of `{key, value}`. */
  labels: string;
  creator: string;
  /** Status of the last provisioning (`Init` before the first). */
  iac_task_status: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** One managed resource of an environment, in list order (`position`). */
export interface CasEnvironmentResourcesTable {
  environment_id: string;
  position: number;
  id: string;
  type: string;
  name: string;
  alias: string;
  /** JSON map of the non-secret parameters. */
  parameters: string;
  /** JSON map of the secret parameters, each value sealed with the master key. */
  sealed_parameters: string;
}

/** One created (IaC) resource; `removed` = 1 while its deletion waits for the next provisioning. */
export interface CasEnvironmentIacResourcesTable {
  id: string;
  environment_id: string;
  name: string;
  type: string;
  custom_hcl: string;
  /** JSON object. */
  vars_body: string;
  /** JSON array of `{var_key, var_value}`. */
  vars_structure: string;
  status: string;
  /** The real resource's id once provisioned (e.g. the database name), else empty. */
  resource_id: string;
  removed: number;
  /** What the provider created (JSON, sealed), empty when nothing exists. */
  sealed_state: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** One provisioning record with its plan and events (JSON text). */
export interface CasEnvironmentProvisionsTable {
  id: string;
  environment_id: string;
  task_id: string;
  operation: string;
  status: string;
  status_message: string;
  vars_body: string;
  vars_structure: string;
  stack_resources: string;
  stack_output: string;
  plan: string;
  events: string;
  creator: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}
