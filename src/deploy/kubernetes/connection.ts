import { EventEmitter } from 'node:events';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../core/log.js';
import { describeApiError, within } from './cluster.js';
import { LABELS, MANAGED_BY } from './objects.js';

/** Why a wait ended when OpenStage stops: the cluster is left as it is (no undo). */
export class WatchStoppedError extends Error {
  constructor() {
    super('OpenStage is stopping: the watch ended, the cluster is left as it is');
    this.name = 'WatchStoppedError';
  }
}

/** Field manager of OpenStage's server-side applies. */
const FIELD_MANAGER = 'openstage';
/** First wait before a failed watch is started again; doubles up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/**
 * One cluster namespace OpenStage deploys into, shared by every component placed there: the
 * API clients and two informers (watches with a local cache) — Deployments and Pods labelled
 * `app.kubernetes.io/managed-by=openstage` — however many components it holds, so watching
 * 100 components costs two watch connections, not 100 polls. Emits `change` with the
 * component id of every added, changed or deleted object.
 */
export class Connection extends EventEmitter {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly objects: KubernetesObjectApi;
  private readonly deployments: Watched<V1Deployment>;
  private readonly pods: Watched<V1Pod>;
  private started: Promise<void> | undefined;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  /**
   * @param kc the binding's kubeconfig, read by loadKubeConfig
   * @param namespace where the components' objects live
   * @param timeoutMs longest one API call may take
   */
  constructor(
    readonly kc: KubeConfig,
    readonly namespace: string,
    readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    const selector = `${LABELS.managedBy}=${MANAGED_BY}`;
    const ns = encodeURIComponent(namespace);
    this.deployments = makeInformer(kc, `/apis/apps/v1/namespaces/${ns}/deployments`, () => this.apps.listNamespacedDeployment({ namespace, labelSelector: selector }), selector);
    this.pods = makeInformer(kc, `/api/v1/namespaces/${ns}/pods`, () => this.core.listNamespacedPod({ namespace, labelSelector: selector }), selector);
    this.wire('deployments', this.deployments);
    this.wire('pods', this.pods);
  }

  /** Emits `change` for the informer's objects and starts it again after a failure (doubling waits). */
  private wire<T extends KubernetesObject>(name: string, informer: Watched<T>): void {
    const namespace = this.namespace;
    {
      const emit = (obj: T) => {
        const id = obj.metadata?.labels?.[LABELS.component];
        if (id) this.emit('change', id);
      };
      informer.on('add', emit);
      informer.on('update', emit);
      informer.on('delete', emit);
      let retryMs = FIRST_RETRY_MS;
      informer.on('connect', () => {
        retryMs = FIRST_RETRY_MS;
      });
      informer.on('error', (err: unknown) => {
        if (this.stopped) return;
        this.log.warn({ namespace, watch: name, reason: describeApiError(err), retryMs }, 'kubernetes watch failed; starting it again');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!this.stopped) void informer.start();
        }, retryMs);
        this.timers.add(timer);
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      });
    }
  }

  /**
   * Starts both watches once (later calls share the first): resolves when their first lists
   * arrived. @throws Error when the first list fails (unreachable cluster, no rights)
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      for (const informer of [this.deployments, this.pods]) {
        let failure: unknown;
        const onError = (err: unknown) => {
          failure ??= err;
        };
        informer.on('error', onError);
        await within(this.timeoutMs, `the cluster did not list the namespace ${this.namespace} within ${this.timeoutMs / 1000} s`, informer.start());
        informer.off('error', onError);
        if (failure) throw new Error(`watching namespace ${this.namespace} failed: ${describeApiError(failure)}`);
      }
    })();
    this.started.catch(() => {
      this.started = undefined;
    });
    return this.started;
  }

  /** Stops the watches (OpenStage stopping); pending waits reject with WatchStoppedError. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.emit('stopped');
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.deployments.stop(), this.pods.stop()]);
  }

  /** A watched Deployment by name (no API call). */
  deployment(name: string): V1Deployment | undefined {
    return this.deployments.get(name, this.namespace);
  }

  /** The watched pods of a component (no API call). */
  podsOf(componentId: string): V1Pod[] {
    return this.pods.list(this.namespace).filter((p) => p.metadata?.labels?.[LABELS.component] === componentId);
  }

  /** The watched Deployments of a component (no API call). */
  deploymentsOf(componentId: string): V1Deployment[] {
    return this.deployments.list(this.namespace).filter((d) => d.metadata?.labels?.[LABELS.component] === componentId);
  }

  /**
   * Creates or updates an object by server-side apply (field manager `openstage`, forced):
   * applying the same object again changes nothing.
   * @returns the object as the cluster stored it
   * @throws Error with the cluster's reason
   */
  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    const what = `${obj.kind} ${obj.metadata?.name}`;
    try {
      return await within(this.timeoutMs, `applying ${what} took longer than ${this.timeoutMs / 1000} s`, this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
    } catch (err) {
      throw new Error(`applying ${what} failed: ${describeApiError(err)}`);
    }
  }

  /** Sets a Deployment's replica count (a merge patch: the template is left alone). @throws Error with the cluster's reason */
  async scaleDeployment(name: string, replicas: number): Promise<void> {
    try {
      await within(this.timeoutMs, `scaling Deployment ${name} took longer than ${this.timeoutMs / 1000} s`, this.objects.patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: this.namespace }, spec: { replicas } } as KubernetesObject, undefined, undefined, `${FIELD_MANAGER}-scale`, undefined, PatchStrategy.MergePatch));
    } catch (err) {
      throw new Error(`scaling Deployment ${name} to ${replicas} failed: ${describeApiError(err)}`);
    }
  }

  /** Deletes an object; absent is fine. @param propagation how dependents go (`Background`, `Foreground`) @throws Error with the cluster's reason */
  async remove(obj: { apiVersion: string; kind: string; name: string }, propagation = 'Background'): Promise<void> {
    try {
      await within(this.timeoutMs, `deleting ${obj.kind} ${obj.name} took longer than ${this.timeoutMs / 1000} s`, this.objects.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.name, namespace: this.namespace } }, undefined, undefined, undefined, undefined, propagation));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      throw new Error(`deleting ${obj.kind} ${obj.name} failed: ${describeApiError(err)}`);
    }
  }

  /**
   * Lists objects of a kind carrying a label selector (an API call, not the watch).
   * @throws Error with the cluster's reason
   */
  async list(apiVersion: string, kind: string, labelSelector: string): Promise<KubernetesObject[]> {
    try {
      const r = await within(this.timeoutMs, `listing ${kind} took longer than ${this.timeoutMs / 1000} s`, this.objects.list(apiVersion, kind, this.namespace, undefined, undefined, undefined, undefined, labelSelector));
      return r.items;
    } catch (err) {
      throw new Error(`listing ${kind} failed: ${describeApiError(err)}`);
    }
  }

  /**
   * Waits until `check` returns a value other than undefined, checking now and after every
   * change of the component's watched objects.
   * @returns what check returned
   * @throws the signal's reason when it aborts first; WatchStoppedError when the watches stop
   */
  waitFor<T>(componentId: string, signal: AbortSignal, check: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (fn: () => void) => {
        this.off('change', onChange);
        this.off('stopped', onStopped);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const onStopped = () => done(() => reject(new WatchStoppedError()));
      const onChange = (id: string) => {
        if (id !== componentId) return;
        try {
          const v = check();
          if (v !== undefined) done(() => resolve(v));
        } catch (err) {
          done(() => reject(err));
        }
      };
      const onAbort = () => done(() => reject(signal.reason));
      if (signal.aborted) return reject(signal.reason);
      if (this.stopped) return reject(new WatchStoppedError());
      this.on('change', onChange);
      this.on('stopped', onStopped);
      signal.addEventListener('abort', onAbort, { once: true });
      onChange(componentId);
    });
  }
}
