import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ApplicationConfig, ApplicationView } from '../application/types.js';
import { ListQuery, ProjectParams, ResourceName } from '../common/schemas.js';
import type { ComponentBody } from '../component/types.js';
import { artifactsToV2, configurationToV2, flavorOfLimits, isBaseResource, statusToV2 } from './convert.js';
import type { V2ComponentView, V2EnvironmentView, V2InstanceView } from './service.js';

/**
 * Wire contract of the ServiceStage v2 API (src/cas/v2/README.md). Field names, types and
 * required fields follow the Go SDK (huaweicloud-sdk-go-v3 services/servicestage/v2/model)
 * and the Python v2 client models; the Go SDK marshals unset non-pointer fields as `null`
 * (slices, maps) or `""` (strings), so those are accepted as absent. Request bodies accept
 * fields they do not declare. Times are epoch milliseconds.
 */

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Text = (maxLength = 1024) => Type.String({ maxLength });
/** `T` or `null` (what the Go SDK sends for an unset slice or map). */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const StringList = Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100 });

export const EnvironmentParams = Type.Composite([ProjectParams, Type.Object({ environment_id: Id })]);
export const ApplicationParams = Type.Composite([ProjectParams, Type.Object({ application_id: Id })]);
export const ComponentParams = Type.Composite([ProjectParams, Type.Object({ application_id: Id, component_id: Id })]);
export const InstanceParams = Type.Composite([ProjectParams, Type.Object({ application_id: Id, component_id: Id, instance_id: Id })]);
export const JobParams = Type.Composite([ProjectParams, Type.Object({ job_id: Id })]);

/** List query (limit 0–100, offset, order_by, order) as in v3. */
export const V2ListQuery = ListQuery;

// ───────────── environments ─────────────

/** One v2 resource (SDK Resource): `{id, type, name}`. */
export const V2Resource = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), type: Type.String({ minLength: 1, maxLength: 32 }), name: Type.Optional(Nullable(Text(128))) });
export type V2ResourceWire = Static<typeof V2Resource>;
const V2Resources = Nullable(Type.Array(V2Resource, { maxItems: 100 }));

/** POST /environments (SDK EnvironmentCreate). `deploy_mode` "" means the default (mixed). */
export const CreateEnvironmentBody = Type.Object({
  name: ResourceName,
  alias: Type.Optional(Text(64)),
  description: Type.Optional(Text(128)),
  enterprise_project_id: Type.Optional(Text(64)),
  charge_mode: Type.Optional(Type.Union(['provided', 'on_demanded', 'monthly', ''].map((v) => Type.Literal(v)))),
  deploy_mode: Type.Optional(Type.Union(['virtualmachine', 'container', 'mixed', ''].map((v) => Type.Literal(v)))),
  vpc_id: Type.Optional(Text(128)),
  base_resources: Type.Optional(V2Resources),
  optional_resources: Type.Optional(V2Resources),
});
export type CreateEnvironmentBodyWire = Static<typeof CreateEnvironmentBody>;

/** PUT /environments/{id} (SDK EnvironmentModify). */
export const UpdateEnvironmentBody = Type.Object({ name: Type.Optional(Type.Union([ResourceName, Type.Literal('')])), alias: Type.Optional(Text(64)), description: Type.Optional(Text(128)) });
export type UpdateEnvironmentBodyWire = Static<typeof UpdateEnvironmentBody>;

/** PATCH /environments/{id}/resources (SDK EnvironmentResourceModify): removals first, then additions. */
export const ChangeResourcesBody = Type.Object({
  add_base_resources: Type.Optional(V2Resources),
  add_optional_resources: Type.Optional(V2Resources),
  remove_resources: Type.Optional(V2Resources),
});
export type ChangeResourcesBodyWire = Static<typeof ChangeResourcesBody>;

const ResourceView = Type.Object({ id: Type.String(), name: Type.String(), type: Type.String() });
export const Environment = Type.Object({
  id: Type.String(),
  name: Type.String(),
  alias: Type.String(),
  description: Type.String(),
  project_id: Type.String(),
  enterprise_project_id: Type.String(),
  charge_mode: Type.String(),
  deploy_mode: Type.String(),
  vpc_id: Type.String(),
  base_resources: Type.Array(ResourceView),
  optional_resources: Type.Array(ResourceView),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
});
export type EnvironmentWire = Static<typeof Environment>;
export const EnvironmentList = Type.Object({ count: Type.Integer(), environments: Type.Array(Environment) });

// ───────────── applications ─────────────

/** POST /applications (SDK ApplicationCreate). An empty enterprise_project_id means the default one. */
export const CreateApplicationBody = Type.Object({ name: ResourceName, description: Type.Optional(Text(128)), enterprise_project_id: Type.Optional(Text(64)) });
export type CreateApplicationBodyWire = Static<typeof CreateApplicationBody>;

/** PUT /applications/{id} (SDK ApplicationModify). */
export const UpdateApplicationBody = Type.Object({ name: Type.Optional(Type.Union([ResourceName, Type.Literal('')])), description: Type.Optional(Text(128)) });
export type UpdateApplicationBodyWire = Static<typeof UpdateApplicationBody>;

export const Application = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  creator: Type.String(),
  project_id: Type.String(),
  enterprise_project_id: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  component_count: Type.Integer(),
});
export type ApplicationWire = Static<typeof Application>;
export const ApplicationList = Type.Object({ count: Type.Integer(), applications: Type.Array(Application) });

const EnvVarBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_.-][A-Za-z0-9_.-]*$' }), value: Type.String({ maxLength: 8192 }) });

/** PUT /applications/{id}/configuration (SDK ApplicationConfigModify). */
export const PutConfigurationBody = Type.Object({
  environment_id: Id,
  configuration: Type.Object({ env: Nullable(Type.Array(EnvVarBody, { maxItems: 1000 })) }),
});
export type PutConfigurationBodyWire = Static<typeof PutConfigurationBody>;
export const ConfigurationQuery = Type.Object({ environment_id: Type.Optional(Type.String({ maxLength: 64 })) });
export const DeleteConfigurationQuery = Type.Object({ environment_id: Id });

const ConfigurationItem = Type.Object({
  application_id: Type.String(),
  environment_id: Type.String(),
  configuration: Type.Object({ env: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })) }),
});
export const Configuration = ConfigurationItem;
export const ConfigurationList = Type.Object({ configuration: Type.Array(ConfigurationItem) });

// ───────────── components ─────────────

/** `source` (SDK SourceObject): kind `code` or `artifact`, `spec` as SourceOrArtifact. */
const SourceBody = Type.Object({
  kind: Type.Union([Type.Literal('code'), Type.Literal('artifact')]),
  spec: Type.Object({
    storage: Type.Optional(Text(32)),
    type: Type.Optional(Text(32)),
    url: Type.Optional(Text(2048)),
    webUrl: Type.Optional(Text(2048)),
    auth: Type.Optional(Text(64)),
    properties: Type.Optional(Nullable(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()))),
    repo_type: Type.Optional(Text(32)),
    repo_url: Type.Optional(Text(2048)),
    repo_ref: Type.Optional(Text(256)),
    repo_auth: Type.Optional(Text(128)),
    repo_namespace: Type.Optional(Text(256)),
  }),
});

const BuildBody = Type.Object({ parameters: Type.Optional(Nullable(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()))) });

/** POST /applications/{id}/components (SDK ComponentCreate). */
export const CreateComponentBody = Type.Object({
  name: ResourceName,
  runtime: Type.String({ minLength: 1, maxLength: 64 }),
  category: Type.Union(['Webapp', 'MicroService', 'Common'].map((v) => Type.Literal(v))),
  sub_category: Type.Optional(Text(64)),
  description: Type.Optional(Text(128)),
  source: Type.Optional(Nullable(SourceBody)),
  build: Type.Optional(Nullable(BuildBody)),
});
export type CreateComponentBodyWire = Static<typeof CreateComponentBody>;

/** PUT /applications/{id}/components/{id} (SDK ComponentModify): absent fields are unchanged. */
export const UpdateComponentBody = Type.Object({
  name: Type.Optional(Type.Union([ResourceName, Type.Literal('')])),
  description: Type.Optional(Text(128)),
  source: Type.Optional(Nullable(SourceBody)),
  build: Type.Optional(Nullable(BuildBody)),
});
export type UpdateComponentBodyWire = Static<typeof UpdateComponentBody>;

export const DeleteComponentQuery = Type.Object({ force: Type.Optional(Type.Boolean()) });

const ComponentFields = {
  id: Type.String(),
  name: Type.String(),
  status: Type.Integer(),
  runtime: Type.String(),
  category: Type.String(),
  sub_category: Type.String(),
  description: Type.String(),
  project_id: Type.String(),
  application_id: Type.String(),
  source: Type.Optional(Type.Unknown()),
  build: Type.Optional(Type.Unknown()),
  pipeline_ids: Type.Array(Type.String()),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
};
export const Component = Type.Object(ComponentFields);
export type ComponentWire = Static<typeof Component>;
export const ComponentList = Type.Object({ count: Type.Integer(), components: Type.Array(Component) });

// ───────────── instances ─────────────

const ProbeBody = Type.Object({
  type: Type.Union([Type.Literal('http'), Type.Literal('tcp'), Type.Literal('command')]),
  delay: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  parameters: Nullable(
    Type.Object({
      scheme: Type.Optional(Type.Union([Type.Literal('HTTP'), Type.Literal('HTTPS'), Type.Literal('')])),
      host: Type.Optional(Text(256)),
      port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      path: Type.Optional(Text(1024)),
      command: Type.Optional(Nullable(StringList)),
    }),
  ),
});

const ProcessBody = Type.Object({
  type: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('command'), Type.Literal('')])),
  parameters: Type.Optional(
    Nullable(Type.Object({ command: Type.Optional(Nullable(StringList)), host: Type.Optional(Text(256)), port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })), path: Type.Optional(Text(1024)) })),
  ),
});

const AffinityBody = Type.Object({ az: Type.Optional(Nullable(StringList)), node: Type.Optional(Nullable(StringList)), application: Type.Optional(Nullable(StringList)) });

/** `configuration` of an instance (SDK InstanceConfiguration; golangsdk instances.Configuration adds `logs`). */
export const InstanceConfigurationBody = Type.Object({
  env: Type.Optional(Nullable(Type.Array(EnvVarBody, { maxItems: 500 }))),
  storage: Type.Optional(
    Nullable(
      Type.Array(
        Type.Object({
          type: Type.Union(['HostPath', 'EmptyDir', 'ConfigMap', 'Secret', 'PersistentVolumeClaim'].map((t) => Type.Literal(t))),
          parameters: Nullable(
            Type.Object({
              path: Type.Optional(Text(1024)),
              name: Type.Optional(Text(256)),
              claimName: Type.Optional(Text(256)),
              secretName: Type.Optional(Text(256)),
              defaultMode: Type.Optional(Type.Integer({ minimum: 0, maximum: 511 })),
              medium: Type.Optional(Text(32)),
            }),
          ),
          mounts: Nullable(Type.Array(Type.Object({ path: Type.String({ minLength: 2, maxLength: 1024, pattern: '^/' }), subPath: Type.Optional(Text(1024)), readOnly: Type.Optional(Nullable(Type.Boolean())) }), { maxItems: 20 })),
        }),
        { maxItems: 50 },
      ),
    ),
  ),
  strategy: Type.Optional(Nullable(Type.Object({ upgrade: Type.Optional(Text(32)) }))),
  lifecycle: Type.Optional(
    Nullable(
      Type.Object({
        entrypoint: Type.Optional(Nullable(Type.Object({ command: Type.Optional(Nullable(StringList)), args: Type.Optional(Nullable(StringList)) }))),
        'post-start': Type.Optional(Nullable(ProcessBody)),
        'pre-stop': Type.Optional(Nullable(ProcessBody)),
      }),
    ),
  ),
  logs: Type.Optional(Nullable(Type.Array(Type.Object({ logPath: Type.Optional(Text(1024)), rotate: Type.Optional(Text(16)), hostPath: Type.Optional(Text(1024)), hostExtendPath: Type.Optional(Text(64)) }), { maxItems: 50 }))),
  scheduler: Type.Optional(Nullable(Type.Object({ affinity: Type.Optional(Nullable(AffinityBody)), 'anti-affinity': Type.Optional(Nullable(AffinityBody)) }))),
  probes: Type.Optional(Nullable(Type.Object({ livenessProbe: Type.Optional(Nullable(ProbeBody)), readinessProbe: Type.Optional(Nullable(ProbeBody)) }))),
});
export type InstanceConfigurationWire = Static<typeof InstanceConfigurationBody>;

const ArtifactBody = Type.Object({
  storage: Type.Optional(Text(32)),
  type: Type.Optional(Text(32)),
  url: Type.Optional(Text(2048)),
  auth: Type.Optional(Text(64)),
  version: Type.Optional(Text(128)),
  properties: Type.Optional(Nullable(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()))),
});
const Artifacts = Nullable(Type.Record(Type.String({ minLength: 1, maxLength: 128 }), ArtifactBody));

const ReferResourceBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  refer_alias: Type.Optional(Text(128)),
  parameters: Type.Optional(Nullable(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()))),
});
const ExternalAccessBody = Type.Object({ protocol: Type.Optional(Text(16)), address: Type.Optional(Text(1024)), forward_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })) });

/** Instance names (golangsdk CreateOpts): 2–63 lower-case letters, digits and `-`, letter first, no `-` last. */
const InstanceName = Type.String({ minLength: 2, maxLength: 63, pattern: '^[a-z][a-z0-9-]*[a-z0-9]$' });

/** POST …/instances (SDK InstanceCreate). */
export const CreateInstanceBody = Type.Object({
  name: InstanceName,
  environment_id: Id,
  flavor_id: Nullable(Text(128)),
  replica: Type.Integer({ minimum: 1, maximum: 100 }),
  artifacts: Type.Optional(Artifacts),
  version: Type.String({ pattern: '^\\d{1,9}\\.\\d{1,9}\\.\\d{1,9}(\\.\\d{1,9})?$', maxLength: 64 }),
  configuration: Type.Optional(Nullable(InstanceConfigurationBody)),
  description: Type.Optional(Text(128)),
  external_accesses: Type.Optional(Nullable(Type.Array(ExternalAccessBody, { maxItems: 50 }))),
  refer_resources: Type.Optional(Nullable(Type.Array(ReferResourceBody, { maxItems: 50 }))),
});
export type CreateInstanceBodyWire = Static<typeof CreateInstanceBody>;

/** PUT …/instances/{id} (SDK InstanceModify): a new deployment; absent fields keep their values. */
export const UpdateInstanceBody = Type.Object({
  version: Type.String({ pattern: '^\\d{1,9}\\.\\d{1,9}\\.\\d{1,9}(\\.\\d{1,9})?$', maxLength: 64 }),
  flavor_id: Type.Optional(Nullable(Text(128))),
  artifacts: Type.Optional(Artifacts),
  configuration: Type.Optional(Nullable(InstanceConfigurationBody)),
  description: Type.Optional(Text(128)),
  external_accesses: Type.Optional(Nullable(Type.Array(ExternalAccessBody, { maxItems: 50 }))),
  refer_resources: Type.Optional(Nullable(Type.Array(ReferResourceBody, { maxItems: 50 }))),
});
export type UpdateInstanceBodyWire = Static<typeof UpdateInstanceBody>;

/**
 * POST …/instances/{id}/action (SDK InstanceAction). The action is checked by the service
 * (400 SVCSTG.00100418 for one not defined); golangsdk sends `replica` as a string.
 */
export const InstanceActionBody = Type.Object({
  action: Type.String({ minLength: 1, maxLength: 64 }),
  parameters: Type.Optional(
    Nullable(
      Type.Object({
        replica: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.String({ pattern: '^\\d{1,3}$' })])),
        hosts: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100 }))),
        version: Type.Optional(Text(64)),
      }),
    ),
  ),
});
export type InstanceActionBodyWire = Static<typeof InstanceActionBody>;

export const DeleteInstanceQuery = DeleteComponentQuery;

/** Snapshot list query: `snapshot_order_by` (create_time | version) instead of `order_by`. */
export const ListSnapshotsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  snapshot_order_by: Type.Optional(Text(64)),
  order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')])),
});

const StatusDetail = Type.Object({
  status: Type.String(),
  available_replica: Type.Integer(),
  replica: Type.Integer(),
  fail_detail: Type.Optional(Type.String()),
  last_job_id: Type.String(),
  last_job_status: Type.String(),
  enterprise_project_id: Type.String(),
});
const ExternalAccessView = Type.Object({ protocol: Type.String(), address: Type.String(), forward_port: Type.Integer(), type: Type.String(), status: Type.String(), create_time: Type.Integer(), update_time: Type.Integer() });
const ReferResourceView = Type.Object({ id: Type.String(), type: Type.String(), refer_alias: Type.Optional(Type.String()), parameters: Type.Optional(Type.Unknown()) });

/** GET …/instances/{id} (SDK ShowInstanceDetailResponse). */
export const Instance = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  environment_id: Type.String(),
  platform_type: Type.String(),
  flavor_id: Type.Optional(Type.String()),
  artifacts: Type.Optional(Type.Unknown()),
  version: Type.String(),
  configuration: Type.Unknown(),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  external_accesses: Type.Array(ExternalAccessView),
  refer_resources: Type.Array(ReferResourceView),
  status_detail: StatusDetail,
});
export type InstanceWire = Static<typeof Instance>;

/** An item of GET …/instances (SDK InstanceListView). */
export const InstanceListItem = Type.Object({
  id: Type.String(),
  application_id: Type.String(),
  application_name: Type.String(),
  component_id: Type.String(),
  component_name: Type.String(),
  name: Type.String(),
  environment_id: Type.String(),
  environment_name: Type.String(),
  platform_type: Type.String(),
  version: Type.String(),
  external_accesses: Type.Array(ExternalAccessView),
  artifacts: Type.Optional(Type.Unknown()),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  status_detail: StatusDetail,
});
export type InstanceListItemWire = Static<typeof InstanceListItem>;
export const InstanceList = Type.Object({ count: Type.Integer(), instances: Type.Array(InstanceListItem) });

/** An instance inside GET …/components/overviews (SDK ComponentInstanceOverView). */
const InstanceOverview = Type.Object({
  instance_id: Type.String(),
  instance_name: Type.String(),
  description: Type.String(),
  environment_id: Type.String(),
  platform_type: Type.String(),
  flavor_id: Type.Optional(Type.String()),
  artifacts: Type.Optional(Type.Unknown()),
  version: Type.String(),
  configuration: Type.Unknown(),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  external_accesses: Type.Array(ExternalAccessView),
  refer_resources: Type.Array(ReferResourceView),
  status_detail: StatusDetail,
});
export type InstanceOverviewWire = Static<typeof InstanceOverview>;
export const ComponentOverviewList = Type.Object({ count: Type.Integer(), components: Type.Array(Type.Object({ ...ComponentFields, instances: Type.Array(InstanceOverview) })) });

export const CreateInstanceResponse = Type.Object({ instance_id: Type.String(), job_id: Type.String() });
export const JobIdResponse = Type.Object({ job_id: Type.String() });

export const SnapshotList = Type.Object({
  count: Type.Integer(),
  snapshots: Type.Array(Type.Object({ create_time: Type.Integer(), description: Type.String(), instance_id: Type.String(), version: Type.String() })),
});

// ───────────── jobs and metadata ─────────────

/** GET /jobs/{id} query (SDK ShowJobDetailRequest). `instance_id` is accepted and ignored. */
export const JobQuery = Type.Object({
  instance_id: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  desc: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
});
export type JobQueryWire = Static<typeof JobQuery>;

/** The v2 job detail: upper-case field names (SDK JobInfo, TaskInfo; API reference "Obtaining Job Details" v2). */
export const Job = Type.Object({
  task_count: Type.Integer(),
  job: Type.Object({
    CREATED_BY: Type.String(),
    EXECUTION_STATUS: Type.String(),
    JOB_DESC: Type.String(),
    JOB_ID: Type.String(),
    JOB_NAME: Type.String(),
    JOB_TYPE: Type.String(),
    ORDER_ID: Type.String(),
    PROJECT_ID: Type.String(),
    SERVICE_INSTANCE_ID: Type.String(),
  }),
  tasks: Type.Array(
    Type.Object({
      CREATED_AT: Type.String(),
      LAST_HEALTH_CHECK: Type.String(),
      MESSAGES: Type.String(),
      OWNER_ID: Type.String(),
      TASK_ID: Type.String(),
      TASK_INDEX: Type.Integer(),
      TASK_NAME: Type.String(),
      TASK_STATUS: Type.String(),
      TASK_TYPE: Type.String(),
    }),
  ),
});
export type JobWire = Static<typeof Job>;

export const FlavorList = Type.Object({
  flavors: Type.Array(
    Type.Object({
      flavor_id: Type.String(),
      storage_size: Type.String(),
      num_cpu: Type.String(),
      num_cpu_init: Type.String(),
      memory_size: Type.String(),
      memory_size_init: Type.String(),
      label: Type.String(),
      custom: Type.Boolean(),
    }),
  ),
});
export type FlavorListWire = Static<typeof FlavorList>;

export const RuntimeList = Type.Object({ runtimes: Type.Array(Type.Object({ type_name: Type.String(), display_name: Type.String(), container_default_port: Type.Integer(), type_desc: Type.String() })) });
export type RuntimeListWire = Static<typeof RuntimeList>;

export const TemplateList = Type.Object({
  templates: Type.Array(Type.Object({ template_name: Type.String(), template_desc: Type.String(), source_type: Type.String(), source_repo_url: Type.String(), runtime: Type.String() })),
});

// ───────────── converters ─────────────

/** An environment on the v2 wire: managed resources split into base and optional ones. */
export function environmentToWire(v: V2EnvironmentView): EnvironmentWire {
  const e = v.environment;
  const resource = (r: { id: string; name: string; type: string }) => ({ id: r.id, name: r.name, type: r.type });
  return {
    id: e.id,
    name: e.name,
    alias: v.extra?.alias ?? '',
    description: e.description,
    project_id: e.project_id,
    enterprise_project_id: e.enterprise_project_id,
    charge_mode: v.extra?.chargeMode ?? 'provided',
    deploy_mode: e.deploy_mode,
    vpc_id: e.vpc_id,
    base_resources: e.resources.filter((r) => isBaseResource(r, v.extra)).map(resource),
    optional_resources: e.resources.filter((r) => !isBaseResource(r, v.extra)).map(resource),
    creator: e.creator,
    create_time: e.create_time,
    update_time: e.update_time,
  };
}

export function applicationToWire(a: ApplicationView): ApplicationWire {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    creator: a.creator,
    project_id: a.projectId,
    enterprise_project_id: a.enterpriseProjectId,
    create_time: a.createdAtMs,
    update_time: a.updatedAtMs,
    component_count: a.componentCount,
  };
}

export function configurationToWire(c: ApplicationConfig): Static<typeof ConfigurationItem> {
  return { application_id: c.applicationId, environment_id: c.environmentId, configuration: { env: c.env.map((e) => ({ name: e.name, value: e.value })) } };
}

/** A v2 component: `status` 1 while a forced delete runs, else 0. */
export function componentToWire(v: V2ComponentView): ComponentWire {
  const c = v.component;
  return {
    id: c.id,
    name: c.name,
    status: c.deleting ? 1 : 0,
    runtime: c.body.runtime,
    category: c.body.category,
    sub_category: c.body.sub_category ?? '',
    description: c.body.description ?? '',
    project_id: c.projectId,
    application_id: c.applicationId,
    ...(c.body.source ? { source: c.body.source } : {}),
    ...(c.body.build ? { build: { parameters: c.body.build.parameters ?? {} } } : {}),
    pipeline_ids: [],
    creator: c.creator,
    create_time: c.createdAtMs,
    update_time: c.updatedAtMs,
  };
}

function statusDetailToWire(i: V2InstanceView): Static<typeof StatusDetail> {
  const s = i.view.status;
  return {
    status: statusToV2(s.componentStatus),
    available_replica: s.availableReplica,
    replica: s.replica,
    ...(s.failDetail ? { fail_detail: s.failDetail } : {}),
    last_job_id: s.lastJobId,
    last_job_status: i.lastJobStatus,
    enterprise_project_id: i.enterpriseProjectId,
  };
}

/** The fields an instance shows in each of its views (detail, list item, overview). */
function instanceFields(i: V2InstanceView) {
  const c = i.view.component;
  const artifacts = artifactsToV2(c.body, i.componentName, i.link);
  const flavor = i.link?.flavorId || flavorOfLimits(c.body);
  return {
    environment_id: c.environmentId,
    platform_type: i.platformType,
    ...(flavor ? { flavor_id: flavor } : {}),
    ...(Object.keys(artifacts).length > 0 ? { artifacts } : {}),
    version: c.body.version,
    creator: c.creator,
    create_time: c.createdAtMs,
    update_time: c.updatedAtMs,
    external_accesses: (c.body.external_accesses ?? []).map((e) => ({ protocol: e.protocol ?? '', address: e.address ?? '', forward_port: e.forward_port ?? 0, type: 'SPECIFIED', status: 'NORMAL', create_time: c.createdAtMs, update_time: c.updatedAtMs })),
    status_detail: statusDetailToWire(i),
  };
}

function referResourcesToWire(b: ComponentBody): Static<typeof ReferResourceView>[] {
  return (b.refer_resources ?? []).map((r) => {
    const alias = (r as { refer_alias?: unknown }).refer_alias;
    return { id: r.id, type: r.type, ...(typeof alias === 'string' ? { refer_alias: alias } : {}), ...(r.parameters ? { parameters: r.parameters } : {}) };
  });
}

/** GET …/instances/{id}. */
export function instanceToWire(i: V2InstanceView): InstanceWire {
  const c = i.view.component;
  return { id: c.id, name: c.name, description: c.body.description ?? '', ...instanceFields(i), configuration: configurationToV2(c.body), refer_resources: referResourcesToWire(c.body) };
}

/** An item of GET …/instances. */
export function instanceListItemToWire(i: V2InstanceView): InstanceListItemWire {
  const v = i.view;
  return {
    id: v.component.id,
    application_id: v.component.applicationId,
    application_name: v.applicationName,
    component_id: i.componentId,
    component_name: i.componentName,
    name: v.component.name,
    environment_name: v.environmentName,
    ...instanceFields(i),
  };
}

/** A component of GET …/components/overviews, with its instances. */
export function componentOverviewToWire(v: V2ComponentView): ComponentWire & { instances: InstanceOverviewWire[] } {
  return {
    ...componentToWire(v),
    instances: v.instances.map((i) => {
      const c = i.view.component;
      return { instance_id: c.id, instance_name: c.name, description: c.body.description ?? '', ...instanceFields(i), configuration: configurationToV2(c.body), refer_resources: referResourcesToWire(c.body) };
    }),
  };
}
