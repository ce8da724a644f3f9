import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderConfig } from '../../../../src/cas/config/render.js';
import { baseName, componentPorts, dnsLabel, ownedBy, workloadObjects, LABELS, ROLLOUT_MARK } from '../../../../src/deploy/kubernetes/objects.js';
import { podFailure, podView, rolloutState } from '../../../../src/deploy/kubernetes/status.js';
import { fullPlan } from '../../../helpers/k8s-plan.js';

const target = { namespace: 'shop', image: 'registry.local/shop/orders@sha256:abc', registry: { server: 'registry.local', username: 'robot', password: 'pull-pw' } };

describe('workloadObjects', () => {
  it('maps every plan field onto the Deployment, Services, ConfigMaps and Secrets', () => {
    const plan = fullPlan();
    const o = workloadObjects(plan, target, { track: 'stable', replicas: 3, renderFile: renderConfig, rolloutMark: 'JOB1' });
    const base = baseName(plan);
    assert.match(base, /^orders-api-[0-9a-f]{8}$/);
    const d = o.deployment;
    assert.equal(d.metadata?.name, base);
    assert.equal(d.metadata?.namespace, 'shop');
    assert.equal(d.spec?.replicas, 3);
    assert.deepEqual(d.spec?.selector.matchLabels, { [LABELS.component]: plan.componentId, [LABELS.track]: 'stable' });
    assert.deepEqual(d.spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
    assert.equal(d.spec?.progressDeadlineSeconds, 120);
    assert.equal(d.spec?.minReadySeconds, 4);
    assert.equal(d.spec?.revisionHistoryLimit, 5);
    const tpl = d.spec!.template;
    assert.equal(tpl.metadata?.annotations?.[ROLLOUT_MARK], 'JOB1');
    assert.equal(tpl.metadata?.labels?.team, 'red');
    assert.equal(tpl.metadata?.labels?.[LABELS.version], '1.2.3');
    assert.equal(tpl.metadata?.labels?.[LABELS.managedBy], 'openstage');
    const pod = tpl.spec!;
    assert.equal(pod.terminationGracePeriodSeconds, 20);
    const c = pod.containers[0]!;
    assert.equal(c.image, target.image);
    assert.deepEqual(c.command, ['/bin/orders']);
    assert.deepEqual(c.args, ['--serve']);
    assert.deepEqual(c.ports?.map((p) => p.containerPort), [8080, 9090]);
    assert.deepEqual(c.resources, { limits: { cpu: '1.5', memory: '1073741824' }, requests: { cpu: '0.25', memory: '268435456' } });
    assert.deepEqual(c.readinessProbe, { httpGet: { path: '/ready', port: 9090, scheme: 'HTTP' }, initialDelaySeconds: 2, timeoutSeconds: 3 });
    assert.deepEqual(c.livenessProbe, { tcpSocket: { port: 8080 }, initialDelaySeconds: 5 });
    assert.deepEqual(c.lifecycle, { postStart: { exec: { command: ['sh', '-c', 'echo started'] } }, preStop: { httpGet: { path: '/drain', port: 9090, scheme: 'HTTP' } } });
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    assert.deepEqual(env.GREETING, { name: 'GREETING', value: 'hi' });
    assert.deepEqual(env.PORT, { name: 'PORT', value: '8080' });
    assert.deepEqual(env.JAVA_TOOL_OPTIONS, { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx256m' });
    assert.deepEqual(env.CAS_INSTANCE_ID?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    // A password never appears in the Deployment: it comes from the env Secret.
    const envSecret = o.secrets.find((s) => s.metadata?.name?.startsWith(`${base}-env-`))!;
    assert.deepEqual(env.RELATIONAL_DATABASE_PASSWORD?.valueFrom, { secretKeyRef: { name: envSecret.metadata!.name, key: 'RELATIONAL_DATABASE_PASSWORD' } });
    assert.deepEqual(envSecret.stringData, { RELATIONAL_DATABASE_PASSWORD: 'pw!' });
    assert.ok(!JSON.stringify(d).includes('pw!'));
    // Config files: rendered into a ConfigMap, the Secret storage's into a Secret, each mounted by subPath.
    assert.equal(o.configMaps.length, 1);
    assert.deepEqual(o.configMaps[0]!.data, { 'file-0': 'name: Shop\n' });
    assert.equal(o.configMaps[0]!.immutable, true);
    const sfiles = o.secrets.find((s) => s.metadata?.name?.startsWith(`${base}-sfiles-`))!;
    assert.deepEqual(sfiles.stringData, { 'file-0': 'key: s3\n' });
    assert.deepEqual(
      c.volumeMounts?.map((m) => [m.name, m.mountPath, m.subPath ?? '', m.readOnly ?? false]),
      [
        ['config-files', '/etc/app/app.yaml', 'file-0', true],
        ['secret-files', '/etc/app/secret.yaml', 'file-0', true],
        ['volume-0', '/tmp/cache', '', false],
        ['volume-1', '/data', '', true],
      ],
    );
    assert.deepEqual(pod.volumes?.slice(2), [
      { name: 'volume-0', emptyDir: { medium: 'Memory' } },
      { name: 'volume-1', persistentVolumeClaim: { claimName: 'data' } },
    ]);
    // Registry credentials: a dockerconfigjson pull secret.
    const pull = o.secrets.find((s) => s.type === 'kubernetes.io/dockerconfigjson')!;
    assert.deepEqual(pod.imagePullSecrets, [{ name: pull.metadata!.name }]);
    assert.equal(JSON.parse(pull.stringData!['.dockerconfigjson']!).auths['registry.local'].username, 'robot');
    // Affinity.
    assert.deepEqual(pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-0'] }] }] });
    assert.equal(pod.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.weight, 50);
    assert.equal(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey, 'kubernetes.io/hostname');
    // Services: ClusterIP over both tracks, NodePort for the external access (no ingress class).
    assert.deepEqual(o.service.spec?.selector, { [LABELS.component]: plan.componentId });
    assert.deepEqual(o.service.spec?.ports?.map((p) => p.port), [8080, 9090]);
    assert.equal(o.externalService?.spec?.type, 'NodePort');
    assert.deepEqual(o.externalService?.spec?.ports?.map((p) => p.port), [8080]);
    assert.equal(o.ingress, undefined);
    // Every object carries the component's labels.
    for (const obj of [o.anchor, d, o.service, o.externalService!, ...o.configMaps, ...o.secrets]) assert.equal(obj.metadata?.labels?.[LABELS.component], plan.componentId, obj.metadata?.name);
  });

  it('gives the same objects for the same plan, new content names for new content, and an Ingress with an ingress class', () => {
    const plan = fullPlan();
    const a = workloadObjects(plan, target, { track: 'stable', replicas: 3, renderFile: renderConfig, rolloutMark: 'J' });
    const b = workloadObjects(plan, target, { track: 'stable', replicas: 3, renderFile: renderConfig, rolloutMark: 'J' });
    assert.deepEqual(a, b);
    const changed = workloadObjects(fullPlan({ files: [{ path: '/etc/app/app.yaml', content: 'other' }] }), target, { track: 'stable', replicas: 3, renderFile: renderConfig, rolloutMark: 'J' });
    assert.notEqual(changed.configMaps[0]!.metadata!.name, a.configMaps[0]!.metadata!.name);
    const gray = workloadObjects(plan, target, { track: 'gray', replicas: 1, renderFile: renderConfig, rolloutMark: 'J' });
    assert.equal(gray.deployment.metadata?.name, `${baseName(plan)}-gray`);
    assert.equal(gray.deployment.spec?.selector.matchLabels?.[LABELS.track], 'gray');
    const ing = workloadObjects(plan, { ...target, ingressClass: 'nginx' }, { track: 'stable', replicas: 3, renderFile: renderConfig, rolloutMark: 'J' });
    assert.equal(ing.externalService, undefined);
    assert.deepEqual(ing.ingress?.spec, {
      ingressClassName: 'nginx',
      rules: [{ host: 'orders.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: baseName(plan), port: { number: 8080 } } } }] } }],
    });
  });

  it('derives ports, one-batch surge and names for a minimal plan', () => {
    const plan = fullPlan({ readinessProbe: undefined, livenessProbe: undefined, postStart: undefined, preStop: undefined, externalAccesses: undefined, strategy: { type: 'OneBatchRelease' }, updateStrategy: undefined, files: [], env: {}, resources: undefined, labels: undefined, affinity: undefined, antiAffinity: undefined, volumes: undefined });
    assert.deepEqual(componentPorts(plan), [8080]);
    const o = workloadObjects(plan, { namespace: 'default', image: 'nginx' }, { track: 'stable', replicas: 2, renderFile: renderConfig, rolloutMark: 'J' });
    assert.deepEqual(o.deployment.spec?.strategy?.rollingUpdate, { maxSurge: '100%', maxUnavailable: 0 });
    assert.equal(o.deployment.spec?.progressDeadlineSeconds, 600);
    assert.equal(o.secrets.length, 0);
    assert.equal(o.deployment.spec?.template.spec?.imagePullSecrets, undefined);
    assert.equal(dnsLabel('__A.b__C__'), 'a-b-c');
    assert.equal(dnsLabel('x'.repeat(80)).length, 63);
    const owned = ownedBy(o.service, { name: 'a-owner', uid: 'u1' });
    assert.deepEqual(owned.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a-owner', uid: 'u1', controller: false, blockOwnerDeletion: false }]);
  });
});

const deployment = (over: Record<string, unknown> = {}) => ({
  metadata: { name: 'd', generation: 2 },
  spec: { selector: { matchLabels: { [LABELS.component]: 'c1', [LABELS.track]: 'stable' } } },
  status: { observedGeneration: 2, conditions: [] as unknown[] },
  ...over,
});
const pod = (name: string, mark: string, status: Record<string, unknown>) => ({
  metadata: { name, labels: { [LABELS.component]: 'c1', [LABELS.track]: 'stable', [LABELS.version]: '1.0.0' }, annotations: { [ROLLOUT_MARK]: mark }, creationTimestamp: new Date(0) },
  spec: { containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 8080 }] }] },
  status,
});
const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} } }] };

describe('rolloutState / podFailure / podView', () => {
  it('is done only with every new pod ready and no old one left', () => {
    assert.deepEqual(rolloutState(deployment() as any, [pod('a', 'J2', ready), pod('b', 'J1', ready)] as any, 1, ROLLOUT_MARK, 'J2'), { done: false, progress: '1/1 ready, 1 old pod(s) left' });
    assert.deepEqual(rolloutState(deployment() as any, [pod('a', 'J2', ready)] as any, 1, ROLLOUT_MARK, 'J2'), { done: true });
    assert.equal(rolloutState(deployment({ status: { observedGeneration: 1 } }) as any, [pod('a', 'J2', ready)] as any, 1, ROLLOUT_MARK, 'J2').done, false);
    assert.equal(rolloutState(undefined, [], 1, ROLLOUT_MARK, 'J2').done, false);
  });

  it('names the cluster reason of a failing pod or Deployment', () => {
    const pulling = { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } }] };
    assert.deepEqual(rolloutState(deployment() as any, [pod('a', 'J2', pulling)] as any, 1, ROLLOUT_MARK, 'J2'), { done: false, failure: 'pod a: ImagePullBackOff: Back-off pulling image "x"', progress: '' });
    // An old pod's failure is not this roll-out's.
    assert.equal((rolloutState(deployment() as any, [pod('a', 'J1', pulling)] as any, 1, ROLLOUT_MARK, 'J2') as any).failure, undefined);
    const unschedulable = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' }] };
    assert.equal(podFailure(pod('a', 'J', unschedulable) as any), 'FailedScheduling: 0/2 nodes are available: 2 Insufficient cpu.');
    const deadline = deployment({ status: { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "d-1" has timed out progressing.' }] } });
    assert.equal((rolloutState(deadline as any, [] as any, 1, ROLLOUT_MARK, 'J2') as any).failure, 'ProgressDeadlineExceeded: ReplicaSet "d-1" has timed out progressing.');
  });

  it('shows a pod as a replica', () => {
    assert.deepEqual(podView(pod('a', 'J', ready) as any), { instanceId: 'a', version: '1.0.0', port: 8080, state: 'running', ready: true, restarts: 0 });
    const crash = { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 3, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } }] };
    assert.deepEqual(podView(pod('b', 'J', crash) as any), { instanceId: 'b', version: '1.0.0', port: 8080, state: 'backoff', ready: false, restarts: 3, lastExit: { code: 1, signal: null } });
  });
});
