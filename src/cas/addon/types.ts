/** Domain types of environment add-ons (servicestage.md §8). Times are epoch milliseconds. */

/** INITIALIZING | UPGRADING | FAILED | SUCCEEDED | DELETING (D:0212). */
export type AddonStatus = 'INITIALIZING' | 'UPGRADING' | 'FAILED' | 'SUCCEEDED' | 'DELETING';

/** An add-on installed in an environment. */
export interface Addon {
  id: string;
  projectId: string;
  environmentId: string;
  name: string;
  version: string;
  cceId: string;
  /** "" when not given. */
  cseId: string;
  /** The last job: `JOB` + UUID. */
  jobId: string;
  status: AddonStatus;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Fields of a create call. */
export interface AddonCreate {
  name: string;
  cce_id: string;
  cse_id?: string;
}

/** An add-on OpenStage ships: its name, version and what it does here. */
export interface AddonMetadata {
  name: string;
  latestVersion: string;
  /** Whether `cse_id` must be given on create. */
  needsCse: boolean;
  description: string;
}

/** What the environment service answers (throws 401 SVCSTG.00100401 when absent). */
export interface EnvironmentLookup {
  get(project: string, environmentId: string): Promise<{ id: string }>;
}
