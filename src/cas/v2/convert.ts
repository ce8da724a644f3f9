import type { JobDetail, Task } from '../../deploy/types.js';
import type { ComponentBody } from '../component/types.js';
import { casError } from '../errors.js';
import type { CreateInstanceBodyWire, FlavorListWire, InstanceConfigurationWire, JobQueryWire, JobWire, RuntimeListWire, UpdateInstanceBodyWire } from './schemas.js';
import type { V2Artifact, V2ComponentBody, V2EnvironmentExtra, V2Source } from './types.js';

/**
 * Pure conversions between the v2 wire and the v3 model (src/cas/v2/README.md "Mapping"):
 * v2 runtimes ↔ v3 runtime stack types, flavors ↔ cpu/memory limits, a v2 instance body ↔
 * a v3 component body, and v3 statuses ↔ v2 ones. No I/O.
 */

type Json = Record<string, unknown>;

// ───────────── environment resources ─────────────

/** Resource types v2 lists as base resources unless its client put them in optional_resources (API reference: base cce, ecs, as). */
const BASE_TYPES = new Set(['ecs', 'cce', 'custom_k8s', 'as', 'cci']);

/** The key of a managed resource: `type/id`. */
export const resourceKey = (r: { type: string; id: string }): string => `${r.type}/${r.id}`;

/** Which of base_resources / optional_resources a resource is listed in: the v2 client's choice, else by type. */
export function isBaseResource(r: { type: string; id: string }, extra: V2EnvironmentExtra | undefined): boolean {
  const key = resourceKey(r);
  if (extra?.baseKeys.includes(key)) return true;
  if (extra?.optionalKeys.includes(key)) return false;
  return BASE_TYPES.has(r.type);
}

// ───────────── runtimes ─────────────

/**
 * The v2 runtimes OpenStage maps onto its runtime stack types. `Java8`, `Tomcat8`,
 * `Nodejs8` and `Python3` are the SDK enum names; they run on the host's JDK 17+, Tomcat 10,
 * Node.js 20+ and Python 3 (the system stacks). `Go1` is OpenStage's own. `container_default_port`
 * is the port a container image of that runtime listens on (INF: only Java8's 8080 is documented).
 */
export const V2_RUNTIMES: readonly { name: string; stackType: string; display: string; port: number; description: string }[] = [
  { name: 'Java8', stackType: 'Java', display: 'Java 8', port: 8080, description: 'Java runtime: a JAR run with the JDK 17+ on the OpenStage host' },
  { name: 'Tomcat8', stackType: 'Tomcat', display: 'Tomcat 8', port: 8080, description: 'Tomcat runtime: a WAR run as ROOT in Apache Tomcat 10 with the JDK 17+' },
  { name: 'Nodejs8', stackType: 'Nodejs', display: 'Node.js 8', port: 8080, description: 'Node.js runtime: a package run with Node.js 20+' },
  { name: 'Python3', stackType: 'Python', display: 'Python 3', port: 8080, description: 'Python 3 runtime' },
  { name: 'Go1', stackType: 'Go', display: 'Go 1', port: 8080, description: 'Go runtime: Go source built with go build and run (OpenStage addition)' },
  { name: 'Docker', stackType: 'Docker', display: 'Docker', port: 80, description: 'A container image' },
];

/** The v3 runtime stack type a v2 runtime name runs on, or undefined (Php7, Custom, unknown). */
export function stackTypeOfRuntime(runtime: string): string | undefined {
  return V2_RUNTIMES.find((r) => r.name.toLowerCase() === runtime.toLowerCase())?.stackType;
}

/** The v2 runtime name of a v3 runtime stack (by type; the stack name when no v2 runtime maps to it). */
export function runtimeOfStack(stack: { name: string; type: string }): string {
  return V2_RUNTIMES.find((r) => r.stackType.toLowerCase() === stack.type.toLowerCase())?.name ?? stack.name;
}

/** GET /metadata/runtimes: the v2 runtimes whose stack type a runtime of this server runs. */
export function runtimesToWire(runnableTypes: readonly string[]): RuntimeListWire {
  return {
    runtimes: V2_RUNTIMES.filter((r) => runnableTypes.includes(r.stackType)).map((r) => ({ type_name: r.name, display_name: r.display, container_default_port: r.port, type_desc: r.description })),
  };
}

// ───────────── flavors ─────────────

/**
 * The fixed flavors (SDK FlavorId enum; sizes from the API reference's example: limit
 * `num_cpu`/`memory_size`, initial request `num_cpu_init`/`memory_size_init`). OpenStage
 * turns a flavor into the component's limit_cpu/limit_memory and request_cpu/request_memory.
 * The initial values other than MICRO's are INF (a fifth of the limit, as MICRO's).
 */
const FLAVORS: readonly { id: string; storage: string; cpu: number; cpuInit: number; memGi: number; memInitMi: number; label: string }[] = [
  { id: 'MICRO-5G:0.5C:1G', storage: '5G', cpu: 0.5, cpuInit: 0.2, memGi: 1, memInitMi: 200, label: 'Micro: 5G Storage, 0.5 CPU, 1G Memory' },
  { id: 'SMALL-10G:1.0C:2G', storage: '10G', cpu: 1, cpuInit: 0.2, memGi: 2, memInitMi: 400, label: 'Small: 10G Storage, 1 CPU, 2G Memory' },
  { id: 'STANDARD-30G:2.0C:4G', storage: '30G', cpu: 2, cpuInit: 0.4, memGi: 4, memInitMi: 800, label: 'Standard: 30G Storage, 2 CPU, 4G Memory' },
  { id: 'LARGE-50G:4.0C:8G', storage: '50G', cpu: 4, cpuInit: 0.8, memGi: 8, memInitMi: 1600, label: 'Large: 50G Storage, 4 CPU, 8G Memory' },
  { id: 'XLARGE-100G:4.0C:16G', storage: '100G', cpu: 4, cpuInit: 0.8, memGi: 16, memInitMi: 3200, label: 'XLarge: 100G Storage, 4 CPU, 16G Memory' },
];

/** GET /metadata/flavors: the fixed flavors and the custom pattern. */
export function flavorsToWire(): FlavorListWire {
  const milli = (cores: number) => `${Math.round(cores * 1000)}m`;
  return {
    flavors: [
      ...FLAVORS.map((f) => ({ flavor_id: f.id, storage_size: f.storage, num_cpu: milli(f.cpu), num_cpu_init: milli(f.cpuInit), memory_size: `${f.memGi}Gi`, memory_size_init: `${f.memInitMi}Mi`, label: f.label, custom: false })),
      { flavor_id: 'CUSTOM-XG:X-X:X-X', storage_size: '', num_cpu: '', num_cpu_init: '', memory_size: '', memory_size_init: '', label: 'Custom: CUSTOM-<storage>G:<limit>C-<request>C:<limit>Gi-<request>Gi', custom: true },
    ],
  };
}

/** cpu cores and memory GiB a flavor sets on a component. */
export interface FlavorLimits {
  limit_cpu: number;
  request_cpu: number;
  limit_memory: number;
  request_memory: number;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Cores of a flavor's CPU part: `0.5C` or millicores `500m`. */
function cores(v: string): number {
  return v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v.slice(0, -1));
}

/** GiB of a flavor's memory part: `1.6Gi` (`G` too) or MiB `512Mi`. */
function gibibytes(v: string): number {
  return v.endsWith('Mi') ? Number(v.slice(0, -2)) / 1024 : Number(v.replace(/Gi?$/, ''));
}

/**
 * The limits of a flavor id: a fixed one, or `CUSTOM-<n>G:<limit>C-<request>C:<limit>Gi-<request>Gi`
 * (golangsdk's documented format; the provider's tests also write CPU in millicores, `250m`,
 * and memory may be in `Mi` or `G`).
 * @throws 400 SVCSTG.00100400 naming the accepted forms
 */
export function flavorLimits(flavorId: string): FlavorLimits {
  const fixed = FLAVORS.find((f) => f.id === flavorId);
  if (fixed) return { limit_cpu: fixed.cpu, request_cpu: fixed.cpuInit, limit_memory: fixed.memGi, request_memory: round(fixed.memInitMi / 1024) };
  const cpu = '(\\d+(?:\\.\\d+)?C|\\d+m)';
  const mem = '(\\d+(?:\\.\\d+)?(?:Gi|G|Mi))';
  const m = new RegExp(`^CUSTOM-\\d+(?:\\.\\d+)?G:${cpu}-${cpu}:${mem}-${mem}$`).exec(flavorId);
  if (m) {
    const [limitCpu, requestCpu] = [cores(m[1]!), cores(m[2]!)];
    const [limitMemory, requestMemory] = [gibibytes(m[3]!), gibibytes(m[4]!)];
    if (requestCpu <= limitCpu && requestMemory <= limitMemory && limitCpu > 0 && limitMemory > 0) return { limit_cpu: round(limitCpu), request_cpu: round(requestCpu), limit_memory: round(limitMemory), request_memory: round(requestMemory) };
  }
  throw casError('InvalidParameter', `flavor_id '${flavorId}' is neither a flavor of GET /v2/{project_id}/cas/metadata/flavors nor CUSTOM-<n>G:<limit>C-<request>C:<limit>Gi-<request>Gi with requests not above limits`);
}

/** The flavor id naming a component's limits: a fixed flavor's when they match one, else a CUSTOM one; "" without limits. */
export function flavorOfLimits(body: Partial<FlavorLimits>): string {
  if (body.limit_cpu === undefined || body.limit_memory === undefined) return '';
  const limits: FlavorLimits = { limit_cpu: body.limit_cpu, limit_memory: body.limit_memory, request_cpu: body.request_cpu ?? body.limit_cpu, request_memory: body.request_memory ?? body.limit_memory };
  const fixed = FLAVORS.find((f) => {
    const l = flavorLimits(f.id);
    return l.limit_cpu === limits.limit_cpu && l.limit_memory === limits.limit_memory && l.request_cpu === limits.request_cpu && l.request_memory === limits.request_memory;
  });
  return fixed ? fixed.id : `CUSTOM-10G:${limits.limit_cpu}C-${limits.request_cpu}C:${limits.limit_memory}Gi-${limits.request_memory}Gi`;
}

// ───────────── instance body → component body ─────────────

/** Drops undefined, null, "" and 0-port values so that what the Go SDK leaves unset does not reach the v3 body. */
function compact<T extends Json>(o: T): T {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') out[k] = v;
  return out as T;
}

const list = <T>(v: T[] | null | undefined): T[] => v ?? [];

function probeToV3(p: NonNullable<NonNullable<InstanceConfigurationWire['probes']>>['livenessProbe']): Json | undefined {
  if (!p) return undefined;
  const params = p.parameters ?? {};
  return compact({ type: p.type, delay: p.delay, timeout: p.timeout || undefined, scheme: params.scheme, host: params.host, port: params.port || undefined, path: params.path, command: params.command ?? undefined });
}

function processToV3(p: { type?: string; parameters?: { command?: string[] | null; host?: string; port?: number; path?: string } | null } | null | undefined): Json | undefined {
  if (!p || !p.type) return undefined;
  const params = p.parameters ?? {};
  return compact({ type: p.type, host: params.host, port: params.port || undefined, path: params.path, command: params.command ?? undefined });
}

function affinityToV3(a: { az?: string[] | null; node?: string[] | null; application?: string[] | null } | null | undefined): Json | undefined {
  if (!a) return undefined;
  const out = compact({ az: a.az ?? undefined, node: a.node ?? undefined, component: a.application ? a.application.map((name) => ({ name })) : undefined });
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The v3 fields a v2 instance `configuration` sets (env, storage, upgrade strategy, lifecycle,
 * logs, scheduler, probes). Absent parts give absent fields.
 */
export function configurationToV3(c: InstanceConfigurationWire | null | undefined): Partial<ComponentBody> {
  if (!c) return {};
  const out: Json = {};
  if (c.env) out.envs = c.env.map((e) => ({ name: e.name, value: e.value }));
  if (c.storage) {
    out.storages = c.storage.map((s) => ({
      type: s.type,
      parameters: compact({ path: s.parameters?.path, name: s.parameters?.name, claim_name: s.parameters?.claimName, secret_name: s.parameters?.secretName, default_mode: s.parameters?.defaultMode, medium: s.parameters?.medium }),
      mounts: list(s.mounts).map((m) => compact({ path: m.path, sub_path: m.subPath, read_only: m.readOnly ?? undefined })),
    }));
  }
  if (c.strategy?.upgrade) out.update_strategy = { type: c.strategy.upgrade };
  const entry = c.lifecycle?.entrypoint;
  if (entry && (entry.command?.length || entry.args?.length)) out.command = compact({ command: entry.command ?? undefined, args: entry.args ?? undefined });
  const postStart = processToV3(c.lifecycle?.['post-start']);
  if (postStart) out.post_start = postStart;
  const preStop = processToV3(c.lifecycle?.['pre-stop']);
  if (preStop) out.pre_stop = preStop;
  if (c.logs) out.logs = c.logs.map((l) => compact({ log_path: l.logPath, rotate: l.rotate, host_path: l.hostPath, host_extend_path: l.hostExtendPath }));
  const affinity = affinityToV3(c.scheduler?.affinity);
  if (affinity) out.affinity = affinity;
  const antiAffinity = affinityToV3(c.scheduler?.['anti-affinity']);
  if (antiAffinity) out.anti_affinity = antiAffinity;
  const liveness = probeToV3(c.probes?.livenessProbe);
  if (liveness) out.liveness_probe = liveness;
  const readiness = probeToV3(c.probes?.readinessProbe);
  if (readiness) out.readiness_probe = readiness;
  return out as Partial<ComponentBody>;
}

/** The v3 fields `configuration` may set; an instance update replaces all of them. */
const CONFIGURATION_FIELDS = ['envs', 'storages', 'update_strategy', 'command', 'post_start', 'pre_stop', 'logs', 'affinity', 'anti_affinity', 'liveness_probe', 'readiness_probe'] as const;

/**
 * The v3 `source` an instance deploys: its first artifact with a URL (a package, or an image),
 * else its component's source (a repository or a package).
 * @throws 400 SVCSTG.00100425 when neither gives one
 */
export function sourceToV3(artifacts: Record<string, V2Artifact> | null | undefined, componentSource: V2Source | undefined): ComponentBody['source'] {
  const artifact = Object.values(artifacts ?? {}).find((a) => a.url);
  if (artifact) return compact({ kind: artifact.type === 'image' ? 'image' : 'package', url: artifact.url, storage: artifact.storage, auth: artifact.auth, version: artifact.version }) as ComponentBody['source'];
  const spec = (componentSource?.spec ?? {}) as Record<string, string | undefined>;
  if (componentSource?.kind === 'code' && (spec.repo_url || spec.url)) {
    return compact({ kind: 'code', repo_url: spec.repo_url || spec.url, repo_ref: spec.repo_ref, repo_auth: spec.repo_auth, repo_type: spec.repo_type, repo_namespace: spec.repo_namespace, web_url: spec.webUrl }) as ComponentBody['source'];
  }
  if (componentSource?.kind === 'artifact' && spec.url) return compact({ kind: spec.type === 'image' ? 'image' : 'package', url: spec.url, storage: spec.storage, auth: spec.auth }) as ComponentBody['source'];
  throw casError('ArtifactsEmpty', 'artifacts must give a package url when the component has no source');
}

/** The v3 `build` of a v2 component's build parameters (the fields v3 declares; the others are kept too). */
export function buildToV3(build: V2ComponentBody['build']): ComponentBody['build'] | undefined {
  const p = build?.parameters;
  if (!p || Object.keys(p).length === 0) return undefined;
  const params: Json = { ...p };
  const selector = p.node_label_selector;
  if (selector !== undefined && (selector === null || typeof selector !== 'object' || Object.values(selector).some((v) => typeof v !== 'string'))) delete params.node_label_selector;
  return { parameters: params } as ComponentBody['build'];
}

/** What a new instance deploys: the v2 inputs of InstanceCreate with the resolved stack and source. */
export interface InstanceInput {
  body: CreateInstanceBodyWire;
  stack: { name: string; type: string; version: string; deploy_mode: 'virtualmachine' | 'container' };
  component: V2ComponentBody;
}

/** The v3 component body of a new v2 instance (name = instance name). */
export function instanceToComponentBody({ body, stack, component }: InstanceInput): ComponentBody {
  const flavor = body.flavor_id ? flavorLimits(body.flavor_id) : undefined;
  const build = buildToV3(component.build);
  const out: Json = {
    name: body.name,
    environment_id: body.environment_id,
    replica: body.replica,
    version: body.version,
    runtime_stack: stack,
    source: sourceToV3(body.artifacts, component.source),
    refer_resources: list(body.refer_resources).map((r) => compact({ id: r.id, type: r.type, refer_alias: r.refer_alias, parameters: r.parameters ?? undefined })),
    ...(body.description ? { description: body.description } : {}),
    ...(build ? { build } : {}),
    ...(flavor ?? {}),
    ...configurationToV3(body.configuration),
  };
  if (body.external_accesses?.length) out.external_accesses = body.external_accesses.map((e) => compact({ protocol: e.protocol, address: e.address, forward_port: e.forward_port || undefined }));
  return out as ComponentBody;
}

/**
 * The v3 body after a v2 instance update (InstanceModify): the current body with the new
 * version and the fields sent. `configuration`, when sent, replaces every field it covers;
 * artifacts replace the source; absent fields keep their values.
 */
export function updateComponentBody(current: ComponentBody, body: UpdateInstanceBodyWire, component: V2ComponentBody | undefined): ComponentBody {
  const next: Json = { ...current, version: body.version };
  if (body.flavor_id) Object.assign(next, flavorLimits(body.flavor_id));
  if (body.artifacts && Object.values(body.artifacts).some((a) => a.url)) next.source = sourceToV3(body.artifacts, component?.source);
  if (body.description !== undefined) next.description = body.description;
  if (body.refer_resources) next.refer_resources = body.refer_resources.map((r) => compact({ id: r.id, type: r.type, refer_alias: r.refer_alias, parameters: r.parameters ?? undefined }));
  if (body.external_accesses) next.external_accesses = body.external_accesses.map((e) => compact({ protocol: e.protocol, address: e.address, forward_port: e.forward_port || undefined }));
  if (body.configuration) {
    for (const f of CONFIGURATION_FIELDS) delete next[f];
    Object.assign(next, configurationToV3(body.configuration));
  }
  return next as ComponentBody;
}

// ───────────── component body → instance view ─────────────

function probeToV2(p: ComponentBody['liveness_probe']): Json | undefined {
  if (!p) return undefined;
  return compact({ type: p.type, delay: p.delay, timeout: p.timeout, parameters: compact({ scheme: p.scheme, host: p.host, port: p.port, path: p.path, command: p.command }) });
}

function processToV2(p: ComponentBody['post_start']): Json | undefined {
  if (!p?.type) return undefined;
  return { type: p.type, parameters: compact({ command: p.command, host: p.host, port: p.port, path: p.path }) };
}

function affinityToV2(a: unknown): Json | undefined {
  if (!a || Array.isArray(a) || typeof a !== 'object') return undefined;
  const o = a as { az?: string[]; node?: string[]; component?: { name?: string }[] };
  const out = compact({ az: o.az, node: o.node, application: o.component?.map((c) => c.name ?? '').filter(Boolean) });
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The v2 `configuration` of a v3 component body (the parts it has; `{}` when none). */
export function configurationToV2(b: ComponentBody): Json {
  const out: Json = {};
  if (b.envs?.length) out.env = b.envs.map((e) => ({ name: e.name, value: e.value ?? '', internal: e.inner ?? false }));
  if (b.storages?.length) {
    out.storage = b.storages.map((s) => {
      const p = (s.parameters ?? {}) as Json & { path?: string; name?: string; config_id?: string; default_mode?: number; medium?: string; claim_name?: string; secret_name?: string };
      return {
        type: s.type,
        parameters: compact({ path: p.path, name: p.name ?? p.config_id, claimName: p.claim_name, secretName: p.secret_name, defaultMode: p.default_mode, medium: p.medium }),
        mounts: s.mounts.map((m) => compact({ path: m.path, subPath: m.sub_path, readOnly: m.read_only ?? false })),
      };
    });
  }
  if (b.update_strategy?.type) out.strategy = { upgrade: b.update_strategy.type };
  const lifecycle: Json = {};
  if (b.command && (b.command.command?.length || b.command.args?.length)) lifecycle.entrypoint = { command: b.command.command ?? [], args: b.command.args ?? [] };
  const postStart = processToV2(b.post_start);
  if (postStart) lifecycle['post-start'] = postStart;
  const preStop = processToV2(b.pre_stop);
  if (preStop) lifecycle['pre-stop'] = preStop;
  if (Object.keys(lifecycle).length > 0) out.lifecycle = lifecycle;
  if (b.logs?.length) out.logs = b.logs.map((l) => compact({ logPath: l.log_path, rotate: l.rotate, hostPath: l.host_path, hostExtendPath: l.host_extend_path }));
  const scheduler = compact({ affinity: affinityToV2(b.affinity), 'anti-affinity': affinityToV2(b.anti_affinity) });
  if (Object.keys(scheduler).length > 0) out.scheduler = scheduler;
  const probes = compact({ livenessProbe: probeToV2(b.liveness_probe), readinessProbe: probeToV2(b.readiness_probe) });
  if (Object.keys(probes).length > 0) out.probes = probes;
  return out;
}

/**
 * The v2 `artifacts` of an instance: those it was last deployed with, while the v3 source is
 * still what they became; else derived from the v3 source (a package or an image, under the
 * key `name`); `{}` for a repository source.
 */
export function artifactsToV2(b: ComponentBody, name: string, stored: { artifacts: Record<string, V2Artifact>; artifactSource: string } | undefined): Record<string, V2Artifact> {
  if (stored && stored.artifactSource !== '' && stored.artifactSource === JSON.stringify(b.source)) return stored.artifacts;
  const s = b.source;
  if (s.kind === 'code' || !s.url) return {};
  return { [name]: compact({ storage: s.storage ?? (s.kind === 'image' ? 'swr' : 'obs'), type: s.kind === 'image' ? 'image' : 'package', url: s.url, auth: s.auth, version: s.version }) };
}

/** The v2 `source` of a v3 component (for v3 components seen through v2). */
export function sourceToV2(s: ComponentBody['source']): V2Source {
  if (s.kind === 'code') return { kind: 'code', spec: compact({ repo_type: s.repo_type, repo_url: s.repo_url || s.url, repo_ref: s.repo_ref, repo_auth: s.repo_auth, repo_namespace: s.repo_namespace }) };
  return { kind: 'artifact', spec: compact({ storage: s.storage ?? (s.kind === 'image' ? 'swr' : 'obs'), type: s.kind === 'image' ? 'image' : 'package', url: s.url, auth: s.auth }) };
}

/** v3 component statuses the v2 enum lacks: a gray release waiting to continue is UPGRADING in v2. */
export function statusToV2(status: string): string {
  return status === 'GRAYING' ? 'UPGRADING' : status;
}

// ───────────── jobs ─────────────

/** v2 JOB_TYPE (API reference: PROVISION, DEPROVISION, DAILY_OPERATION, …) of an engine job type. */
function jobTypeToV2(jobType: string): string {
  if (jobType === 'deploy' || jobType === 'upgrade') return 'PROVISION';
  if (jobType === 'remove' || jobType === 'delete') return 'DEPROVISION';
  return 'DAILY_OPERATION';
}

/**
 * The tasks a v2 job lists: those that ran (RUNNING, SUCCEEDED, FAILED), in order, and — while
 * the job runs — its current step as RUNNING even in the instant between two tasks or before
 * the first starts (a job queued behind another one on the same component is RUNNING too).
 * Tasks skipped or not reached are not listed. So the last task listed always says how the job
 * stands, which is what the Terraform provider polls (servicestage_component_instance: the
 * last task's status, pending while RUNNING).
 */
export function visibleTasks(detail: JobDetail): Task[] {
  const ran = detail.tasks.filter((t) => t.status === 'RUNNING' || t.status === 'SUCCEEDED' || t.status === 'FAILED');
  if (detail.job.status !== 'RUNNING') return ran;
  if (ran.some((t) => t.status === 'RUNNING' || t.status === 'FAILED')) return ran;
  const next = detail.tasks.find((t) => t.status === 'PENDING');
  return next ? [...ran, { ...next, status: 'RUNNING' }] : ran;
}

/** RFC 3339 UTC, as task times are strings in the API. */
const time = (ms: number) => new Date(ms).toISOString();

/**
 * The v2 job detail (upper-case fields) of an engine job: tasks as visibleTasks(), paged by
 * offset/limit (0 or absent = all) and reversed when `desc` is "true".
 * @param creator the user name of whoever started the job ("" when unknown)
 */
export function jobToV2(detail: JobDetail, query: JobQueryWire, creator: string): JobWire {
  const visible = visibleTasks(detail);
  const ordered = query.desc === 'true' ? [...visible].reverse() : visible;
  const offset = query.offset ?? 0;
  const page = ordered.slice(offset, query.limit ? offset + query.limit : undefined);
  const j = detail.job;
  return {
    task_count: visible.length,
    job: {
      CREATED_BY: creator,
      EXECUTION_STATUS: j.status,
      JOB_DESC: j.jobType,
      JOB_ID: j.jobId,
      JOB_NAME: j.jobType,
      JOB_TYPE: jobTypeToV2(j.jobType),
      ORDER_ID: '',
      PROJECT_ID: j.project,
      // The engine keys a component's jobs `project/component`; the instance id is the component id.
      SERVICE_INSTANCE_ID: j.targetId.startsWith(`${j.project}/`) ? j.targetId.slice(j.project.length + 1) : j.targetId,
    },
    tasks: page.map((t) => ({
      CREATED_AT: time(t.createdAtMs),
      LAST_HEALTH_CHECK: time(t.updatedAtMs),
      MESSAGES: t.messages.join('\n'),
      OWNER_ID: creator,
      TASK_ID: t.taskId,
      TASK_INDEX: t.index,
      TASK_NAME: t.name,
      TASK_STATUS: t.status,
      TASK_TYPE: t.type,
    })),
  };
}
