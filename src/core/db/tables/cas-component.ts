/** A component (servicestage.md §4); body is the JSON of its last accepted create/modify body. */
export interface CasComponentsTable {
  id: string;
  project_id: string;
  application_id: string;
  environment_id: string;
  name: string;
  body: string;
  stack_name: string;
  stack_type: string;
  stack_version: string;
  creator: string;
  /** The removal job while the component is being deleted, else "". */
  delete_job_id: string;
  /** bigint: PostgreSQL returns it as a string. */
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** One deployment or action of a component (servicestage.md §4 Records); description and job_info are JSON. */
export interface CasComponentRecordsTable {
  job_id: string;
  project_id: string;
  component_id: string;
  deploy_type: string;
  version: string;
  description: string;
  job_info: string;
  /** RUNNING | SUCCEEDED | FAILED (the job's execution status). */
  status: string;
  begin_ms: number | string;
  /** 0 while the job runs. */
  end_ms: number | string;
  /** The component body JSON a deploy/upgrade ran with ('' on actions; migration 0015). */
  body: string;
}

/** Row types of the component tables, touched only by src/cas/component/store.ts. */
export interface CasComponentTables {
  cas_components: CasComponentsTable;
  cas_component_records: CasComponentRecordsTable;
}
