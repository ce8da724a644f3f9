import { Type, type Static } from '@sinclair/typebox';
import { SERVICE_LIMIT, type EngineJob, type EngineView } from './types.js';

/**
 * Wire contract of engine management (servicecomb.md §4.2). Field names are the JSON names
 * the SDKs read — camelCase (`jobId`, `authType`, `beDefault`, `serviceEndpoint`…), as
 * every SDK's attribute map and the golangsdk engines results.go say; the spec's snake_case
 * recommendation was the Python attribute names, not the wire. Times are epoch ms.
 */

export const ProjectParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }) });
export const EngineParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), engineId: Type.String({ minLength: 1, maxLength: 64 }) });
export const JobParams = Type.Object({ project: Type.String(), engineId: Type.String({ minLength: 1, maxLength: 64 }), jobId: Type.String({ minLength: 1, maxLength: 32 }) });

export const ListFlavorsQuery = Type.Object({ spec_type: Type.Optional(Type.String({ maxLength: 32 })) });
export const ListEnginesQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  type: Type.Optional(Type.Union([Type.Literal('ALL'), Type.Literal('CSE'), Type.Literal('Nacos'), Type.Literal('MicroGateway')])),
});

/** PUT /engines/{id} (the Terraform provider's update): the description; absent = unchanged. */
export const UpdateEngineBody = Type.Object({ description: Type.Optional(Type.String({ maxLength: 255 })) }, { additionalProperties: true });

/** `/cseEngines/{id}/tags/create|delete` (Huawei tag management): `{tags: [{key, value}]}`. */
export const EngineTagsBody = Type.Object({
  tags: Type.Array(Type.Object({ key: Type.String({ minLength: 1, maxLength: 128 }), value: Type.Optional(Type.String({ maxLength: 255 })) }), { minItems: 1, maxItems: 20 }),
});
export const EngineTagsParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), engineId: Type.String({ minLength: 1, maxLength: 64 }), action: Type.Union([Type.Literal('create'), Type.Literal('delete')]) });

/**
 * POST /engines body (SDK EngineCreateReq). Rules past the types (name pattern, flavor,
 * payment, authType, password) are checked by the service so that each failure carries
 * its own CSE code; other fields the SDK may send (flavorType, enterpriseProject…) pass.
 */
export const CreateEngineBody = Type.Object(
  {
    name: Type.String({ maxLength: 256 }),
    description: Type.Optional(Type.String({ maxLength: 255 })),
    payment: Type.String({ maxLength: 8 }),
    flavor: Type.String({ maxLength: 64 }),
    azList: Type.Optional(Type.Array(Type.String(), { maxItems: 10 })),
    authType: Type.String({ maxLength: 16 }),
    vpc: Type.Optional(Type.String({ maxLength: 256 })),
    vpcId: Type.Optional(Type.String({ maxLength: 256 })),
    networkId: Type.Optional(Type.String({ maxLength: 256 })),
    subnetCidr: Type.Optional(Type.String({ maxLength: 64 })),
    publicIpId: Type.Optional(Type.String({ maxLength: 256 })),
    auth_cred: Type.Optional(Type.Object({ pwd: Type.Optional(Type.String({ maxLength: 64 })) })),
    specType: Type.Optional(Type.String({ maxLength: 16 })),
    inputs: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: true },
);
export type CreateEngineBody = Static<typeof CreateEngineBody>;

const Entrypoint = Type.Object({
  masterEntrypoint: Type.String(),
  masterEntrypointIpv6: Type.String(),
  slaveEntrypoint: Type.String(),
  slaveEntrypointIpv6: Type.String(),
  type: Type.String(),
});
const ServiceEndpoint = Type.Record(Type.String(), Entrypoint);
const Reference = Type.Object({
  vpc: Type.String(),
  vpcId: Type.String(),
  azList: Type.Array(Type.String()),
  networkId: Type.String(),
  subnetCidr: Type.String(),
  publicIpId: Type.String(),
  /** Strings, or numbers for the Java SDK (`LimitStyle`). */
  serviceLimit: Type.Union([Type.String(), Type.Integer()]),
  instanceLimit: Type.Union([Type.String(), Type.Integer()]),
  inputs: Type.Record(Type.String(), Type.String()),
});

export const FlavorList = Type.Object({ total: Type.Integer(), data: Type.Array(Type.Object({ flavor: Type.String(), description: Type.String() })) });
export const EngineAccepted = Type.Object({ id: Type.String(), name: Type.String(), jobId: Type.Integer() });
export const TokenReply = Type.Object({ token: Type.String() });

const common = {
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  flavor: Type.String(),
  payment: Type.String(),
  authType: Type.String(),
  status: Type.String(),
  version: Type.String(),
  latestVersion: Type.String(),
  createTime: Type.Integer(),
  latestJobId: Type.Integer(),
  enterpriseProjectId: Type.String(),
  enterpriseProjectName: Type.String(),
  engineAdditionalActions: Type.Array(Type.String()),
  specType: Type.String(),
  type: Type.String(),
  reference: Reference,
};

export const EngineSimpleInfo = Type.Object({
  ...common,
  externalAddress: Type.String(),
  serviceEndpoint: ServiceEndpoint,
  publicAddress: Type.String(),
  publicServiceEndpoint: ServiceEndpoint,
  totalInstance: Type.Integer(),
  usedInstance: Type.Integer(),
  availableInstance: Type.Integer(),
  beDefault: Type.Boolean(),
});
export const EngineList = Type.Object({ total: Type.Integer(), data: Type.Array(EngineSimpleInfo) });

export const EngineDetail = Type.Object({
  ...common,
  /** Resource tags, `[{key, value}]` (what the Terraform provider reads back). */
  tags: Type.Array(Type.Object({ key: Type.String(), value: Type.String() })),
  beDefault: Type.Boolean(),
  createUser: Type.String(),
  projectId: Type.String(),
  vmIds: Type.Array(Type.String()),
  externalEntrypoint: Type.Object({ externalAddress: Type.String(), publicAddress: Type.String(), serviceEndpoint: ServiceEndpoint, publicServiceEndpoint: ServiceEndpoint }),
  totalInstance: Type.Integer(),
  usedInstance: Type.Integer(),
  availableInstance: Type.Integer(),
});

const SubTask = Type.Object({
  jobId: Type.Integer(),
  id: Type.Integer(),
  type: Type.String(),
  assigned: Type.String(),
  taskName: Type.String(),
  engineName: Type.String(),
  taskOrder: Type.Integer(),
  status: Type.String(),
  startTime: Type.Integer(),
  endTime: Type.Integer(),
  createTime: Type.Integer(),
  updateTime: Type.Integer(),
  timeout: Type.Integer(),
  log: Type.String(),
  output: Type.String(),
});
export const JobDetail = Type.Object({
  id: Type.Integer(),
  engineId: Type.String(),
  type: Type.String(),
  description: Type.String(),
  status: Type.String(),
  scheduling: Type.Integer(),
  createUser: Type.String(),
  startTime: Type.Integer(),
  endTime: Type.Integer(),
  context: Type.String(),
  tasks: Type.Array(
    Type.Object({
      taskName: Type.String(),
      taskNames: Type.Array(Type.String()),
      status: Type.String(),
      startTime: Type.Integer(),
      endTime: Type.Integer(),
      taskExecutorBrief: Type.Object({ duration: Type.Integer(), description: Type.String() }),
      tasks: Type.Array(SubTask),
    }),
  ),
});

export const ErrorBody = Type.Object({ error_code: Type.String(), error_msg: Type.String() });

/** The error statuses a route may answer with, each the Huawei error body. */
export function replies<T>(ok: T, okStatus = 200): Record<number, unknown> {
  return { [okStatus]: ok, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody };
}

/** The two components of an engine: the service center and the config center (`kie`) on one address. */
function endpoints(address: string): Static<typeof ServiceEndpoint> {
  if (!address) return {};
  const item = (type: string) => ({ masterEntrypoint: address, masterEntrypointIpv6: '', slaveEntrypoint: address, slaveEntrypointIpv6: '', type });
  return { serviceCenter: item('REGISTRY'), kie: item('CONFIG') };
}

/**
 * How `reference.serviceLimit` / `instanceLimit` are written (issue #18 item 4): strings, as
 * the API reference, the Go (v0.1.224) and Python (3.1.219) SDK models and the Terraform
 * provider (which type-asserts a string) read them; numbers for the Java SDK (3.1.143), whose
 * model declares Integer and whose Jackson setup refuses a numeric string. No single form
 * is read by all four, so the form follows the caller (`limitStyleOf`).
 */
export type LimitStyle = 'string' | 'number';

/** The Java SDK announces itself as `huaweicloud-usdk-java/<v>` in User-Agent. */
export function limitStyleOf(userAgent: string | undefined): LimitStyle {
  return userAgent?.startsWith('huaweicloud-usdk-java/') ? 'number' : 'string';
}

function commonOf(v: EngineView, style: LimitStyle) {
  const e = v.engine;
  const limit = (n: number) => (style === 'number' ? n : String(n));
  return {
    id: e.id,
    name: e.name,
    description: e.description,
    flavor: e.flavor,
    payment: e.payment,
    authType: e.authType,
    status: v.status,
    version: v.version,
    latestVersion: v.version,
    createTime: e.createdAtMs,
    latestJobId: e.latestJobId,
    enterpriseProjectId: e.enterpriseProjectId,
    enterpriseProjectName: e.enterpriseProjectId === '0' ? 'default' : e.enterpriseProjectId,
    engineAdditionalActions: v.beDefault ? [] : v.status === 'Creating' || v.status === 'Deleting' ? [] : ['Delete'],
    specType: e.specType,
    type: v.beDefault ? 'CSE_Share' : 'CSE',
    reference: { ...e.reference, serviceLimit: limit(SERVICE_LIMIT), instanceLimit: limit(v.totalInstance) },
  };
}

/** An engine as a list entry (SDK EngineSimpleInfo). */
export function simpleToWire(v: EngineView, style: LimitStyle = 'string'): Static<typeof EngineSimpleInfo> {
  const ep = endpoints(v.address);
  return {
    ...commonOf(v, style),
    externalAddress: v.address,
    serviceEndpoint: ep,
    publicAddress: '',
    publicServiceEndpoint: {},
    totalInstance: v.totalInstance,
    usedInstance: v.usedInstance,
    availableInstance: Math.max(0, v.totalInstance - v.usedInstance),
    beDefault: v.beDefault,
  };
}

/** An engine in full (SDK ShowEngineResponse, plus the live instance figures). */
export function detailToWire(v: EngineView, style: LimitStyle = 'string'): Static<typeof EngineDetail> {
  return {
    ...commonOf(v, style),
    tags: v.engine.tags,
    beDefault: v.beDefault,
    createUser: v.engine.createUser,
    projectId: v.engine.project,
    vmIds: [],
    externalEntrypoint: { externalAddress: v.address, publicAddress: '', serviceEndpoint: endpoints(v.address), publicServiceEndpoint: {} },
    totalInstance: v.totalInstance,
    usedInstance: v.usedInstance,
    availableInstance: Math.max(0, v.totalInstance - v.usedInstance),
  };
}

/** A job with one stage per step, each holding one sub-task with the step's log (SDK ShowEngineJobResponse). */
export function jobToWire(job: EngineJob): Static<typeof JobDetail> {
  return {
    id: job.id,
    engineId: job.engineId,
    type: job.type,
    description: job.description,
    status: job.status,
    scheduling: job.status === 'Executing' ? 1 : 0,
    createUser: job.createUser,
    startTime: job.startTimeMs,
    endTime: job.endTimeMs,
    context: '',
    tasks: job.tasks.map((t, i) => ({
      taskName: t.name,
      taskNames: [t.name],
      status: t.status,
      startTime: t.startTimeMs,
      endTime: t.endTimeMs,
      taskExecutorBrief: { duration: t.endTimeMs && t.startTimeMs ? t.endTimeMs - t.startTimeMs : 0, description: t.messages.at(-1) ?? '' },
      tasks: [
        {
          jobId: job.id,
          id: job.id * 100 + i + 1,
          type: job.type,
          assigned: 'openstage',
          taskName: t.name,
          engineName: job.engineId,
          taskOrder: i + 1,
          status: t.status,
          startTime: t.startTimeMs,
          endTime: t.endTimeMs,
          createTime: job.startTimeMs,
          updateTime: t.endTimeMs || t.startTimeMs,
          timeout: Math.round(t.timeoutMs / 1000),
          log: t.messages.join('\n'),
          output: '',
        },
      ],
    })),
  };
}
