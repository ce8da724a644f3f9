import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ComponentBody } from '../../../src/cas/component/types.js';
import {
  artifactsToV2,
  configurationToV2,
  configurationToV3,
  flavorLimits,
  flavorOfLimits,
  instanceToComponentBody,
  isBaseResource,
  jobToV2,
  sourceToV3,
  updateComponentBody,
  visibleTasks,
} from '../../../src/cas/v2/convert.js';
import type { CreateInstanceBodyWire, InstanceConfigurationWire } from '../../../src/cas/v2/schemas.js';
import type { JobDetail, TaskStatus } from '../../../src/deploy/types.js';
import { OpenStageError } from '../../../src/core/errors.js';

/** A job with tasks in the given statuses. */
function job(status: 'RUNNING' | 'SUCCEEDED' | 'FAILED', tasks: TaskStatus[]): JobDetail {
  return {
    job: { project: 'p', jobId: 'JOB1', jobType: 'deploy', targetId: 'c1', status, rollbackEnabled: false, createdAtMs: 0, updatedAtMs: 0 },
    tasks: tasks.map((s, index) => ({ jobId: 'JOB1', index, taskId: `T${index}`, name: `step${index}`, type: 'deploy', status: s, messages: [`m${index}`], timeoutMs: 1000, createdAtMs: 1000 * index, updatedAtMs: 1000 * index + 500 })),
  };
}

const code = (err: unknown) => (err instanceof OpenStageError ? `${err.status} ${err.code}` : String(err));

/** What the Terraform provider's servicestage_component_instance sends as `configuration` (every part). */
const TF_CONFIGURATION: InstanceConfigurationWire = {
  env: [{ name: 'A', value: '1' }],
  storage: [{ type: 'HostPath', parameters: { path: '/tmp/data' }, mounts: [{ path: '/data', readOnly: false, subPath: 'x' }] }],
  strategy: { upgrade: 'RollingUpdate' },
  lifecycle: {
    entrypoint: { command: ['node'], args: ['server.js'] },
    'post-start': { type: 'command', parameters: { command: ['echo', 'up'] } },
    'pre-stop': { type: 'http', parameters: { port: 8080, path: '/stop', host: '127.0.0.1' } },
  },
  logs: [{ logPath: '/var/log/app', rotate: 'Daily', hostPath: '/var/log', hostExtendPath: 'PodName' }],
  scheduler: { affinity: { az: ['az1'], node: ['10.0.0.1'], application: ['other'] }, 'anti-affinity': { az: ['az2'] } },
  probes: {
    livenessProbe: { type: 'tcp', delay: 5, timeout: 3, parameters: { port: 8080 } },
    readinessProbe: { type: 'http', delay: 0, timeout: 2, parameters: { scheme: 'HTTP', port: 8080, path: '/health', host: '' } },
  },
};

describe('v2 flavors', () => {
  it('turns fixed and custom flavors into limits and back', () => {
    assert.deepEqual(flavorLimits('MICRO-5G:0.5C:1G'), { limit_cpu: 0.5, request_cpu: 0.2, limit_memory: 1, request_memory: 0.195 });
    assert.deepEqual(flavorLimits('CUSTOM-10G:0.5C-0.25C:1.6Gi-0.8Gi'), { limit_cpu: 0.5, request_cpu: 0.25, limit_memory: 1.6, request_memory: 0.8 });
    // As the provider's own acceptance test writes it: millicores, and memory in Gi or Mi.
    assert.deepEqual(flavorLimits('CUSTOM-10G:250m-250m:0.5Gi-512Mi'), { limit_cpu: 0.25, request_cpu: 0.25, limit_memory: 0.5, request_memory: 0.5 });
    assert.equal(flavorOfLimits(flavorLimits('LARGE-50G:4.0C:8G')), 'LARGE-50G:4.0C:8G');
    assert.equal(flavorOfLimits({ limit_cpu: 1.5, limit_memory: 3 }), 'CUSTOM-10G:1.5C-1.5C:3Gi-3Gi');
    assert.equal(flavorOfLimits({}), '');
  });

  it('refuses what is no flavor with 400 SVCSTG.00100400', () => {
    for (const bad of ['TINY', 'CUSTOM-XG:X-X:X-X', 'CUSTOM-10G:0.25C-0.5C:1Gi-1Gi', 'CUSTOM-10G:0C-0C:1Gi-1Gi']) {
      assert.throws(() => flavorLimits(bad), (err) => code(err) === '400 SVCSTG.00100400', bad);
    }
  });
});

describe('v2 instance configuration ↔ v3 component fields', () => {
  it('keeps every part of a Terraform configuration across the round trip', () => {
    const v3 = configurationToV3(TF_CONFIGURATION);
    assert.deepEqual(v3.envs, [{ name: 'A', value: '1' }]);
    assert.deepEqual(v3.update_strategy, { type: 'RollingUpdate' });
    assert.deepEqual(v3.command, { command: ['node'], args: ['server.js'] });
    assert.deepEqual(v3.readiness_probe, { type: 'http', delay: 0, timeout: 2, scheme: 'HTTP', port: 8080, path: '/health' });
    const back = configurationToV2(v3 as ComponentBody);
    assert.deepEqual(back, {
      env: [{ name: 'A', value: '1', internal: false }],
      storage: [{ type: 'HostPath', parameters: { path: '/tmp/data' }, mounts: [{ path: '/data', readOnly: false, subPath: 'x' }] }],
      strategy: { upgrade: 'RollingUpdate' },
      lifecycle: TF_CONFIGURATION.lifecycle,
      logs: TF_CONFIGURATION.logs,
      scheduler: TF_CONFIGURATION.scheduler,
      probes: { livenessProbe: TF_CONFIGURATION.probes!.livenessProbe, readinessProbe: { type: 'http', delay: 0, timeout: 2, parameters: { scheme: 'HTTP', port: 8080, path: '/health' } } },
    });
  });

  it('gives no field for what the Go SDK leaves unset (null lists, "" strings, port 0)', () => {
    assert.deepEqual(configurationToV3({ env: null, storage: null, lifecycle: { entrypoint: null, 'post-start': { type: '', parameters: null } }, probes: { livenessProbe: null } }), {});
    assert.deepEqual(configurationToV2({} as ComponentBody), {});
  });
});

describe('v2 instance body → v3 component body', () => {
  const stack = { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' as const };
  const body: CreateInstanceBodyWire = { name: 'web-dev', environment_id: 'e1', flavor_id: 'MICRO-5G:0.5C:1G', replica: 2, artifacts: null, version: '1.0.0', refer_resources: [{ id: 'local', type: 'ecs', refer_alias: 'main', parameters: {} }] };

  it('deploys the component source unless an artifact gives a package url', () => {
    const component = { runtime: 'Nodejs8', category: 'Webapp', source: { kind: 'code', spec: { repo_url: 'https://git/x.git', repo_ref: 'main', repo_auth: 'a' } } };
    const v3 = instanceToComponentBody({ body, stack, component });
    assert.deepEqual(v3.source, { kind: 'code', repo_url: 'https://git/x.git', repo_ref: 'main', repo_auth: 'a' });
    assert.equal(v3.name, 'web-dev');
    assert.equal(v3.replica, 2);
    assert.equal(v3.limit_cpu, 0.5);
    assert.deepEqual(v3.refer_resources, [{ id: 'local', type: 'ecs', refer_alias: 'main', parameters: {} }]);
    const withArtifact = instanceToComponentBody({ body: { ...body, artifacts: { web: { storage: 'obs', type: 'package', url: 'http://h/app.tgz', auth: 'iam' } } }, stack, component });
    assert.deepEqual(withArtifact.source, { kind: 'package', url: 'http://h/app.tgz', storage: 'obs', auth: 'iam' });
  });

  it('refuses an instance with neither a component source nor an artifact url: 400 SVCSTG.00100425', () => {
    assert.throws(() => sourceToV3({ web: { storage: 'obs', type: 'package' } }, undefined), (err) => code(err) === '400 SVCSTG.00100425');
  });

  it('shows the artifacts sent while v3 keeps their source, and what v3 deploys once it changed it', () => {
    const b = { source: { kind: 'package', url: 'http://h/app.tgz', storage: 'obs' } } as ComponentBody;
    const stored = { artifacts: { web: { storage: 'obs', type: 'package', url: 'http://h/app.tgz', auth: 'iam', version: '7' } }, artifactSource: JSON.stringify(b.source) };
    assert.deepEqual(artifactsToV2(b, 'web', stored), stored.artifacts);
    const changed = { source: { kind: 'package', url: 'http://h/other.tgz' } } as ComponentBody;
    assert.deepEqual(artifactsToV2(changed, 'web', stored), { web: { storage: 'obs', type: 'package', url: 'http://h/other.tgz' } });
    assert.deepEqual(artifactsToV2({ source: { kind: 'code', repo_url: 'x' } } as ComponentBody, 'web', undefined), {});
  });

  it('an update keeps what it does not send and replaces all configuration fields when configuration is sent', () => {
    const current = { name: 'web-dev', replica: 3, version: '1.0.0', envs: [{ name: 'A', value: '1' }], readiness_probe: { type: 'tcp', port: 1 }, description: 'd' } as unknown as ComponentBody;
    assert.deepEqual(updateComponentBody(current, { version: '1.0.1' }, undefined), { ...current, version: '1.0.1' });
    const next = updateComponentBody(current, { version: '1.0.2', configuration: { env: [{ name: 'B', value: '2' }] } }, undefined);
    assert.deepEqual(next.envs, [{ name: 'B', value: '2' }]);
    assert.equal(next.readiness_probe, undefined);
    assert.equal(next.replica, 3);
    assert.equal(next.description, 'd');
  });
});

describe('v2 environment resources', () => {
  it("lists a resource where the v2 client put it, else compute types as base", () => {
    const extra = { environmentId: 'e', projectId: 'p', alias: '', chargeMode: 'provided', baseKeys: ['cse/default'], optionalKeys: ['ecs/h1'] };
    assert.equal(isBaseResource({ type: 'cse', id: 'default' }, extra), true);
    assert.equal(isBaseResource({ type: 'ecs', id: 'h1' }, extra), false);
    assert.equal(isBaseResource({ type: 'ecs', id: 'local' }, extra), true);
    assert.equal(isBaseResource({ type: 'rds', id: 'db' }, undefined), false);
  });
});

describe('v2 jobs', () => {
  const statuses = (d: JobDetail) => visibleTasks(d).map((t) => `${t.index}:${t.status}`);

  it('lists what ran, and the current step as RUNNING while the job runs', () => {
    assert.deepEqual(statuses(job('RUNNING', ['SUCCEEDED', 'RUNNING', 'PENDING'])), ['0:SUCCEEDED', '1:RUNNING']);
    // Between two tasks, and while queued behind another job, the next step is the running one.
    assert.deepEqual(statuses(job('RUNNING', ['SUCCEEDED', 'PENDING', 'PENDING'])), ['0:SUCCEEDED', '1:RUNNING']);
    assert.deepEqual(statuses(job('RUNNING', ['PENDING', 'PENDING'])), ['0:RUNNING']);
    // After the last task, until the job is marked: the tasks that ran.
    assert.deepEqual(statuses(job('RUNNING', ['SUCCEEDED', 'SUCCEEDED'])), ['0:SUCCEEDED', '1:SUCCEEDED']);
  });

  it('ends on the task that decided the job: skipped tasks are not listed', () => {
    assert.deepEqual(statuses(job('FAILED', ['SUCCEEDED', 'FAILED', 'SKIPPED'])), ['0:SUCCEEDED', '1:FAILED']);
    assert.deepEqual(statuses(job('RUNNING', ['FAILED', 'SKIPPED'])), ['0:FAILED']);
    assert.deepEqual(statuses(job('SUCCEEDED', ['SUCCEEDED', 'SKIPPED', 'SUCCEEDED'])), ['0:SUCCEEDED', '2:SUCCEEDED']);
  });

  it('answers upper-case fields, paged and reversed on request', () => {
    const d = job('SUCCEEDED', ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const wire = jobToV2(d, {}, 'alice');
    assert.deepEqual(wire.job, { CREATED_BY: 'alice', EXECUTION_STATUS: 'SUCCEEDED', JOB_DESC: 'deploy', JOB_ID: 'JOB1', JOB_NAME: 'deploy', JOB_TYPE: 'PROVISION', ORDER_ID: '', PROJECT_ID: 'p', SERVICE_INSTANCE_ID: 'c1' });
    assert.equal(wire.task_count, 3);
    assert.deepEqual(wire.tasks[1], { CREATED_AT: '1970-01-01T00:00:01.000Z', LAST_HEALTH_CHECK: '1970-01-01T00:00:01.500Z', MESSAGES: 'm1', OWNER_ID: 'alice', TASK_ID: 'T1', TASK_INDEX: 1, TASK_NAME: 'step1', TASK_STATUS: 'SUCCEEDED', TASK_TYPE: 'deploy' });
    assert.deepEqual(jobToV2(d, { offset: 1, limit: 1 }, '').tasks.map((t) => t.TASK_INDEX), [1]);
    assert.deepEqual(jobToV2(d, { desc: 'true' }, '').tasks.map((t) => t.TASK_INDEX), [2, 1, 0]);
    assert.deepEqual(jobToV2(d, { offset: 50, limit: 50 }, '').tasks, []);
  });
});
