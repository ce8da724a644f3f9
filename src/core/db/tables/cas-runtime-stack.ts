/** A custom runtime stack (servicestage.md §6); spec is JSON text. */
export interface CasRuntimeStacksTable {
  id: string;
  project_id: string;
  name: string;
  deploy_mode: string;
  type: string;
  version: string;
  spec: string;
  description: string;
  /** Supported | Deprecated | Disable. */
  status: string;
  creator: string;
  /** bigint: PostgreSQL returns it as a string. */
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** Row types of the runtime-stack tables, touched only by src/cas/runtime-stack/store.ts. */
export interface CasRuntimeStackTables {
  cas_runtime_stacks: CasRuntimeStacksTable;
}
