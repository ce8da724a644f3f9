import { Type, type Static } from '@sinclair/typebox';
import { Labels, ProjectParams, ResourceName } from '../common/schemas.js';
import type { ComponentRecord, ComponentView, FilterOptions, InstanceLogs } from './types.js';

/**
 * Wire contract of components (servicestage.md §4, §4.1, §4.2; field names and types from
 * the Python SDK models ComponentCreate, ComponentModify, ShowComponentInfoResponse,
 * ComponentList, ComponentStatusView, ComponentRecordView, ComponentAction). The create and
 * modify bodies share one schema; fields OpenStage does not act on (build, limits, mesher,
 * affinity, logs, …) are validated for shape, stored and returned unchanged.
 */

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Text = (maxLength = 1024) => Type.String({ maxLength });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const ApplicationParams = Type.Composite([ProjectParams, Type.Object({ application_id: Id })]);
export const ComponentParams = Type.Composite([ProjectParams, Type.Object({ application_id: Id, component_id: Id })]);

/** `runtime_stack` (NJS RuntimeStack). `type` is checked against what the runtimes run by the service (400 SVCSTG.00100420). */
export const RuntimeStackRef = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  version: Type.String({ minLength: 1, maxLength: 64 }),
  deploy_mode: Type.Optional(Type.Union([Type.Literal('container'), Type.Literal('virtualmachine')])),
});

/** `source` (NJS SourceObject). kind code: `repo_url` (or `url`) and `repo_ref`; kind package: `url` (http, https or file). */
export const Source = Type.Object({
  kind: Type.Union([Type.Literal('code'), Type.Literal('package'), Type.Literal('image')]),
  url: Type.Optional(Text(2048)),
  version: Type.Optional(Text(128)),
  storage: Type.Optional(Text(32)),
  auth: Type.Optional(Text(64)),
  repo_auth: Type.Optional(Text(128)),
  repo_namespace: Type.Optional(Text(256)),
  repo_ref: Type.Optional(Text(256)),
  repo_type: Type.Optional(Text(32)),
  web_url: Type.Optional(Text(2048)),
  repo_url: Type.Optional(Text(2048)),
});

const Build = Type.Object({
  parameters: Type.Optional(
    Type.Object({
      artifact_namespace: Type.Optional(Text(128)),
      build_cmd: Type.Optional(Text(4096)),
      cluster_id: Type.Optional(Text(128)),
      dockerfile_path: Type.Optional(Text(1024)),
      environment_id: Type.Optional(Text(64)),
      node_label_selector: Type.Optional(Type.Record(Type.String(), Type.String())),
      // TF test fields (servicestage.md §4.1 build).
      build_env_selected: Type.Optional(Text(64)),
      cluster_namespace: Type.Optional(Text(128)),
      use_public_cluster: Type.Optional(Type.Boolean()),
    }),
  ),
});

/** `envs[]` (NJS ComponentEnvironment): `value_from` is stored but not resolved by OpenStage. */
export const EnvVar = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z_.-][A-Za-z0-9_.-]*$' }),
  value: Type.Optional(Type.String({ maxLength: 8192 })),
  value_from: Type.Optional(
    Type.Object({
      reference_type: Type.Optional(Text(64)),
      name: Type.Optional(Text(256)),
      key: Type.Optional(Text(256)),
      optional: Type.Optional(Type.Boolean()),
    }),
  ),
  inner: Type.Optional(Type.Boolean()),
});

/**
 * `storages[]` (NJS ComponentStorage). A `ConfigMap` or `Secret` storage mounts a
 * ServiceStage config file (servicestage.md §7): `parameters.config_id` — or, as the SDK has
 * no such field, `parameters.name` — is the config file's id; each `mounts[].path` is the
 * absolute path the rendered file appears at. Other types are stored and not acted on.
 */
export const Storage = Type.Object({
  type: Type.Union(['HostPath', 'EmptyDir', 'ConfigMap', 'Secret', 'PersistentVolumeClaim'].map((t) => Type.Literal(t))),
  name: Type.Optional(Text(256)),
  parameters: Type.Optional(
    Type.Object({
      path: Type.Optional(Text(1024)),
      name: Type.Optional(Text(256)),
      config_id: Type.Optional(Text(64)),
      default_mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 511 })),
      medium: Type.Optional(Text(32)),
    }),
  ),
  mounts: Type.Array(
    Type.Object({
      path: Type.String({ minLength: 2, maxLength: 1024, pattern: '^/' }),
      sub_path: Type.Optional(Text(1024)),
      read_only: Type.Optional(Type.Boolean()),
    }),
    { minItems: 1, maxItems: 20 },
  ),
});

/** Gray release traffic rules (NJS DeployStrategyGrayReleaseRules): stored and shown, not enforced. */
const GrayRules = Type.Array(Type.Object({ type: Type.Optional(Text(64)), key: Type.Optional(Text(256)), value: Type.Optional(Text(1024)), condition: Type.Optional(Text(32)) }), { maxItems: 50 });

const DeployStrategy = Type.Object({
  type: Type.Union([Type.Literal('OneBatchRelease'), Type.Literal('RollingRelease'), Type.Literal('GrayRelease')]),
  rolling_release: Type.Optional(Type.Object({ batches: Type.Integer({ minimum: 1, maximum: 100 }) })),
  gray_release: Type.Optional(
    Type.Object({
      type: Type.Optional(Text(32)),
      replica_surge_mode: Type.Optional(Text(32)),
      deployment_mode: Type.Optional(Type.Integer()),
      first_batch_weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
      rule_match_mode: Type.Optional(Text(32)),
      rules: Type.Optional(GrayRules),
      first_batch_replica: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      remaining_batch: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    }),
  ),
});

const StringList = Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100 });

/** `command` (NJS ComponentCommand): replaces the stack's start command; `args` follow it. */
export const Command = Type.Object({ command: Type.Optional(StringList), args: Type.Optional(StringList) });

const Lifecycle = Type.Object({
  type: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('command')])),
  scheme: Type.Optional(Type.Union([Type.Literal('HTTP'), Type.Literal('HTTPS')])),
  host: Type.Optional(Text(256)),
  port: Type.Optional(Port),
  path: Type.Optional(Text(1024)),
  command: Type.Optional(StringList),
});

/** Probes (NJS ComponentProbe); `delay` and `timeout` in seconds. */
export const Probe = Type.Object({
  type: Type.Union([Type.Literal('http'), Type.Literal('tcp'), Type.Literal('command')]),
  delay: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  scheme: Type.Optional(Type.Union([Type.Literal('HTTP'), Type.Literal('HTTPS')])),
  host: Type.Optional(Text(256)),
  port: Type.Optional(Port),
  path: Type.Optional(Text(1024)),
  command: Type.Optional(StringList),
});

const Affinity = Type.Union([
  // NJS ComponentAffinity
  Type.Object({ az: Type.Optional(StringList), node: Type.Optional(StringList), component: Type.Optional(Type.Array(Type.Object({ display_name: Type.Optional(Text(256)), name: Type.Optional(Text(256)) }), { maxItems: 100 })) }),
  // TF sends a list of rules (servicestage.md §4.1).
  Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 100 }),
]);

export const ReferResource = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const ExternalAccess = Type.Object({ protocol: Type.Optional(Text(16)), address: Type.Optional(Text(1024)), forward_port: Type.Optional(Port) });

const Cores = Type.Number({ minimum: 0, maximum: 1024 });

/** Fields of both bodies except what differs (environment_id, required refer_resources). */
const bodyFields = {
  name: ResourceName,
  description: Type.Optional(Type.String({ maxLength: 128 })),
  labels: Type.Optional(Labels),
  runtime_stack: RuntimeStackRef,
  source: Source,
  build: Type.Optional(Build),
  limit_cpu: Type.Optional(Cores),
  limit_memory: Type.Optional(Cores),
  request_cpu: Type.Optional(Cores),
  request_memory: Type.Optional(Cores),
  replica: Type.Integer({ minimum: 1, maximum: 100 }),
  version: Type.String({ pattern: '^\\d{1,9}\\.\\d{1,9}\\.\\d{1,9}(\\.\\d{1,9})?$', maxLength: 64 }),
  swimlane_id: Type.Optional(Text(64)),
  envs: Type.Optional(Type.Array(EnvVar, { maxItems: 500 })),
  storages: Type.Optional(Type.Array(Storage, { maxItems: 50 })),
  deploy_strategy: Type.Optional(DeployStrategy),
  update_strategy: Type.Optional(
    Type.Object({
      type: Type.Optional(Text(32)),
      min_ready_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
      revision_history_limit: Type.Optional(Type.Integer({ minimum: 0 })),
      progress_deadline_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
      termination_period_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
      max_unavailable: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Integer()])),
      max_surge: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Integer()])),
    }),
  ),
  command: Type.Optional(Command),
  post_start: Type.Optional(Lifecycle),
  pre_stop: Type.Optional(Lifecycle),
  mesher: Type.Optional(Type.Object({ port: Type.Optional(Port) })),
  timezone: Type.Optional(Text(64)),
  jvm_opts: Type.Optional(Text(4096)),
  tomcat_opts: Type.Optional(Type.Object({ server_xml: Type.Optional(Text(65536)) })),
  logs: Type.Optional(Type.Array(Type.Object({ log_path: Type.Optional(Text(1024)), rotate: Type.Optional(Text(16)), host_path: Type.Optional(Text(1024)), host_extend_path: Type.Optional(Text(64)) }), { maxItems: 50 })),
  custom_metric: Type.Optional(Type.Object({ path: Type.Optional(Text(1024)), port: Type.Optional(Port), dimensions: Type.Optional(Text(256)) })),
  affinity: Type.Optional(Affinity),
  anti_affinity: Type.Optional(Affinity),
  liveness_probe: Type.Optional(Probe),
  readiness_probe: Type.Optional(Probe),
  external_accesses: Type.Optional(Type.Array(ExternalAccess, { maxItems: 50 })),
  config_mode: Type.Optional(Text(16)),
  workload_content: Type.Optional(Text(65536)),
};

/**
 * POST body (NJS ComponentCreate). `environment_id` is optional in the SDK but required
 * here (a component is deployed somewhere); `refer_resources` is required by the SDK's
 * constructor but may be `[]` — OpenStage uses an rds, dcs or cse entry to pick which
 * environment binding of that type the component gets.
 */
export const CreateComponentBody = Type.Object({
  ...bodyFields,
  environment_id: Id,
  refer_resources: Type.Optional(Type.Array(ReferResource, { maxItems: 50 })),
});
export type ComponentBody = Static<typeof CreateComponentBody>;

/** PUT body (NJS ComponentModify): the full body again; name and runtime_stack must not change; environment_id, if sent, must be the same. */
export const UpdateComponentBody = Type.Object({
  ...bodyFields,
  environment_id: Type.Optional(Id),
  refer_resources: Type.Optional(Type.Array(ReferResource, { maxItems: 50 })),
});
export type UpdateComponentBodyWire = Static<typeof UpdateComponentBody>;

/** POST …/action (NJS ComponentAction). The action is checked by the service so that an unknown one is 400 SVCSTG.00100418. */
export const ActionBody = Type.Object({
  action: Type.String({ minLength: 1, maxLength: 64 }),
  parameters: Type.Optional(
    Type.Object({
      replica: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
      hosts: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100 })),
      version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      // modify_gray_rule (OpenStage's extension: the SDK models carry no rule fields).
      rules: Type.Optional(GrayRules),
      rule_match_mode: Type.Optional(Text(32)),
      first_batch_weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    }),
  ),
});

export const ListComponentsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  order_by: Type.Optional(Type.String({ maxLength: 64 })),
  order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')])),
  application_name: Type.Optional(Type.String({ maxLength: 64 })),
  component_name: Type.Optional(Type.String({ maxLength: 64 })),
});

export const GetComponentQuery = Type.Object({ expect_fields: Type.Optional(Type.String({ maxLength: 1024 })), version: Type.Optional(Type.String({ maxLength: 64 })) });

/** OpenStage's log API: the last `lines` lines (1–1000, default 100) of each replica. */
export const LogsQuery = Type.Object({ lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) });

// ───────────── responses ─────────────

const Instance = Type.Object({
  instance_id: Type.String(),
  version: Type.String(),
  port: Type.Integer(),
  state: Type.String(),
  ready: Type.Boolean(),
  restarts: Type.Integer(),
});

/**
 * `status` (NJS ComponentStatusView, servicestage.md §4.2). `instances` is OpenStage's
 * addition: the replicas the process runtime runs, with the local port each listens on.
 */
export const Status = Type.Object({
  component_status: Type.String(),
  available_replica: Type.Integer(),
  replica: Type.Integer(),
  fail_detail: Type.String(),
  last_job_id: Type.String(),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  artifact: Type.Object({ type: Type.String(), url: Type.String() }),
  instances: Type.Array(Instance),
});

/** GET …/components/{id}: the stored body plus ids, names and `status`. */
export const Component = Type.Object({
  ...Type.Partial(Type.Object(bodyFields)).properties,
  id: Type.String(),
  environment_id: Type.String(),
  application_id: Type.String(),
  environment_name: Type.String(),
  application_name: Type.String(),
  refer_resources: Type.Array(ReferResource),
  status: Status,
});

/** An item of the lists (NJS ComponentList). */
export const ComponentListItem = Type.Object({
  id: Type.String(),
  name: Type.String(),
  labels: Labels,
  runtime_stack: RuntimeStackRef,
  status: Status,
  environment_name: Type.String(),
  application_name: Type.String(),
  environment_id: Type.String(),
  application_id: Type.String(),
  creator: Type.String(),
  source: Source,
  version: Type.String(),
  platform_type: Type.String(),
  external_accesses: Type.Array(ExternalAccess),
  refer_resources: Type.Array(ReferResource),
  build: Type.Optional(Build),
});
export const ComponentList = Type.Object({ count: Type.Integer(), components: Type.Array(ComponentListItem) });

export const CreateComponentResponse = Type.Object({ component_id: Type.String(), job_id: Type.String() });
export const DeleteComponentResponse = Type.Object({ component_id: Type.String() });
export const ActionResponse = Type.Object({ job_id: Type.String() });
export const RefreshResponse = Type.Object({ message: Type.String() });

const RecordItem = Type.Object({
  begin_time: Type.String(),
  end_time: Type.String(),
  description: Type.Record(Type.String(), Type.Unknown()),
  instance_id: Type.String(),
  version: Type.String(),
  current_used: Type.Boolean(),
  status: Type.String(),
  deploy_type: Type.String(),
  jobs: Type.Array(
    Type.Object({
      sequence: Type.Integer(),
      deploy_type: Type.String(),
      job_id: Type.String(),
      job_info: Type.Object({
        deploy_type: Type.String(),
        source_url: Type.String(),
        first_batch_weight: Type.Integer(),
        first_batch_replica: Type.Integer(),
        replica: Type.Integer(),
        remaining_batch: Type.Integer(),
      }),
    }),
  ),
});
export const RecordList = Type.Object({ count: Type.Integer(), records: Type.Array(RecordItem) });

export const FilterOptionsResponse = Type.Object({
  filter_options: Type.Object({
    applications: Type.Array(Type.Object({ id: Type.String(), label: Type.String() })),
    environments: Type.Array(Type.Object({ id: Type.String(), label: Type.String() })),
    enterprise_projects: Type.Array(Type.String()),
  }),
});

export const LogsResponse = Type.Object({ logs: Type.Array(Type.Object({ instance_id: Type.String(), version: Type.String(), lines: Type.Array(Type.String()) })) });

// ───────────── converters ─────────────

/** RFC 3339 UTC, as the job API gives task times (record times are strings on the wire). */
function time(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '';
}

function statusToWire(v: ComponentView): Static<typeof Status> {
  return {
    component_status: v.status.componentStatus,
    available_replica: v.status.availableReplica,
    replica: v.status.replica,
    fail_detail: v.status.failDetail,
    last_job_id: v.status.lastJobId,
    creator: v.component.creator,
    create_time: v.component.createdAtMs,
    update_time: v.component.updatedAtMs,
    artifact: v.status.artifact,
    instances: v.status.instances.map((i) => ({ instance_id: i.instanceId, version: i.version, port: i.port, state: i.state, ready: i.ready, restarts: i.restarts })),
  };
}

/** The full component (GET): the stored body, ids, names and the status object. */
export function componentToWire(v: ComponentView): unknown {
  const c = v.component;
  return { ...c.body, refer_resources: c.body.refer_resources ?? [], id: c.id, environment_id: c.environmentId, application_id: c.applicationId, environment_name: v.environmentName, application_name: v.applicationName, status: statusToWire(v) };
}

/** A list item (NJS ComponentList). */
export function componentListItemToWire(v: ComponentView): Static<typeof ComponentListItem> {
  const c = v.component;
  return {
    id: c.id,
    name: c.name,
    labels: c.body.labels ?? [],
    runtime_stack: c.body.runtime_stack,
    status: statusToWire(v),
    environment_name: v.environmentName,
    application_name: v.applicationName,
    environment_id: c.environmentId,
    application_id: c.applicationId,
    creator: c.creator,
    source: c.body.source,
    version: c.body.version,
    platform_type: 'process',
    external_accesses: c.body.external_accesses ?? [],
    refer_resources: c.body.refer_resources ?? [],
    ...(c.body.build ? { build: c.body.build } : {}),
  };
}

/** A record (NJS ComponentRecordView) with its one job. */
export function recordToWire(r: ComponentRecord & { currentUsed: boolean }): Static<typeof RecordItem> {
  const info = { deploy_type: r.deployType, source_url: r.jobInfo.sourceUrl, first_batch_weight: r.jobInfo.firstBatchWeight, first_batch_replica: r.jobInfo.firstBatchReplica, replica: r.jobInfo.replica, remaining_batch: r.jobInfo.remainingBatch };
  return {
    begin_time: time(r.beginMs),
    end_time: time(r.endMs),
    description: r.description,
    instance_id: r.componentId,
    version: r.version,
    current_used: r.currentUsed,
    status: r.status,
    deploy_type: r.deployType,
    jobs: [{ sequence: 1, deploy_type: r.deployType, job_id: r.jobId, job_info: info }],
  };
}

export function filterOptionsToWire(o: FilterOptions): Static<typeof FilterOptionsResponse> {
  return { filter_options: { applications: o.applications, environments: o.environments, enterprise_projects: o.enterpriseProjects } };
}

export function logsToWire(logs: InstanceLogs[]): Static<typeof LogsResponse> {
  return { logs: logs.map((l) => ({ instance_id: l.instanceId, version: l.version, lines: l.lines })) };
}
