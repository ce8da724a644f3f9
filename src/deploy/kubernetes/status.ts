import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ReplicaView } from '../types.js';
import { CONTAINER, LABELS } from './objects.js';

/**
 * What the cluster says about a component, read from the watched Deployments and Pods (no
 * API call): each pod as a replica, and whether a roll-out is done, still going or failed
 * with the cluster's reason. Pure functions over the objects the informers hold.
 */

/** Waiting reasons of a container that mean it will not become ready by itself. */
export const FAILED_WAITING = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'ErrImageNeverPull']);

function podReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** A pod as the engine's replica view: instance = pod name; state running | starting | backoff | stopped. */
export function podView(pod: V1Pod): ReplicaView {
  const statuses = pod.status?.containerStatuses ?? [];
  const main = statuses.find((s) => s.name === CONTAINER) ?? statuses[0];
  const waiting = main?.state?.waiting?.reason ?? '';
  let state = 'starting';
  if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') state = 'stopped';
  else if (FAILED_WAITING.has(waiting) || /BackOff$/.test(waiting)) state = 'backoff';
  else if (pod.status?.phase === 'Running' && main?.state?.running) state = 'running';
  const port = pod.spec?.containers[0]?.ports?.[0]?.containerPort ?? 0;
  const view: ReplicaView = {
    instanceId: pod.metadata?.name ?? '',
    version: pod.metadata?.labels?.[LABELS.version] ?? '',
    port,
    state,
    ready: state !== 'stopped' && podReady(pod),
    restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
  };
  const last = main?.lastState?.terminated;
  if (last) view.lastExit = { code: last.exitCode ?? null, signal: last.signal !== undefined ? String(last.signal) : null };
  return view;
}

/** Pods oldest first (creation time, then name). */
export function byAge(pods: readonly V1Pod[]): V1Pod[] {
  const time = (p: V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
  return [...pods].sort((a, b) => time(a) - time(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * Why a pod will not become ready, in the cluster's words, or undefined: a container waiting
 * with a reason of FAILED_WAITING (`ImagePullBackOff: Back-off pulling image …`), or the
 * scheduler's refusal (`FailedScheduling: 0/2 nodes are available: …`).
 */
export function podFailure(pod: V1Pod): string | undefined {
  for (const s of pod.status?.containerStatuses ?? []) {
    const w = s.state?.waiting;
    if (w?.reason && FAILED_WAITING.has(w.reason)) return `${w.reason}${w.message ? `: ${w.message}` : ''}`;
  }
  const scheduled = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return `FailedScheduling${scheduled.message ? `: ${scheduled.message}` : ''}`;
  return undefined;
}

/** Where a Deployment's roll-out stands. */
export type RolloutState = { done: true } | { done: false; failure?: string; progress: string };

/**
 * Whether a Deployment reached `replicas` ready pods of its current template (`templateMark`:
 * the value of `markKey` in the pod template's annotations; pods of other templates are the
 * old ones) with no old pod left, or why it will not: a new pod's failure (podFailure) or the
 * Deployment's `ProgressDeadlineExceeded` condition (a `ReplicaFailure` shows in the progress).
 * @param pods the component's pods in the Deployment's namespace (any track; filtered here)
 */
export function rolloutState(deployment: V1Deployment | undefined, pods: readonly V1Pod[], replicas: number, markKey: string, templateMark: string | undefined): RolloutState {
  if (!deployment) return { done: false, progress: 'waiting for the Deployment' };
  const selector = deployment.spec?.selector?.matchLabels ?? {};
  const own = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v) && !p.metadata?.deletionTimestamp);
  const fresh = own.filter((p) => p.metadata?.annotations?.[markKey] === templateMark);
  for (const p of fresh) {
    const failure = podFailure(p);
    if (failure) return { done: false, failure: `pod ${p.metadata?.name}: ${failure}`, progress: '' };
  }
  // ReplicaFailure (pods not created: quota, a namespace's service account not made yet) may
  // pass; it is shown, and the progress deadline fails the roll-out if it lasts.
  let replicaFailure = '';
  for (const c of deployment.status?.conditions ?? []) {
    if (c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') return { done: false, failure: `ProgressDeadlineExceeded: ${c.message ?? 'the roll-out made no progress in time'}`, progress: '' };
    if (c.type === 'ReplicaFailure' && c.status === 'True') replicaFailure = ` (${c.reason ?? 'ReplicaFailure'}: ${c.message ?? ''})`;
  }
  const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const ready = fresh.filter(podReady).length;
  const old = own.length - fresh.length;
  if (observed && ready >= replicas && fresh.length === replicas && old === 0) return { done: true };
  return { done: false, progress: `${ready}/${replicas} ready${old ? `, ${old} old pod(s) left` : ''}${replicaFailure}` };
}
