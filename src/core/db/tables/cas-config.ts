/**
 * Row types of the configuration management tables (servicestage.md §7), touched only by
 * src/cas/config/store.ts. Times are epoch milliseconds (bigint: PostgreSQL returns them
 * as strings); booleans are integers 0/1.
 */

/** A config group; unique by (project, name). */
export interface CasConfigGroupsTable {
  id: string;
  project: string;
  name: string;
  /** '' when none. */
  description: string;
  creator: string;
  enterprise_project_id: string;
  /** JSON array of `{key, value}`. */
  labels: string;
  create_time: number | string;
  update_time: number | string;
}

/** A config file; unique by (group_id, name). */
export interface CasConfigsTable {
  id: string;
  project: string;
  group_id: string;
  name: string;
  description: string;
  /** `yaml` | `properties`. */
  type: string;
  /** The content, SecretBox-sealed when content_sealed is 1. */
  content: string;
  content_sealed: number;
  sensitive: number;
  version: number;
  creator: string;
  /** Who wrote the current version (a record's creator once superseded). */
  modifier: string;
  enterprise_project_id: string;
  create_time: number | string;
  update_time: number | string;
}

/** A past version of a config file (a "record"). */
export interface CasConfigHistoriesTable {
  id: string;
  project: string;
  config_id: string;
  group_id: string;
  config_name: string;
  description: string;
  type: string;
  content: string;
  content_sealed: number;
  version: number;
  /** Who wrote that version. */
  creator: string;
  /** When that version was written. */
  create_time: number | string;
}

export interface CasConfigTables {
  cas_config_groups: CasConfigGroupsTable;
  cas_configs: CasConfigsTable;
  cas_config_histories: CasConfigHistoriesTable;
}
