import { LABELS } from '../../src/deploy/kubernetes/objects.js';
import type { ComponentPlan } from '../../src/deploy/types.js';

/** A plan using every field the kubernetes runtime maps. */
export function fullPlan(over: Partial<ComponentPlan> = {}): ComponentPlan {
  return {
    project: 'p0123456789abcdef0123456789abcde',
    componentId: '11111111-2222-3333-4444-555555555555',
    componentName: 'Orders_API',
    applicationId: 'app-1',
    applicationName: 'Shop',
    environmentId: 'env-1',
    environmentName: 'prod',
    version: '1.2.3',
    source: { kind: 'image', url: 'registry.local/shop/orders:1.2.3' },
    stackType: 'Docker',
    replicas: 3,
    env: { GREETING: 'hi', RELATIONAL_DATABASE_PASSWORD: 'pw!', CAS_APPLICATION_NAME: 'Shop' },
    files: [
      { path: '/etc/app/app.yaml', content: 'name: ${CAS_APPLICATION_NAME}\n' },
      { path: '/etc/app/secret.yaml', content: 'key: s3\n', secret: true },
    ],
    command: { command: ['/bin/orders'], args: ['--serve'] },
    jvmOpts: ['-Xmx256m'],
    readinessProbe: { type: 'http', port: 9090, path: '/ready', delay: 2, timeout: 3 },
    livenessProbe: { type: 'tcp', delay: 5 },
    strategy: { type: 'RollingRelease', batches: 3 },
    terminationGraceSeconds: 20,
    resources: { limitCpuCores: 1.5, requestCpuCores: 0.25, limitMemoryBytes: 1073741824, requestMemoryBytes: 268435456 },
    labels: { team: 'red', app: 'orders' },
    postStart: { type: 'command', command: ['sh', '-c', 'echo started'] },
    preStop: { type: 'http', path: '/drain', port: 9090 },
    affinity: [
      { kind: 'node', condition: 'required', weight: 1, matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-0'] }] },
      { kind: 'pod', condition: 'preferred', weight: 50, matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['cache'] }] },
    ],
    antiAffinity: [{ kind: 'pod', condition: 'required', weight: 1, matchExpressions: [{ key: LABELS.component, operator: 'In', values: ['11111111-2222-3333-4444-555555555555'] }] }],
    externalAccesses: [{ protocol: 'HTTP', address: 'orders.example.com/api', forwardPort: 8080 }],
    volumes: [{ type: 'EmptyDir', medium: 'Memory', mounts: [{ path: '/tmp/cache' }] }, { type: 'PersistentVolumeClaim', claimName: 'data', mounts: [{ path: '/data', readOnly: true }] }],
    updateStrategy: { maxUnavailable: '25%', minReadySeconds: 4, progressDeadlineSeconds: 120, revisionHistoryLimit: 5 },
    cluster: { resourceId: 'k1', type: 'cce' },
    ...over,
  };
}

