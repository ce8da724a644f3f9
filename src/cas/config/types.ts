import type { ComponentRef } from '../types.js';

/**
 * Domain types of configuration management (servicestage.md §7). Times are epoch
 * milliseconds. Content is always plain text here; sealing happens in the store.
 */

/** Config file formats. */
export const CONFIG_TYPES = ['yaml', 'properties'] as const;
export type ConfigType = (typeof CONFIG_TYPES)[number];

/** A config group: a named folder of config files, unique by name in its project. */
export interface ConfigGroup {
  id: string;
  project: string;
  name: string;
  /** '' when none (the wire shows null). */
  description: string;
  creator: string;
  enterpriseProjectId: string;
  labels: { key: string; value: string }[];
  createTimeMs: number;
  updateTimeMs: number;
}

/** A config file, unique by name in its group. */
export interface ConfigFile {
  id: string;
  project: string;
  groupId: string;
  name: string;
  description: string;
  type: ConfigType;
  content: string;
  sensitive: boolean;
  /** 1 at creation, +1 on every change. */
  version: number;
  creator: string;
  /** Who wrote the current version. */
  modifier: string;
  enterpriseProjectId: string;
  createTimeMs: number;
  updateTimeMs: number;
}

/** A config file with the components that mount it (what GET answers). */
export interface ConfigFileView extends ConfigFile {
  components: ComponentRef[];
}

/** A record: one superseded version of a config file, as it was. */
export interface ConfigRecord {
  id: string;
  project: string;
  configId: string;
  groupId: string;
  configName: string;
  description: string;
  type: ConfigType;
  content: string;
  sensitive: boolean;
  version: number;
  /** Who wrote that version. */
  creator: string;
  /** When that version was written. */
  createTimeMs: number;
}

/** A record with the components that mount its file now. */
export interface ConfigRecordView extends ConfigRecord {
  components: ComponentRef[];
}

/** Input of create and modify (validated by the route schema, checked again by the service). */
export interface ConfigInput {
  config_group_id?: string;
  name: string;
  content: string;
  type: ConfigType;
  sensitive?: boolean;
  description?: string;
}

/** Input of group creation. */
export interface ConfigGroupInput {
  name: string;
  description?: string;
  enterprise_project_id?: string;
  labels?: { key: string; value: string }[];
}

/** What happened to one file of an import. */
export type ImportAction = 'created' | 'updated' | 'unchanged';

/** One line of an import answer. */
export interface ImportedFile {
  /** Path inside the archive. */
  path: string;
  action: ImportAction;
  config: ConfigFile;
  groupName: string;
}

/** The answer of an import. */
export interface ImportResult {
  files: ImportedFile[];
  /** Groups the import created (names from the archive's folders). */
  createdGroups: ConfigGroup[];
}

/** A rendered config file, as the deployment engine mounts it. */
export interface RenderedConfig {
  id: string;
  name: string;
  type: ConfigType;
  version: number;
  sensitive: boolean;
  content: string;
}
