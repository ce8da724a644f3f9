import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import { ADMIN } from '../helpers/iam-client.js';
import { CasClient, assertCasError, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';

/** The PostgreSQL admin URL scripts/run-tests.mjs passes to both runs; the rds provider creates databases there. */
const PG_URL = process.env.OPENSTAGE_TEST_PG_URL ?? '';

async function adminQuery<T extends pg.QueryResultRow = any>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

const databaseExists = async (name: string) => (await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;
const roleExists = async (name: string) => (await adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length === 1;

/** Starts a server whose rds provider uses the test PostgreSQL (skips when there is none). */
async function startWithRds(t: TestContext): Promise<CasServer | undefined> {
  if (!PG_URL) {
    t.skip('OPENSTAGE_TEST_PG_URL is not set (run through scripts/run-tests.mjs)');
    return undefined;
  }
  return startCas(t, { 'cas.rdsAdminUrl': PG_URL });
}

async function createEnv(s: CasServer): Promise<any> {
  const r = await s.cas.post('/environments', { name: uniqName('env'), resource_create_mode: 'iac' });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

const iacPath = (envId: string) => `/environments/${envId}/iac-resources`;

describe('POST /v3/{project}/cas/environments/{environment_id}/iac-resources', () => {
  it('adds an rds resource in status INIT and answers the environment', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const r = await s.cas.post(iacPath(env.id), { name: 'orders-db', type: 'rds', custom_hcl: 'resource "x" {}', vars_body: { db_name: 'orders' }, vars_structure: [{ var_key: 'db_user', var_value: 'orders_app' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, env.id);
    assert.equal(r.body.iac_resources.length, 1);
    const item = r.body.iac_resources[0];
    assert.match(item.id, /^[0-9a-f-]{36}$/);
    assert.equal(item.name, 'orders-db');
    assert.equal(item.type, 'rds');
    assert.equal(item.status, 'INIT');
    assert.equal(item.resource_id, '');
    assert.equal(item.custom_tf, 'resource "x" {}');
    assert.deepEqual(item.vars_body, { db_name: 'orders' });
    assert.deepEqual(item.vars_structure, [{ var_key: 'db_user', var_value: 'orders_app' }]);
    const list = await s.cas.get(iacPath(env.id));
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body, { iac_resources: [item] });
    assert.deepEqual((await s.cas.get(`/environments/${env.id}`)).body.iac_resources, [item]);
  });

  it('keeps a client-given id and refuses a repeated id or name', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const r = await s.cas.post(iacPath(env.id), { id: 'db-1', name: 'db1', type: 'rds' });
    assert.equal(r.body.iac_resources[0].id, 'db-1');
    assertCasError(await s.cas.post(iacPath(env.id), { id: 'db-1', name: 'other', type: 'rds' }), 400, 'SVCSTG.00100459', /db-1/);
    assertCasError(await s.cas.post(iacPath(env.id), { name: 'db1', type: 'rds' }), 400, 'SVCSTG.00100459', /db1/);
    assert.equal((await s.cas.get(iacPath(env.id))).body.iac_resources.length, 1);
  });

  it('refuses a type without a provider, naming the supported ones', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    assertCasError(await s.cas.post(iacPath(env.id), { name: 'net', type: 'vpc' }), 400, 'SVCSTG.00100400', /vpc.*supported.*rds/);
    assertCasError(await s.cas.post(iacPath(env.id), { name: 'db', type: 'rds', vars_body: { db_name: 'Bad-Name' } }), 400, 'SVCSTG.00100400', /db_name/);
    assert.deepEqual((await s.cas.get(iacPath(env.id))).body.iac_resources, []);
  });
});

describe('PUT /v3/{project}/cas/environments/{environment_id}/iac-resources/{resource_id}', () => {
  it('changes the desired state; an unknown resource is 404', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const id = (await s.cas.post(iacPath(env.id), { name: 'db1', type: 'rds' })).body.iac_resources[0].id;
    s.clock.advance(1000);
    const r = await s.cas.put(`${iacPath(env.id)}/${id}`, { id, name: 'db2', type: 'rds', vars_body: { db_name: 'two' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.iac_resources[0].name, 'db2');
    assert.deepEqual(r.body.iac_resources[0].vars_body, { db_name: 'two' });
    assert.equal(r.body.iac_resources[0].update_time, s.clock.now());
    assertCasError(await s.cas.put(`${iacPath(env.id)}/nope`, { name: 'db2', type: 'rds' }), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.put(`${iacPath(env.id)}/${id}`, { id: 'other', name: 'db2', type: 'rds' }), 400, 'SVCSTG.00100400', /other/);
    assertCasError(await s.cas.put(`${iacPath(env.id)}/${id}`, { name: 'db2', type: 'elb' }), 400, 'SVCSTG.00100400', /rds/);
  });
});

describe('DELETE /v3/{project}/cas/environments/{environment_id}/iac-resources/{resource_id}', () => {
  it('deletes a never provisioned resource at once; an unknown one is 404', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const id = (await s.cas.post(iacPath(env.id), { name: 'db1', type: 'rds' })).body.iac_resources[0].id;
    const r = await s.cas.delete(`${iacPath(env.id)}/${id}`);
    assert.equal(r.status, 204, r.text);
    assert.deepEqual((await s.cas.get(iacPath(env.id))).body.iac_resources, []);
    assertCasError(await s.cas.delete(`${iacPath(env.id)}/${id}`), 404, 'SVCSTG.00100404');
  });
});

describe('POST /v3/{project}/cas/environments/{environment_id}/iac-resources/provision', () => {
  it('creates a real PostgreSQL database and login role, bound for components; delete + provision drops them', async (t) => {
    const s = await startWithRds(t);
    if (!s) return;
    const env = await createEnv(s);
    const added = await s.cas.post(iacPath(env.id), { name: 'orders', type: 'rds' });
    const resourceId = added.body.iac_resources[0].id;

    s.clock.advance(1000);
    const r = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'CREATION_COMPLETE', r.text);
    assert.equal(r.body.create_time, s.clock.now());
    assert.equal(typeof r.body.status_message, 'string');
    assert.equal(r.body.execution_plan_item.length, 1);
    const plan = r.body.execution_plan_item[0];
    assert.equal(plan.resource_type, 'rds');
    assert.equal(plan.resource_name, 'orders');
    assert.equal(plan.action, 'create');
    assert.equal(plan.mode, 'RESOURCE');
    assert.ok(!JSON.stringify(r.body).includes('password'), 'no password in the answer');

    const listed = (await s.cas.get(iacPath(env.id))).body.iac_resources[0];
    assert.equal(listed.status, 'CREATION_COMPLETE');
    const dbName: string = listed.resource_id;
    assert.match(dbName, /^os_orders_/);
    assert.equal((await s.cas.get(`/environments/${env.id}`)).body.iac_task_status, 'CREATION_COMPLETE');

    const bindings = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    const rds = bindings.find((b) => b.id === resourceId)!;
    assert.equal(rds.type, 'rds');
    assert.equal(rds.source, 'iac');
    assert.equal(rds.parameters.db_type, 'postgresql');
    assert.equal(rds.parameters.db_name, dbName);
    assert.ok(rds.parameters.password!.length >= 24);
    assert.ok(await databaseExists(dbName));
    const login = new pg.Client({ host: rds.parameters.host, port: Number(rds.parameters.port), database: rds.parameters.db_name, user: rds.parameters.db_user, password: rds.parameters.password });
    await login.connect();
    const who = (await login.query('SELECT current_user AS u, current_database() AS d')).rows[0];
    await login.query('CREATE TABLE t (id int)'); // the role owns the database
    await login.end();
    assert.deepEqual(who, { u: rds.parameters.db_user, d: dbName });
    const [role] = await adminQuery('SELECT rolcanlogin, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = $1', [rds.parameters.db_user]);
    assert.deepEqual(role, { rolcanlogin: true, has_password: true });

    // Provisioning again keeps the database and its credentials.
    const again = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(again.body.status, 'UPDATE_COMPLETE', again.text);
    assert.equal(again.body.execution_plan_item[0].action, 'no-op');
    const rebound = (await s.server.cas.environments.bindings(ADMIN.projectId, env.id)).find((b) => b.id === resourceId)!;
    assert.equal(rebound.parameters.password, rds.parameters.password);

    assert.equal((await s.cas.delete(`${iacPath(env.id)}/${resourceId}`)).status, 204);
    assert.deepEqual((await s.cas.get(iacPath(env.id))).body.iac_resources, []);
    assert.ok(await databaseExists(dbName), 'the database stays until the next provisioning');
    assert.equal((await s.server.cas.environments.bindings(ADMIN.projectId, env.id)).length, 0);
    const dropped = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(dropped.body.status, 'UPDATE_COMPLETE', dropped.text);
    assert.equal(dropped.body.execution_plan_item[0].action, 'delete');
    assert.equal(await databaseExists(dbName), false);
    assert.equal(await roleExists(rds.parameters.db_user!), false);
  });

  it('replaces the database when db_name changes', async (t) => {
    const s = await startWithRds(t);
    if (!s) return;
    const env = await createEnv(s);
    const suffix = uniqName('').toLowerCase();
    const id = (await s.cas.post(iacPath(env.id), { name: 'db', type: 'rds', vars_body: { db_name: `a_${suffix}`, db_user: `u_${suffix}` } })).body.iac_resources[0].id;
    assert.equal((await s.cas.post(`${iacPath(env.id)}/provision`)).body.status, 'CREATION_COMPLETE');
    assert.ok(await databaseExists(`a_${suffix}`));
    await s.cas.put(`${iacPath(env.id)}/${id}`, { name: 'db', type: 'rds', vars_body: { db_name: `b_${suffix}`, db_user: `u_${suffix}` } });
    const r = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(r.body.status, 'UPDATE_COMPLETE', r.text);
    assert.equal(r.body.execution_plan_item[0].action, 'replace');
    assert.equal(await databaseExists(`a_${suffix}`), false);
    assert.ok(await databaseExists(`b_${suffix}`));
    // Deleting the environment destroys what it created.
    assert.equal((await s.cas.delete(`/environments/${env.id}`)).status, 204);
    assert.equal(await databaseExists(`b_${suffix}`), false);
    assert.equal(await roleExists(`u_${suffix}`), false);
  });

  it('never takes over nor drops a database or role it did not create', async (t) => {
    const s = await startWithRds(t);
    if (!s) return;
    const suffix = uniqName('').toLowerCase();
    const [victimDb, victimRole] = [`victim_${suffix}`, `victim_u_${suffix}`];
    await adminQuery(`CREATE ROLE ${victimRole} LOGIN`);
    await adminQuery(`CREATE DATABASE ${victimDb} OWNER ${victimRole}`);
    t.after(async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${victimDb} WITH (FORCE)`);
      await adminQuery(`DROP ROLE IF EXISTS ${victimRole}`);
    });
    const owner = async () => (await adminQuery('SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = $1', [victimDb]))[0]?.o;
    const env = await createEnv(s);
    // An existing role (the platform's superuser, another tenant's): refused, nothing altered.
    for (const vars of [{ db_user: victimRole }, { db_user: 'postgres' }]) {
      const id: string = (await s.cas.post(iacPath(env.id), { name: `r${uniqName()}`, type: 'rds', vars_body: vars })).body.iac_resources.at(-1).id;
      const r: any = await s.cas.post(`${iacPath(env.id)}/provision`);
      assert.match(r.body.status, /_FAILED$/, r.text);
      assert.match(r.body.status_message, new RegExp(`role ${vars.db_user} already exists`));
      assert.equal((await s.cas.delete(`${iacPath(env.id)}/${id}`)).status, 204);
    }
    // An existing database (the platform's own, another tenant's): refused, its owner kept.
    for (const dbName of [victimDb, new URL(PG_URL).pathname.slice(1) || 'postgres']) {
      const id: string = (await s.cas.post(iacPath(env.id), { name: `d${uniqName()}`, type: 'rds', vars_body: { db_name: dbName } })).body.iac_resources.at(-1).id;
      const r: any = await s.cas.post(`${iacPath(env.id)}/provision`);
      assert.match(r.body.status, /_FAILED$/, r.text);
      assert.match(r.body.status_message, new RegExp(`database ${dbName} already exists`));
      assert.equal((await s.cas.delete(`${iacPath(env.id)}/${id}`)).status, 204);
    }
    assert.equal(await owner(), victimRole);
    assert.ok(await roleExists(victimRole));
    // A second resource cannot reuse the first one's role; deleting both leaves the victims alone.
    await s.cas.post(iacPath(env.id), { name: 'first', type: 'rds', vars_body: { db_name: `f_${suffix}`, db_user: `f_u_${suffix}` } });
    assert.equal((await s.cas.post(`${iacPath(env.id)}/provision`)).body.status.endsWith('_COMPLETE'), true);
    await s.cas.post(iacPath(env.id), { name: 'second', type: 'rds', vars_body: { db_name: `s_${suffix}`, db_user: `f_u_${suffix}` } });
    const again = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.match(again.body.status_message, new RegExp(`role f_u_${suffix} already exists`), again.text);
    assert.equal(await databaseExists(`s_${suffix}`), false);
    assert.equal((await s.cas.delete(`/environments/${env.id}`)).status, 204);
    assert.equal(await databaseExists(`f_${suffix}`), false);
    assert.equal(await roleExists(`f_u_${suffix}`), false);
    assert.equal(await owner(), victimRole);
  });

  it('records a clear failure, not a crash, when no rds server is configured', async (t) => {
    const s = await startCas(t, { 'cas.rdsAdminUrl': '' });
    const env = await createEnv(s);
    await s.cas.post(iacPath(env.id), { name: 'db', type: 'rds' });
    // SDKs send a JSON content type with no body.
    const r = await s.cas.call('POST', `${iacPath(env.id)}/provision`, undefined, { 'content-type': 'application/json' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'CREATION_FAILED');
    assert.match(r.body.status_message, /cas\.rdsAdminUrl/);
    assert.equal(r.body.execution_plan_item[0].action_reason.includes('rdsAdminUrl'), true);
    assert.equal((await s.cas.get(iacPath(env.id))).body.iac_resources[0].status, 'CREATION_FAILED');
    const h = await s.cas.get(`${iacPath(env.id)}/provision-histories`);
    assert.equal(h.body.list[0].status, 'CREATION_FAILED');
    assert.match(h.body.list[0].output, /rdsAdminUrl/);
    assert.equal((await s.cas.get(`/environments/${env.id}`)).body.iac_task_status, 'CREATION_FAILED');
  });

  it('keeps a provisioned binding across a restart (the password still decrypts)', async (t) => {
    const s = await startWithRds(t);
    if (!s) return;
    const env = await createEnv(s);
    await s.cas.post(iacPath(env.id), { name: 'kept', type: 'rds' });
    assert.equal((await s.cas.post(`${iacPath(env.id)}/provision`)).body.status, 'CREATION_COMPLETE');
    const before = await s.server.cas.environments.bindings(ADMIN.projectId, env.id);
    const s2 = await s.restart();
    const after = await s2.server.cas.environments.bindings(ADMIN.projectId, env.id);
    assert.deepEqual(after, before);
    const c = new CasClient(s2.url, s.cas.token);
    assert.equal((await c.get(iacPath(env.id))).body.iac_resources[0].status, 'CREATION_COMPLETE');
    assert.equal((await c.delete(`/environments/${env.id}`)).status, 204);
    assert.equal(await databaseExists(before[0]!.parameters.db_name!), false);
  });
});

describe('GET /v3/{project}/cas/environments/{environment_id}/iac-resources/provision-histories', () => {
  it('lists records as {total, pageNum, pageSize, list} with string times and JSON-string fields', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const first = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(first.body.status, 'CREATION_COMPLETE', first.text);
    s.clock.advance(60_000);
    const second = await s.cas.post(`${iacPath(env.id)}/provision`);
    assert.equal(second.body.status, 'UPDATE_COMPLETE');
    const r = await s.cas.get(`${iacPath(env.id)}/provision-histories`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 2);
    assert.equal(r.body.pageNum, 1);
    assert.equal(r.body.list.length, 2);
    const [newest, oldest] = r.body.list;
    assert.equal(newest.create_time, String(s.clock.now()));
    assert.equal(oldest.create_time, String(s.clock.now() - 60_000));
    assert.equal(newest.operation, 'EXECUTION_PLAN_APPLY');
    assert.equal(newest.stack_name, `env-${env.id}`);
    assert.equal(newest.version, '3.0');
    assert.equal(newest.creator, ADMIN.name);
    for (const f of ['vars_body', 'vars_structure', 'stack_resources', 'stack_output']) assert.doesNotThrow(() => JSON.parse(newest[f]), f);
    const page = await s.cas.get(`${iacPath(env.id)}/provision-histories?limit=1&offset=1`);
    assert.deepEqual({ total: page.body.total, pageNum: page.body.pageNum, pageSize: page.body.pageSize, ids: page.body.list.map((h: any) => h.id) }, { total: 2, pageNum: 2, pageSize: 1, ids: [oldest.id] });
    assert.deepEqual((await s.cas.get(`${iacPath(env.id)}/provision-histories?limit=1&offset=9`)).body.list, []);

    const one = await s.cas.get(`${iacPath(env.id)}/provision-histories/${oldest.id}`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, oldest);
    assertCasError(await s.cas.get(`${iacPath(env.id)}/provision-histories/nope`), 404, 'SVCSTG.00100404');

    const ev = await s.cas.get(`${iacPath(env.id)}/provision-histories/${oldest.id}/events`);
    assert.equal(ev.status, 200, ev.text);
    assert.ok(ev.body.stack_events.length >= 1);
    const summary = ev.body.stack_events.at(-1);
    assert.equal(summary.event_type, 'SUMMARY');
    assert.equal(summary.time, new Date(s.clock.now() - 60_000).toISOString());
    assert.match(summary.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assertCasError(await s.cas.get(`${iacPath(env.id)}/provision-histories/nope/events`), 404, 'SVCSTG.00100404');
  });
});
