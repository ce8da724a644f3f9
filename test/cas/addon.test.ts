import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { zipSync } from 'fflate';
import { assertCasError, CasClient, startCas as startCasServer, uniqName, type CasServer } from '../helpers/cas-client.js';

/** A stand-in sermant-agent.jar (a zip with a manifest) in a temp dir. */
function agentJar(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sermant-agent.jar');
  writeFileSync(path, zipSync({ 'META-INF/MANIFEST.MF': new TextEncoder().encode('Manifest-Version: 1.0\nPremain-Class: io.sermant.premain.AgentLauncher\n') }));
  return path;
}

/** A test server whose sermantInjector finds an agent jar (unless `agent` is given). */
function startCas(t: TestContext, agent: string = agentJar(t)): Promise<CasServer> {
  return startCasServer(t, { 'cas.sermantAgentPath': agent });
}

const JOB_ID = /^JOB[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function createEnv(s: CasServer): Promise<any> {
  const r = await s.cas.post('/environments', { name: uniqName('env') });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function install(s: CasServer, envId: string): Promise<{ id: string; job_id: string }> {
  const r = await s.cas.post(`/environments/${envId}/addons`, { name: 'sermantInjector', cce_id: 'cce-1', cse_id: 'cse-1' });
  assert.equal(r.status, 200, r.text);
  await s.server.jobs.settled(r.body.job_id);
  return r.body;
}

describe('GET /v3/{project}/cas/environments/{environment_id}/addons-metadata', () => {
  it('lists the shipped add-ons with their latest version', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const r = await s.cas.get(`/environments/${env.id}/addons-metadata`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.addons.map((a: any) => a.name), ['sermantInjector']);
    assert.match(r.body.addons[0].latest_version, /^\d+\.\d+\.\d+/);
  });

  it('returns 401 SVCSTG.00100401 for an unknown environment', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/environments/nope/addons-metadata'), 401, 'SVCSTG.00100401');
  });
});

describe('POST /v3/{project}/cas/environments/{environment_id}/addons', () => {
  it('installs sermantInjector and answers {job_id, id}; the record keeps job and status', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const created = await install(s, env.id);
    assert.match(created.job_id, JOB_ID);
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    const one = await s.cas.get(`/environments/${env.id}/addons/${created.id}`);
    assert.equal(one.status, 200, one.text);
    const version = (await s.cas.get(`/environments/${env.id}/addons-metadata`)).body.addons[0].latest_version;
    assert.deepEqual(one.body, { id: created.id, name: 'sermantInjector', version, cce_id: 'cce-1', cse_id: 'cse-1', environment_id: env.id, job_id: created.job_id, status: 'SUCCEEDED' });
    const job = await s.cas.get(`/jobs/${created.job_id}`);
    assert.equal(job.status, 200, job.text);
    assert.equal(job.body.job.execution_status, 'SUCCEEDED');
    assert.equal(job.body.job.job_type, 'addon-install');
    assert.match(job.body.tasks[0].messages, /sermant-agent\.jar ready/);
    assert.deepEqual(await s.server.cas.addons.javaAgentOptions(s.cas.project, env.id), [`-javaagent:${s.server.cas.addons['deps'].config.cas.sermantAgentPath}`]);
  });

  it('fails the install job, with the reason, when no agent jar is configured or it is not a jar', async (t) => {
    for (const agent of ['', '/nonexistent/sermant-agent.jar', __filename_of(t)]) {
      const s = await startCas(t, agent);
      const env = await createEnv(s);
      const created = await install(s, env.id);
      const job = await s.cas.get(`/jobs/${created.job_id}`);
      assert.equal(job.body.job.execution_status, 'FAILED', agent);
      assert.match(job.body.tasks[0].messages, agent === '' ? /cas\.sermantAgentPath/ : agent.startsWith('/nonexistent') ? /cannot be read: ENOENT/ : /is not a jar/);
      assert.equal((await s.cas.get(`/environments/${env.id}/addons/${created.id}`)).body.status, 'FAILED');
      assert.deepEqual(await s.server.cas.addons.javaAgentOptions(s.cas.project, env.id), []);
    }
  });

  it('returns 400 for a name not shipped, listing the shipped ones', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    assertCasError(await s.cas.post(`/environments/${env.id}/addons`, { name: 'istio', cce_id: 'c' }), 400, 'SVCSTG.00100400', /sermantInjector/);
    assert.deepEqual((await s.cas.get(`/environments/${env.id}/addons`)).body.addons, []);
  });

  it('requires cse_id for sermantInjector', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    assertCasError(await s.cas.post(`/environments/${env.id}/addons`, { name: 'sermantInjector', cce_id: 'c' }), 400, 'SVCSTG.00100400', /cse_id/);
  });

  it('allows one add-on of a name per environment', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const other = await createEnv(s);
    await install(s, env.id);
    assertCasError(await s.cas.post(`/environments/${env.id}/addons`, { name: 'sermantInjector', cce_id: 'c', cse_id: 'e' }), 400, 'SVCSTG.00100459', /sermantInjector/);
    await install(s, other.id);
    assert.equal((await s.cas.get(`/environments/${env.id}/addons`)).body.addons.length, 1);
  });

  it('returns 401 SVCSTG.00100401 for an unknown environment', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/environments/nope/addons', { name: 'sermantInjector', cce_id: 'c', cse_id: 'e' }), 401, 'SVCSTG.00100401');
  });

  const bad: [string, unknown, RegExp][] = [
    ['name is missing', { cce_id: 'c', cse_id: 'e' }, /name/],
    ['cce_id is missing', { name: 'sermantInjector', cse_id: 'e' }, /cce_id/],
    ['cce_id is a number', { name: 'sermantInjector', cce_id: 1, cse_id: 'e' }, /cce_id/],
    ['cce_id is empty', { name: 'sermantInjector', cce_id: '', cse_id: 'e' }, /cce_id/],
    ['cse_id is 129 characters', { name: 'sermantInjector', cce_id: 'c', cse_id: 'e'.repeat(129) }, /cse_id/],
    ['name is a list', { name: ['sermantInjector'], cce_id: 'c', cse_id: 'e' }, /name/],
  ];
  for (const [what, body, field] of bad) {
    it(`returns 400 SVCSTG.00100400 and writes nothing when ${what}`, async (t) => {
      const s = await startCas(t);
      const env = await createEnv(s);
      assertCasError(await s.cas.post(`/environments/${env.id}/addons`, body), 400, 'SVCSTG.00100400', field);
      assert.deepEqual((await s.cas.get(`/environments/${env.id}/addons`)).body.addons, []);
    });
  }
});

describe('GET /v3/{project}/cas/environments/{environment_id}/addons', () => {
  it('lists the environment\'s add-ons only; 401 for an unknown environment', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const other = await createEnv(s);
    const a = await install(s, env.id);
    await install(s, other.id);
    const r = await s.cas.get(`/environments/${env.id}/addons`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.addons.map((x: any) => [x.id, x.environment_id, x.status]), [[a.id, env.id, 'SUCCEEDED']]);
    assertCasError(await s.cas.get('/environments/nope/addons'), 401, 'SVCSTG.00100401');
  });
});

describe('GET /v3/{project}/cas/environments/{environment_id}/addons/{addon_id}', () => {
  it('returns 404 SVCSTG.00100404 for an unknown add-on or one of another environment', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const other = await createEnv(s);
    const a = await install(s, env.id);
    assertCasError(await s.cas.get(`/environments/${env.id}/addons/nope`), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.get(`/environments/${other.id}/addons/${a.id}`), 404, 'SVCSTG.00100404');
  });
});

describe('POST /v3/{project}/cas/environments/{environment_id}/addons/{addon_id}/action', () => {
  it('redeploys with a new job id kept on the record', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const a = await install(s, env.id);
    const r = await s.cas.post(`/environments/${env.id}/addons/${a.id}/action`, { action: 'redeploy' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.job_id, JOB_ID);
    await s.server.jobs.settled(r.body.job_id);
    assert.notEqual(r.body.job_id, a.job_id);
    const one = await s.cas.get(`/environments/${env.id}/addons/${a.id}`);
    assert.equal(one.body.job_id, r.body.job_id);
    assert.equal(one.body.status, 'SUCCEEDED');
  });

  it('returns 400 SVCSTG.00100418 for an unknown action, 404 for an unknown add-on, 400 without action', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const a = await install(s, env.id);
    assertCasError(await s.cas.post(`/environments/${env.id}/addons/${a.id}/action`, { action: 'upgrade' }), 400, 'SVCSTG.00100418', /redeploy/);
    assertCasError(await s.cas.post(`/environments/${env.id}/addons/nope/action`, { action: 'redeploy' }), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.post(`/environments/${env.id}/addons/${a.id}/action`, {}), 400, 'SVCSTG.00100400', /action/);
    assert.equal((await s.cas.get(`/environments/${env.id}/addons/${a.id}`)).body.job_id, a.job_id);
  });
});

describe('DELETE /v3/{project}/cas/environments/{environment_id}/addons/{addon_id}', () => {
  it('uninstalls with 200 {job_id}, then 404', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const a = await install(s, env.id);
    const r = await s.cas.delete(`/environments/${env.id}/addons/${a.id}`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.job_id, JOB_ID);
    await s.server.jobs.settled(r.body.job_id);
    assert.equal((await s.cas.get(`/jobs/${r.body.job_id}`)).body.job.job_type, 'addon-uninstall');
    assertCasError(await s.cas.get(`/environments/${env.id}/addons/${a.id}`), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.delete(`/environments/${env.id}/addons/${a.id}`), 404, 'SVCSTG.00100404');
    await install(s, env.id);
  });
});

describe('add-ons and their environment', () => {
  it('go away with the environment', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    await install(s, env.id);
    assert.equal((await s.cas.delete(`/environments/${env.id}`)).status, 204);
    assertCasError(await s.cas.get(`/environments/${env.id}/addons`), 401, 'SVCSTG.00100401');
    await s.server.cas.addons.settle();
    const rows = await s.server.db.kysely.selectFrom('cas_addons').selectAll().where('environment_id', '=', env.id).execute();
    assert.deepEqual(rows, []);
  });

  it('survive a restart', async (t) => {
    const s = await startCas(t);
    const env = await createEnv(s);
    const a = await install(s, env.id);
    const before = (await s.cas.get(`/environments/${env.id}/addons/${a.id}`)).body;
    const s2 = await s.restart();
    const r = await new CasClient(s2.url, s.cas.token).get(`/environments/${env.id}/addons/${a.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, before);
  });
});

/** A file that exists and is not a jar (this test file). */
function __filename_of(_t: TestContext): string {
  return new URL(import.meta.url).pathname;
}
