import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CasDeps } from '../../src/cas/types.js';
import { ADMIN } from '../helpers/iam-client.js';
import { CasClient, assertCasError, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { FIRST_SERVER_ONLY } from '../helpers/server.js';

/** Creates an environment and returns its answer body. */
async function createEnv(s: CasServer, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await s.cas.post('/environments', { name: uniqName('env'), ...extra });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('POST /v3/{project}/cas/environments', () => {
  it('creates an environment with the defaults and the caller as creator', async (t) => {
    const s = await startCas(t);
    const name = uniqName('env');
    const r = await s.cas.post('/environments', { name });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.body.name, name);
    assert.equal(r.body.project_id, ADMIN.projectId);
    assert.equal(r.body.deploy_mode, 'mixed');
    assert.equal(r.body.type, 'normal');
    assert.equal(r.body.resource_create_mode, 'none');
    assert.equal(r.body.enterprise_project_id, '0');
    assert.equal(r.body.description, '');
    assert.equal(r.body.vpc_id, '');
    assert.equal(r.body.creator, ADMIN.name);
    assert.equal(r.body.create_time, s.clock.now());
    assert.equal(r.body.update_time, s.clock.now());
    assert.deepEqual(r.body.labels, []);
    assert.deepEqual(r.body.resources, []);
    assert.deepEqual(r.body.iac_resources, []);
    assert.equal(r.body.iac_task_status, 'Init');
  });

  it('keeps every given field, tolerates the legacy charge_mode and takes resources', async (t) => {
    const s = await startCas(t);
    const body = {
      name: uniqName('env'),
      description: 'd'.repeat(128),
      enterprise_project_id: 'eps-1',
      vpc_id: 'vpc-123',
      deploy_mode: 'container',
      type: 'high',
      resource_create_mode: 'iac',
      config_mode: 'ui',
      labels: [{ key: 'team', value: 'a' }],
      charge_mode: 'provided',
      resources: [{ id: 'default', type: 'cse', name: 'engine' }],
    };
    const created = (await s.cas.post('/environments', body)).body;
    const got = await s.cas.get(`/environments/${created.id}`);
    assert.equal(got.status, 200, got.text);
    for (const k of ['name', 'description', 'enterprise_project_id', 'vpc_id', 'deploy_mode', 'type', 'resource_create_mode', 'config_mode'] as const) assert.equal(got.body[k], body[k], k);
    assert.deepEqual(got.body.labels, body.labels);
    assert.deepEqual(got.body.resources, [{ id: 'default', type: 'cse', name: 'engine', alias: '', parameters: {} }]);
  });

  it('returns 400 SVCSTG.00100449 when the name is already used in the project', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    assertCasError(await s.cas.post('/environments', { name: env.name }), 400, 'SVCSTG.00100449', new RegExp(env.name));
    assert.equal((await s.cas.get(`/environments?name=${env.name}`)).body.count, 1);
  });
});

describe('GET /v3/{project}/cas/environments', () => {
  it('filters, orders and pages, with [] past the end', async (t) => {
    const s = await startCas(t);
    const a = await createEnv(s, { name: uniqName('aaa'), enterprise_project_id: 'epsx' });
    s.clock.advance(1000);
    const b = await createEnv(s, { name: uniqName('bbb'), enterprise_project_id: 'epsx' });
    s.clock.advance(1000);
    await createEnv(s, { enterprise_project_id: 'other' });

    const all = await s.cas.get('/environments?enterprise_project_id=epsx');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.count, 2);
    assert.deepEqual(all.body.environments.map((e: any) => e.id), [b.id, a.id]);
    const asc = await s.cas.get('/environments?enterprise_project_id=epsx&order=asc&order_by=create_time');
    assert.deepEqual(asc.body.environments.map((e: any) => e.id), [a.id, b.id]);
    const page = await s.cas.get('/environments?enterprise_project_id=epsx&limit=1&offset=1');
    assert.equal(page.body.count, 2);
    assert.deepEqual(page.body.environments.map((e: any) => e.id), [a.id]);
    const past = await s.cas.get('/environments?enterprise_project_id=epsx&limit=1&offset=5');
    assert.deepEqual(past.body, { count: 2, environments: [] });
    const byName = await s.cas.get(`/environments?name=${b.name}`);
    assert.deepEqual(byName.body.environments.map((e: any) => e.id), [b.id]);
    const byId = await s.cas.get(`/environments?environment_id=${a.id}`);
    assert.deepEqual(byId.body.environments.map((e: any) => e.name), [a.name]);
    assert.equal(byId.body.environments[0].creator, ADMIN.name);
  });
});

describe('GET /v3/{project}/cas/environments/{environment_id}', () => {
  it('returns 401 SVCSTG.00100401 for an unknown environment on every path', async (t) => {
    const s = await startCas(t);
    const id = '00000000-0000-0000-0000-000000000000';
    for (const [method, path, body] of [
      ['GET', `/environments/${id}`, undefined],
      ['PUT', `/environments/${id}`, { name: 'abc' }],
      ['DELETE', `/environments/${id}`, undefined],
      ['GET', `/environments/${id}/resources`, undefined],
      ['PUT', `/environments/${id}/resources`, { resources: [] }],
      ['GET', `/environments/${id}/iac-resources`, undefined],
      ['POST', `/environments/${id}/iac-resources`, { name: 'db1', type: 'rds' }],
      ['PUT', `/environments/${id}/iac-resources/x`, { name: 'db1', type: 'rds' }],
      ['DELETE', `/environments/${id}/iac-resources/x`, undefined],
      ['POST', `/environments/${id}/iac-resources/provision`, undefined],
      ['GET', `/environments/${id}/iac-resources/provision-histories`, undefined],
      ['GET', `/environments/${id}/iac-resources/provision-histories/h`, undefined],
      ['GET', `/environments/${id}/iac-resources/provision-histories/h/events`, undefined],
    ] as const) {
      assertCasError(await s.cas.call(method, path, body), 401, 'SVCSTG.00100401', new RegExp(id));
    }
  });
});

describe('PUT /v3/{project}/cas/environments/{environment_id}', () => {
  it('changes name, description and labels; [] clears labels; absent fields stay', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { description: 'first', labels: [{ key: 'a', value: '1' }], vpc_id: 'vpc-1' });
    s.clock.advance(5000);
    const name = uniqName('renamed');
    const r = await s.cas.put(`/environments/${env.id}`, { name, description: 'second' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, name);
    assert.equal(r.body.description, 'second');
    assert.deepEqual(r.body.labels, [{ key: 'a', value: '1' }]);
    assert.equal(r.body.update_time, env.create_time + 5000);
    assert.equal(r.body.create_time, env.create_time);
    const cleared = await s.cas.put(`/environments/${env.id}`, { labels: [] });
    assert.deepEqual(cleared.body.labels, []);
    assert.equal(cleared.body.name, name);
    const got = await s.cas.get(`/environments/${env.id}`);
    assert.equal(got.body.name, name);
    assert.equal(got.body.description, 'second');
    assert.deepEqual(got.body.labels, []);
  });

  it('accepts the whole GET object resent, and refuses a change of a fixed field naming it', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { vpc_id: 'vpc-1', deploy_mode: 'container' });
    const same = await s.cas.put(`/environments/${env.id}`, { ...env, description: 'x' });
    assert.equal(same.status, 200, same.text);
    assert.equal(same.body.description, 'x');
    for (const [field, value] of [['deploy_mode', 'mixed'], ['vpc_id', 'vpc-2'], ['type', 'high'], ['resource_create_mode', 'iac']] as const) {
      assertCasError(await s.cas.put(`/environments/${env.id}`, { [field]: value }), 400, 'SVCSTG.00100400', new RegExp(field));
    }
    const got = await s.cas.get(`/environments/${env.id}`);
    assert.equal(got.body.deploy_mode, 'container');
    assert.equal(got.body.vpc_id, 'vpc-1');
  });

  it('returns 400 SVCSTG.00100449 when renaming onto a used name', async (t) => {
    const s = await startCas(t);
    const a = await createEnv(s);
    const b = await createEnv(s);
    assertCasError(await s.cas.put(`/environments/${b.id}`, { name: a.name }), 400, 'SVCSTG.00100449');
    assert.equal((await s.cas.get(`/environments/${b.id}`)).body.name, b.name);
  });
});

describe('DELETE /v3/{project}/cas/environments/{environment_id}', () => {
  it('answers 204, accepts a JSON body, and the environment is gone', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { resources: [{ id: 'local', type: 'ecs' }] });
    const events: unknown[] = [];
    s.server.cas.environments.deps.bus.subscribe('cas.environment.deleted', (e) => events.push(e));
    const r = await s.cas.delete(`/environments/${env.id}`, {});
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.deepEqual(events, [{ project: ADMIN.projectId, environmentId: env.id }]);
    assertCasError(await s.cas.get(`/environments/${env.id}`), 401, 'SVCSTG.00100401');
    assertCasError(await s.cas.delete(`/environments/${env.id}`), 401, 'SVCSTG.00100401');
    // The name is free again and the new environment has no resources of the old one.
    const again = await createEnv(s, { name: env.name });
    assert.deepEqual(again.resources, []);
  });

  it('returns 400 SVCSTG.00100402 while components are deployed in it', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const deps = s.server.cas.environments.deps as { components: CasDeps['components'] };
    deps.components = { ...deps.components, countInEnvironment: async (_p, e) => (e === env.id ? 2 : 0) };
    assertCasError(await s.cas.delete(`/environments/${env.id}`), 400, 'SVCSTG.00100402', /2 component/);
    assert.equal((await s.cas.get(`/environments/${env.id}`)).status, 200);
  });
});

describe('environments after a restart', () => {
  it('keeps environments with their labels', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s, { labels: [{ key: 'k', value: 'v' }], description: 'kept' });
    const s2 = await s.restart();
    const r = await new CasClient(s2.url, s.cas.token).get(`/environments/${env.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, env);
  });
});
