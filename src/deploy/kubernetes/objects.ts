import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Container, V1Deployment, V1EnvVar, V1Ingress, V1LifecycleHandler, V1PodSpec, V1Probe, V1Secret, V1Service, V1Volume, V1VolumeMount, V1Affinity } from '@kubernetes/client-node';
import type { ComponentPlan, PlanAffinityRule, PlanHook, PlanProbe } from '../types.js';

/**
 * A component plan as Kubernetes objects (DESIGN.md "Deployments", kubernetes runtime). Pure:
 * the same plan and target always give the same objects, so applying them again changes
 * nothing (no new ReplicaSet, no restart).
 *
 * Every object carries the labels of its component (managed-by, project, application,
 * component, environment) and, except the anchor, an owner reference to the component's
 * anchor ConfigMap `<base>-owner`: deleting the anchor lets the garbage collector remove
 * everything the component made, and nothing else.
 *
 * | object | name | what |
 * |---|---|---|
 * | ConfigMap (anchor) | `<base>-owner` | owns the rest; data: the component's ids |
 * | Deployment | `<base>` (stable), `<base>-gray` (a gray release's first batch) | the pods |
 * | Service | `<base>` | ClusterIP over the pods of both tracks, on the component's ports |
 * | Service | `<base>-external` | NodePort for `external_accesses` (no ingress class bound) |
 * | Ingress | `<base>` | `external_accesses` over HTTP(S) when the binding names an ingress class |
 * | ConfigMap | `<base>-files-<hash>` | mounted config files (ConfigMap storages), rendered |
 * | Secret | `<base>-sfiles-<hash>` | mounted config files of Secret storages |
 * | Secret | `<base>-env-<hash>` | variables whose names say they are secrets (passwords, tokens, keys) |
 * | Secret | `<base>-pull-<hash>` | the registry credentials (imagePullSecret) |
 *
 * Content-named objects (`<hash>` = first 10 hex of the content's SHA-256) never change once
 * made: a new version that changes a file gets a new ConfigMap, so old pods keep theirs
 * during a rolling update and a rollback finds its own again.
 */

/** Label keys OpenStage sets (values ≤ 63 characters, as label values must be). */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  partOf: 'app.kubernetes.io/part-of',
  version: 'app.kubernetes.io/version',
  project: 'openstage.io/project',
  application: 'openstage.io/application-id',
  component: 'openstage.io/component-id',
  environment: 'openstage.io/environment-id',
  track: 'openstage.io/track',
} as const;
export const MANAGED_BY = 'openstage';
/**
 * Pod template annotation naming the job that rolled the pods out: every roll-out job (deploy,
 * upgrade, rollback, restart) replaces the pods, as `kubectl rollout restart` does with its
 * own annotation; applying the same job's objects again changes nothing.
 */
export const ROLLOUT_MARK = 'openstage.io/rollout';
/** Name of the application container in every pod. */
export const CONTAINER = 'app';
/** Port a component listens on when nothing in its body names one (also its `PORT`). */
export const DEFAULT_PORT = 8080;
/** Default `progressDeadlineSeconds`: Kubernetes' own. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** `stable` runs the component; `gray` is a gray release's first batch beside it. */
export type Track = 'stable' | 'gray';

/** Where and how the objects run, from the cluster binding and the artifact. */
export interface WorkloadTarget {
  namespace: string;
  /** Image reference the containers run. */
  image: string;
  /** An ingress class: external accesses become an Ingress instead of a NodePort Service. */
  ingressClass?: string;
  /** Registry credentials for the image (an imagePullSecret). */
  registry?: { server: string; username: string; password: string };
}

/** Every object of one component version, ready to apply (the anchor's uid filled in by ownedBy). */
export interface WorkloadObjects {
  anchor: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
  externalService?: V1Service;
  ingress?: V1Ingress;
  configMaps: V1ConfigMap[];
  secrets: V1Secret[];
}

/** Options of workloadObjects. */
export interface WorkloadOptions {
  track: Track;
  replicas: number;
  /** Renders a config file's `${NAME}` placeholders (cas/config/render.ts renderConfig). */
  renderFile: (content: string, variables: Record<string, string>) => string;
  /** The pod template's ROLLOUT_MARK: the id of the job rolling it out. */
  rolloutMark: string;
}

/** Variables whose values are secrets: kept in a Secret, not in the Deployment. */
const SECRET_VARIABLE = /password|passwd|passphrase|pwd|secret|token|private_?key|credential|api_?key|^sk$/i;

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 10);
}

/** A DNS-1123 label made of `text` (lower case, `-` for anything else, ≤ max characters). */
export function dnsLabel(text: string, max = 63): string {
  const s = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, max).replace(/-+$/, '');
  return s || 'x';
}

/**
 * The base name of a component's objects: its name as a DNS label (≤ 44 characters) and 8 hex
 * of its id, so that components of the same name in other applications never collide and
 * every derived name (`-gray`, `-external`, `-files-<hash>`) stays ≤ 63 characters.
 */
export function baseName(plan: Pick<ComponentPlan, 'componentName' | 'componentId'>): string {
  return `${dnsLabel(plan.componentName, 44)}-${createHash('sha256').update(plan.componentId).digest('hex').slice(0, 8)}`;
}

/** The label selector of everything OpenStage made for a component. */
export function componentSelector(componentId: string): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.component}=${componentId}`;
}

/** Labels of every object of the component (user labels first: they never replace OpenStage's). */
export function componentLabels(plan: ComponentPlan): Record<string, string> {
  return {
    ...(plan.labels ?? {}),
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.name]: dnsLabel(plan.componentName),
    [LABELS.partOf]: dnsLabel(plan.applicationName),
    [LABELS.project]: plan.project,
    [LABELS.application]: plan.applicationId,
    [LABELS.component]: plan.componentId,
    [LABELS.environment]: plan.environmentId,
  };
}

/**
 * The ports a component listens on: external accesses' forward ports, then probe and hook
 * ports, in that order without repeats; [DEFAULT_PORT] when none is named. The first is `PORT`.
 */
export function componentPorts(plan: ComponentPlan): number[] {
  const ports = [
    ...(plan.externalAccesses ?? []).map((e) => e.forwardPort),
    plan.readinessProbe?.port,
    plan.livenessProbe?.port,
    plan.postStart?.port,
    plan.preStop?.port,
  ].filter((p): p is number => p !== undefined);
  const unique = [...new Set(ports)];
  return unique.length ? unique : [DEFAULT_PORT];
}

function probe(p: PlanProbe | undefined, port: number): V1Probe | undefined {
  if (!p) return undefined;
  const out: V1Probe = {};
  if (p.type === 'http') out.httpGet = { path: p.path ?? '/', port: p.port ?? port, scheme: p.scheme ?? 'HTTP', ...(p.host ? { host: p.host } : {}) };
  else if (p.type === 'tcp') out.tcpSocket = { port: p.port ?? port, ...(p.host ? { host: p.host } : {}) };
  else out.exec = { command: p.command ?? [] };
  if (p.delay !== undefined) out.initialDelaySeconds = p.delay;
  if (p.timeout !== undefined) out.timeoutSeconds = p.timeout;
  return out;
}

function hook(h: PlanHook | undefined, port: number): V1LifecycleHandler | undefined {
  if (!h) return undefined;
  if (h.type === 'command') return { exec: { command: h.command ?? [] } };
  return { httpGet: { path: h.path ?? '/', port: h.port ?? port, scheme: h.scheme ?? 'HTTP', ...(h.host ? { host: h.host } : {}) } };
}

function affinity(plan: ComponentPlan): V1Affinity | undefined {
  const out: V1Affinity = {};
  const terms = (rules: PlanAffinityRule[] | undefined, kind: 'node' | 'pod', anti: boolean): void => {
    const of = (rules ?? []).filter((r) => r.kind === kind);
    if (!of.length) return;
    if (kind === 'node') {
      // Anti-affinity to nodes is affinity with the operators turned round.
      const flip = { In: 'NotIn', NotIn: 'In', Exists: 'DoesNotExist', DoesNotExist: 'Exists' } as const;
      const expr = (r: PlanAffinityRule) => r.matchExpressions.map((e) => ({ key: e.key, operator: anti ? flip[e.operator] : e.operator, ...(e.operator === 'In' || e.operator === 'NotIn' ? { values: e.values } : {}) }));
      const required = of.filter((r) => r.condition === 'required');
      const preferred = of.filter((r) => r.condition === 'preferred');
      const na = (out.nodeAffinity ??= {});
      if (required.length) {
        // All required rules must hold: one term carrying every expression.
        const all = required.flatMap(expr);
        const existing = na.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions ?? [];
        na.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchExpressions: [...existing, ...all] }] };
      }
      if (preferred.length) na.preferredDuringSchedulingIgnoredDuringExecution = [...(na.preferredDuringSchedulingIgnoredDuringExecution ?? []), ...preferred.map((r) => ({ weight: r.weight, preference: { matchExpressions: expr(r) } }))];
      return;
    }
    const term = (r: PlanAffinityRule) => ({
      topologyKey: r.topologyKey ?? 'kubernetes.io/hostname',
      labelSelector: { matchExpressions: r.matchExpressions.map((e) => ({ key: e.key, operator: e.operator, ...(e.operator === 'In' || e.operator === 'NotIn' ? { values: e.values } : {}) })) },
    });
    const target = anti ? (out.podAntiAffinity ??= {}) : (out.podAffinity ??= {});
    const required = of.filter((r) => r.condition === 'required').map(term);
    const preferred = of.filter((r) => r.condition === 'preferred').map((r) => ({ weight: r.weight, podAffinityTerm: term(r) }));
    if (required.length) target.requiredDuringSchedulingIgnoredDuringExecution = required;
    if (preferred.length) target.preferredDuringSchedulingIgnoredDuringExecution = preferred;
  };
  terms(plan.affinity, 'node', false);
  terms(plan.antiAffinity, 'node', true);
  terms(plan.affinity, 'pod', false);
  terms(plan.antiAffinity, 'pod', true);
  return Object.keys(out).length ? out : undefined;
}

/** `maxSurge` / `maxUnavailable` of the Deployment: the body's update_strategy, else from the deploy strategy. */
function rollingUpdate(plan: ComponentPlan, replicas: number): { maxSurge: number | string; maxUnavailable: number | string } {
  const u = plan.updateStrategy ?? {};
  let maxSurge: number | string = '100%';
  if (plan.strategy.type === 'RollingRelease') maxSurge = Math.max(1, Math.ceil(replicas / Math.max(1, plan.strategy.batches ?? 1)));
  // OneBatchRelease and the last phase of a gray release: every new pod first, then the old stop.
  return { maxSurge: u.maxSurge ?? maxSurge, maxUnavailable: u.maxUnavailable ?? 0 };
}

/** Sets the anchor as owner of `obj` (its uid known once the anchor exists). */
export function ownedBy<T extends { metadata?: { ownerReferences?: unknown[] } }>(obj: T, anchor: { name: string; uid: string }): T {
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: anchor.name, uid: anchor.uid, controller: false, blockOwnerDeletion: false }] } };
}

/**
 * The objects of one version of a component on a cluster (see the table above). Variables:
 * the plan's, plus `PORT` (the first port), CAS_INSTANCE_ID / CAS_INSTANCE_NAME (the pod's
 * name) and CAS_INSTANCE_VERSION; JAVA_TOOL_OPTIONS from `jvm_opts`. Config files are
 * rendered with the component's variables (per-pod ones such as CAS_INSTANCE_ID stay as
 * placeholders: a ConfigMap is shared by the pods).
 */
export function workloadObjects(plan: ComponentPlan, target: WorkloadTarget, options: WorkloadOptions): WorkloadObjects {
  const base = baseName(plan);
  const ns = target.namespace;
  const labels = componentLabels(plan);
  const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace: ns, labels: { ...labels, ...extra } });
  const ports = componentPorts(plan);
  const port = ports[0]!;

  const env: Record<string, string> = { ...plan.env, PORT: String(port), CAS_INSTANCE_VERSION: plan.version };
  if (plan.jvmOpts?.length) env.JAVA_TOOL_OPTIONS = plan.jvmOpts.join(' ');
  const secretEnv = Object.entries(env).filter(([k]) => SECRET_VARIABLE.test(k));
  const secrets: V1Secret[] = [];
  const configMaps: V1ConfigMap[] = [];
  let envSecret: string | undefined;
  if (secretEnv.length) {
    const data = Object.fromEntries(secretEnv);
    envSecret = `${base}-env-${hash(data)}`;
    secrets.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta(envSecret), type: 'Opaque', immutable: true, stringData: data });
  }
  const envVars: V1EnvVar[] = Object.entries(env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (envSecret && SECRET_VARIABLE.test(name) ? { name, valueFrom: { secretKeyRef: { name: envSecret, key: name } } } : { name, value }));
  envVars.push({ name: 'CAS_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'CAS_INSTANCE_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });

  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  for (const secret of [false, true]) {
    const files = plan.files.filter((f) => (f.secret ?? false) === secret);
    if (!files.length) continue;
    const data: Record<string, string> = {};
    files.forEach((f, i) => (data[`file-${i}`] = options.renderFile(f.content, env)));
    const name = `${base}-${secret ? 'sfiles' : 'files'}-${hash({ data, paths: files.map((f) => f.path) })}`;
    const volume = secret ? 'secret-files' : 'config-files';
    if (secret) secrets.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta(name), type: 'Opaque', immutable: true, stringData: data });
    else configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name), immutable: true, data });
    volumes.push(secret ? { name: volume, secret: { secretName: name } } : { name: volume, configMap: { name } });
    files.forEach((f, i) => mounts.push({ name: volume, mountPath: f.path, subPath: `file-${i}`, readOnly: true }));
  }
  (plan.volumes ?? []).forEach((v, i) => {
    const name = `volume-${i}`;
    if (v.type === 'EmptyDir') volumes.push({ name, emptyDir: v.medium ? { medium: v.medium } : {} });
    else if (v.type === 'HostPath') volumes.push({ name, hostPath: { path: v.path ?? '/' } });
    else volumes.push({ name, persistentVolumeClaim: { claimName: v.claimName ?? '' } });
    for (const m of v.mounts) mounts.push({ name, mountPath: m.path, ...(m.subPath ? { subPath: m.subPath } : {}), ...(m.readOnly !== undefined ? { readOnly: m.readOnly } : {}) });
  });

  let pullSecret: string | undefined;
  if (target.registry) {
    const r = target.registry;
    const config = { auths: { [r.server]: { username: r.username, password: r.password, auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') } } };
    pullSecret = `${base}-pull-${hash(config)}`;
    secrets.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta(pullSecret), type: 'kubernetes.io/dockerconfigjson', immutable: true, stringData: { '.dockerconfigjson': JSON.stringify(config) } });
  }

  const container: V1Container = { name: CONTAINER, image: target.image, env: envVars, ports: ports.map((p) => ({ name: `p-${p}`, containerPort: p, protocol: 'TCP' })) };
  if (plan.command?.command?.length) container.command = plan.command.command;
  if (plan.command?.args?.length) container.args = plan.command.args;
  const r = plan.resources;
  if (r) {
    const limits: Record<string, string> = {};
    const requests: Record<string, string> = {};
    if (r.limitCpuCores !== undefined) limits.cpu = String(r.limitCpuCores);
    if (r.limitMemoryBytes !== undefined) limits.memory = String(r.limitMemoryBytes);
    if (r.requestCpuCores !== undefined) requests.cpu = String(r.requestCpuCores);
    if (r.requestMemoryBytes !== undefined) requests.memory = String(r.requestMemoryBytes);
    container.resources = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
  }
  const readiness = probe(plan.readinessProbe, port);
  if (readiness) container.readinessProbe = readiness;
  const liveness = probe(plan.livenessProbe, port);
  if (liveness) container.livenessProbe = liveness;
  const postStart = hook(plan.postStart, port);
  const preStop = hook(plan.preStop, port);
  if (postStart || preStop) container.lifecycle = { ...(postStart ? { postStart } : {}), ...(preStop ? { preStop } : {}) };
  if (mounts.length) container.volumeMounts = mounts;

  const podSpec: V1PodSpec = { containers: [container], terminationGracePeriodSeconds: plan.terminationGraceSeconds };
  if (volumes.length) podSpec.volumes = volumes;
  if (pullSecret) podSpec.imagePullSecrets = [{ name: pullSecret }];
  const aff = affinity(plan);
  if (aff) podSpec.affinity = aff;

  const track = options.track;
  const selector = { [LABELS.component]: plan.componentId, [LABELS.track]: track };
  const u = plan.updateStrategy ?? {};
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(track === 'stable' ? base : `${base}-gray`, { [LABELS.track]: track, [LABELS.version]: plan.version }),
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: rollingUpdate(plan, options.replicas) },
      progressDeadlineSeconds: u.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
      revisionHistoryLimit: u.revisionHistoryLimit ?? 10,
      ...(u.minReadySeconds !== undefined ? { minReadySeconds: u.minReadySeconds } : {}),
      template: {
        metadata: { labels: { ...labels, ...selector, [LABELS.version]: plan.version }, annotations: { [ROLLOUT_MARK]: options.rolloutMark } },
        spec: podSpec,
      },
    },
  };

  const servicePorts = ports.map((p) => ({ name: `p-${p}`, port: p, targetPort: p, protocol: 'TCP' }));
  const podSelector = { [LABELS.component]: plan.componentId };
  const service: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: meta(base), spec: { type: 'ClusterIP', selector: podSelector, ports: servicePorts } };
  const out: WorkloadObjects = {
    anchor: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${base}-owner`), data: { project: plan.project, applicationId: plan.applicationId, componentId: plan.componentId, componentName: plan.componentName, environmentId: plan.environmentId } },
    deployment,
    service,
    configMaps,
    secrets,
  };
  const external = (plan.externalAccesses ?? []).filter((e) => e.forwardPort !== undefined);
  if (external.length) {
    const http = external.filter((e) => /^https?$/i.test(e.protocol));
    if (target.ingressClass && http.length) {
      const hosts = [...new Set(http.map((e) => hostOf(e.address)))];
      out.ingress = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: meta(base),
        spec: {
          ingressClassName: target.ingressClass,
          rules: hosts.map((host) => ({
            ...(host ? { host } : {}),
            http: { paths: http.filter((e) => hostOf(e.address) === host).map((e) => ({ path: pathOf(e.address), pathType: 'Prefix', backend: { service: { name: base, port: { number: e.forwardPort! } } } })) },
          })),
        },
      };
    } else {
      const unique = [...new Set(external.map((e) => e.forwardPort!))];
      out.externalService = { apiVersion: 'v1', kind: 'Service', metadata: meta(`${base}-external`), spec: { type: 'NodePort', selector: podSelector, ports: unique.map((p) => ({ name: `p-${p}`, port: p, targetPort: p, protocol: 'TCP' })) } };
    }
  }
  return out;
}

/** The host of an external access address (`host`, `host:port`, `http://host/path`); "" for none or an IP. */
function hostOf(address: string | undefined): string {
  if (!address) return '';
  const host = address.replace(/^[a-z]+:\/\//i, '').split(/[/:]/)[0] ?? '';
  return /^[0-9.]+$/.test(host) || !host.includes('.') ? '' : host.toLowerCase();
}

function pathOf(address: string | undefined): string {
  const m = /^(?:[a-z]+:\/\/)?[^/]*(\/.*)$/i.exec(address ?? '');
  return m?.[1] ?? '/';
}
