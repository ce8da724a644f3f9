import type { LabelList } from '../common/schemas.js';

/**
 * Domain types of ServiceStage environments (servicestage.md §2). Times are epoch
 * milliseconds. Field names are the wire names, since environments are handed out almost
 * as they are stored.
 */

/** `deploy_mode` of an environment (§11). */
export const DEPLOY_MODES = ['virtualmachine', 'container', 'mixed'] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

/** `type` of an environment: normal, or high (highly available Kubernetes). */
export const ENVIRONMENT_TYPES = ['normal', 'high'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

/** `resource_create_mode`: none = bind existing infrastructure, iac = create it. */
export const RESOURCE_CREATE_MODES = ['none', 'iac'] as const;
export type ResourceCreateMode = (typeof RESOURCE_CREATE_MODES)[number];

/**
 * Managed resource types OpenStage binds (§11 lists more; the others need a cloud):
 * `cse` an engine (`default` = the built-in one), `ecs` a host (`local` = this machine),
 * `cce` / `custom_k8s` a Kubernetes cluster (parameters.kubeconfig, namespace — default
 * `default` —, ingress_class, openstage_url), `rds` a PostgreSQL or MySQL database, `dcs` a
 * Redis, `swr` an image registry (parameters.server, namespace, username, password) that
 * images built for a cluster are pushed to and pulled from.
 */
export const RESOURCE_TYPES = ['cse', 'ecs', 'cce', 'custom_k8s', 'rds', 'dcs', 'swr'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Created (IaC) resource types with a built-in provider. */
export const IAC_RESOURCE_TYPES = ['rds', 'cse'] as const;
export type IacResourceType = (typeof IAC_RESOURCE_TYPES)[number];

/** What a masked secret parameter reads as on the wire; resending it keeps the stored value. */
export const SECRET_MASK = '******';

/** A managed resource as stored: secret parameter values are kept apart, sealed. */
export interface StoredResource {
  id: string;
  type: string;
  name: string;
  alias: string;
  /** Non-secret parameters. */
  parameters: Record<string, string>;
  /** Secret parameters, each value sealed with the master key. */
  sealedParameters: Record<string, string>;
}

/** A managed resource on the wire (secret parameters masked). */
export interface EnvironmentResource {
  id: string;
  type: string;
  name: string;
  alias: string;
  parameters: Record<string, string>;
}

/** One `vars_structure` item of a created resource. */
export interface VarItem {
  var_key: string;
  var_value: string;
}

/** Status of a created resource: INIT until provisioned, then the outcome of the last provisioning. */
export type IacStatus = 'INIT' | 'CREATION_COMPLETE' | 'CREATION_FAILED' | 'DELETION_FAILED';

/** A created (IaC) resource. */
export interface IacResource {
  id: string;
  environment_id: string;
  name: string;
  type: string;
  custom_hcl: string;
  vars_body: Record<string, unknown>;
  vars_structure: VarItem[];
  status: IacStatus | string;
  /** The real resource's id once provisioned (database name for rds), else "". */
  resource_id: string;
  /** True while the resource was deleted but its real counterpart not yet destroyed. */
  removed: boolean;
  /** What the provider created, sealed; "" when nothing exists. */
  sealedState: string;
  create_time: number;
  update_time: number;
}

/** An environment with its managed and created resources. */
export interface Environment {
  id: string;
  project_id: string;
  name: string;
  description: string;
  enterprise_project_id: string;
  deploy_mode: DeployMode;
  type: EnvironmentType;
  resource_create_mode: ResourceCreateMode;
  config_mode: string;
  vpc_id: string;
  labels: LabelList;
  creator: string;
  iac_task_status: string;
  create_time: number;
  update_time: number;
  resources: StoredResource[];
  /** Created resources, without those removed and waiting for the next provisioning. */
  iac_resources: IacResource[];
}

/** The environment columns (no resources). */
export type EnvironmentRecord = Omit<Environment, 'resources' | 'iac_resources'>;

/** One `execution_plan_item` of a provisioning (D:0187). */
export interface PlanItem {
  resource_type: string;
  resource_name: string;
  index: string;
  /** create | delete | replace | no-op (INF: the real action spelling is not documented). */
  action: string;
  action_reason: string;
  mode: 'RESOURCE' | 'DATA';
  drifted: boolean;
  imported: boolean;
  resource_id: string;
  attributes: { key: string; value: string }[];
}

/** One stack event of a provisioning (D:0175); `time` is epoch ms here, RFC3339 on the wire. */
export interface StackEvent {
  resource_type: string;
  resource_name: string;
  elapsed_seconds: number;
  event_message: string;
  event_type: string;
  resource_id_key: string;
  resource_id_value: string;
  timeMs: number;
}

/** Provisioning status (D:0187). */
export type ProvisionStatus =
  | 'CREATION_IN_PROGRESS'
  | 'CREATION_FAILED'
  | 'CREATION_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_FAILED'
  | 'UPDATE_COMPLETE';

/** One provisioning record. */
export interface Provision {
  id: string;
  environment_id: string;
  task_id: string;
  operation: string;
  status: ProvisionStatus | string;
  status_message: string;
  vars_body: string;
  vars_structure: string;
  stack_resources: string;
  stack_output: string;
  plan: PlanItem[];
  events: StackEvent[];
  creator: string;
  create_time: number;
  modify_time: number;
}

/**
 * A resource binding as the deployment engine needs it: decrypted parameters of a managed
 * resource, or the connection of a provisioned created resource (`source: 'iac'`, type rds,
 * parameters host, port, db_type, db_name, db_user, password).
 */
export interface ResourceBinding {
  id: string;
  type: string;
  name: string;
  alias: string;
  source: 'managed' | 'iac';
  parameters: Record<string, string>;
}
