import type { RuntimeKind } from '../../deploy/runtime.js';
import type { ComponentPlan, MountedFile, PlanProbe, PlanStack } from '../../deploy/types.js';
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
  /** The runtime stack `runtime_stack` names, with a custom stack's spec. */
  stack?: PlanStack;
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
  const endpoint = cse || input.serverUrl;
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
  if (b.update_strategy?.revision_history_limit !== undefined) plan.revisionHistoryLimit = b.update_strategy.revision_history_limit;
  if (input.stack) plan.stack = input.stack;
  if (b.command && (b.command.command?.length || b.command.args?.length)) plan.command = { ...(b.command.command ? { command: b.command.command } : {}), ...(b.command.args ? { args: b.command.args } : {}) };
  const jvm = splitOptions(b.jvm_opts ?? '');
  if (jvm.length > 0) plan.jvmOpts = jvm;
  const readiness = probe(b.readiness_probe);
  if (readiness) plan.readinessProbe = readiness;
  const liveness = probe(b.liveness_probe);
  if (liveness) plan.livenessProbe = liveness;
  return plan;
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
 * The config files a component mounts: `[{configId, path}]` from its ConfigMap and Secret
 * storages (`parameters.config_id`, else `parameters.name`), one per mount.
 */
export function configMounts(component: Pick<Component, 'body'>): { configId: string; path: string; storage: number }[] {
  const out: { configId: string; path: string; storage: number }[] = [];
  (component.body.storages ?? []).forEach((s, i) => {
    if (s.type !== 'ConfigMap' && s.type !== 'Secret') return;
    const configId = s.parameters?.config_id || s.parameters?.name || '';
    for (const m of s.mounts) out.push({ configId, path: m.path, storage: i });
  });
  return out;
}
