import type { Logger } from '../../core/log.js';
import type { Artifact, BuildStep, Release, ReleaseLookup, ReplicaLogs, RolloutOptions, Runtime, StopOutcome } from '../runtime.js';
import type { ComponentPlan, ReplicaView, TaskContext } from '../types.js';
import { clusterBinding, connectionKey, describeApiError, loadKubeConfig } from './cluster.js';
import { Connection, WatchStoppedError } from './connection.js';
import type { V1Pod } from '@kubernetes/client-node';
import { CONTAINER, LABELS, ROLLOUT_MARK, baseName, componentSelector, ownedBy, workloadObjects, type Track, type WorkloadTarget } from './objects.js';
import { byAge, podFailure, podView, rolloutState } from './status.js';

/** A managed resource of an environment with its secrets decrypted (EnvironmentService.bindings). */
export interface BoundResource {
  id: string;
  type: string;
  parameters: Record<string, string>;
}

/** Where an image is pushed and pulled from: an environment's `swr` binding. */
export interface RegistryTarget {
  /** Registry host[:port]. */
  server: string;
  /** Repository prefix under the server (parameters.namespace), may be "". */
  namespace: string;
  username: string;
  password: string;
}

/**
 * The container runtime's part in a kubernetes deployment of a `code` or `package` component:
 * fetch and build it into an image (confined, like its own builds), push that to the
 * environment's registry and name it by digest.
 */
export interface ImageBuilder {
  fetch(plan: ComponentPlan, step: BuildStep): Promise<{ revision: string }>;
  /** @returns the pushed image's reference by digest (`server/namespace/name@sha256:…`) */
  buildAndPush(plan: ComponentPlan, step: BuildStep, registry: RegistryTarget): Promise<string>;
}

/** What the kubernetes runtime is built from (server.ts). */
export interface KubernetesRuntimeDeps {
  log: Logger;
  /** The managed resources of an environment, decrypted (EnvironmentService.bindings). */
  bindings(project: string, environmentId: string): Promise<BoundResource[]>;
  /** The components the engine has deployed (what adopt() watches again after a restart). */
  deployed(): Promise<{ project: string; componentId: string; version: string }[]>;
  /** Renders a config file's `${NAME}` placeholders (cas/config/render.ts renderConfig). */
  renderFile: (content: string, variables: Record<string, string>) => string;
  /** Longest one API call may take, milliseconds. */
  requestTimeoutMs: number;
  /** Builds code and package components into pushed images; without it only image components deploy. */
  images?: ImageBuilder;
}

interface Placement {
  conn: Connection;
  base: string;
}

function key(project: string, componentId: string): string {
  return `${project}/${componentId}`;
}

/** The registry of an environment's first `swr` binding, or undefined. */
export function registryOf(resources: readonly BoundResource[]): RegistryTarget | undefined {
  const r = resources.find((x) => x.type === 'swr');
  if (!r) return undefined;
  const p = r.parameters;
  return { server: p.server || r.id, namespace: p.namespace ?? '', username: p.username ?? '', password: p.password ?? '' };
}

/**
 * The kubernetes runtime (DESIGN.md "Deployments"; issue #17): a component of an environment
 * that binds a `cce` / `custom_k8s` cluster runs there as the objects of objects.ts. A roll-out
 * applies them (server-side apply) and waits, through the namespace's watches, until the
 * Deployment has its replicas ready or the cluster says why not (ImagePullBackOff,
 * CrashLoopBackOff, FailedScheduling, ProgressDeadlineExceeded — the task fails with it and
 * the Deployment goes back to what it ran before). Scale sets `replicas`; stop scales to 0;
 * a restart is a roll-out by a new job (new ROLLOUT_MARK); a gray release's first batch is a
 * second Deployment `<base>-gray`, removed when the last phase has rolled the stable one.
 * Status, replicas and readiness come from the watches' caches (no polling).
 */
export class KubernetesRuntime implements Runtime {
  readonly kind = 'kubernetes' as const;
  private readonly connections = new Map<string, Connection>();
  private readonly placed = new Map<string, Placement>();
  private readonly log: Logger;

  constructor(private readonly deps: KubernetesRuntimeDeps) {
    this.log = deps.log.child({ runtime: 'kubernetes' });
  }

  async fetch(plan: ComponentPlan, step: BuildStep): Promise<{ revision: string }> {
    if (plan.source.kind === 'image') return { revision: plan.source.url ?? '' };
    return this.builder(plan).fetch(plan, step);
  }

  async build(plan: ComponentPlan, step: BuildStep): Promise<Artifact> {
    if (plan.source.kind === 'image') {
      if (!plan.source.url) throw new Error('source.url (the image) is required for an image component');
      return { runtime: 'kubernetes', image: plan.source.url };
    }
    const registry = registryOf(await this.deps.bindings(plan.project, plan.environmentId));
    if (!registry) throw new Error('a code or package component on a cluster is built into an image pushed to a registry: bind an swr resource (parameters server, namespace, username, password) to the environment');
    const image = await this.builder(plan).buildAndPush(plan, step, registry);
    step.ctx.log(`pushed ${image}`);
    return { runtime: 'kubernetes', image };
  }

  /** Images live in their registry; OpenStage does not remove them. */
  async hasArtifact(_artifact: Artifact): Promise<boolean> {
    return true;
  }

  async removeArtifacts(_project: string, _componentId: string, _artifacts: Artifact[]): Promise<void> {}

  async rollout(release: Release, options: RolloutOptions, ctx: TaskContext): Promise<void> {
    const { plan } = release;
    const { conn, target } = await this.connect(release);
    const base = baseName(plan);
    if (options.keepOld) {
      // Gray release, first phase: the batch runs beside the stable Deployment.
      const size = Math.min(options.target, options.batches.reduce((a, b) => a + b, 0));
      await this.applyVersion(conn, plan, target, 'gray', size, ctx.jobId);
      ctx.log(`Deployment ${base}-gray: ${size} replica(s) of ${plan.version} beside the running ones; waiting until ready`);
      try {
        await this.waitRollout(conn, plan.componentId, `${base}-gray`, size, ctx.jobId, ctx);
      } catch (err) {
        if (!(err instanceof WatchStoppedError)) await conn.remove({ apiVersion: 'apps/v1', kind: 'Deployment', name: `${base}-gray` }).catch((e: unknown) => this.log.warn({ err: e }, 'removing a failed gray Deployment failed'));
        throw err;
      }
      ctx.log(`${size} gray replica(s) ready`);
      return;
    }
    const previous = conn.deployment(base);
    await this.applyVersion(conn, plan, target, 'stable', options.target, ctx.jobId);
    ctx.log(`Deployment ${base}: ${options.target} replica(s) of ${plan.version}; waiting for the roll-out`);
    try {
      await this.waitRollout(conn, plan.componentId, base, options.target, ctx.jobId, ctx);
    } catch (err) {
      // OpenStage stopping leaves the roll-out to the cluster; the next start watches it again.
      if (!(err instanceof WatchStoppedError)) await this.undo(conn, base, previous).catch((e: unknown) => this.log.warn({ err: e, deployment: base }, 'undoing a failed roll-out failed'));
      throw err;
    }
    if (conn.deploymentsOf(plan.componentId).some((d) => d.metadata?.name === `${base}-gray`)) {
      // The gray batch goes once the stable Deployment serves the version: wait until its pods are gone.
      await conn.remove({ apiVersion: 'apps/v1', kind: 'Deployment', name: `${base}-gray` });
      const gray = (pod: V1Pod) => pod.metadata?.labels?.[LABELS.track] === 'gray';
      await conn.waitFor(plan.componentId, ctx.signal, () => (conn.podsOf(plan.componentId).some(gray) ? undefined : true));
    }
    ctx.log(`${options.target} replica(s) of ${plan.version} ready`);
    await this.prune(conn, plan.componentId, base, `${base}-gray`).catch((err: unknown) => this.log.warn({ err, deployment: base }, 'removing unused ConfigMaps and Secrets failed'));
  }

  async scale(release: Release, replicas: number, ctx: TaskContext): Promise<void> {
    const { plan } = release;
    const { conn, target } = await this.connect(release);
    const base = baseName(plan);
    const current = conn.deployment(base);
    const mark = current?.spec?.template.metadata?.annotations?.[ROLLOUT_MARK];
    // A Deployment running another version (left by an interrupted roll-out) gets this one.
    if (!current || mark === undefined || current.spec?.template.metadata?.labels?.[LABELS.version] !== plan.version) {
      await this.applyVersion(conn, plan, target, 'stable', replicas, ctx.jobId);
      await this.waitRollout(conn, plan.componentId, base, replicas, ctx.jobId, ctx);
      return;
    }
    const before = current.spec?.replicas ?? 0;
    await conn.scaleDeployment(base, replicas);
    ctx.log(`Deployment ${base}: ${before} → ${replicas} replica(s)`);
    try {
      await this.waitRollout(conn, plan.componentId, base, replicas, mark, ctx);
    } catch (err) {
      if (!(err instanceof WatchStoppedError)) await conn.scaleDeployment(base, before).catch((e: unknown) => this.log.warn({ err: e, deployment: base }, 'scaling back failed'));
      throw err;
    }
  }

  /**
   * Scales the stable Deployment to 0 (it stays: start scales it back) and deletes a gray one;
   * with `versions`, only the Deployments whose pod template is of one of them (what an
   * interrupted roll-out left). Waits until their pods are gone.
   */
  async stopAll(project: string, componentId: string, ctx: TaskContext, versions?: string[]): Promise<StopOutcome> {
    const p = this.placed.get(key(project, componentId));
    if (!p) return { stopped: 0, killed: 0 };
    const ofVersions = (labels: Record<string, string> | undefined) => !versions || versions.includes(labels?.[LABELS.version] ?? '');
    const pods = () => p.conn.podsOf(componentId).filter((pod) => ofVersions(pod.metadata?.labels));
    const running = pods().filter((pod) => !pod.metadata?.deletionTimestamp).length;
    for (const d of p.conn.deploymentsOf(componentId)) {
      if (!ofVersions(d.spec?.template.metadata?.labels)) continue;
      const name = d.metadata?.name ?? '';
      if (name === p.base) await p.conn.scaleDeployment(name, 0);
      else await p.conn.remove({ apiVersion: 'apps/v1', kind: 'Deployment', name });
    }
    ctx.log(`Deployments of ${p.base}${versions ? ` running ${versions.join(', ')}` : ''} scaled to 0; waiting until their pods are gone`);
    await p.conn.waitFor(componentId, ctx.signal, () => (pods().length === 0 ? true : undefined));
    return { stopped: running, killed: 0 };
  }

  /**
   * Deletes every object OpenStage made for the component (the anchor, which owns the rest,
   * then whatever still carries the component's labels) and waits until its pods are gone.
   * Nothing without the component's labels is touched.
   * @throws Error with the cluster's reason; the signal's reason when it aborts
   */
  async remove(project: string, componentId: string, ctx: TaskContext): Promise<void> {
    const p = this.placed.get(key(project, componentId));
    if (!p) return;
    await p.conn.remove({ apiVersion: 'v1', kind: 'ConfigMap', name: `${p.base}-owner` });
    const selector = componentSelector(componentId);
    for (const [apiVersion, kind] of [['apps/v1', 'Deployment'], ['v1', 'Service'], ['networking.k8s.io/v1', 'Ingress'], ['v1', 'ConfigMap'], ['v1', 'Secret']] as const) {
      for (const obj of await p.conn.list(apiVersion, kind, selector)) await p.conn.remove({ apiVersion, kind, name: obj.metadata?.name ?? '' });
    }
    ctx.log(`deleted the objects of ${p.base}; waiting until its pods are gone`);
    await p.conn.waitFor(componentId, ctx.signal, () => (p.conn.podsOf(componentId).length === 0 ? true : undefined));
    this.placed.delete(key(project, componentId));
  }

  /** The component's pods, oldest first, without those being deleted (from the watch cache). */
  replicas(project: string, componentId: string): ReplicaView[] {
    const p = this.placed.get(key(project, componentId));
    if (!p) return [];
    // A pod being deleted is no replica any more (a roll-out counts it gone).
    return byAge(p.conn.podsOf(componentId).filter((pod) => !pod.metadata?.deletionTimestamp)).map(podView);
  }

  /**
   * Why the component's pods do not run, in the cluster's words (the first failing pod's
   * reason), or undefined. For the status's fail detail.
   */
  failure(project: string, componentId: string): string | undefined {
    const p = this.placed.get(key(project, componentId));
    if (!p) return undefined;
    for (const pod of byAge(p.conn.podsOf(componentId))) {
      if (pod.metadata?.deletionTimestamp) continue;
      const f = podFailure(pod);
      if (f) return `pod ${pod.metadata?.name}: ${f}`;
    }
    return undefined;
  }

  async logs(project: string, componentId: string, lines: number): Promise<ReplicaLogs[]> {
    const p = this.placed.get(key(project, componentId));
    if (!p) return [];
    const out: ReplicaLogs[] = [];
    for (const pod of byAge(p.conn.podsOf(componentId))) {
      const view = podView(pod);
      let text: string[];
      try {
        const log = await p.conn.core.readNamespacedPodLog({ name: view.instanceId, namespace: p.conn.namespace, container: CONTAINER, tailLines: lines });
        text = String(log).split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
      } catch (err) {
        text = [`(the cluster gave no log: ${describeApiError(err)})`];
      }
      out.push({ instanceId: view.instanceId, version: view.version, lines: text });
    }
    return out;
  }

  /** Watches again every deployed component whose release ran on a cluster; starts and stops nothing (the cluster kept running). */
  async adopt(releaseOf: ReleaseLookup): Promise<void> {
    for (const c of await this.deps.deployed()) {
      const release = await releaseOf(c.project, c.componentId, c.version);
      if (release?.artifact.runtime !== 'kubernetes') continue;
      try {
        await this.connect(release);
      } catch (err) {
        this.log.warn({ project: c.project, componentId: c.componentId, reason: (err as Error).message }, 'cannot watch a component on its cluster; its status stays unknown until the next action');
      }
    }
  }

  async shutdown(stopReplicas: boolean): Promise<void> {
    if (stopReplicas) {
      for (const [k, p] of this.placed) {
        const [project, componentId] = k.split('/') as [string, string];
        const ctx: TaskContext = { project, jobId: '', signal: AbortSignal.timeout(60_000), log: () => undefined };
        await this.stopAll(project, componentId, ctx).catch((err: unknown) => this.log.warn({ err, deployment: p.base }, 'stopping on shutdown failed'));
      }
    }
    await Promise.all([...this.connections.values()].map((c) => c.stop()));
    this.connections.clear();
    this.placed.clear();
  }

  // ───────────────────────── helpers ─────────────────────────

  private builder(plan: ComponentPlan): ImageBuilder {
    if (!this.deps.images) throw new Error(`a ${plan.source.kind} component on a cluster needs the container runtime to build its image, which this server does not have; deploy an image (source.kind image)`);
    return this.deps.images;
  }

  /**
   * The watched namespace of the release's cluster binding (connected once per kubeconfig and
   * namespace) and the target of its objects.
   * @throws Error when the environment no longer binds the cluster, or it cannot be watched
   */
  private async connect(release: Release): Promise<{ conn: Connection; target: WorkloadTarget }> {
    const { plan } = release;
    const resources = await this.deps.bindings(plan.project, plan.environmentId);
    const clusters = resources.filter((r) => r.type === 'cce' || r.type === 'custom_k8s');
    const bound = plan.cluster ? clusters.find((r) => r.id === plan.cluster!.resourceId && r.type === plan.cluster!.type) : clusters[0];
    if (!bound) throw new Error(`the environment no longer binds the cluster ${plan.cluster?.resourceId ?? ''} this component runs on`);
    const binding = clusterBinding(bound);
    const namespace = plan.cluster?.namespace ?? binding.namespace;
    const k = connectionKey(binding.kubeconfig, namespace);
    let conn = this.connections.get(k);
    if (!conn) {
      conn = new Connection(loadKubeConfig(binding.kubeconfig), namespace, this.deps.requestTimeoutMs, this.log);
      this.connections.set(k, conn);
    }
    await conn.start();
    this.placed.set(key(plan.project, plan.componentId), { conn, base: baseName(plan) });
    const image = release.artifact.runtime === 'kubernetes' || release.artifact.runtime === 'container' ? release.artifact.image : '';
    const registry = registryOf(resources);
    const target: WorkloadTarget = { namespace, image, ...(binding.ingressClass ? { ingressClass: binding.ingressClass } : {}) };
    if (registry?.username) target.registry = { server: registry.server, username: registry.username, password: registry.password };
    return { conn, target };
  }

  /** Applies every object of one version: the anchor first (it owns the rest), the Deployment last. */
  private async applyVersion(conn: Connection, plan: ComponentPlan, target: WorkloadTarget, track: Track, replicas: number, jobId: string): Promise<void> {
    const objs = workloadObjects(plan, target, { track, replicas, renderFile: this.deps.renderFile, rolloutMark: jobId });
    const anchor = await conn.apply(objs.anchor);
    const owner = { name: anchor.metadata?.name ?? '', uid: anchor.metadata?.uid ?? '' };
    for (const obj of [...objs.configMaps, ...objs.secrets]) await conn.apply(ownedBy(obj, owner));
    if (track === 'stable') {
      await conn.apply(ownedBy(objs.service, owner));
      if (objs.externalService) await conn.apply(ownedBy(objs.externalService, owner));
      else await conn.remove({ apiVersion: 'v1', kind: 'Service', name: `${objs.service.metadata?.name}-external` });
      if (objs.ingress) await conn.apply(ownedBy(objs.ingress, owner));
      else if (target.ingressClass) await conn.remove({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: objs.service.metadata?.name ?? '' });
    }
    await conn.apply(ownedBy(objs.deployment, owner));
  }

  /**
   * Waits until the Deployment `name` has `replicas` ready pods of the template marked `mark`
   * and no other, logging progress.
   * @throws Error with the cluster's reason (rolloutState); the signal's reason when it aborts
   */
  private async waitRollout(conn: Connection, componentId: string, name: string, replicas: number, mark: string, ctx: TaskContext): Promise<void> {
    let last = '';
    await conn.waitFor(componentId, ctx.signal, () => {
      const state = rolloutState(conn.deployment(name), conn.podsOf(componentId), replicas, ROLLOUT_MARK, mark);
      if (state.done) return true;
      if (state.failure) throw new Error(state.failure);
      if (state.progress !== last) {
        last = state.progress;
        ctx.log(state.progress);
      }
      return undefined;
    });
  }

  /**
   * Deletes the component's content-named ConfigMaps and Secrets that no Deployment of it
   * uses any more (those of earlier versions); the anchor stays. A rollback makes its own
   * again from its release.
   * @param gone a Deployment just deleted whose cached copy must not count
   */
  private async prune(conn: Connection, componentId: string, base: string, gone: string): Promise<void> {
    const used = new Set<string>([`${base}-owner`]);
    for (const d of conn.deploymentsOf(componentId)) {
      if (d.metadata?.name === gone) continue;
      const pod = d.spec?.template.spec;
      for (const v of pod?.volumes ?? []) {
        if (v.configMap?.name) used.add(v.configMap.name);
        if (v.secret?.secretName) used.add(v.secret.secretName);
      }
      for (const s of pod?.imagePullSecrets ?? []) if (s.name) used.add(s.name);
      for (const c of pod?.containers ?? []) for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) used.add(e.valueFrom.secretKeyRef.name);
    }
    const selector = componentSelector(componentId);
    for (const [apiVersion, kind] of [['v1', 'ConfigMap'], ['v1', 'Secret']] as const) {
      for (const obj of await conn.list(apiVersion, kind, selector)) {
        const name = obj.metadata?.name ?? '';
        if (!used.has(name)) await conn.remove({ apiVersion, kind, name });
      }
    }
  }

  /** Puts a Deployment back as it was before a failed roll-out (its template and count), or to 0 replicas when it is new. */
  private async undo(conn: Connection, name: string, previous: ReturnType<Connection['deployment']>): Promise<void> {
    if (!previous?.spec) {
      await conn.scaleDeployment(name, 0);
      return;
    }
    await conn.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: conn.namespace, labels: previous.metadata?.labels ?? {} }, spec: previous.spec });
  }
}
