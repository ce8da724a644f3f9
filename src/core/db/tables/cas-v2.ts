/** An environment's v2-only fields (src/cas/v2); base_keys / optional_keys are JSON arrays of `type/id`. */
export interface CasV2EnvironmentsTable {
  environment_id: string;
  project_id: string;
  alias: string;
  charge_mode: string;
  base_keys: string;
  optional_keys: string;
}

/** A v2 component (a definition its instances deploy); body is the JSON of its v2 fields. */
export interface CasV2ComponentsTable {
  id: string;
  project_id: string;
  application_id: string;
  name: string;
  body: string;
  creator: string;
  /** 1 while a forced delete removes its instances, else 0. */
  deleting: number;
  /** bigint: PostgreSQL returns it as a string. */
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** A v2 instance: the v3 component `instance_id` belongs to v2 component `component_id`. */
export interface CasV2InstancesTable {
  instance_id: string;
  project_id: string;
  component_id: string;
  flavor_id: string;
  /** JSON of the v2 `artifacts` map as last sent ("{}" when none). */
  artifacts: string;
  /** JSON of the v3 source those artifacts became ("" when none). */
  artifact_source: string;
}

/** Row types of the v2 tables, touched only by src/cas/v2/store.ts. */
export interface CasV2Tables {
  cas_v2_environments: CasV2EnvironmentsTable;
  cas_v2_components: CasV2ComponentsTable;
  cas_v2_instances: CasV2InstancesTable;
}
