import type { ComponentPlan, MountedFile, PlanAffinityRule, PlanHook, PlanProbe, PlanVolume, RuntimeKind } from '../../deploy/types.js';
import type { ResourceBinding } from '../environment/types.js';
import type { Component } from './types.js';

/**
 * Builds the deployment engine's plan from a component (servicestage.md §4.1; DESIGN.md
 * "Deployments"). Pure: everything it needs is passed in.
 *
 * Variables, later ones winning by name:
 * 1. the application's configuration for the environment (`appEnv`);
 * 2. the component's `envs` that carry a `value` (`value_from` is not resolved);
 * 3. system variables: CAS_APPLICATION_ID/NAME, CAS_COMPONENT_ID/NAME,
 *    CAS_ENVIRONMENT_ID/NAME, PAAS_PROJECT_ID, PAAS_REGION_NAME, PAAS_CSE_SC_ENDPOINT and
 *    PAAS_CSE_CC_ENDPOINT (this server's URL, or the `endpoint` parameter of the
 *    environment's cse binding), RELATIONAL_DATABASE_* from an rds binding and
 *    DISTRIBUTED_CACHE_* from a dcs binding. The binding of a type is the one whose id a
 *    `refer_resources` entry of that type names, else the environment's first of that type.
 */
export interface PlanInput {
  component: Component;
  applicationName: string;
  environmentName: string;
  appEnv: { name: string; value: string }[];
  bindings: ResourceBinding[];
  /** Config files to mount, contents unrendered (the engine renders them per replica). */
  files: MountedFile[];
  /** This server's base URL (`http://host:port`); "" when unknown. */
  serverUrl: string;
  region: string;
  credentials?: { username: string; password: string };
  /** Where it runs (deploy/runtime.ts chooseRuntime). */
  runtime: RuntimeKind;
}

/** Grace between SIGTERM and SIGKILL (seconds) when update_strategy.termination_period_seconds is absent: Kubernetes' default terminationGracePeriodSeconds; a JVM framework such as Java Chassis needs several seconds on a busy machine to turn its instance down and deregister. */
export const DEFAULT_TERMINATION_SECONDS = 30;

/** The binding of `type` the component uses, or undefined. */
export function pickBinding(component: Component, bindings: readonly ResourceBinding[], type: string): ResourceBinding | undefined {
  const of = bindings.filter((b) => b.type === type);
  const named = (component.body.refer_resources ?? []).find((r) => r.type === type);
  return (named && of.find((b) => b.id === named.id)) ?? of[0];
}

/** System variables of a component (step 3 above). */
export function systemVariables(input: PlanInput): Record<string, string> {
  const c = input.component;
  const cse = pickBinding(c, input.bindings, 'cse')?.parameters.endpoint;
  // On a cluster, pods reach this server at the address the cluster binding gives (the one
  // OpenStage listens on is usually loopback or unroutable from pods).
  const endpoint = cse || clusterBinding(c, input.bindings)?.parameters.openstage_url || input.serverUrl;
  const vars: Record<string, string> = {
    CAS_APPLICATION_ID: c.applicationId,
    CAS_APPLICATION_NAME: input.applicationName,
    CAS_COMPONENT_ID: c.id,
    CAS_COMPONENT_NAME: c.name,
    CAS_ENVIRONMENT_ID: c.environmentId,
    CAS_ENVIRONMENT_NAME: input.environmentName,
    PAAS_PROJECT_ID: c.projectId,
    PAAS_REGION_NAME: input.region,
  };
  if (endpoint) {
    vars.PAAS_CSE_SC_ENDPOINT = endpoint;
    vars.PAAS_CSE_CC_ENDPOINT = endpoint;
  }
  const rds = pickBinding(c, input.bindings, 'rds');
  if (rds) {
    const p = rds.parameters;
    Object.assign(vars, {
      RELATIONAL_DATABASE_HOST: p.host ?? '',
      RELATIONAL_DATABASE_PORT: p.port ?? '',
      RELATIONAL_DATABASE_DB_TYPE: p.db_type ?? '',
      RELATIONAL_DATABASE_DB_NAME: p.db_name ?? '',
      RELATIONAL_DATABASE_DB_USER: p.db_user ?? '',
      RELATIONAL_DATABASE_PASSWORD: p.password ?? '',
      RELATIONAL_DATABASE_NAME: rds.name || rds.id,
      RELATIONAL_DATABASE_VERSION: p.version ?? '',
      RELATIONAL_DATABASE_CONNECTION_TYPE: p.connection_type ?? 'JDBC',
      RELATIONAL_DATABASE_JNDI_NAME: p.jndi_name ?? '',
    });
  }
  const dcs = pickBinding(c, input.bindings, 'dcs');
  if (dcs) {
    const p = dcs.parameters;
    Object.assign(vars, {
      DISTRIBUTED_CACHE_HOST: p.host ?? '',
      DISTRIBUTED_CACHE_PORT: p.port ?? '',
      DISTRIBUTED_CACHE_PASSWORD: p.password ?? '',
      DISTRIBUTED_CACHE_TYPE: p.type ?? 'Redis',
      DISTRIBUTED_CACHE_VERSION: p.version ?? '',
      DISTRIBUTED_CACHE_CLUSTER: p.cluster ?? '',
    });
  }
  return vars;
}

function probe(p: NonNullable<Component['body']['readiness_probe']> | undefined): PlanProbe | undefined {
  if (!p) return undefined;
  const out: PlanProbe = { type: p.type };
  if (p.host !== undefined) out.host = p.host;
  if (p.port !== undefined) out.port = p.port;
  if (p.path !== undefined) out.path = p.path;
  if (p.scheme !== undefined) out.scheme = p.scheme;
  if (p.command !== undefined) out.command = p.command;
  if (p.delay !== undefined) out.delay = p.delay;
  if (p.timeout !== undefined) out.timeout = p.timeout;
  return out;
}

/** The engine's plan for the component's body. */
export function buildPlan(input: PlanInput): ComponentPlan {
  const c = input.component;
  const b = c.body;
  const env: Record<string, string> = {};
  for (const e of input.appEnv) env[e.name] = e.value;
  for (const e of b.envs ?? []) if (e.value !== undefined) env[e.name] = e.value;
  Object.assign(env, systemVariables(input));
  const source: ComponentPlan['source'] = { kind: b.source.kind };
  if (b.source.url) source.url = b.source.url;
  if (b.source.repo_url) source.repo_url = b.source.repo_url;
  if (b.source.repo_ref) source.repo_ref = b.source.repo_ref;
  const strategy: ComponentPlan['strategy'] = { type: b.deploy_strategy?.type ?? 'OneBatchRelease' };
  if (b.deploy_strategy?.rolling_release?.batches !== undefined) strategy.batches = b.deploy_strategy.rolling_release.batches;
  if (b.deploy_strategy?.gray_release?.first_batch_replica !== undefined) strategy.firstBatchReplica = b.deploy_strategy.gray_release.first_batch_replica;
  const plan: ComponentPlan = {
    project: c.projectId,
    componentId: c.id,
    componentName: c.name,
    applicationId: c.applicationId,
    applicationName: input.applicationName,
    environmentId: c.environmentId,
    environmentName: input.environmentName,
    version: b.version,
    source,
    stackType: b.runtime_stack.type,
    replicas: b.replica,
    env,
    files: input.files,
    strategy,
    terminationGraceSeconds: b.update_strategy?.termination_period_seconds ?? DEFAULT_TERMINATION_SECONDS,
  };
  if (input.credentials) plan.credentials = input.credentials;
  plan.runtime = input.runtime;
  const GiB = 1024 * 1024 * 1024;
  const resources: NonNullable<ComponentPlan['resources']> = {};
  if (b.limit_cpu) resources.limitCpuCores = b.limit_cpu;
  if (b.request_cpu) resources.requestCpuCores = b.request_cpu;
  if (b.limit_memory) resources.limitMemoryBytes = Math.round(b.limit_memory * GiB);
  if (b.request_memory) resources.requestMemoryBytes = Math.round(b.request_memory * GiB);
  if (Object.keys(resources).length > 0) plan.resources = resources;
  if (b.build?.parameters?.dockerfile_path) plan.dockerfilePath = b.build.parameters.dockerfile_path;
  Object.assign(plan, workloadFields(c, input.bindings));
  if (b.command && (b.command.command?.length || b.command.args?.length)) plan.command = { ...(b.command.command ? { command: b.command.command } : {}), ...(b.command.args ? { args: b.command.args } : {}) };
  const jvm = splitOptions(b.jvm_opts ?? '');
  if (jvm.length > 0) plan.jvmOpts = jvm;
  const readiness = probe(b.readiness_probe);
  if (readiness) plan.readinessProbe = readiness;
  const liveness = probe(b.liveness_probe);
  if (liveness) plan.livenessProbe = liveness;
  return plan;
}

/** The cluster binding (`cce` or `custom_k8s`) a component runs on, or undefined (see ComponentPlan.cluster). */
export function clusterBinding(component: Component, bindings: readonly ResourceBinding[]): ResourceBinding | undefined {
  const of = bindings.filter((b) => b.type === 'cce' || b.type === 'custom_k8s');
  const named = (component.body.refer_resources ?? []).find((r) => r.type === 'cce' || r.type === 'custom_k8s');
  return (named && of.find((b) => b.id === named.id)) ?? of[0];
}

type Body = Component['body'];

function hook(h: Body['post_start']): PlanHook | undefined {
  if (!h) return undefined;
  const out: PlanHook = { type: h.type ?? (h.command?.length ? 'command' : 'http') };
  if (h.scheme !== undefined) out.scheme = h.scheme;
  if (h.host !== undefined) out.host = h.host;
  if (h.port !== undefined) out.port = h.port;
  if (h.path !== undefined) out.path = h.path;
  if (h.command !== undefined) out.command = h.command;
  return out;
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/**
 * Affinity rules from either wire form (servicestage.md §4.1): the NJS object `{az, node,
 * component}` (required: zones by topology.kubernetes.io/zone, nodes by
 * kubernetes.io/hostname, components by their pods' app.kubernetes.io/name), or TF's list
 * `[{condition, kind, match_expressions: [{key, operation, value}], weight}]` (a `value` may
 * list several values separated by commas).
 */
function affinityRules(a: Body['affinity']): PlanAffinityRule[] | undefined {
  if (!a) return undefined;
  const rules: PlanAffinityRule[] = [];
  if (Array.isArray(a)) {
    for (const r of a) {
      const exprs = Array.isArray(r.match_expressions) ? (r.match_expressions as Record<string, unknown>[]) : [];
      rules.push({
        kind: r.kind === 'pod' ? 'pod' : 'node',
        condition: r.condition === 'preferred' ? 'preferred' : 'required',
        weight: typeof r.weight === 'number' ? Math.min(100, Math.max(1, r.weight)) : 1,
        matchExpressions: exprs.map((e) => ({
          key: String(e.key ?? ''),
          operator: (OPERATORS.has(String(e.operation)) ? String(e.operation) : 'In') as PlanAffinityRule['matchExpressions'][number]['operator'],
          values: e.value === undefined || e.value === '' ? [] : String(e.value).split(',').map((v) => v.trim()),
        })),
      });
    }
  } else {
    const required = (kind: 'node' | 'pod', key: string, values: string[] | undefined): void => {
      if (values?.length) rules.push({ kind, condition: 'required', weight: 1, matchExpressions: [{ key, operator: 'In', values }] });
    };
    required('node', 'topology.kubernetes.io/zone', a.az);
    required('node', 'kubernetes.io/hostname', a.node);
    required('pod', 'app.kubernetes.io/name', a.component?.map((x) => x.name ?? x.display_name ?? '').filter((x) => x));
  }
  return rules.length ? rules : undefined;
}

/**
 * The plan fields a cluster runtime uses beyond the others': labels, hooks, affinity, external accesses, volumes, update strategy and the cluster
 * binding (ComponentPlan docs). Absent body fields stay absent.
 */
export function workloadFields(c: Component, bindings: readonly ResourceBinding[]): Partial<ComponentPlan> {
  const b = c.body;
  const out: Partial<ComponentPlan> = {};
  if (b.labels?.length) out.labels = Object.fromEntries(b.labels.map((l) => [l.key, l.value]));
  const postStart = hook(b.post_start);
  if (postStart) out.postStart = postStart;
  const preStop = hook(b.pre_stop);
  if (preStop) out.preStop = preStop;
  const affinity = affinityRules(b.affinity);
  if (affinity) out.affinity = affinity;
  const antiAffinity = affinityRules(b.anti_affinity);
  if (antiAffinity) out.antiAffinity = antiAffinity;
  if (b.external_accesses?.length) {
    out.externalAccesses = b.external_accesses.map((e) => ({ protocol: e.protocol ?? 'HTTP', ...(e.address ? { address: e.address } : {}), ...(e.forward_port !== undefined ? { forwardPort: e.forward_port } : {}) }));
  }
  const volumes: PlanVolume[] = [];
  for (const st of b.storages ?? []) {
    if (st.type !== 'EmptyDir' && st.type !== 'HostPath' && st.type !== 'PersistentVolumeClaim') continue;
    const v: PlanVolume = { type: st.type, mounts: st.mounts.map((m) => ({ path: m.path, ...(m.sub_path ? { subPath: m.sub_path } : {}), ...(m.read_only !== undefined ? { readOnly: m.read_only } : {}) })) };
    if (st.type === 'HostPath' && st.parameters?.path) v.path = st.parameters.path;
    if (st.type === 'PersistentVolumeClaim' && (st.parameters?.name || st.name)) v.claimName = st.parameters?.name || st.name;
    if (st.type === 'EmptyDir' && st.parameters?.medium) v.medium = st.parameters.medium;
    volumes.push(v);
  }
  if (volumes.length) out.volumes = volumes;
  const u = b.update_strategy;
  if (u) {
    const s: NonNullable<ComponentPlan['updateStrategy']> = {};
    if (u.max_surge !== undefined) s.maxSurge = u.max_surge;
    if (u.max_unavailable !== undefined) s.maxUnavailable = u.max_unavailable;
    if (u.min_ready_seconds !== undefined) s.minReadySeconds = u.min_ready_seconds;
    if (u.progress_deadline_seconds !== undefined) s.progressDeadlineSeconds = u.progress_deadline_seconds;
    if (u.revision_history_limit !== undefined) s.revisionHistoryLimit = u.revision_history_limit;
    if (Object.keys(s).length) out.updateStrategy = s;
  }
  const cluster = clusterBinding(c, bindings);
  if (cluster) {
    const ref = (b.refer_resources ?? []).find((r) => r.id === cluster.id && r.type === cluster.type);
    const namespace = ref?.parameters?.namespace;
    out.cluster = { resourceId: cluster.id, type: cluster.type, ...(typeof namespace === 'string' && namespace ? { namespace } : {}) };
  }
  return out;
}

/**
 * `jvm_opts` as JVM arguments, split as a shell splits JAVA_OPTS in catalina.sh's `eval`:
 * on blanks, except inside '…' (taken literally) or "…" (where \" and \\ are escapes); a
 * backslash outside quotes keeps the next character. `-Dgreeting="hello world"` is one
 * argument, `-Dgreeting=hello world`. An unclosed quote runs to the end of the string.
 */
export function splitOptions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let started = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) current += text[++i];
      else current += ch;
    } else if (/\s/.test(ch)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      started = true;
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\' && i + 1 < text.length) current += text[++i];
      else current += ch;
    }
  }
  if (started) out.push(current);
  return out;
}

/**
 * The config files a component mounts: `[{configId, path, storage, secret}]` from its
 * ConfigMap and Secret storages (`parameters.config_id`, else `parameters.name`), one per
 * mount; `secret` for a Secret storage.
 */
export function configMounts(component: Pick<Component, 'body'>): { configId: string; path: string; storage: number; secret: boolean }[] {
  const out: { configId: string; path: string; storage: number; secret: boolean }[] = [];
  (component.body.storages ?? []).forEach((s, i) => {
    if (s.type !== 'ConfigMap' && s.type !== 'Secret') return;
    const configId = s.parameters?.config_id || s.parameters?.name || '';
    for (const m of s.mounts) out.push({ configId, path: m.path, storage: i, secret: s.type === 'Secret' });
  });
  return out;
}
