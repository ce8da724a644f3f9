import { Type, type Static } from '@sinclair/typebox';
import { EnterpriseProjectId, Labels, ListQuery, ProjectParams, ResourceName } from '../common/schemas.js';
import { DEPLOY_MODES, ENVIRONMENT_TYPES, RESOURCE_CREATE_MODES, SECRET_MASK, type Environment, type EnvironmentResource, type IacResource, type PlanItem, type Provision, type StackEvent, type StoredResource } from './types.js';

/**
 * Wire contract of environments (servicestage.md §2) and the converters to it. Field names
 * follow the Python SDK v3 models (EnvironmentCreate, EnvironmentModify,
 * EnvironmentResourceModify, Resource, ShowEnvironmentInfoResponse, ShowEnvironmentsResponse)
 * and the doc pages named in the spec rows. Bodies accept fields they do not declare
 * (clients resend whole GET objects on PUT); declared fields are checked strictly.
 */

const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));

/** `{project}/environments/{environment_id}`. */
export const EnvironmentParams = Type.Composite([ProjectParams, Type.Object({ environment_id: Type.String({ minLength: 1, maxLength: 64 }) })]);
export type EnvironmentParamsWire = Static<typeof EnvironmentParams>;

/** `.../iac-resources/{resource_id}`. */
export const IacResourceParams = Type.Composite([EnvironmentParams, Type.Object({ resource_id: Type.String({ minLength: 1, maxLength: 64 }) })]);

/** `.../provision-histories/{history_id}`. */
export const ProvisionParams = Type.Composite([EnvironmentParams, Type.Object({ history_id: Type.String({ minLength: 1, maxLength: 64 }) })]);

/** One managed resource in a body: id and type required; parameters a string map. */
export const ResourceBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  alias: Type.Optional(Type.String({ maxLength: 128 })),
  parameters: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 65536 }))),
});
export type ResourceBodyWire = Static<typeof ResourceBody>;

const Resources = Type.Array(ResourceBody, { maxItems: 100 });

/** POST /environments. `vpc_id` is accepted but not required: OpenStage has no VPCs. */
export const CreateEnvironmentBody = Type.Object({
  name: ResourceName,
  description: Type.Optional(Type.String({ maxLength: 128 })),
  enterprise_project_id: Type.Optional(EnterpriseProjectId),
  vpc_id: Type.Optional(Type.String({ maxLength: 128 })),
  deploy_mode: Type.Optional(literals(DEPLOY_MODES)),
  type: Type.Optional(literals(ENVIRONMENT_TYPES)),
  resource_create_mode: Type.Optional(literals(RESOURCE_CREATE_MODES)),
  config_mode: Type.Optional(Type.String({ maxLength: 32 })),
  labels: Type.Optional(Labels),
  resources: Type.Optional(Resources),
  /** Legacy (older doc examples send `provided`); accepted and ignored. */
  charge_mode: Type.Optional(Type.String({ maxLength: 32 })),
});
export type CreateEnvironmentBodyWire = Static<typeof CreateEnvironmentBody>;

/**
 * PUT /environments/{id}: name, description, labels change; the other creation fields may be
 * resent unchanged (a change is refused by the service).
 */
export const UpdateEnvironmentBody = Type.Object({
  name: Type.Optional(ResourceName),
  description: Type.Optional(Type.String({ maxLength: 128 })),
  labels: Type.Optional(Labels),
  vpc_id: Type.Optional(Type.String({ maxLength: 128 })),
  deploy_mode: Type.Optional(literals(DEPLOY_MODES)),
  type: Type.Optional(literals(ENVIRONMENT_TYPES)),
  resource_create_mode: Type.Optional(literals(RESOURCE_CREATE_MODES)),
});
export type UpdateEnvironmentBodyWire = Static<typeof UpdateEnvironmentBody>;

/** PUT /environments/{id}/resources: the whole list (`[]` detaches everything). */
export const ReplaceResourcesBody = Type.Object({ resources: Resources });

/** GET /environments. */
export const ListEnvironmentsQuery = Type.Composite([
  ListQuery,
  Type.Object({
    name: Type.Optional(Type.String({ maxLength: 64 })),
    environment_id: Type.Optional(Type.String({ maxLength: 64 })),
    enterprise_project_id: Type.Optional(Type.String({ maxLength: 64 })),
  }),
]);
export type ListEnvironmentsQueryWire = Static<typeof ListEnvironmentsQuery>;

const VarItem = Type.Object({ var_key: Type.String({ minLength: 1, maxLength: 128 }), var_value: Type.String({ maxLength: 4096 }) });

/** POST /iac-resources and PUT /iac-resources/{id} (D:0224): name and type required. */
export const IacResourceBody = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  custom_hcl: Type.Optional(Type.String({ maxLength: 65536 })),
  vars_body: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown())),
  vars_structure: Type.Optional(Type.Array(VarItem, { maxItems: 100 })),
});
export type IacResourceBodyWire = Static<typeof IacResourceBody>;

/** GET provision-histories. */
export const ListProvisionsQuery = ListQuery;

// ───────────────────────── responses ─────────────────────────

/** A managed resource with its secret parameters masked. */
export function resourceToWire(r: StoredResource): EnvironmentResource {
  const parameters: Record<string, string> = { ...r.parameters };
  for (const key of Object.keys(r.sealedParameters)) parameters[key] = SECRET_MASK;
  return { id: r.id, type: r.type, name: r.name, alias: r.alias, parameters };
}

/** A created resource on the wire (D:0188): `custom_tf` carries the HCL text (also as `custom_hcl`). */
export function iacResourceToWire(r: IacResource): Record<string, unknown> {
  return {
    id: r.id,
    resource_id: r.resource_id,
    name: r.name,
    type: r.type,
    status: r.status,
    custom_tf: r.custom_hcl,
    custom_hcl: r.custom_hcl,
    vars_body: r.vars_body,
    vars_structure: r.vars_structure,
    create_time: r.create_time,
    update_time: r.update_time,
  };
}

/** The full environment object (GET one, create, modify answers). */
export function environmentToWire(e: Environment): Record<string, unknown> {
  return {
    id: e.id,
    project_id: e.project_id,
    name: e.name,
    description: e.description,
    enterprise_project_id: e.enterprise_project_id,
    vpc_id: e.vpc_id,
    deploy_mode: e.deploy_mode,
    type: e.type,
    resource_create_mode: e.resource_create_mode,
    config_mode: e.config_mode,
    creator: e.creator,
    create_time: e.create_time,
    update_time: e.update_time,
    labels: e.labels,
    resources: e.resources.map(resourceToWire),
    iac_resources: e.iac_resources.map(iacResourceToWire),
    iac_task_status: e.iac_task_status,
  };
}

/** RFC3339 with milliseconds, UTC. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString();

/**
 * A provisioning record (D:0173/0174): `create_time`/`modify_time` are strings (epoch ms as
 * text, INF: the doc only says string); vars/stack fields are JSON strings.
 */
export function provisionToWire(p: Provision): Record<string, unknown> {
  return {
    id: p.id,
    deployment_id: p.id,
    task_id: p.task_id,
    operation: p.operation,
    status: p.status,
    stack_name: `env-${p.environment_id}`,
    version: '3.0',
    output: p.status_message,
    template_uri: '',
    template_body: '',
    vars_body: p.vars_body,
    vars_uri: '',
    vars_structure: p.vars_structure,
    stack_resources: p.stack_resources,
    stack_output: p.stack_output,
    creator: p.creator,
    create_time: String(p.create_time),
    modify_time: String(p.modify_time),
  };
}

/** A stack event (D:0175) with its RFC3339 `time`. */
export function stackEventToWire(e: StackEvent): Record<string, unknown> {
  const { timeMs, ...rest } = e;
  return { ...rest, time: rfc3339(timeMs) };
}

/** The answer of POST .../iac-resources/provision (D:0187). */
export function provisionResultToWire(p: Provision): { status: string; status_message: string; create_time: number; execution_plan_item: PlanItem[] } {
  return { status: p.status, status_message: p.status_message, create_time: p.create_time, execution_plan_item: p.plan };
}

// ───────────────────────── response schemas ─────────────────────────

const Str = Type.String();
const Int = Type.Integer();
const open = { additionalProperties: true } as const;

/** A managed resource in answers. */
export const ResourceReply = Type.Object({ id: Str, type: Str, name: Str, alias: Str, parameters: Type.Record(Type.String(), Type.String()) });

/** A created resource in answers. */
export const IacResourceReply = Type.Object(
  {
    id: Str,
    resource_id: Str,
    name: Str,
    type: Str,
    status: Str,
    custom_tf: Str,
    custom_hcl: Str,
    vars_body: Type.Record(Type.String(), Type.Unknown()),
    vars_structure: Type.Array(Type.Object({ var_key: Str, var_value: Str })),
    create_time: Int,
    update_time: Int,
  },
  open,
);

/** The environment object. */
export const EnvironmentReply = Type.Object(
  {
    id: Str,
    project_id: Str,
    name: Str,
    description: Str,
    enterprise_project_id: Str,
    vpc_id: Str,
    deploy_mode: Str,
    type: Str,
    resource_create_mode: Str,
    config_mode: Str,
    creator: Str,
    create_time: Int,
    update_time: Int,
    labels: Type.Array(Type.Object({ key: Str, value: Str })),
    resources: Type.Array(ResourceReply),
    iac_resources: Type.Array(IacResourceReply),
    iac_task_status: Str,
  },
  open,
);

export const EnvironmentListReply = Type.Object({ count: Int, environments: Type.Array(EnvironmentReply) });
export const ResourcesReply = Type.Object({ resources: Type.Array(ResourceReply) });
export const IacResourcesReply = Type.Object({ iac_resources: Type.Array(IacResourceReply) });

const PlanItemReply = Type.Object(
  {
    resource_type: Str,
    resource_name: Str,
    index: Str,
    action: Str,
    action_reason: Str,
    mode: Str,
    drifted: Type.Boolean(),
    imported: Type.Boolean(),
    resource_id: Str,
    attributes: Type.Array(Type.Object({ key: Str, value: Str })),
  },
  open,
);

export const ProvisionResultReply = Type.Object({ status: Str, status_message: Str, create_time: Int, execution_plan_item: Type.Array(PlanItemReply) });

export const ProvisionReply = Type.Object(
  {
    id: Str,
    deployment_id: Str,
    task_id: Str,
    operation: Str,
    status: Str,
    stack_name: Str,
    version: Str,
    output: Str,
    template_uri: Str,
    template_body: Str,
    vars_body: Str,
    vars_uri: Str,
    vars_structure: Str,
    stack_resources: Str,
    stack_output: Str,
    creator: Str,
    create_time: Str,
    modify_time: Str,
  },
  open,
);

export const ProvisionListReply = Type.Object({ total: Int, pageNum: Int, pageSize: Int, list: Type.Array(ProvisionReply) });

export const StackEventsReply = Type.Object({
  stack_events: Type.Array(
    Type.Object({
      resource_type: Str,
      resource_name: Str,
      elapsed_seconds: Int,
      event_message: Str,
      event_type: Str,
      resource_id_key: Str,
      resource_id_value: Str,
      time: Str,
    }),
  ),
});
