import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { CasClient, assertCasError, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';

const KUBECONFIG = 'apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: abc\n';
const RDS = { host: 'db.local', port: '5432', db_type: 'postgresql', db_name: 'orders', db_user: 'app', password: 'S3cret!pw' };

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
      { id: 'k1', type: 'custom_k8s', name: 'cluster', parameters: { kubeconfig: KUBECONFIG, namespace: 'apps' } },
      { id: 'r1', type: 'rds', name: 'orders', parameters: RDS },
      { id: 'c1', type: 'dcs', parameters: { host: 'redis.local', port: '6379', password: 'redispw' } },
    ];
    const r = await s.cas.put(`/environments/${env.id}/resources`, { resources });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, env.id);
    assert.equal(r.body.update_time, s.clock.now());
    assert.deepEqual(r.body.resources, [
      { id: 'default', type: 'cse', name: 'engine', alias: 'cse1', parameters: {} },
      { id: 'k1', type: 'custom_k8s', name: 'cluster', alias: '', parameters: { kubeconfig: '******', namespace: 'apps' } },
      { id: 'r1', type: 'rds', name: 'orders', alias: '', parameters: { ...RDS, password: '******' } },
      { id: 'c1', type: 'dcs', name: '', alias: '', parameters: { host: 'redis.local', port: '6379', password: '******' } },
    ]);
    assert.ok(!r.text.includes('S3cret') && !r.text.includes('redispw') && !r.text.includes('apiVersion'));
    const got = await s.cas.get(`/environments/${env.id}/resources`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.body, { resources: r.body.resources });

    const bindings = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(
      bindings.map((b) => [b.type, b.source, b.parameters]),
      [
        ['cse', 'managed', {}],
        ['custom_k8s', 'managed', { kubeconfig: KUBECONFIG, namespace: 'apps' }],
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
      [{ id: 'v', type: 'vpc' }, /vpc.*supported types: cse, ecs, cce, custom_k8s, rds, dcs/],
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
    const env = await createEnv(s, { resources: [{ id: 'r1', type: 'rds', parameters: RDS }, { id: 'k', type: 'cce', parameters: { kubeconfig: KUBECONFIG } }] });
    const s2 = await s.restart();
    const r = await new CasClient(s2.url, s.cas.token).get(`/environments/${env.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.resources, env.resources);
    const b = await s2.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(b.map((x) => x.parameters), [RDS, { kubeconfig: KUBECONFIG }]);
  });
});
