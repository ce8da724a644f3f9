import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { assertCasError, restartCas, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { answer, envAndApp, eventually, FAST_DEPLOY, nodeBody, nodeHelloRepo, waitJob } from '../helpers/component.js';
import { call, type Reply } from '../helpers/registry-client.js';

// The `cse` created-resource provider: provisioning makes a real exclusive engine (an
// OpenStage process) through engine management, and deleting the resource removes it.

/** Engines get any free port and stop with the test server. */
const OVERRIDES = { 'engines.portMin': 0, 'engines.stopOnShutdown': true, 'engines.usageCacheMs': 0 };

const iacPath = (envId: string) => `/environments/${envId}/iac-resources`;

function em(s: CasServer, method: string, path: string, body?: unknown): Promise<Reply<any>> {
  return call(s.url, method, `/v2/${ADMIN.projectId}/enginemgr${path}`, { ...(body !== undefined ? { body } : {}), headers: { 'x-auth-token': s.cas.token } });
}

function pidOf(s: CasServer, engineId: string): number | undefined {
  return (s.server.engines as any).processes.runtime.status(engineId)?.pid as number | undefined;
}

/** Kills the engine processes a failing test left behind (by pid, collected as they appear). */
function reap(t: TestContext, pids: number[]): void {
  t.after(() => {
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function createEnv(s: CasServer): Promise<any> {
  const r = await s.cas.post('/environments', { name: uniqName('env'), resource_create_mode: 'iac' });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('POST /v3/{project}/cas/environments/{environment_id}/iac-resources (cse)', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown flavor', { flavor: 'cse.s1.huge' }, /vars flavor must be one of cse\.s1\.small2/],
    ['an unknown auth_type', { auth_type: 'TOKEN' }, /vars auth_type must be RBAC or NONE/],
    ['an engine name starting with a digit', { name: '1engine' }, /vars name must be an engine name/],
    ['an engine name of 25 characters', { name: `e${'x'.repeat(24)}` }, /vars name must be an engine name/],
    ['admin_pass (kept in clear)', { admin_pass: 'Secret-Passw0rd!' }, /vars admin_pass is not accepted/],
  ];
  for (const [what, vars, msg] of cases) {
    it(`returns 400 SVCSTG.00100400 for ${what}`, async (t) => {
      const s = await startCas(t, OVERRIDES);
      const env = await createEnv(s);
      assertCasError(await s.cas.post(iacPath(env.id), { name: 'registry', type: 'cse', vars_body: vars }), 400, 'SVCSTG.00100400', msg);
      assert.deepEqual((await s.cas.get(iacPath(env.id))).body.iac_resources, []);
    });
  }

  it('adds a cse resource in status INIT without making an engine', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const env = await createEnv(s);
    const r = await s.cas.post(iacPath(env.id), { name: 'registry', type: 'cse', vars_body: { flavor: 'cse.s1.medium2', auth_type: 'NONE' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.iac_resources[0].type, 'cse');
    assert.equal(r.body.iac_resources[0].status, 'INIT');
    assert.equal((await em(s, 'GET', '/engines')).body.total, 1, 'only the built-in engine');
  });
});

describe('POST /v3/{project}/cas/environments/{environment_id}/iac-resources/provision (cse)', () => {
  it('creates an exclusive engine components register in, keeps it across a restart, and deletes it after the resource is deleted', async (t) => {
    let s = await startCas(t, { ...OVERRIDES, ...FAST_DEPLOY }, { realClock: true });
    const pids: number[] = [];
    reap(t, pids);
    const repo = nodeHelloRepo(t);
    const { envId, appId, appName } = await envAndApp(s);
    const added = await s.cas.post(iacPath(envId), { name: 'registry', type: 'cse', vars_body: { flavor: 'cse.s1.medium2' } });
    assert.equal(added.status, 200, added.text);
    const resourceId = added.body.iac_resources[0].id as string;

    const r = await s.cas.post(`${iacPath(envId)}/provision`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'CREATION_COMPLETE', r.text);
    assert.equal(r.body.execution_plan_item[0].resource_type, 'cse');
    assert.equal(r.body.execution_plan_item[0].action, 'create');
    const listed = (await s.cas.get(iacPath(envId))).body.iac_resources[0];
    assert.equal(listed.status, 'CREATION_COMPLETE');
    const engineId = listed.resource_id as string;
    assert.match(engineId, /^[0-9a-f-]{36}$/);
    const pid = pidOf(s, engineId);
    assert.ok(pid !== undefined, 'the engine process runs');
    pids.push(pid);

    // The engine is a real one of engine management: Available, the flavor's quota, its own address.
    const shown = await em(s, 'GET', `/engines/${engineId}`);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.status, 'Available');
    assert.match(shown.body.name, /^os-registry-[0-9a-f]{6}$/);
    assert.equal(shown.body.authType, 'NONE');
    assert.equal(shown.body.totalInstance, 200);
    const address = shown.body.externalEntrypoint.serviceEndpoint.serviceCenter.masterEntrypoint as string;
    assert.notEqual(address, s.url);
    assert.equal((await call(address, 'GET', '/health')).status, 200);
    // The binding state: the engine's endpoints (also in the record's public output).
    const binding = (await s.server.cas.environments.bindings(ADMIN.projectId, envId)).find((b) => b.id === resourceId)!;
    assert.deepEqual(binding.parameters, { engine_id: engineId, name: shown.body.name, flavor: 'cse.s1.medium2', auth_type: 'NONE', endpoint: address, registry: address, config_center: address });
    assert.deepEqual(Object.fromEntries(r.body.execution_plan_item[0].attributes.map((x: any) => [x.key, x.value])), binding.parameters);
    const record = (await s.cas.get(`${iacPath(envId)}/provision-histories`)).body.list[0];
    assert.deepEqual(JSON.parse(record.stack_output), { registry: binding.parameters });
    assert.deepEqual(JSON.parse(record.stack_resources), [{ resource_type: 'cse', resource_name: 'registry', resource_id: engineId, status: 'READY' }]);

    // Provisioning again keeps the engine.
    const again = await s.cas.post(`${iacPath(envId)}/provision`);
    assert.equal(again.body.status, 'UPDATE_COMPLETE', again.text);
    assert.equal(again.body.execution_plan_item[0].action, 'no-op');
    assert.equal((await s.cas.get(iacPath(envId))).body.iac_resources[0].resource_id, engineId);
    assert.equal((await em(s, 'GET', '/engines')).body.total, 2);

    // A component of the environment registers in the exclusive engine, not in the built-in registry.
    const body = nodeBody(envId, repo);
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const got = await s.cas.get(`/applications/${appId}/components/${created.body.component_id}`);
    const replica = got.body.status.instances[0];
    assert.equal((await answer(replica.port)).service, body.name);
    const query = `/v4/default/registry/instances?appId=${appName}&serviceName=${body.name}&version=latest`;
    const endpoints = await eventually('the registration in the exclusive engine', async () => {
      const found = await call<any>(address, 'GET', query);
      return found.status === 200 && found.body.instances?.length ? found.body.instances.flatMap((i: any) => i.endpoints) : undefined;
    });
    assert.deepEqual(endpoints, [`rest://127.0.0.1:${replica.port}`]);
    const inDefault = await call<any>(s.url, 'GET', query);
    assert.ok(!(inDefault.body?.instances?.length > 0), `not in the built-in registry: ${inDefault.text}`);
    const componentPath = `/applications/${appId}/components/${created.body.component_id}`;
    const removed = await s.cas.delete(componentPath);
    assert.equal(removed.status, 200, removed.text);
    await eventually('the component to disappear', async () => ((await s.cas.get(componentPath)).status === 401 ? true : undefined));

    // Durable: after a restart the resource still names the engine, which runs again.
    s = await restartCas(s);
    const after = (await s.cas.get(iacPath(envId))).body.iac_resources[0];
    assert.equal(after.resource_id, engineId);
    assert.equal(after.status, 'CREATION_COMPLETE');
    const restarted = await eventually('the engine process after the restart', async () => pidOf(s, engineId));
    pids.push(restarted);
    assert.equal((await s.server.cas.environments.bindings(ADMIN.projectId, envId)).find((b) => b.id === resourceId)?.parameters.endpoint, address);

    // Delete + provision deletes the engine: process ended, engine gone from engine management.
    assert.equal((await s.cas.delete(`${iacPath(envId)}/${resourceId}`)).status, 204);
    assert.equal((await em(s, 'GET', `/engines/${engineId}`)).status, 200, 'the engine stays until the next provisioning');
    const dropped = await s.cas.post(`${iacPath(envId)}/provision`);
    assert.equal(dropped.status, 200, dropped.text);
    assert.equal(dropped.body.status, 'UPDATE_COMPLETE', dropped.text);
    assert.equal(dropped.body.execution_plan_item[0].action, 'delete');
    assertCasError(await em(s, 'GET', `/engines/${engineId}`), 400, 'SVCSTG.00501116');
    assert.equal((await em(s, 'GET', '/engines')).body.total, 1);
    assert.equal(alive(restarted), false, 'the engine process is gone');
    assert.deepEqual((await s.cas.get(iacPath(envId))).body.iac_resources, []);
  });

  it('creates an RBAC engine whose generated root password stays in the sealed state; deleting the environment deletes the engine', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const pids: number[] = [];
    reap(t, pids);
    const env = await createEnv(s);
    const resourceId = (await s.cas.post(iacPath(env.id), { name: 'secure', type: 'cse', vars_body: { auth_type: 'RBAC', name: 'secure-engine' } })).body.iac_resources[0].id as string;
    const r = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(r.body.status, 'CREATION_COMPLETE', r.text);
    const engineId = (await s.cas.get(iacPath(env.id))).body.iac_resources[0].resource_id as string;
    const pid = pidOf(s, engineId)!;
    pids.push(pid);
    const shown = await em(s, 'GET', `/engines/${engineId}`);
    assert.equal(shown.body.name, 'secure-engine');
    assert.equal(shown.body.authType, 'RBAC');
    const binding = (await s.server.cas.environments.bindings(ADMIN.projectId, env.id)).find((b) => b.id === resourceId)!;
    const password = binding.parameters.password!;
    assert.ok(password.length >= 8);
    assert.ok(!r.text.includes(password), 'the password is not in the answer');
    const record = (await s.cas.get(`${iacPath(env.id)}/provision-histories`)).body.list[0];
    assert.ok(!JSON.stringify(record).includes(password), 'nor in the record');
    // The engine's registry is closed without a token; root logs in with the stored password.
    assert.equal((await call(binding.parameters.endpoint!, 'GET', '/v4/default/registry/microservices')).status, 401);
    const login = await call<any>(binding.parameters.endpoint!, 'POST', '/v4/token', { body: { name: 'root', password } });
    assert.equal(login.status, 200, login.text);

    assert.equal((await s.cas.delete(`/environments/${env.id}`)).status, 204);
    assertCasError(await em(s, 'GET', `/engines/${engineId}`), 400, 'SVCSTG.00501116');
    assert.equal(alive(pid), false, 'the engine process is gone');
  });

  it('records a failed engine creation (no free port) in the provisioning record, without a 500, and leaves no engine', async (t) => {
    // Occupy the only port engines may use.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const s = await startCas(t, { ...OVERRIDES, 'engines.portMin': port, 'engines.portMax': port });
    const env = await createEnv(s);
    const resourceId = (await s.cas.post(iacPath(env.id), { name: 'registry', type: 'cse', vars_body: { auth_type: 'RBAC' } })).body.iac_resources[0].id as string;
    const r = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'CREATION_FAILED', r.text);
    assert.match(r.body.status_message, /cse registry: engine os-registry-[0-9a-f]{6} was not created: job \d+ ended Error \(Prepare engine resources: failed: no free port/);
    const listed = (await s.cas.get(iacPath(env.id))).body.iac_resources[0];
    assert.equal(listed.id, resourceId);
    assert.equal(listed.status, 'CREATION_FAILED');
    assert.equal(listed.resource_id, '');
    assert.equal((await s.cas.get(`/environments/${env.id}`)).body.iac_task_status, 'CREATION_FAILED');
    // The half-made engine was deleted again.
    assert.equal((await em(s, 'GET', '/engines')).body.total, 1);
    const record = (await s.cas.get(`${iacPath(env.id)}/provision-histories`)).body.list[0];
    assert.equal(record.status, 'CREATION_FAILED');
    assert.match(record.output, /no free port/);
    // No RBAC root password anywhere on the wire.
    assert.ok(!/Os1!/.test(JSON.stringify(record) + r.text));
  });
});
