import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, CasClient, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';

async function createApp(s: CasServer): Promise<any> {
  const r = await s.cas.post('/applications', { name: uniqName('app') });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function createEnv(s: CasServer): Promise<any> {
  const r = await s.cas.post('/environments', { name: uniqName('env') });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

function putBody(environmentId: string, env: { name: string; value: string }[], assign_strategy?: boolean) {
  return { environment_id: environmentId, configuration: { env, ...(assign_strategy === undefined ? {} : { assign_strategy }) } };
}

describe('PUT /v3/{project}/cas/applications/{application_id}/configuration', () => {
  it('stores the variables of one environment and answers the config object', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    const r = await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'DB_HOST', value: 'db.local' }, { name: 'spring.profiles', value: '' }], true));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      application_id: app.id,
      environment_id: env.id,
      configuration: { env: [{ name: 'DB_HOST', value: 'db.local' }, { name: 'spring.profiles', value: '' }], assign_strategy: true },
    });
  });

  it('replaces the whole list on the next call; a repeated name keeps its last value', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]));
    const r = await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'C', value: '3' }, { name: 'D', value: 'x' }, { name: 'C', value: '4' }]));
    assert.deepEqual(r.body.configuration, { env: [{ name: 'C', value: '4' }, { name: 'D', value: 'x' }], assign_strategy: false });
    const got = await s.cas.get(`/applications/${app.id}/configuration?environment_id=${env.id}`);
    assert.deepEqual(got.body.configuration, [r.body]);
  });

  it('returns 401 SVCSTG.00100401 for an unknown application or environment, writing nothing', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    assertCasError(await s.cas.put('/applications/nope/configuration', putBody(env.id, [])), 401, 'SVCSTG.00100401');
    assertCasError(await s.cas.put(`/applications/${app.id}/configuration`, putBody('no-such-env', [{ name: 'A', value: '1' }])), 401, 'SVCSTG.00100401');
    assert.deepEqual((await s.cas.get(`/applications/${app.id}/configuration`)).body, { configuration: [] });
  });

  const bad: [string, unknown, RegExp][] = [
    ['environment_id is missing', { configuration: { env: [] } }, /environment_id/],
    ['configuration is missing', { environment_id: 'ENV' }, /configuration/],
    ['env is missing', { environment_id: 'ENV', configuration: {} }, /env/],
    ['env is a map', { environment_id: 'ENV', configuration: { env: { A: '1' } } }, /env/],
    ['a name is missing', { environment_id: 'ENV', configuration: { env: [{ value: '1' }] } }, /name/],
    ['a value is missing', { environment_id: 'ENV', configuration: { env: [{ name: 'A' }] } }, /value/],
    ['a value is a number', { environment_id: 'ENV', configuration: { env: [{ name: 'A', value: 1 }] } }, /value/],
    ['a name starts with a digit', { environment_id: 'ENV', configuration: { env: [{ name: '1A', value: '1' }] } }, /name/],
    ['a name has a space', { environment_id: 'ENV', configuration: { env: [{ name: 'A B', value: '1' }] } }, /name/],
    ['a name is 65 characters', { environment_id: 'ENV', configuration: { env: [{ name: 'A'.repeat(65), value: '1' }] } }, /name/],
    ['a value is over 8192 characters', { environment_id: 'ENV', configuration: { env: [{ name: 'A', value: 'x'.repeat(8193) }] } }, /value/],
    ['assign_strategy is a string', { environment_id: 'ENV', configuration: { env: [], assign_strategy: 'true' } }, /assign_strategy/],
  ];
  for (const [what, body, field] of bad) {
    it(`returns 400 SVCSTG.00100400 and writes nothing when ${what}`, async (t) => {
      const s = await startCas(t);
      const app = await createApp(s);
      const env = await createEnv(s);
      const withEnv = JSON.parse(JSON.stringify(body).replace('"ENV"', JSON.stringify(env.id)));
      assertCasError(await s.cas.put(`/applications/${app.id}/configuration`, withEnv), 400, 'SVCSTG.00100400', field);
      assert.deepEqual((await s.cas.get(`/applications/${app.id}/configuration`)).body, { configuration: [] });
    });
  }
});

describe('GET /v3/{project}/cas/applications/{application_id}/configuration', () => {
  it('lists every environment, or one with environment_id', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const e1 = await createEnv(s);
    const e2 = await createEnv(s);
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(e1.id, [{ name: 'WHERE', value: 'one' }]));
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(e2.id, [{ name: 'WHERE', value: 'two' }]));
    const all = await s.cas.get(`/applications/${app.id}/configuration`);
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.configuration.map((c: any) => [c.environment_id, c.configuration.env[0].value]).sort(), [[e1.id, 'one'], [e2.id, 'two']].sort());
    const one = await s.cas.get(`/applications/${app.id}/configuration?environment_id=${e2.id}`);
    assert.deepEqual(one.body.configuration, [{ application_id: app.id, environment_id: e2.id, configuration: { env: [{ name: 'WHERE', value: 'two' }], assign_strategy: false } }]);
  });

  it('returns [] for an application without configuration', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    assert.deepEqual((await s.cas.get(`/applications/${app.id}/configuration`)).body, { configuration: [] });
  });

  it('returns 404 SVCSTG.00100404 for an environment with nothing stored, 401 for an unknown application', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    assertCasError(await s.cas.get(`/applications/${app.id}/configuration?environment_id=${env.id}`), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.get(`/applications/${app.id}/configuration?environment_id=no-such-env`), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.get('/applications/nope/configuration'), 401, 'SVCSTG.00100401');
  });
});

describe('DELETE /v3/{project}/cas/applications/{application_id}/configuration', () => {
  it('deletes one environment\'s configuration with 204, and 204 again when nothing is stored', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const e1 = await createEnv(s);
    const e2 = await createEnv(s);
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(e1.id, [{ name: 'A', value: '1' }]));
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(e2.id, [{ name: 'B', value: '2' }]));
    const r = await s.cas.delete(`/applications/${app.id}/configuration?environment_id=${e1.id}`);
    assert.equal(r.status, 204, r.text);
    const left = await s.cas.get(`/applications/${app.id}/configuration`);
    assert.deepEqual(left.body.configuration.map((c: any) => c.environment_id), [e2.id]);
    assert.equal((await s.cas.delete(`/applications/${app.id}/configuration?environment_id=${e1.id}`)).status, 204);
    assert.equal((await s.cas.delete(`/applications/${app.id}/configuration?environment_id=no-such-env`)).status, 204);
  });

  it('returns 401 SVCSTG.00100401 for an unknown application and 400 without environment_id', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    assertCasError(await s.cas.delete('/applications/nope/configuration?environment_id=x'), 401, 'SVCSTG.00100401');
    assertCasError(await s.cas.delete(`/applications/${app.id}/configuration`), 400, 'SVCSTG.00100400', /environment_id/);
  });
});

describe('application configuration and other resources', () => {
  it('goes away with its environment', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'A', value: '1' }]));
    assert.equal((await s.cas.delete(`/environments/${env.id}`)).status, 204);
    assert.deepEqual((await s.cas.get(`/applications/${app.id}/configuration`)).body, { configuration: [] });
    assert.deepEqual(await s.server.cas.applications.envVars(s.cas.project, app.id, env.id), []);
    // And the rows themselves are gone once the bus listener has run.
    await s.server.cas.applications.settle();
    const rows = await s.server.db.kysely.selectFrom('cas_application_configs').selectAll().where('environment_id', '=', env.id).execute();
    assert.deepEqual(rows, []);
  });

  it('goes away with its application', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'A', value: '1' }]));
    assert.equal((await s.cas.delete(`/applications/${app.id}`)).status, 204);
    const rows = await s.server.db.kysely.selectFrom('cas_application_configs').selectAll().where('application_id', '=', app.id).execute();
    assert.deepEqual(rows, []);
  });

  it('gives the deployment engine the variables of (application, environment)', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    const other = await createEnv(s);
    await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'A', value: '1' }, { name: 'B', value: '$HOME ${X}' }]));
    assert.deepEqual(await s.server.cas.applications.envVars(s.cas.project, app.id, env.id), [{ name: 'A', value: '1' }, { name: 'B', value: '$HOME ${X}' }]);
    assert.deepEqual(await s.server.cas.applications.envVars(s.cas.project, app.id, other.id), []);
  });

  it('survives a restart', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const env = await createEnv(s);
    const put = await s.cas.put(`/applications/${app.id}/configuration`, putBody(env.id, [{ name: 'A', value: 'kept' }], true));
    const s2 = await s.restart();
    const r = await new CasClient(s2.url, s.cas.token).get(`/applications/${app.id}/configuration?environment_id=${env.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.configuration, [put.body]);
  });
});
