/**
 * Domain types of CSE engine management (servicecomb.md §4.2). Times are epoch milliseconds.
 */

/** Engine statuses of the CSE API (servicecomb.md §4.2 "Engine status enum"). */
export type EngineStatus =
  | 'Creating'
  | 'Available'
  | 'Unavailable'
  | 'Deleting'
  | 'Deleted'
  | 'CreateFailed'
  | 'DeleteFailed';

/** Job statuses of the CSE API: `Init` queued, `Executing`, then `Finished`, `Error` or `Timeout`. */
export type JobStatus = 'Init' | 'Executing' | 'Finished' | 'Error' | 'Timeout';

/** Job types this implementation runs (the API also knows Upgrade, Modify, Configure). */
export type JobType = 'Create' | 'Delete';

/** Id of the built-in engine: the OpenStage server itself (environments bind `cse` `default`). */
export const BUILT_IN_ENGINE_ID = 'default';

/**
 * The flavors an exclusive engine may have and the instance quota (QUOTA_INSTANCE) each
 * gives its engine process; names and sizes from the CSE docs (golangsdk
 * openstack/cse/dedicated/v2/engines results.go: "cse.s1.small2: High availability 100
 * instance engine" …).
 */
export const FLAVORS: readonly { flavor: string; instances: number; description: string }[] = Object.freeze([
  { flavor: 'cse.s1.small2', instances: 100, description: 'High availability 100 instance engine' },
  { flavor: 'cse.s1.medium2', instances: 200, description: 'High availability 200 instance engine' },
  { flavor: 'cse.s1.large2', instances: 500, description: 'High availability 500 instance engine' },
  { flavor: 'cse.s1.xlarge2', instances: 2000, description: 'High availability 2000 instance engine' },
]);

/** Microservice quota reported for every flavor (reference.serviceLimit). */
export const SERVICE_LIMIT = 50000;

/** One resource tag of an engine. */
export interface EngineTag {
  key: string;
  value: string;
}

/** An exclusive engine as stored. */
export interface Engine {
  id: string;
  /** IAM project owning it. */
  project: string;
  name: string;
  description: string;
  /** Resource tags (`/cseEngines/{id}/tags/create|delete`), in the order they were added. */
  tags: EngineTag[];
  flavor: string;
  /** `RBAC` or `NONE`. */
  authType: 'RBAC' | 'NONE';
  /** `CSE2` (or `CSE`). */
  specType: string;
  payment: string;
  enterpriseProjectId: string;
  /** What the create request named (vpc, networkId, subnetCidr, publicIpId, azList, inputs); echoed in `reference`. */
  reference: EngineReference;
  status: EngineStatus;
  /** TCP port of the engine process (registry and config center); 0 before it was chosen. */
  port: number;
  /** Address the engine process listens on (its owning server's `host`); '' or absent = this server's. */
  host?: string;
  /** The engine's own data directory. */
  dataDir: string;
  /** SecretBox-sealed root password ('' for NONE). */
  passwordSealed: string;
  /** Process id and start time (/proc stat ticks) of the running engine process, for adoption. */
  pid?: number;
  startTicks?: number;
  latestJobId: number;
  createUser: string;
  createdAtMs: number;
  updatedAtMs: number;
}

/** The network and placement fields of a create request, echoed back. */
export interface EngineReference {
  vpc: string;
  vpcId: string;
  azList: string[];
  networkId: string;
  subnetCidr: string;
  publicIpId: string;
  inputs: Record<string, string>;
}

/** One processing stage of a job (the SDK's TaskSteps) with its log lines. */
export interface JobTask {
  name: string;
  status: JobStatus;
  startTimeMs: number;
  endTimeMs: number;
  /** Timeout of the stage, milliseconds. */
  timeoutMs: number;
  messages: string[];
}

/** An engine job (create or delete) as stored. */
export interface EngineJob {
  /** Integer ids, as the API prints them (`jobId` is an int in every SDK). */
  id: number;
  engineId: string;
  project: string;
  type: JobType;
  description: string;
  status: JobStatus;
  createUser: string;
  startTimeMs: number;
  endTimeMs: number;
  tasks: JobTask[];
}

/** What a create request carries (already validated by the schema). */
export interface CreateEngineInput {
  name: string;
  description?: string;
  payment: string;
  flavor: string;
  azList: string[];
  authType: string;
  vpc?: string;
  vpcId?: string;
  networkId?: string;
  subnetCidr?: string;
  publicIpId?: string;
  password?: string;
  specType?: string;
  inputs?: Record<string, string>;
  enterpriseProjectId: string;
}

/** An engine with its live figures and addresses, ready for toWire. */
export interface EngineView {
  engine: Engine;
  beDefault: boolean;
  /** Status after the live check (Available ↔ Unavailable while the process is down). */
  status: EngineStatus;
  /** Base URL of the registry and config center, e.g. `http://127.0.0.1:30110`; '' before a port exists. */
  address: string;
  totalInstance: number;
  usedInstance: number;
  version: string;
}

/** Feed change of engine management: a job was stored for an engine another server owns; its owner runs it. */
export interface EngineEvents {
  'engines.job.submitted': { jobId: number; engineId: string };
  [key: string]: unknown;
}
