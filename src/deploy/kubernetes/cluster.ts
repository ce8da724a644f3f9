import { createHash } from 'node:crypto';
import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

/**
 * Connecting to a bound cluster (a `cce` / `custom_k8s` managed resource of an environment):
 * its kubeconfig, read safely, and the checks made when the binding is made.
 */

/** Why a cluster binding cannot be used; the message is shown to the client (no secrets). */
export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}

/** The parameters of a cluster binding the runtime uses (servicestage.md §2 resources; DESIGN.md "Deployments"). */
export interface ClusterBinding {
  /** The managed resource's id and type (`cce` | `custom_k8s`). */
  resourceId: string;
  type: string;
  /** parameters.kubeconfig (sealed at rest, never on the wire). */
  kubeconfig: string;
  /** parameters.namespace, default `default`. */
  namespace: string;
  /** parameters.ingress_class: external accesses become Ingresses of this class. */
  ingressClass?: string;
  /** parameters.openstage_url: this server's address as the cluster's pods reach it (their PAAS_CSE_* endpoints). */
  openstageUrl?: string;
}

/** Namespace of a binding without parameters.namespace. */
export const DEFAULT_NAMESPACE = 'default';
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * A cluster binding from a resource's decrypted parameters.
 * @throws ClusterError when parameters.namespace is not a DNS label
 */
export function clusterBinding(resource: { id: string; type: string; parameters: Record<string, string> }): ClusterBinding {
  const p = resource.parameters;
  const namespace = p.namespace || DEFAULT_NAMESPACE;
  if (!NAMESPACE.test(namespace)) throw new ClusterError(`parameters.namespace '${namespace}' is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)`);
  return {
    resourceId: resource.id,
    type: resource.type,
    kubeconfig: p.kubeconfig ?? '',
    namespace,
    ...(p.ingress_class ? { ingressClass: p.ingress_class } : {}),
    ...(p.openstage_url ? { openstageUrl: p.openstage_url } : {}),
  };
}

/** What identifies a cluster connection (same kubeconfig text and namespace = same watches): a SHA-256, never the text. */
export function connectionKey(kubeconfig: string, namespace: string): string {
  return createHash('sha256').update(kubeconfig).update('\0').update(namespace).digest('hex');
}

/** kubeconfig keys that make the client read a file or run a program on OpenStage's host. */
const HOST_REFERENCES = ['certificate-authority', 'client-certificate', 'client-key', 'token-file', 'exec', 'auth-provider'];

/**
 * Reads a kubeconfig given as text. Only self-contained ones are accepted: a key that would
 * read a file of OpenStage's host (`certificate-authority`, `client-certificate`,
 * `client-key`, `token-file`) or run a program (`exec`, `auth-provider`) is refused — use the
 * `-data` forms and a token or client certificate.
 * @throws ClusterError naming what is wrong (never quoting the credentials)
 */
export function loadKubeConfig(text: string): KubeConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ClusterError(`parameters.kubeconfig is not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc || typeof doc !== 'object') throw new ClusterError('parameters.kubeconfig is not a kubeconfig (no clusters, users and contexts)');
  const d = doc as { clusters?: { name?: string; cluster?: Record<string, unknown> }[]; users?: { name?: string; user?: Record<string, unknown> }[] };
  for (const c of d.clusters ?? []) {
    for (const key of HOST_REFERENCES) if (c.cluster && key in c.cluster) throw new ClusterError(`parameters.kubeconfig: cluster '${c.name ?? ''}' uses '${key}', which reads a file on the OpenStage host; give '${key}-data' instead`);
  }
  for (const u of d.users ?? []) {
    for (const key of HOST_REFERENCES) {
      if (u.user && key in u.user) throw new ClusterError(`parameters.kubeconfig: user '${u.name ?? ''}' uses '${key}', which ${key === 'exec' || key === 'auth-provider' ? 'runs a program' : 'reads a file'} on the OpenStage host; use a token or '-data' certificates`);
    }
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text, { onInvalidEntry: 'throw' });
  } catch (err) {
    throw new ClusterError(`parameters.kubeconfig is not a valid kubeconfig (${(err as Error).message.split('\n')[0]})`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new ClusterError('parameters.kubeconfig has no current context naming a cluster with a server address');
  if (!kc.getCurrentUser()) throw new ClusterError('parameters.kubeconfig: the current context names no user');
  return kc;
}

/** The message of a failed API call, for a client: status and the cluster's reason, or the connection error. */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    let reason = '';
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string } | undefined;
      reason = body?.message ?? '';
    } catch {
      reason = String(err.body).slice(0, 200);
    }
    return `HTTP ${err.code}${reason ? `: ${reason}` : ''}`;
  }
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.message ?? e?.message ?? String(err);
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** Rejects with `message` after `ms` unless `work` settles first. */
export async function within<T>(ms: number, message: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterError(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a binding's credentials must be allowed in its namespace (group, resource, verb). */
const NEEDED: [string, string, string][] = [
  ['apps', 'deployments', 'create'],
  ['apps', 'deployments', 'watch'],
  ['', 'services', 'create'],
  ['', 'configmaps', 'create'],
  ['', 'secrets', 'create'],
  ['', 'pods', 'watch'],
];

/**
 * The checks made when a cluster is bound (issue #17): the cluster answers (`/version`), the
 * namespace exists or is created, and the credentials may create Deployments, Services,
 * ConfigMaps and Secrets and watch Deployments and Pods there (SelfSubjectAccessReview).
 * @param timeoutMs longest each call may take
 * @throws ClusterError saying which check failed and why
 */
export async function checkCluster(binding: ClusterBinding, timeoutMs: number): Promise<void> {
  const kc = loadKubeConfig(binding.kubeconfig);
  const server = kc.getCurrentCluster()!.server;
  const ns = binding.namespace;
  try {
    await within(timeoutMs, `the cluster at ${server} did not answer within ${timeoutMs / 1000} s`, kc.makeApiClient(VersionApi).getCode());
  } catch (err) {
    if (err instanceof ClusterError) throw err;
    const status = statusOf(err);
    if (status === 401) throw new ClusterError(`the cluster at ${server} refused the kubeconfig's credentials (HTTP 401)`);
    // A 403 on /version still proves the cluster answers and knows the credentials.
    if (status !== 403) throw new ClusterError(`the cluster at ${server} does not answer: ${describeApiError(err)}`);
  }
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await within(timeoutMs, `reading namespace ${ns} took longer than ${timeoutMs / 1000} s`, core.readNamespace({ name: ns }));
  } catch (err) {
    if (err instanceof ClusterError) throw err;
    const status = statusOf(err);
    if (status === 404) {
      try {
        await within(timeoutMs, `creating namespace ${ns} took longer than ${timeoutMs / 1000} s`, core.createNamespace({ body: { metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'openstage' } } } }));
      } catch (e) {
        if (e instanceof ClusterError) throw e;
        if (statusOf(e) !== 409) throw new ClusterError(`namespace ${ns} does not exist on ${server} and could not be created: ${describeApiError(e)}`);
      }
    } else if (status !== 403) {
      // 403: the credentials may not read namespaces; what they may do inside is checked next.
      throw new ClusterError(`reading namespace ${ns} on ${server} failed: ${describeApiError(err)}`);
    }
  }
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const denied: string[] = [];
  for (const [group, resource, verb] of NEEDED) {
    let allowed = false;
    try {
      const review = await within(timeoutMs, `the access review on ${server} took longer than ${timeoutMs / 1000} s`, authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: ns, group, resource, verb } } } }));
      allowed = review.status?.allowed === true;
    } catch (err) {
      if (err instanceof ClusterError) throw err;
      throw new ClusterError(`checking the credentials' rights on ${server} failed: ${describeApiError(err)}`);
    }
    if (!allowed) denied.push(`${verb} ${resource}`);
  }
  if (denied.length) throw new ClusterError(`the kubeconfig's credentials may not ${denied.join(', ')} in namespace ${ns} of ${server}`);
}
