import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { assertCasError, restartCas, startCas, type CasServer } from '../helpers/cas-client.js';
import { call, type Reply } from '../helpers/registry-client.js';

const RBAC_PWD = 'Engine-Passw0rd!';
/** Engines get any free port and are stopped when the test server closes. */
const OVERRIDES = { 'engines.portMin': 0, 'engines.stopOnShutdown': true, 'engines.usageCacheMs': 0 };

function em(s: CasServer, method: string, path: string, body?: unknown): Promise<Reply<any>> {
  return call(s.url, method, `/v2/${ADMIN.projectId}/enginemgr${path}`, { ...(body !== undefined ? { body } : {}), headers: { 'x-auth-token': s.cas.token } });
}

let seq = 0;
function engineName(): string {
  seq += 1;
  return `e${Date.now().toString(36)}${seq}`.slice(0, 20);
}

function createBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: engineName(), payment: '1', flavor: 'cse.s1.small2', azList: ['az1'], authType: 'RBAC', auth_cred: { pwd: RBAC_PWD }, specType: 'CSE2', vpc: 'vpc-1', networkId: 'net-1', subnetCidr: '192.168.0.0/24', ...overrides };
}

/** Polls (real time) until `check` returns a value; fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitJob(s: CasServer, engineId: string, jobId: number): Promise<any> {
  return until(`job ${jobId}`, async () => {
    const r = await em(s, 'GET', `/engines/${engineId}/jobs/${jobId}`);
    assert.equal(r.status, 200, r.text);
    return ['Finished', 'Error', 'Timeout'].includes(r.body.status) ? r.body : undefined;
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Kills whatever engine processes a failing test left behind. */
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

async function pidOf(s: CasServer, engineId: string): Promise<number | undefined> {
  return (s.server.engines as any).processes.runtime.status(engineId)?.pid as number | undefined;
}

describe('GET /v2/{project}/enginemgr/flavors', () => {
  it('lists the four flavors', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const r = await em(s, 'GET', '/flavors?spec_type=CSE2');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 4);
    assert.deepEqual(r.body.data.map((f: any) => f.flavor), ['cse.s1.small2', 'cse.s1.medium2', 'cse.s1.large2', 'cse.s1.xlarge2']);
    assert.match(r.body.data[0].description, /100 instance/);
  });

  it('refuses a call without an IAM token with 401', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const r = await call(s.url, 'GET', `/v2/${ADMIN.projectId}/enginemgr/flavors`);
    assert.equal(r.status, 401, r.text);
  });
});

describe('GET /v2/{project}/enginemgr/engines', () => {
  it('lists the built-in engine: be_default, Available, endpoints at this server', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const r = await em(s, 'GET', '/engines?offset=0&limit=10&type=ALL');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 1);
    const e = r.body.data[0];
    assert.equal(e.id, 'default');
    assert.equal(e.beDefault, true);
    assert.equal(e.status, 'Available');
    assert.equal(e.serviceEndpoint.serviceCenter.masterEntrypoint, s.url);
    assert.equal(e.serviceEndpoint.kie.masterEntrypoint, s.url);
    assert.equal(e.totalInstance, 150000);
    const none = await em(s, 'GET', '/engines?type=Nacos');
    assert.deepEqual(none.body, { total: 0, data: [] });
    const shown = await em(s, 'GET', '/engines/default');
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.beDefault, true);
    assert.equal(shown.body.externalEntrypoint.serviceEndpoint.serviceCenter.masterEntrypoint, s.url);
  });

  it('answers 400 SVCSTG.00501116 for an unknown engine and 400 SVCSTG.00501117 when deleting the built-in one', async (t) => {
    const s = await startCas(t, OVERRIDES);
    assertCasError(await em(s, 'GET', '/engines/nope'), 400, 'SVCSTG.00501116');
    assertCasError(await em(s, 'DELETE', '/engines/default'), 400, 'SVCSTG.00501117');
    assertCasError(await em(s, 'GET', '/engines/default/jobs/abc'), 400, 'SVCSTG.00501152');
    assertCasError(await em(s, 'GET', '/engines/default/jobs/99'), 400, 'SVCSTG.00501153');
  });
});

describe('POST /v2/{project}/enginemgr/engines (bad input)', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a name starting with a digit', { name: '1abc' }, 'SVCSTG.00501201'],
    ['a name of 2 characters', { name: 'ab' }, 'SVCSTG.00501201'],
    ['a name ending with a hyphen', { name: 'abc-' }, 'SVCSTG.00501201'],
    ['a name of 25 characters', { name: `a${'b'.repeat(24)}` }, 'SVCSTG.00501201'],
    ['an unknown flavor', { flavor: 'cse.s1.huge' }, 'SVCSTG.00501104'],
    ['a bad payment', { payment: '9' }, 'SVCSTG.00501103'],
    ['an unknown authType', { authType: 'TOKEN' }, 'SVCSTG.00501202'],
    ['RBAC without a password', { auth_cred: undefined }, 'SVCSTG.00501202'],
    ['RBAC with a weak password', { auth_cred: { pwd: 'password' } }, 'SVCSTG.00501202'],
    ['an unknown specType', { specType: 'K8S' }, 'SVCSTG.00501134'],
    ['an empty AZ', { azList: [''] }, 'SVCSTG.00501105'],
    ['a number as name', { name: 12345 }, 'SVCSTG.00500400'],
    ['no flavor', { flavor: undefined }, 'SVCSTG.00500400'],
  ];
  for (const [what, change, code] of cases) {
    it(`returns 400 ${code} for ${what}`, async (t) => {
      const s = await startCas(t, OVERRIDES);
      const body = createBody(change);
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
      assertCasError(await em(s, 'POST', '/engines', body), 400, code);
      const list = await em(s, 'GET', '/engines');
      assert.equal(list.body.total, 1, 'nothing was created');
    });
  }
});

describe('POST /v2/{project}/enginemgr/engines', () => {
  it('creates an RBAC engine that is its own registry with the flavor quota, then deletes it', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const pids: number[] = [];
    reap(t, pids);
    const name = engineName();
    const created = await em(s, 'POST', '/engines', createBody({ name }));
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.name, name);
    assert.equal(typeof created.body.jobId, 'number');
    const id = created.body.id as string;
    const creating = await em(s, 'GET', `/engines/${id}`);
    assert.equal(creating.status, 200);
    assert.ok(['Creating', 'Available'].includes(creating.body.status), creating.text);
    const pid = await until('engine pid', () => pidOf(s, id));
    pids.push(pid);

    const job = await waitJob(s, id, created.body.jobId);
    assert.equal(job.status, 'Finished', JSON.stringify(job));
    assert.equal(job.type, 'Create');
    assert.deepEqual(job.tasks.map((x: any) => x.status), ['Finished', 'Finished', 'Finished']);
    assert.match(job.tasks[2].tasks[0].log, /health → 200/);

    // A second engine of the same name is refused.
    assertCasError(await em(s, 'POST', '/engines', createBody({ name })), 400, 'SVCSTG.00501111');

    const shown = await em(s, 'GET', `/engines/${id}`);
    assert.equal(shown.body.status, 'Available');
    assert.equal(shown.body.authType, 'RBAC');
    assert.equal(shown.body.beDefault, false);
    assert.equal(shown.body.totalInstance, 100);
    assert.equal(shown.body.reference.instanceLimit, '100');
    assert.equal(shown.body.reference.networkId, 'net-1');
    const base = shown.body.externalEntrypoint.serviceEndpoint.serviceCenter.masterEntrypoint as string;
    assert.notEqual(base, s.url);
    assert.equal(shown.body.externalEntrypoint.serviceEndpoint.kie.masterEntrypoint, base);
    const port = Number(new URL(base).port);
    const listed = await em(s, 'GET', '/engines?offset=1&limit=5');
    assert.equal(listed.body.total, 2);
    assert.equal(listed.body.data[0].id, id);

    // RBAC is on in the engine: no token, no registry.
    const denied = await call(base, 'GET', '/v4/default/registry/microservices');
    assert.equal(denied.status, 401, denied.text);
    const tok = await em(s, 'POST', `/engines/${id}/tokens`);
    assert.equal(tok.status, 200, tok.text);
    const auth = { authorization: `Bearer ${tok.body.token}` };
    const svc = await call(base, 'POST', '/v4/default/registry/microservices', { body: { service: { appId: 'eng', serviceName: 'only-in-engine', version: '1.0.0' } }, headers: auth });
    assert.equal(svc.status, 200, svc.text);
    const serviceId = svc.body.serviceId as string;
    const inEngine = await call(base, 'GET', '/v4/default/registry/microservices', { headers: auth });
    assert.ok(inEngine.body.services.some((x: any) => x.serviceName === 'only-in-engine'));
    const inDefault = await call(s.url, 'GET', '/v4/default/registry/microservices');
    assert.ok(!(inDefault.body.services ?? []).some((x: any) => x.serviceName === 'only-in-engine'), 'the default engine does not see it');

    // The small flavor's quota: 100 instances, then 400100.
    let registered = 0;
    let refused: Reply<any> | undefined;
    for (let i = 0; i < 110 && !refused; i++) {
      const r = await call(base, 'POST', `/v4/default/registry/microservices/${serviceId}/instances`, { body: { instance: { hostName: `h${i}`, endpoints: [`rest://10.0.0.1:${8000 + i}`] } }, headers: auth });
      if (r.status === 200) registered += 1;
      else refused = r;
    }
    assert.ok(refused, 'the quota stopped registrations');
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.errorCode, '400100');
    assert.ok(registered >= 99 && registered <= 100, `registered ${registered}`);
    const usage = await em(s, 'GET', `/engines/${id}`);
    assert.equal(usage.body.usedInstance, registered);
    assert.equal(usage.body.availableInstance, 100 - registered);

    // Delete: the job stops the process, closes the port and removes the data.
    const dataDir = (await (s.server.engines as any).deps.db.kysely.selectFrom('engines_engines').select('data_dir').where('id', '=', id).executeTakeFirst()).data_dir as string;
    assert.ok(existsSync(dataDir));
    const deleted = await em(s, 'DELETE', `/engines/${id}`, {});
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.body.id, id);
    assert.ok(deleted.body.jobId > created.body.jobId);
    await until('engine gone', async () => ((await em(s, 'GET', `/engines/${id}`)).status === 400 ? true : undefined));
    assertCasError(await em(s, 'GET', `/engines/${id}`), 400, 'SVCSTG.00501116');
    assertCasError(await em(s, 'GET', `/engines/${id}/jobs/${deleted.body.jobId}`), 400, 'SVCSTG.00501116');
    assert.equal(await portOpen(port), false, 'the engine port is closed');
    assert.equal(existsSync(dataDir), false, 'the engine data is gone');
    assert.throws(() => process.kill(pid, 0), 'the engine process is gone');
  });
});

describe('engine process supervision', () => {
  it('restarts a crashed engine (Unavailable meanwhile) and adopts it after an OpenStage restart', async (t) => {
    let s = await startCas(t, { ...OVERRIDES, 'engines.stopOnShutdown': false });
    const pids: number[] = [];
    reap(t, pids);
    const created = await em(s, 'POST', '/engines', createBody({ authType: 'NONE', auth_cred: undefined, flavor: 'cse.s1.medium2' }));
    assert.equal(created.status, 200, created.text);
    const id = created.body.id as string;
    pids.push(await until('engine pid', () => pidOf(s, id)));
    assert.equal((await waitJob(s, id, created.body.jobId)).status, 'Finished');
    const first = await em(s, 'GET', `/engines/${id}`);
    assert.equal(first.body.totalInstance, 200);
    assertCasError(await em(s, 'POST', `/engines/${id}/tokens`), 400, 'SVCSTG.00501203');

    // Crash: SIGKILL the engine; Unavailable until the back-off (1 s of clock time) restarts it.
    process.kill(pids[0]!, 'SIGKILL');
    await until('Unavailable', async () => ((await em(s, 'GET', `/engines/${id}`)).body.status === 'Unavailable' ? true : undefined));
    s.clock.advance(1000);
    const second = await until('restarted', async () => {
      const p = await pidOf(s, id);
      return p !== undefined && p !== pids[0] ? p : undefined;
    });
    pids.push(second);
    assert.equal((await em(s, 'GET', `/engines/${id}`)).body.status, 'Available');
    const base = (await em(s, 'GET', `/engines/${id}`)).body.externalEntrypoint.serviceEndpoint.serviceCenter.masterEntrypoint as string;
    await until('engine answers', async () => ((await call(base, 'GET', '/health').catch(() => undefined))?.status === 200 ? true : undefined));

    // OpenStage restarts; the engine keeps running and is adopted (same pid).
    s = await restartCas(s);
    assert.equal(await pidOf(s, id), second);
    const after = await em(s, 'GET', `/engines/${id}`);
    assert.equal(after.body.status, 'Available');
    assert.equal(after.body.name, created.body.name);
    const health = await call(base, 'GET', '/health');
    assert.equal(health.status, 200);

    const deleted = await em(s, 'DELETE', `/engines/${id}`);
    assert.equal(deleted.status, 200, deleted.text);
    await until('engine gone', async () => ((await em(s, 'GET', `/engines/${id}`)).status === 400 ? true : undefined));
    assert.throws(() => process.kill(second, 0), 'the adopted process was stopped');
  });
});

describe('POST /v2/{project}/enginemgr/engines (concurrent creates)', () => {
  it('never exceeds engines.maxEngines nor answers 500 when many creates race', async (t) => {
    const s = await startCas(t, { ...OVERRIDES, 'engines.maxEngines': 2, 'engines.startTimeoutSeconds': 1 });
    const replies = await Promise.all(Array.from({ length: 8 }, () => em(s, 'POST', '/engines', createBody({ authType: 'NONE', auth_cred: undefined }))));
    const accepted = replies.filter((r) => r.status === 200);
    for (const r of replies) if (r.status !== 200) assertCasError(r, 400, 'SVCSTG.00501112');
    assert.equal(accepted.length, 2, replies.map((r) => r.text).join('\n'));
    assert.equal(new Set(accepted.map((r) => r.body.jobId)).size, 2, 'job ids are unique');
    const list = await em(s, 'GET', '/engines');
    assert.equal(list.body.total, 3);
    for (const r of accepted) await waitJob(s, r.body.id, r.body.jobId);
  });
});

describe('an exclusive engine as Terraform and the CSE SDKs use it (issue #18)', () => {
  it('updates the description (PUT), keeps tags (cseEngines tags create/delete), and imports/exports into the engine named by X-Engine-ID', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const pids: number[] = [];
    reap(t, pids);
    const created = await em(s, 'POST', '/engines', createBody({ description: 'first' }));
    assert.equal(created.status, 200, created.text);
    const id = created.body.id as string;
    pids.push(await until('engine pid', () => pidOf(s, id)));
    assert.equal((await waitJob(s, id, created.body.jobId)).status, 'Finished');

    const updated = await em(s, 'PUT', `/engines/${id}`, { description: 'second' });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((await em(s, 'GET', `/engines/${id}`)).body.description, 'second');
    assert.equal((await em(s, 'PUT', `/engines/${id}`, {})).body.description, 'second', 'absent description is unchanged');

    const tagsPath = `/v2/${ADMIN.projectId}/cseEngines/${id}/tags`;
    const headers = { 'x-auth-token': s.cas.token };
    const added = await call(s.url, 'POST', `${tagsPath}/create`, { body: { tags: [{ key: 'team', value: 'a' }, { key: 'env', value: 'dev' }] }, headers });
    assert.equal(added.status, 204, added.text);
    // Terraform removes tags with DELETE and a body.
    const removed = await call(s.url, 'DELETE', `${tagsPath}/delete`, { body: { tags: [{ key: 'team', value: 'a' }] }, headers });
    assert.equal(removed.status, 204, removed.text);
    assert.deepEqual((await em(s, 'GET', `/engines/${id}`)).body.tags, [{ key: 'env', value: 'dev' }]);
    assertCasError(await call(s.url, 'POST', `/v2/${ADMIN.projectId}/cseEngines/nosuch/tags/create`, { body: { tags: [{ key: 'k', value: 'v' }] }, headers }), 400, 'SVCSTG.00501116');

    // Import through this server, aimed at the engine: the kvs land in the engine's Kie
    // project `default` (read there with the engine's RBAC token), not in this server's.
    const kie = (path: string, body: unknown) => call(s.url, 'POST', `/v1/${ADMIN.projectId}/kie/${path}`, { body, headers: { ...headers, 'x-engine-id': id } });
    const imported = await kie('file?override=force', { data: [{ key: 'engine.key', value: 'in the engine', labels: { app: 'shop' }, status: 'enabled' }] });
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual(imported.body.success.map((k: any) => k.key), ['engine.key']);
    const base = (await em(s, 'GET', `/engines/${id}`)).body.externalEntrypoint.serviceEndpoint.kie.masterEntrypoint as string;
    const token = (await em(s, 'POST', `/engines/${id}/tokens`)).body.token as string;
    const inEngine = await call(base, 'GET', '/v1/default/kie/kv?label=app:shop', { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(inEngine.body.data.map((k: any) => k.value), ['in the engine']);
    assert.equal((await call(s.url, 'GET', '/v1/default/kie/kv?label=app:shop')).body.total, 0, 'not in the built-in engine');
    const exported = await kie('download?label=app:shop', { ids: null });
    assert.equal(exported.status, 200, exported.text);
    assert.deepEqual(exported.body.data.map((k: any) => [k.id, k.key]), [[imported.body.success[0].id, 'engine.key']]);
    // The engine's own import route still needs its RBAC token.
    assert.equal((await call(base, 'POST', '/v1/default/kie/file', { body: { data: [] } })).status, 401);
  });
});

describe('reference.serviceLimit / instanceLimit (issue #18 item 4)', () => {
  it('are strings (API reference, Go, Python, Terraform) and numbers for the Java SDK, whose model says Integer', async (t) => {
    const s = await startCas(t, OVERRIDES);
    const plain = await em(s, 'GET', '/engines/default');
    assert.equal(plain.body.reference.serviceLimit, '50000');
    assert.equal(typeof plain.body.reference.instanceLimit, 'string');
    const java = await call(s.url, 'GET', `/v2/${ADMIN.projectId}/enginemgr/engines`, { headers: { 'x-auth-token': s.cas.token, 'user-agent': 'huaweicloud-usdk-java/3.0' } });
    assert.equal(java.body.data[0].reference.serviceLimit, 50000);
    assert.equal(typeof java.body.data[0].reference.instanceLimit, 'number');
  });
});
