import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { renderConfig } from '../../../src/cas/config/render.js';
import { createLogger } from '../../../src/core/log.js';
import { baseName, LABELS } from '../../../src/deploy/kubernetes/objects.js';
import { KubernetesRuntime, type BoundResource } from '../../../src/deploy/kubernetes/runtime.js';
import type { Release } from '../../../src/deploy/runtime.js';
import type { ComponentPlan, TaskContext } from '../../../src/deploy/types.js';
import { kubectl, testCluster, uniqNamespace } from '../../helpers/k8s-cluster.js';
import { fullPlan } from '../../helpers/k8s-plan.js';

/**
 * The kubernetes runtime against the test cluster (real control plane, simulated nodes: pods
 * become Ready but nothing runs — these tests prove the objects, the roll-out logic, the
 * watches and the failure reasons, not that an image starts).
 */

interface Fixture {
  runtime: KubernetesRuntime;
  ns: string;
  deployed: { project: string; componentId: string; version: string }[];
  newRuntime(): KubernetesRuntime;
}

/** @param clusterParameters more parameters of the cce binding (e.g. ingress_class) */
function fixture(t: TestContext, clusterParameters: Record<string, string> = {}): Fixture {
  const cluster = testCluster();
  const ns = uniqNamespace('rt');
  kubectl('create', 'namespace', ns);
  // Pods are admitted once the namespace's default service account exists (the controller
  // manager makes it; on a loaded machine not at once).
  for (let i = 0; i < 300 && !/default/.test(kubectlOr('-n', ns, 'get', 'serviceaccount', 'default', '-o', 'name')); i++) spawnSync('sleep', ['0.1']);
  const deployed: Fixture['deployed'] = [];
  const runtimes: KubernetesRuntime[] = [];
  const newRuntime = () => {
    const r = new KubernetesRuntime({
      log: createLogger('silent'),
      bindings: async (): Promise<BoundResource[]> => [
        { id: 'k1', type: 'cce', parameters: { kubeconfig: cluster.kubeconfig, namespace: ns, ...clusterParameters } },
        { id: 'reg', type: 'swr', parameters: { server: 'registry.local', namespace: 'shop', username: 'robot', password: 'pull-pw' } },
      ],
      deployed: async () => deployed,
      renderFile: renderConfig,
      requestTimeoutMs: 20_000,
    });
    runtimes.push(r);
    return r;
  };
  t.after(async () => {
    for (const r of runtimes) await r.shutdown(false);
    kubectl('delete', 'namespace', ns, '--wait=false');
  });
  return { runtime: newRuntime(), ns, deployed, newRuntime };
}

/** A task context whose messages are collected; aborted after `timeoutMs`. */
function task(jobId = `JOB${randomUUID()}`, timeoutMs = 60_000): TaskContext & { lines: string[]; controller: AbortController } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  timer.unref();
  const lines: string[] = [];
  return { project: 'p', jobId, signal: controller.signal, log: (l) => lines.push(l), lines, controller };
}

/** A small plan the simulated nodes can schedule (no claim, affinity both zones can meet). */
function plan(over: Partial<ComponentPlan> = {}): ComponentPlan {
  return fullPlan({
    componentId: randomUUID(),
    replicas: 2,
    volumes: [{ type: 'EmptyDir', mounts: [{ path: '/tmp/cache' }] }],
    affinity: [{ kind: 'node', condition: 'required', weight: 1, matchExpressions: [{ key: 'type', operator: 'In', values: ['kwok'] }] }],
    antiAffinity: undefined,
    strategy: { type: 'OneBatchRelease' },
    ...over,
  });
}

function release(p: ComponentPlan, image = `registry.local/shop/orders:${p.version}`): Release {
  return { plan: p, artifact: { runtime: 'kubernetes', image } };
}

function versions(runtime: KubernetesRuntime, p: ComponentPlan): string[] {
  return runtime.replicas(p.project, p.componentId).filter((r) => r.state !== 'stopped').map((r) => `${r.version}:${r.ready ? 'ready' : 'not-ready'}`).sort();
}

/** kubectl's output, or "" when it fails. */
function kubectlOr(...args: string[]): string {
  try {
    return kubectl(...args);
  } catch {
    return '';
  }
}

function json(...args: string[]): any {
  return JSON.parse(kubectl(...args, '-o', 'json'));
}

describe('KubernetesRuntime on the test cluster', () => {
  it('deploys a component with every field: objects, labels, owner, Ready replicas; then scales, upgrades rolling, restarts', async (t) => {
    const f = fixture(t);
    const p = plan();
    const base = baseName(p);
    const ctx = task();
    await f.runtime.rollout(release(p), { target: 2, batches: [2] }, ctx);
    assert.deepEqual(versions(f.runtime, p), ['1.2.3:ready', '1.2.3:ready']);
    const views = f.runtime.replicas(p.project, p.componentId);
    assert.deepEqual(views.map((v) => [v.state, v.port, v.restarts]), [['running', 8080, 0], ['running', 8080, 0]]);

    // What the cluster holds: the Deployment as planned, owned by the anchor, with its Services, ConfigMap and Secrets.
    const d = json('-n', f.ns, 'get', 'deployment', base);
    const c = d.spec.template.spec.containers[0];
    assert.equal(c.image, 'registry.local/shop/orders:1.2.3');
    assert.deepEqual(c.resources, { limits: { cpu: '1500m', memory: '1073741824' }, requests: { cpu: '250m', memory: '268435456' } });
    assert.equal(c.readinessProbe.httpGet.path, '/ready');
    assert.deepEqual(c.lifecycle.preStop.httpGet.path, '/drain');
    assert.equal(d.spec.template.spec.terminationGracePeriodSeconds, 20);
    assert.equal(d.spec.progressDeadlineSeconds, 120);
    assert.equal(d.metadata.ownerReferences[0].name, `${base}-owner`);
    const selector = `${LABELS.component}=${p.componentId}`;
    const kinds = (kind: string) => json('-n', f.ns, 'get', kind, '-l', selector).items.map((o: any) => o.metadata.name).sort();
    assert.deepEqual(kinds('service'), [base, `${base}-external`]);
    assert.equal(json('-n', f.ns, 'get', 'service', `${base}-external`).spec.type, 'NodePort');
    assert.equal(kinds('configmap').length, 2, 'the anchor and the files');
    assert.equal(kinds('secret').length, 3, 'env, secret files, pull secret');
    assert.ok(ctx.lines.some((l) => /waiting for the roll-out/.test(l)), ctx.lines.join('\n'));

    // Applying the same job's objects again changes nothing: same pods.
    const pods = f.runtime.replicas(p.project, p.componentId).map((r) => r.instanceId);
    await f.runtime.rollout(release(p), { target: 2, batches: [2] }, { ...task(ctx.jobId) });
    assert.deepEqual(f.runtime.replicas(p.project, p.componentId).map((r) => r.instanceId), pods);

    // Scale up and down.
    await f.runtime.scale(release(p), 4, task());
    assert.equal(versions(f.runtime, p).length, 4);
    await f.runtime.scale(release(p), 1, task());
    assert.deepEqual(versions(f.runtime, p), ['1.2.3:ready']);

    // Rolling upgrade in 2 batches to 3 replicas of 2.0.0.
    const filesV1 = kinds('configmap').filter((n: string) => n !== `${base}-owner`);
    const v2 = { ...p, version: '2.0.0', strategy: { type: 'RollingRelease' as const, batches: 2 }, updateStrategy: undefined, files: [{ path: '/etc/app/app.yaml', content: 'v2\n' }] };
    await f.runtime.rollout(release(v2), { target: 3, batches: [2, 1] }, task());
    assert.deepEqual(versions(f.runtime, p), ['2.0.0:ready', '2.0.0:ready', '2.0.0:ready']);
    assert.equal(json('-n', f.ns, 'get', 'deployment', base).spec.strategy.rollingUpdate.maxSurge, 2);
    // The new files got a new ConfigMap; the unused one and the Secret storage's Secret went.
    const filesV2 = kinds('configmap').filter((n: string) => n !== `${base}-owner`);
    assert.equal(filesV2.length, 1);
    assert.notEqual(filesV2[0], filesV1[0]);
    assert.equal(kinds('secret').length, 2, 'env and pull secrets');

    // Restart: a roll-out by a new job replaces every pod.
    const before = f.runtime.replicas(p.project, p.componentId).map((r) => r.instanceId);
    await f.runtime.rollout(release(v2), { target: 3, batches: [3] }, task());
    const after = f.runtime.replicas(p.project, p.componentId).map((r) => r.instanceId);
    assert.equal(after.length, 3);
    assert.deepEqual(after.filter((id) => before.includes(id)), []);
  });

  it('gray: a second Deployment beside the stable one, promoted by the next phase; rollback; stop and start', async (t) => {
    const f = fixture(t);
    const v1 = plan();
    const base = baseName(v1);
    await f.runtime.rollout(release(v1), { target: 3, batches: [3] }, task());
    const v2 = { ...v1, version: '2.0.0', strategy: { type: 'GrayRelease' as const, firstBatchReplica: 1 } };
    const job = task();
    await f.runtime.rollout(release(v2), { target: 3, batches: [1], keepOld: true }, job);
    assert.deepEqual(versions(f.runtime, v1), ['1.2.3:ready', '1.2.3:ready', '1.2.3:ready', '2.0.0:ready']);
    assert.equal(json('-n', f.ns, 'get', 'deployment', `${base}-gray`).spec.replicas, 1);
    // continue_deploy: the same job rolls the stable Deployment and the gray one goes.
    await f.runtime.rollout(release(v2), { target: 3, batches: [3] }, { ...task(job.jobId) });
    assert.deepEqual(versions(f.runtime, v1), ['2.0.0:ready', '2.0.0:ready', '2.0.0:ready']);
    assert.deepEqual(json('-n', f.ns, 'get', 'deployment', '-l', `${LABELS.component}=${v1.componentId}`).items.map((d: any) => d.metadata.name), [base]);

    // Rollback: the stored 1.2.3 release rolled out again.
    await f.runtime.rollout(release(v1), { target: 3, batches: [3] }, task());
    assert.deepEqual(versions(f.runtime, v1), ['1.2.3:ready', '1.2.3:ready', '1.2.3:ready']);

    // Stop: replicas 0, the Deployment stays; start: the saved count again.
    const stopped = await f.runtime.stopAll(v1.project, v1.componentId, task());
    assert.deepEqual(stopped, { stopped: 3, killed: 0 });
    assert.deepEqual(f.runtime.replicas(v1.project, v1.componentId), []);
    assert.equal(json('-n', f.ns, 'get', 'deployment', base).spec.replicas, 0);
    await f.runtime.scale(release(v1), 3, task());
    assert.deepEqual(versions(f.runtime, v1), ['1.2.3:ready', '1.2.3:ready', '1.2.3:ready']);
  });

  it('fails a roll-out with the cluster reason and keeps the running version; cancel stops a roll-out', async (t) => {
    const f = fixture(t);
    const v1 = plan();
    const base = baseName(v1);
    await f.runtime.rollout(release(v1), { target: 2, batches: [2] }, task());
    const cases: [Partial<ComponentPlan>, RegExp][] = [
      [{ labels: { 'openstage.test/fail': 'ImagePullBackOff' } }, /^pod .+: ImagePullBackOff: Back-off pulling image "registry\.local\/shop\/orders:9\.9\.9" \(simulated\)$/],
      [{ labels: { 'openstage.test/fail': 'CrashLoopBackOff' } }, /^pod .+: CrashLoopBackOff: back-off restarting failed container/],
      [{ resources: { requestCpuCores: 1024 } }, /^pod .+: FailedScheduling: 0\/2 nodes are available: 2 Insufficient cpu/],
    ];
    for (const [over, message] of cases) {
      const bad = { ...v1, version: '9.9.9', ...over };
      await assert.rejects(f.runtime.rollout(release(bad), { target: 2, batches: [2] }, task()), (err: Error) => {
        assert.match(err.message, message);
        return true;
      });
      // The Deployment is back at 1.2.3 and its pods keep serving.
      assert.equal(json('-n', f.ns, 'get', 'deployment', base).spec.template.metadata.labels[LABELS.version], '1.2.3');
      await waitUntil(() => versions(f.runtime, v1).join() === '1.2.3:ready,1.2.3:ready', () => versions(f.runtime, v1).join());
      assert.equal(f.runtime.failure(v1.project, v1.componentId), undefined);
    }

    // Cancel: pods that take 60 s to be ready; the abort ends the wait and undoes the roll-out.
    const slow = { ...v1, version: '3.0.0', labels: { 'openstage.test/ready-after': '60s' } };
    const ctx = task();
    const rolling = f.runtime.rollout(release(slow), { target: 2, batches: [2] }, ctx);
    await waitUntil(() => versions(f.runtime, v1).some((v) => v.startsWith('3.0.0')), () => versions(f.runtime, v1).join());
    ctx.controller.abort(new Error('cancelled by tester'));
    await assert.rejects(rolling, /cancelled by tester/);
    assert.equal(json('-n', f.ns, 'get', 'deployment', base).spec.template.metadata.labels[LABELS.version], '1.2.3');
    await waitUntil(() => versions(f.runtime, v1).join() === '1.2.3:ready,1.2.3:ready', () => versions(f.runtime, v1).join());
  });

  it('OpenStage stopping mid-roll-out leaves the roll-out to the cluster; the next start watches it finish with nothing duplicated', async (t) => {
    const f = fixture(t);
    const v1 = plan();
    await f.runtime.rollout(release(v1), { target: 2, batches: [2] }, task());
    const v2 = { ...v1, version: '2.0.0', labels: { 'openstage.test/ready-after': '8s' } };
    const rolling = f.runtime.rollout(release(v2), { target: 2, batches: [2] }, task());
    await waitUntil(() => versions(f.runtime, v1).some((v) => v.startsWith('2.0.0')), () => versions(f.runtime, v1).join());
    await f.runtime.shutdown(false);
    await assert.rejects(rolling, /OpenStage is stopping/);
    const generation = json('-n', f.ns, 'get', 'deployment', baseName(v1)).metadata.generation;
    f.deployed.push({ project: v1.project, componentId: v1.componentId, version: v2.version });
    const again = f.newRuntime();
    await again.adopt(async () => release(v2));
    await waitUntil(() => versions(again, v1).join() === '2.0.0:ready,2.0.0:ready', () => versions(again, v1).join());
    assert.equal(json('-n', f.ns, 'get', 'deployment', baseName(v1)).metadata.generation, generation, 'nothing applied again');
    assert.equal(json('-n', f.ns, 'get', 'replicaset', '-l', `${LABELS.component}=${v1.componentId}`).items.length, 2, 'one ReplicaSet per version');
  });

  it('after a restart watches again without touching the cluster; delete leaves nothing of the component and nothing else', async (t) => {
    const f = fixture(t, { ingress_class: 'nginx' });
    const p = plan();
    const other = plan({ componentName: 'Other' });
    await f.runtime.rollout(release(p), { target: 2, batches: [2] }, task());
    await f.runtime.rollout(release(other), { target: 1, batches: [1] }, task());
    f.deployed.push({ project: p.project, componentId: p.componentId, version: p.version });
    const pods = f.runtime.replicas(p.project, p.componentId).map((r) => r.instanceId);
    const generation = json('-n', f.ns, 'get', 'deployment', baseName(p)).metadata.generation;
    await f.runtime.shutdown(false);

    // A new runtime (OpenStage started again) adopts: same pods, nothing applied.
    const again = f.newRuntime();
    await again.adopt(async (project, componentId, version) => (componentId === p.componentId && version === p.version ? release(p) : undefined));
    assert.deepEqual(again.replicas(p.project, p.componentId).map((r) => r.instanceId), pods);
    assert.equal(json('-n', f.ns, 'get', 'deployment', baseName(p)).metadata.generation, generation);

    // With an ingress class bound, the external access is an Ingress (no NodePort Service).
    const ingress = json('-n', f.ns, 'get', 'ingress', baseName(p));
    assert.equal(ingress.spec.ingressClassName, 'nginx');
    assert.deepEqual(ingress.spec.rules[0].host, 'orders.example.com');
    assert.equal(kubectlOr('-n', f.ns, 'get', 'service', `${baseName(p)}-external`, '-o', 'name'), '');

    await again.remove(p.project, p.componentId, task());
    for (const kind of ['deployment', 'replicaset', 'pod', 'service', 'configmap', 'secret', 'ingress']) {
      assert.deepEqual(json('-n', f.ns, 'get', kind, '-l', `${LABELS.component}=${p.componentId}`).items.map((o: any) => o.metadata.name), [], kind);
    }
    assert.deepEqual(again.replicas(p.project, p.componentId), []);
    // The other component is untouched.
    assert.equal(json('-n', f.ns, 'get', 'deployment', baseName(other)).status.readyReplicas, 1);
    assert.equal(json('-n', f.ns, 'get', 'ingress', baseName(other)).metadata.name, baseName(other));
  });
});

/** Waits (real time: the cluster's own pace) until `ok()`; fails with `describe()` after 30 s. */
async function waitUntil(ok: () => boolean, describe: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not reached in 30 s: ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
