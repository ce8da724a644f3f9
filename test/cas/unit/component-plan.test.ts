import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPlan, configMounts, DEFAULT_TERMINATION_SECONDS, splitOptions, type PlanInput } from '../../../src/cas/component/plan.js';
import type { Component, ComponentBody } from '../../../src/cas/component/types.js';
import type { ResourceBinding } from '../../../src/cas/environment/types.js';

function component(over: Partial<ComponentBody> = {}): Component {
  return {
    id: 'c1',
    projectId: 'p1',
    applicationId: 'a1',
    environmentId: 'e1',
    name: 'web',
    body: {
      name: 'web',
      runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0' },
      source: { kind: 'code', repo_url: 'file:///r', repo_ref: 'main' },
      replica: 2,
      version: '1.2.3',
      environment_id: 'e1',
      ...over,
    },
    creator: 'u',
    deleteJobId: '',
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

const binding = (type: string, id: string, parameters: Record<string, string>): ResourceBinding => ({ id, type, name: `${type}-${id}`, alias: '', source: 'managed', parameters });

function input(c: Component, over: Partial<PlanInput> = {}): PlanInput {
  return { component: c, applicationName: 'shop', environmentName: 'dev', appEnv: [], bindings: [], files: [], serverUrl: 'http://127.0.0.1:30100', region: 'local', runtime: 'process', ...over };
}

describe('buildPlan', () => {
  it('merges variables: application configuration, then component envs, then system variables', () => {
    const c = component({ envs: [{ name: 'LEVEL', value: 'component' }, { name: 'CAS_COMPONENT_NAME', value: 'spoofed' }, { name: 'FROM', value_from: { reference_type: 'secret', name: 's', key: 'k' } }] });
    const plan = buildPlan(input(c, { appEnv: [{ name: 'LEVEL', value: 'app' }, { name: 'GREETING', value: 'hi' }] }));
    assert.equal(plan.env.LEVEL, 'component');
    assert.equal(plan.env.GREETING, 'hi');
    assert.equal(plan.env.CAS_COMPONENT_NAME, 'web');
    assert.ok(!('FROM' in plan.env), 'value_from is not resolved');
    assert.deepEqual(
      Object.fromEntries(['CAS_APPLICATION_ID', 'CAS_APPLICATION_NAME', 'CAS_COMPONENT_ID', 'CAS_ENVIRONMENT_ID', 'CAS_ENVIRONMENT_NAME', 'PAAS_PROJECT_ID', 'PAAS_REGION_NAME', 'PAAS_CSE_SC_ENDPOINT', 'PAAS_CSE_CC_ENDPOINT'].map((k) => [k, plan.env[k]])),
      { CAS_APPLICATION_ID: 'a1', CAS_APPLICATION_NAME: 'shop', CAS_COMPONENT_ID: 'c1', CAS_ENVIRONMENT_ID: 'e1', CAS_ENVIRONMENT_NAME: 'dev', PAAS_PROJECT_ID: 'p1', PAAS_REGION_NAME: 'local', PAAS_CSE_SC_ENDPOINT: 'http://127.0.0.1:30100', PAAS_CSE_CC_ENDPOINT: 'http://127.0.0.1:30100' },
    );
  });

  it('takes database and cache variables from the referred binding, else the first of its type; a cse endpoint overrides the server URL', () => {
    const bindings = [
      binding('rds', 'db1', { host: 'h1', port: '5432', db_type: 'postgresql', db_name: 'n1', db_user: 'u1', password: 'p1' }),
      binding('rds', 'db2', { host: 'h2', port: '5433', db_type: 'mysql', db_name: 'n2', db_user: 'u2', password: 'p2' }),
      binding('dcs', 'r1', { host: 'redis', port: '6379', password: 'rp' }),
      binding('cse', 'cse1', { endpoint: 'http://sc.example:30100' }),
    ];
    let plan = buildPlan(input(component(), { bindings }));
    assert.deepEqual([plan.env.RELATIONAL_DATABASE_HOST, plan.env.RELATIONAL_DATABASE_PORT, plan.env.RELATIONAL_DATABASE_DB_TYPE, plan.env.RELATIONAL_DATABASE_DB_NAME, plan.env.RELATIONAL_DATABASE_DB_USER, plan.env.RELATIONAL_DATABASE_PASSWORD, plan.env.RELATIONAL_DATABASE_NAME], ['h1', '5432', 'postgresql', 'n1', 'u1', 'p1', 'rds-db1']);
    assert.deepEqual([plan.env.DISTRIBUTED_CACHE_HOST, plan.env.DISTRIBUTED_CACHE_PORT, plan.env.DISTRIBUTED_CACHE_PASSWORD, plan.env.DISTRIBUTED_CACHE_TYPE], ['redis', '6379', 'rp', 'Redis']);
    assert.equal(plan.env.PAAS_CSE_SC_ENDPOINT, 'http://sc.example:30100');
    plan = buildPlan(input(component({ refer_resources: [{ id: 'db2', type: 'rds' }] }), { bindings }));
    assert.equal(plan.env.RELATIONAL_DATABASE_HOST, 'h2');
    plan = buildPlan(input(component()));
    assert.ok(!Object.keys(plan.env).some((k) => k.startsWith('RELATIONAL_DATABASE_') || k.startsWith('DISTRIBUTED_CACHE_')));
  });

  it('carries source, stack, replicas, command, jvm options, probes, strategy and termination grace', () => {
    let plan = buildPlan(input(component()));
    assert.deepEqual(plan.source, { kind: 'code', repo_url: 'file:///r', repo_ref: 'main' });
    assert.deepEqual([plan.stackType, plan.replicas, plan.version, plan.strategy, plan.terminationGraceSeconds], ['Nodejs', 2, '1.2.3', { type: 'OneBatchRelease' }, DEFAULT_TERMINATION_SECONDS]);
    assert.equal(plan.command, undefined);
    assert.equal(plan.jvmOpts, undefined);
    plan = buildPlan(
      input(
        component({
          command: { command: ['node', 'x.js'], args: ['--a'] },
          jvm_opts: ' -Xmx256m  -Dx=1 ',
          readiness_probe: { type: 'http', path: '/health', port: 8080, delay: 2, timeout: 3 },
          liveness_probe: { type: 'tcp' },
          deploy_strategy: { type: 'GrayRelease', gray_release: { first_batch_replica: 1 } },
          update_strategy: { termination_period_seconds: 7 },
        }),
        { credentials: { username: 'u', password: 'p' } },
      ),
    );
    assert.deepEqual(plan.command, { command: ['node', 'x.js'], args: ['--a'] });
    assert.deepEqual(plan.jvmOpts, ['-Xmx256m', '-Dx=1']);
    assert.deepEqual(plan.readinessProbe, { type: 'http', path: '/health', port: 8080, delay: 2, timeout: 3 });
    assert.deepEqual(plan.livenessProbe, { type: 'tcp' });
    assert.deepEqual(plan.strategy, { type: 'GrayRelease', firstBatchReplica: 1 });
    assert.equal(plan.terminationGraceSeconds, 7);
    assert.deepEqual(plan.credentials, { username: 'u', password: 'p' });
    assert.deepEqual(buildPlan(input(component({ deploy_strategy: { type: 'RollingRelease', rolling_release: { batches: 3 } } }))).strategy, { type: 'RollingRelease', batches: 3 });
  });
});

describe('configMounts', () => {
  it('lists one mount per ConfigMap/Secret mount path, config_id before parameters.name, other storage types ignored', () => {
    const c = component({
      storages: [
        { type: 'ConfigMap', parameters: { name: 'f1' }, mounts: [{ path: '/a' }, { path: '/b' }] },
        { type: 'EmptyDir', mounts: [{ path: '/tmp/x' }] },
        { type: 'Secret', parameters: { name: 'ignored', config_id: 'f2' }, mounts: [{ path: '/c' }] },
      ],
    });
    assert.deepEqual(configMounts(c), [
      { configId: 'f1', path: '/a', storage: 0, secret: false },
      { configId: 'f1', path: '/b', storage: 0, secret: false },
      { configId: 'f2', path: '/c', storage: 2, secret: true },
    ]);
  });
});

describe('workloadFields (buildPlan)', () => {
  it('carries labels, resources, hooks, affinity in both wire forms, external accesses, volumes, update strategy and the cluster binding', () => {
    const bindings: ResourceBinding[] = [
      { id: 'k1', type: 'cce', name: '', alias: '', source: 'managed', parameters: { kubeconfig: 'x', openstage_url: 'http://10.0.0.5:30100' } },
      { id: 'k2', type: 'custom_k8s', name: '', alias: '', source: 'managed', parameters: { kubeconfig: 'y' } },
    ];
    const c = component({
      labels: [{ key: 'team', value: 'red' }],
      limit_cpu: 1,
      request_memory: 0.5,
      post_start: { command: ['echo', 'hi'] },
      pre_stop: { type: 'http', path: '/drain', port: 9000 },
      affinity: { az: ['zone-0'], component: [{ name: 'cache' }] },
      anti_affinity: [{ condition: 'preferred', kind: 'pod', weight: 30, match_expressions: [{ key: 'app', operation: 'In', value: 'a,b' }] }],
      external_accesses: [{ protocol: 'HTTP', address: 'web.example.com', forward_port: 8080 }],
      storages: [{ type: 'EmptyDir', parameters: { medium: 'Memory' }, mounts: [{ path: '/tmp/x' }] }, { type: 'PersistentVolumeClaim', parameters: { name: 'data' }, mounts: [{ path: '/data', read_only: true }] }],
      update_strategy: { max_surge: '50%', max_unavailable: 1, progress_deadline_seconds: 90 },
      refer_resources: [{ id: 'k2', type: 'custom_k8s', parameters: { namespace: 'apps' } }],
    });
    const plan = buildPlan(input(c, { bindings }));
    assert.deepEqual(plan.labels, { team: 'red' });
    assert.deepEqual(plan.resources, { limitCpuCores: 1, requestMemoryBytes: 536870912 });
    assert.deepEqual(plan.postStart, { type: 'command', command: ['echo', 'hi'] });
    assert.deepEqual(plan.preStop, { type: 'http', path: '/drain', port: 9000 });
    assert.deepEqual(plan.affinity, [
      { kind: 'node', condition: 'required', weight: 1, matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-0'] }] },
      { kind: 'pod', condition: 'required', weight: 1, matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['cache'] }] },
    ]);
    assert.deepEqual(plan.antiAffinity, [{ kind: 'pod', condition: 'preferred', weight: 30, matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] }]);
    assert.deepEqual(plan.externalAccesses, [{ protocol: 'HTTP', address: 'web.example.com', forwardPort: 8080 }]);
    assert.deepEqual(plan.volumes, [
      { type: 'EmptyDir', medium: 'Memory', mounts: [{ path: '/tmp/x' }] },
      { type: 'PersistentVolumeClaim', claimName: 'data', mounts: [{ path: '/data', readOnly: true }] },
    ]);
    assert.deepEqual(plan.updateStrategy, { maxSurge: '50%', maxUnavailable: 1, progressDeadlineSeconds: 90 });
    // refer_resources picks the second cluster and its namespace.
    assert.deepEqual(plan.cluster, { resourceId: 'k2', type: 'custom_k8s', namespace: 'apps' });
    // The first cluster names the address pods reach this server at: it becomes the CSE endpoints.
    const first = buildPlan(input(component(), { bindings }));
    assert.deepEqual(first.cluster, { resourceId: 'k1', type: 'cce' });
    assert.equal(first.env.PAAS_CSE_SC_ENDPOINT, 'http://10.0.0.5:30100');
    assert.equal(buildPlan(input(component())).cluster, undefined);
  });
});

describe('splitOptions', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['  -Xmx256m   -Dx=1 ', ['-Xmx256m', '-Dx=1']],
    ['-Dgreeting="hello world" -Xss1m', ['-Dgreeting=hello world', '-Xss1m']],
    ["-Dq='it \"is\" $HOME'", ['-Dq=it "is" $HOME']],
    ['-Da="x \\" y" -Db=\\ c', ['-Da=x " y', '-Db= c']],
    ['"-Dempty=" \'\'', ['-Dempty=', '']],
    ['-Dopen="no end', ['-Dopen=no end']],
    ['a\tb\nc', ['a', 'b', 'c']],
  ];
  for (const [text, args] of cases) {
    it(`splits ${JSON.stringify(text)}`, () => assert.deepEqual(splitOptions(text), args));
  }
  it('is what buildPlan gives the engine as jvmOpts', () => {
    assert.deepEqual(buildPlan(input(component({ jvm_opts: '-Xmx64m -Dname="a b"' }))).jvmOpts, ['-Xmx64m', '-Dname=a b']);
  });
});
