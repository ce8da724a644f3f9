import type { LabelList } from '../common/schemas.js';

/**
 * Domain types of applications and their per-environment configuration
 * (servicestage.md §3). Times are epoch milliseconds.
 */

/** An application as stored. */
export interface Application {
  id: string;
  projectId: string;
  name: string;
  description: string;
  enterpriseProjectId: string;
  labels: LabelList;
  /** User name of the caller that created it. */
  creator: string;
  createdAtMs: number;
  updatedAtMs: number;
}

/** An application as answered: the stored record plus its component count. */
export interface ApplicationView extends Application {
  componentCount: number;
}

/** One environment variable of an application configuration. */
export interface EnvVar {
  name: string;
  value: string;
}

/** The configuration of an application in one environment. */
export interface ApplicationConfig {
  projectId: string;
  applicationId: string;
  environmentId: string;
  /** In the order given; names are unique (the last of a repeated name wins). */
  env: EnvVar[];
  /** "Continuously effective" flag (TF assign_strategy); stored and answered, no other effect. */
  assignStrategy: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Fields of a create call. */
export interface ApplicationCreate {
  name: string;
  description?: string;
  enterprise_project_id?: string;
  labels?: LabelList;
}

/** Fields of a modify call; absent means unchanged. */
export interface ApplicationUpdate {
  name?: string;
  description?: string;
  enterprise_project_id?: string;
  labels?: LabelList;
}

/** What the environment service answers (`EnvironmentService.get`, which throws 401 SVCSTG.00100401 when absent). */
export interface EnvironmentLookup {
  get(project: string, environmentId: string): Promise<{ id: string }>;
}
