import type { ComponentBody } from './schemas.js';

/**
 * Domain types of components (servicestage.md §4). Times are epoch milliseconds. A
 * component's body is kept as the client sent it (validated by schemas.ts); the engine's
 * view (src/deploy) supplies the status.
 */

export type { ComponentBody };

/** A stored component. */
export interface Component {
  id: string;
  projectId: string;
  applicationId: string;
  environmentId: string;
  name: string;
  /** The last accepted create/modify body (after scale and rollback: with the replica and version they set). */
  body: ComponentBody;
  creator: string;
  /** The removal job while the component is being deleted, else "". */
  deleteJobId: string;
  createdAtMs: number;
  updatedAtMs: number;
}

/** One replica as the status shows it. */
export interface InstanceView {
  instanceId: string;
  version: string;
  port: number;
  state: string;
  ready: boolean;
  restarts: number;
}

/** What a component's stable routes need (src/routes): its names and external accesses. */
export interface ComponentRouteInfo {
  project: string;
  componentId: string;
  name: string;
  applicationId: string;
  applicationName: string;
  environmentName: string;
  createdAtMs: number;
  externalAccesses: { protocol?: string; address?: string; forward_port?: number }[];
}

/** A component's stable routes as the status shows them (src/routes RouteView, OpenStage's addition). */
export type RouteInfo = Record<string, unknown> & { type: string };

/** The status object (servicestage.md §4.2) without the fields taken from the component. */
export interface StatusView {
  componentStatus: string;
  replica: number;
  availableReplica: number;
  failDetail: string;
  lastJobId: string;
  artifact: { type: string; url: string };
  instances: InstanceView[];
  routes: RouteInfo[];
}

/** A component as answered: with the names of its application and environment and its status. */
export interface ComponentView {
  component: Component;
  applicationName: string;
  environmentName: string;
  status: StatusView;
}

/** What a deployment record's job did (NJS RecordJobInfo). */
export interface RecordJobInfo {
  sourceUrl: string;
  firstBatchWeight: number;
  firstBatchReplica: number;
  replica: number;
  remainingBatch: number;
}

/** Job execution status of a record. */
export type RecordStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** One deployment or action of a component, keyed by its job (servicestage.md §4 Records). */
export interface ComponentRecord {
  jobId: string;
  projectId: string;
  componentId: string;
  /** deploy | upgrade | rollback | scale | start | stop | restart. */
  deployType: string;
  version: string;
  description: Record<string, unknown>;
  jobInfo: RecordJobInfo;
  status: RecordStatus;
  beginMs: number;
  /** 0 while the job runs. */
  endMs: number;
  /** The component body a deploy/upgrade ran with; absent on actions (not on the wire). */
  body?: ComponentBody;
}

/** GET /components/filterOptions: the applications and environments that have components. */
export interface FilterOptions {
  applications: { id: string; label: string }[];
  environments: { id: string; label: string }[];
  enterpriseProjects: string[];
}

/** The last lines of one replica's log. */
export interface InstanceLogs {
  instanceId: string;
  version: string;
  lines: string[];
  /** Set for a replica that is no longer running: when it stopped (epoch ms). */
  stoppedAtMs?: number;
}

/**
 * Resolves `source.repo_auth` (a Git authorization name of the project) to clone
 * credentials; undefined when there is no such authorization. Wired by server.ts once the
 * Git area exists (ComponentService.setGitCredentials).
 */
export type GitCredentialsResolver = (project: string, authName: string) => Promise<{ username: string; password: string } | undefined>;
