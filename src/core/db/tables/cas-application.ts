/** An application (servicestage.md §3); labels is the JSON of `[{key,value}]`. */
export interface CasApplicationsTable {
  id: string;
  project_id: string;
  name: string;
  description: string;
  enterprise_project_id: string;
  labels: string;
  creator: string;
  /** bigint: PostgreSQL returns it as a string. */
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** The configuration of an application in one environment; env is the JSON of `[{name,value}]`. */
export interface CasApplicationConfigsTable {
  project_id: string;
  application_id: string;
  environment_id: string;
  env: string;
  /** 0 or 1. */
  assign_strategy: number;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** Row types of the application tables, touched only by src/cas/application/store.ts. */
export interface CasApplicationTables {
  cas_applications: CasApplicationsTable;
  cas_application_configs: CasApplicationConfigsTable;
}
