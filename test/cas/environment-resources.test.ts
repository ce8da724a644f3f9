import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { CasClient, assertCasError, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { call } from '../helpers/registry-client.js';

const RDS = { host: 'db.local', port: '5432', db_type: 'postgresql', db_name: 'orders', db_user: 'app', password: 'S3cret!pw' };

/** Engines get any free port and stop with the test server. */
const ENGINE_OVERRIDES = { 'engines.portMin': 0, 'engines.stopOnShutdown': true };

/** Creates an exclusive engine (authType NONE) through engine management and waits until it is Available; its process is killed after the test. */
async function createEngine(t: TestContext, s: CasServer): Promise<{ id: string; address: string }> {
  const em = (method: string, path: string, body?: unknown) => call<any>(s.url, method, `/v2/${ADMIN.projectId}/enginemgr${path}`, { ...(body !== undefined ? { body } : {}), headers: { 'x-auth-token': s.cas.token } });
  const created = await em('POST', '/engines', { name: `e${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, payment: '1', flavor: 'cse.s1.small2', azList: ['az1'], authType: 'NONE', specType: 'CSE2' });
  assert.equal(created.status, 200, created.text);
  const id = created.body.id as string;
  t.after(() => {
    const pid = (s.server.engines as any).processes.runtime.status(id)?.pid as number | undefined;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = await em('GET', `/engines/${id}/jobs/${created.body.jobId}`);
    assert.equal(job.status, 200, job.text);
    if (job.body.status !== 'Init' && job.body.status !== 'Executing') {
      assert.equal(job.body.status, 'Finished', job.text);
      break;
    }
    assert.ok(Date.now() < deadline, 'the engine job ended in time');
    await new Promise((r) => setTimeout(r, 100));
  }
  const shown = await em('GET', `/engines/${id}`);
  assert.equal(shown.body.status, 'Available', shown.text);
  return { id, address: shown.body.externalEntrypoint.serviceEndpoint.serviceCenter.masterEntrypoint as string };
}

async function createEnv(s: CasServer, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await s.cas.post('/environments', { name: uniqName('env'), ...extra });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('PUT /v3/{project}/cas/environments/{environment_id}/resources', () => {
  it('replaces the whole list, masks secrets on the wire and hands them decrypted to bindings()', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { resources: [{ id: 'local', type: 'ecs' }] });
    s.clock.advance(1000);
    const resources = [
      { id: 'default', type: 'cse', name: 'engine', alias: 'cse1' },
      { id: 'r1', type: 'rds', name: 'orders', parameters: RDS },
      { id: 'c1', type: 'dcs', parameters: { host: 'redis.local', port: '6379', password: 'redispw' } },
    ];
    const r = await s.cas.put(`/environments/${env.id}/resources`, { resources });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, env.id);
    assert.equal(r.body.update_time, s.clock.now());
    assert.deepEqual(r.body.resources, [
      { id: 'default', type: 'cse', name: 'engine', alias: 'cse1', parameters: {} },
      { id: 'r1', type: 'rds', name: 'orders', alias: '', parameters: { ...RDS, password: '******' } },
      { id: 'c1', type: 'dcs', name: '', alias: '', parameters: { host: 'redis.local', port: '6379', password: '******' } },
    ]);
    assert.ok(!r.text.includes('S3cret') && !r.text.includes('redispw'));
    const got = await s.cas.get(`/environments/${env.id}/resources`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.body, { resources: r.body.resources });

    const bindings = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(
      bindings.map((b) => [b.type, b.source, b.parameters]),
      [
        ['cse', 'managed', {}],
        ['rds', 'managed', RDS],
        ['dcs', 'managed', { host: 'redis.local', port: '6379', password: 'redispw' }],
      ],
    );
  });

  it('keeps a stored secret when the mask is resent, and takes a new value', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { resources: [{ id: 'r1', type: 'rds', parameters: RDS }] });
    const masked = env.resources;
    assert.equal(masked[0].parameters.password, '******');
    const kept = await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ ...masked[0], parameters: { ...masked[0].parameters, db_name: 'orders2' } }] });
    assert.equal(kept.status, 200, kept.text);
    let b = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(b[0]!.parameters, { ...RDS, db_name: 'orders2' });
    await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: 'r1', type: 'rds', parameters: { ...RDS, password: 'changed' } }] });
    b = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.equal(b[0]!.parameters.password, 'changed');
    // The mask for a resource that has no stored secret is refused.
    assertCasError(await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: 'r2', type: 'rds', parameters: { ...RDS, password: '******' } }] }), 400, 'SVCSTG.00100400', /password/);
  });

  it('treats pwd, passphrase, api keys and sk as secrets too', async (t) => {
    const s = await startCas(t);
    const secrets = { pwd: 'p1', passphrase: 'p2', api_key: 'p3', apiKey: 'p4', privateKey: 'p5', sk: 'p6' };
    const env = await createEnv(s, { resources: [{ id: 'c1', type: 'dcs', parameters: { host: 'redis.local', port: '6379', ...secrets, ak: 'visible' } }] });
    const masked = Object.fromEntries(Object.keys(secrets).map((k) => [k, '******']));
    assert.deepEqual(env.resources[0].parameters, { host: 'redis.local', port: '6379', ak: 'visible', ...masked });
    const b = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(b[0]!.parameters, { host: 'redis.local', port: '6379', ak: 'visible', ...secrets });
  });

  it('detaches everything with []', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { resources: [{ id: 'default', type: 'cse' }, { id: 'local', type: 'ecs' }] });
    const r = await s.cas.put(`/environments/${env.id}/resources`, { resources: [] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.resources, []);
    assert.deepEqual((await s.cas.get(`/environments/${env.id}/resources`)).body, { resources: [] });
    assert.deepEqual(await s.server.cas.environments.bindings(ADMIN.projectId, env.id), []);
  });

  it('refuses an unknown type listing the supported ones, and missing parameters naming the key', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { resources: [{ id: 'default', type: 'cse' }] });
    const cases: [unknown, RegExp][] = [
      [{ id: 'v', type: 'vpc' }, /vpc.*supported types: cse, ecs, cce, custom_k8s, rds, dcs, swr/],
      [{ id: 'c', type: 'cce' }, /resources\[0\]\.parameters\.kubeconfig is required/],
      [{ id: 'k', type: 'custom_k8s', parameters: { kubeconfig: '' } }, /kubeconfig is required/],
      [{ id: 'host1', type: 'ecs' }, /parameters\.host is required/],
      [{ id: 'r', type: 'rds', parameters: { ...RDS, db_user: undefined } }, /parameters\.db_user is required/],
      [{ id: 'r', type: 'rds', parameters: { ...RDS, password: undefined } }, /parameters\.password is required/],
      [{ id: 'r', type: 'rds', parameters: { ...RDS, db_type: 'oracle' } }, /db_type must be postgresql or mysql/],
      [{ id: 'r', type: 'rds', parameters: { ...RDS, port: 'abc' } }, /port must be a port number/],
      [{ id: 'd', type: 'dcs', parameters: { host: 'h' } }, /parameters\.port is required/],
    ];
    for (const [item, msg] of cases) {
      assertCasError(await s.cas.put(`/environments/${env.id}/resources`, { resources: [JSON.parse(JSON.stringify(item))] }), 400, 'SVCSTG.00100400', msg);
    }
    assertCasError(await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'v', type: 'elb' }] }), 400, 'SVCSTG.00100400', /supported types/);
    assertCasError(await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: 'default', type: 'cse' }, { id: 'default', type: 'cse' }] }), 400, 'SVCSTG.00100400', /repeats/);
    assert.deepEqual((await s.cas.get(`/environments/${env.id}/resources`)).body.resources.map((r: any) => r.id), ['default']);
  });
});

describe('managed resources after a restart', () => {
  it('survive s.restart() and their secrets still decrypt', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { resources: [{ id: 'r1', type: 'rds', parameters: RDS }, { id: 'reg', type: 'swr', parameters: { server: 'registry.local', password: 'regpw' } }] });
    const s2 = await s.restart();
    const r = await new CasClient(s2.url, s.cas.token).get(`/environments/${env.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.resources, env.resources);
    const b = await s2.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(b.map((x) => x.parameters), [RDS, { server: 'registry.local', password: 'regpw' }]);
  });
});

describe('PUT /v3/{project}/cas/environments/{environment_id}/resources (cse engines)', () => {
  it('binds an exclusive engine of the project, refuses an unknown one naming it, and gives components its address', async (t) => {
    const s = await startCas(t, ENGINE_OVERRIDES);
    const engine = await createEngine(t, s);
    const env = await createEnv(s);
    const r = await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: engine.id, type: 'cse', name: 'exclusive' }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.resources, [{ id: engine.id, type: 'cse', name: 'exclusive', alias: '', parameters: {} }]);
    assert.deepEqual((await s.cas.get(`/environments/${env.id}/resources`)).body.resources, r.body.resources);

    // Unknown engine ids are refused, naming the resource; nothing changes.
    assertCasError(await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: 'default', type: 'cse' }, { id: 'no-such-engine', type: 'cse' }] }), 400, 'SVCSTG.00100400', /resources\[1\].*no-such-engine/);
    assertCasError(await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'no-such-engine', type: 'cse' }] }), 400, 'SVCSTG.00100400', /resources\[0\].*no-such-engine/);
    assert.deepEqual((await s.cas.get(`/environments/${env.id}/resources`)).body.resources.map((x: any) => x.id), [engine.id]);
    // Another project's view: the engine belongs to this project only.
    const other = await s.server.cas.environments.replaceResources('another-project', env.id, [{ id: engine.id, type: 'cse' }]).catch((err: unknown) => err);
    assert.equal((other as any).code, 'SVCSTG.00100400');
    assert.match((other as any).detail, /does not exist in this project/);

    // A component of the environment is planned with the engine's address as PAAS_CSE_*_ENDPOINT.
    const app = await s.cas.post('/applications', { name: uniqName('app') });
    assert.equal(app.status, 200, app.text);
    const plans: any[] = [];
    const deploy = s.server.deploy;
    const original = deploy.deploy.bind(deploy);
    deploy.deploy = async (plan) => {
      plans.push(plan);
      return original(plan);
    };
    const c = await s.cas.post(`/applications/${app.body.id}/components`, {
      name: uniqName('web'),
      runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' },
      source: { kind: 'package', url: 'file:///nonexistent/openstage-test.tgz' },
      replica: 1,
      version: '1.0.0',
      environment_id: env.id,
    });
    assert.equal(c.status, 200, c.text);
    assert.equal(plans.length, 1);
    assert.equal(plans[0].env.PAAS_CSE_SC_ENDPOINT, engine.address);
    assert.equal(plans[0].env.PAAS_CSE_CC_ENDPOINT, engine.address);
    assert.notEqual(engine.address, s.url);

    // A bound engine is not deleted.
    const em = (method: string, path: string) => call<any>(s.url, method, `/v2/${ADMIN.projectId}/enginemgr${path}`, { headers: { 'x-auth-token': s.cas.token } });
    const refused = await em('DELETE', `/engines/${engine.id}`);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error_code, 'SVCSTG.00501117');
    assert.match(refused.body.error_msg, new RegExp(`${env.name}.*bind this engine`));
    assert.equal((await em('GET', `/engines/${engine.id}`)).body.status, 'Available');
  });
});
