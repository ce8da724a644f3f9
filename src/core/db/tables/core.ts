/** Row types of the cluster tables (migration 0019), touched only by src/core/cluster-sql.ts. */

/** The change-log counter: one row (id 1) whose seq is the last number handed out. */
export interface CoreFeedTable {
  id: number;
  seq: number | string;
}

/** One committed write: the changes it made, in order, as JSON `[{topic, data}]`. */
export interface CoreChangesTable {
  seq: number | string;
  /** Id of the server that wrote it. */
  origin: string;
  changes: string;
  created_at_ms: number | string;
}

/** A live (or recently dead) server: its lease is `renewed_at_ms` + cluster.serverLeaseSeconds. */
export interface CoreServersTable {
  server_id: string;
  url: string;
  version: string;
  started_at_ms: number | string;
  renewed_at_ms: number | string;
}

/** Cluster-wide values: `master_key_check` (a value sealed with the master key), `leader` (JSON). */
export interface CoreSettingsTable {
  name: string;
  value: string;
}

/** The server acting on a job, an engine, … (`kind`, `id`); fence moves on at each change of owner. */
export interface CoreOwnersTable {
  kind: string;
  id: string;
  owner_id: string;
  fence: number | string;
  claimed_at_ms: number | string;
}

export interface CoreTables {
  core_feed: CoreFeedTable;
  core_changes: CoreChangesTable;
  core_servers: CoreServersTable;
  core_settings: CoreSettingsTable;
  core_owners: CoreOwnersTable;
}
