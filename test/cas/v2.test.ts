import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, CasClient, restartCas, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { answer, eventually, FAST_DEPLOY, nodeHelloRepo } from '../helpers/component.js';

// The ServiceStage v2 API (/v2/{project}/cas): a view over the v3 environments, applications
// and components. Each test checks the v2 answer and what the v3 API shows of the same thing.

/** The v2 client of a test server (same token as its v3 client). */
function v2Of(s: CasServer): CasClient {
  return new CasClient(s.url, s.cas.token, s.cas.project, 'v2');
}

async function v2Env(v2: CasClient, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await v2.post('/environments', { name: uniqName('env'), vpc_id: 'vpc-1', base_resources: [{ id: 'local', type: 'ecs' }], ...extra });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function v2App(v2: CasClient): Promise<any> {
  const r = await v2.post('/applications', { name: uniqName('app') });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/**
 * Polls the v2 job until EXECUTION_STATUS leaves RUNNING. Meanwhile the last task listed is
 * RUNNING — or SUCCEEDED in the instant after the job's last task ended and before the job is
 * marked (the unit tests pin that no task in the middle shows so).
 */
async function waitV2Job(v2: CasClient, jobId: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await v2.get(`/jobs/${jobId}?limit=50`);
    assert.equal(r.status, 200, r.text);
    const tasks = r.body.tasks as { TASK_STATUS: string }[];
    if (r.body.job.EXECUTION_STATUS !== 'RUNNING') return r.body;
    assert.ok(['RUNNING', 'SUCCEEDED'].includes(tasks.at(-1)?.TASK_STATUS ?? ''), `while the job runs its last task listed is RUNNING: ${r.text}`);
    assert.ok(Date.now() < deadline, `job ${jobId} still RUNNING after ${timeoutMs} ms: ${r.text}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe('/v2/{project}/cas/environments', () => {
  it('creates an environment whose base and optional resources are its v3 managed resources', async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const env = await v2Env(v2, { alias: 'Dev', charge_mode: 'provided', description: 'd', optional_resources: [{ id: 'default', type: 'cse', name: 'engine' }] });
    assert.equal(env.alias, 'Dev');
    assert.equal(env.charge_mode, 'provided');
    assert.equal(env.enterprise_project_id, '0');
    assert.equal(env.deploy_mode, 'mixed');
    assert.equal(env.vpc_id, 'vpc-1');
    assert.deepEqual(env.base_resources, [{ id: 'local', name: '', type: 'ecs' }]);
    assert.deepEqual(env.optional_resources, [{ id: 'default', name: 'engine', type: 'cse' }]);
    const v3 = await s.cas.get(`/environments/${env.id}`);
    assert.equal(v3.status, 200, v3.text);
    assert.deepEqual(v3.body.resources.map((r: any) => [r.type, r.id]), [['ecs', 'local'], ['cse', 'default']]);
    const got = await v2.get(`/environments/${env.id}`);
    assert.deepEqual(got.body, env);
    const list = await v2.get('/environments?limit=100');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.environments.find((e: any) => e.id === env.id), env);
    assert.ok(list.body.count >= 1);

    // A v3 environment through v2: compute resources are base ones, the others optional.
    const v3env = await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'default', type: 'cse' }, { id: 'local', type: 'ecs' }] });
    const seen = await v2.get(`/environments/${v3env.body.id}`);
    assert.deepEqual([seen.body.base_resources, seen.body.optional_resources, seen.body.alias, seen.body.charge_mode], [[{ id: 'local', name: '', type: 'ecs' }], [{ id: 'default', name: '', type: 'cse' }], '', 'provided']);
  });

  it("takes what the Go SDK sends for unset fields: null lists, '' deploy_mode, vpc_id and enterprise_project_id", async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const r = await v2.post('/environments', { name: uniqName('env'), vpc_id: '', deploy_mode: '', enterprise_project_id: '', base_resources: null, optional_resources: null });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.deploy_mode, r.body.enterprise_project_id, r.body.base_resources, r.body.optional_resources], ['mixed', '0', [], []]);
  });

  it('PATCH …/resources removes first, then adds, and keeps the other resources', async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const env = await v2Env(v2, { optional_resources: [{ id: 'default', type: 'cse' }] });
    // What the Terraform provider sends on an update: every old resource removed, every new one added.
    let r = await v2.patch(`/environments/${env.id}/resources`, { remove_resources: [{ id: 'local', type: 'ecs' }, { id: 'default', type: 'cse' }], add_base_resources: [{ id: 'local', type: 'ecs', name: 'this host' }], add_optional_resources: [{ id: 'default', type: 'cse' }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.base_resources, r.body.optional_resources], [[{ id: 'local', name: 'this host', type: 'ecs' }], [{ id: 'default', name: '', type: 'cse' }]]);
    r = await v2.patch(`/environments/${env.id}/resources`, { remove_resources: [{ id: 'default', type: 'cse' }] });
    assert.deepEqual([r.body.base_resources, r.body.optional_resources], [[{ id: 'local', name: 'this host', type: 'ecs' }], []]);
    const v3 = await s.cas.get(`/environments/${env.id}`);
    assert.deepEqual(v3.body.resources.map((x: any) => [x.type, x.id, x.name]), [['ecs', 'local', 'this host']]);
    // A resource OpenStage cannot bind (a cce cluster needs a kubeconfig, which v2 cannot send) changes nothing.
    const bad = await v2.patch(`/environments/${env.id}/resources`, { remove_resources: [{ id: 'local', type: 'ecs' }], add_base_resources: [{ id: 'c1', type: 'cce' }] });
    assertCasError(bad, 400, 'SVCSTG.00100400', /kubeconfig/);
    assert.deepEqual((await v2.get(`/environments/${env.id}`)).body.base_resources, [{ id: 'local', name: 'this host', type: 'ecs' }]);
  });

  it('modifies name, alias and description; a used name is 400 SVCSTG.00100449', async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const env = await v2Env(v2);
    const other = await v2Env(v2);
    const r = await v2.put(`/environments/${env.id}`, { name: `${env.name}x`, alias: 'A', description: 'new' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.name, r.body.alias, r.body.description], [`${env.name}x`, 'A', 'new']);
    assert.equal((await s.cas.get(`/environments/${env.id}`)).body.name, `${env.name}x`);
    assertCasError(await v2.put(`/environments/${env.id}`, { name: other.name }), 400, 'SVCSTG.00100449');
  });

  it('answers 404 SVCSTG.00100411 for an environment that does not exist, where v3 answers 401', async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const env = await v2Env(v2);
    const del = await v2.delete(`/environments/${env.id}`);
    assert.equal(del.status, 204, del.text);
    for (const r of [await v2.get(`/environments/${env.id}`), await v2.put(`/environments/${env.id}`, { description: 'x' }), await v2.patch(`/environments/${env.id}/resources`, {}), await v2.delete(`/environments/${env.id}`)]) {
      assertCasError(r, 404, 'SVCSTG.00100411');
    }
    assertCasError(await s.cas.get(`/environments/${env.id}`), 401, 'SVCSTG.00100401');
    assertCasError(await v2.get('/environmentz'), 404, 'SVCSTG.00100408');
    assertCasError(await new CasClient(s.url, 'not-a-token', s.cas.project, 'v2').get('/environments'), 401, 'APIGW.0301');
    assertCasError(await v2.post('/environments', { name: '1bad', vpc_id: 'v' }), 400, 'SVCSTG.00100400', /name/);
  });
});

describe('/v2/{project}/cas/applications', () => {
  it('creates, reads, lists, modifies and deletes applications, with their variables per environment', async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const env = await v2Env(v2);
    const created = await v2.post('/applications', { name: uniqName('app'), description: 'd', enterprise_project_id: '' });
    assert.equal(created.status, 200, created.text);
    const app = created.body;
    assert.deepEqual([app.description, app.enterprise_project_id, app.component_count, app.project_id], ['d', '0', 0, s.cas.project]);
    assert.deepEqual((await v2.get(`/applications/${app.id}`)).body, app);
    assert.ok((await v2.get('/applications')).body.applications.some((a: any) => a.id === app.id));
    const renamed = await v2.put(`/applications/${app.id}`, { name: `${app.name}x`, description: '' });
    assert.deepEqual([renamed.body.name, renamed.body.description], [`${app.name}x`, '']);
    assert.equal((await s.cas.get(`/applications/${app.id}`)).body.name, `${app.name}x`);

    const put = await v2.put(`/applications/${app.id}/configuration`, { environment_id: env.id, configuration: { env: [{ name: 'A', value: '1' }] } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { application_id: app.id, environment_id: env.id, configuration: { env: [{ name: 'A', value: '1' }] } });
    assert.deepEqual((await v2.get(`/applications/${app.id}/configuration`)).body, { configuration: [put.body] });
    assert.deepEqual((await s.cas.get(`/applications/${app.id}/configuration?environment_id=${env.id}`)).body.configuration[0].configuration.env, [{ name: 'A', value: '1' }]);
    assertCasError(await v2.put(`/applications/${app.id}/configuration`, { environment_id: 'nope', configuration: { env: [] } }), 404, 'SVCSTG.00100411');
    const delConf = await v2.delete(`/applications/${app.id}/configuration?environment_id=${env.id}`);
    assert.equal(delConf.status, 204, delConf.text);
    assert.deepEqual((await v2.get(`/applications/${app.id}/configuration?environment_id=${env.id}`)).body, { configuration: [] });

    const del = await v2.delete(`/applications/${app.id}`);
    assert.equal(del.status, 204, del.text);
    for (const r of [await v2.get(`/applications/${app.id}`), await v2.put(`/applications/${app.id}`, { description: 'x' }), await v2.delete(`/applications/${app.id}`), await v2.get(`/applications/${app.id}/components`)]) {
      assertCasError(r, 404, 'SVCSTG.00100403');
    }
    assertCasError(await v2.post('/applications', { name: app.name.slice(0, -1) + 'q' }).then(async () => v2.post('/applications', { name: app.name.slice(0, -1) + 'q' })), 400, 'SVCSTG.00100458');
  });
});

describe('/v2/{project}/cas/applications/{id}/components', () => {
  it('keeps components as definitions: create, read, list, modify, delete; refuses a used name', async (t) => {
    let s = await startCas(t);
    let v2 = v2Of(s);
    const app = await v2App(v2);
    const base = `/applications/${app.id}/components`;
    const body = { name: uniqName('web'), runtime: 'Nodejs8', category: 'Webapp', sub_category: 'Web', description: 'd', source: { kind: 'code', spec: { repo_type: 'GitHub', repo_url: 'https://example.com/x.git', repo_ref: 'main', repo_auth: 'gh' } }, build: { parameters: { build_cmd: 'npm ci', clsuter_name: 'c', node_label_selector: { a: 'b' } } } };
    const created = await v2.post(base, body);
    assert.equal(created.status, 200, created.text);
    const c = created.body;
    assert.deepEqual(
      { ...c, id: undefined, create_time: undefined, update_time: undefined },
      { id: undefined, name: body.name, status: 0, runtime: 'Nodejs8', category: 'Webapp', sub_category: 'Web', description: 'd', project_id: s.cas.project, application_id: app.id, source: body.source, build: body.build, pipeline_ids: [], creator: 'admin', create_time: undefined, update_time: undefined },
    );
    assertCasError(await v2.post(base, { ...body, runtime: 'Java8' }), 400, 'SVCSTG.00100459');
    assertCasError(await v2.post(base, { ...body, name: uniqName('c'), category: 'Other' }), 400, 'SVCSTG.00100400', /category/);

    // Durable: the definition survives a restart.
    s = await restartCas(s);
    v2 = v2Of(s);
    assert.deepEqual((await v2.get(`${base}/${c.id}`)).body, c);
    const list = await v2.get(base);
    assert.deepEqual(list.body, { count: 1, components: [c] });
    const overviews = await v2.get(`${base}/overviews`);
    assert.deepEqual(overviews.body, { count: 1, components: [{ ...c, instances: [] }] });
    assert.equal((await v2.get(`/applications/${app.id}`)).body.component_count, 1);
    // v3 runs nothing for a definition.
    assert.equal((await s.cas.get(`/applications/${app.id}/components`)).body.count, 0);

    const put = await v2.put(`${base}/${c.id}`, { name: `${c.name}x`, source: { kind: 'artifact', spec: { storage: 'obs', type: 'package', url: 'http://h/app.tgz' } } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual([put.body.name, put.body.description, put.body.source.kind, put.body.build], [`${c.name}x`, 'd', 'artifact', body.build]);

    const del = await v2.delete(`${base}/${c.id}`);
    assert.equal(del.status, 204, del.text);
    assertCasError(await v2.get(`${base}/${c.id}`), 404, 'SVCSTG.00100404');
    assertCasError(await v2.get(`${base}/${c.id}/instances`), 404, 'SVCSTG.00100404');
    assert.equal((await v2.get(`/applications/${app.id}`)).body.component_count, 0);

    // An application deleted through v3 takes its v2 definitions along (nothing else shows them: the rows are read).
    const other = await v2App(v2);
    const kept = await v2.post(`/applications/${other.id}/components`, { ...body, name: uniqName('c') });
    assert.equal(kept.status, 200, kept.text);
    const rows = () => s.server.db.kysely.selectFrom('cas_v2_components').select('id').where('application_id', '=', other.id).execute();
    assert.deepEqual(await rows(), [{ id: kept.body.id }]);
    assert.equal((await s.cas.delete(`/applications/${other.id}`)).status, 204);
    await s.server.cas.v2.settle();
    assert.deepEqual(await rows(), []);
    assertCasError(await v2.get(`/applications/${other.id}/components/${kept.body.id}`), 404, 'SVCSTG.00100403');
  });

  it('refuses an instance it cannot deploy before anything is created', async (t) => {
    const s = await startCas(t);
    const v2 = v2Of(s);
    const env = await v2Env(v2);
    const app = await v2App(v2);
    const base = `/applications/${app.id}/components`;
    const make = async (over: Record<string, unknown>) => (await v2.post(base, { name: uniqName('c'), runtime: 'Nodejs8', category: 'Common', ...over })).body.id as string;
    const inst = { name: 'inst-a', environment_id: env.id, flavor_id: 'MICRO-5G:0.5C:1G', replica: 1, version: '1.0.0', artifacts: { x: { storage: 'obs', type: 'package', url: 'http://127.0.0.1:9/app.tgz' } }, refer_resources: [] };
    assertCasError(await v2.post(`${base}/${await make({ runtime: 'Php7' })}/instances`, inst), 400, 'SVCSTG.00100420', /Php7/);
    assertCasError(await v2.post(`${base}/${await make({})}/instances`, { ...inst, artifacts: null }), 400, 'SVCSTG.00100425');
    assertCasError(await v2.post(`${base}/${await make({})}/instances`, { ...inst, flavor_id: 'HUGE' }), 400, 'SVCSTG.00100400', /flavor_id/);
    assertCasError(await v2.post(`${base}/${await make({})}/instances`, { ...inst, environment_id: 'nope' }), 404, 'SVCSTG.00100411');
    assertCasError(await v2.post(`${base}/${await make({})}/instances`, { ...inst, name: 'Bad_Name' }), 400, 'SVCSTG.00100400', /name/);
    assertCasError(await v2.post(`${base}/nope/instances`, inst), 404, 'SVCSTG.00100404');
    const id = await make({});
    assertCasError(await v2.get(`${base}/${id}/instances/nope`), 404, 'SVCSTG.00100412');
    assertCasError(await v2.post(`${base}/${id}/instances/nope/action`, { action: 'stop' }), 404, 'SVCSTG.00100412');
    assertCasError(await v2.post(`${base}/${id}/instances/nope/action`, { action: 'explode' }), 400, 'SVCSTG.00100418');
    assert.equal((await s.cas.get('/components')).body.count, 0);
    assertCasError(await v2.get('/jobs/JOBnope'), 404, 'SVCSTG.00100429');
  });
});

describe('a v2 instance deployed by the engine (real processes)', () => {
  it('deploys, scales, upgrades, rolls back, stops and removes an instance; v3 shows the same component', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const v2 = v2Of(s);
    const repo = nodeHelloRepo(t);
    const env = await v2Env(v2, { optional_resources: [{ id: 'default', type: 'cse' }] });
    const app = await v2App(v2);
    const base = `/applications/${app.id}/components`;
    const comp = await v2.post(base, { name: uniqName('web'), runtime: 'Nodejs8', category: 'Webapp', source: { kind: 'code', spec: { repo_type: 'GitHub', repo_url: repo, repo_ref: 'main' } } });
    assert.equal(comp.status, 200, comp.text);
    const instances = `${base}/${comp.body.id}/instances`;
    const configuration = { env: [{ name: 'GREETING', value: 'v2' }], probes: { readinessProbe: { type: 'http', delay: 0, timeout: 2, parameters: { path: '/health' } } } };
    const created = await v2.post(instances, { name: 'web-dev', environment_id: env.id, flavor_id: 'SMALL-10G:1.0C:2G', replica: 1, artifacts: null, version: '1.0.0', refer_resources: [{ id: 'local', type: 'ecs' }], configuration, description: 'first' });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['instance_id', 'job_id']);
    const id = created.body.instance_id as string;
    let job = await waitV2Job(v2, created.body.job_id);
    assert.equal(job.job.EXECUTION_STATUS, 'SUCCEEDED', JSON.stringify(job.tasks));
    assert.equal(job.job.SERVICE_INSTANCE_ID, id);
    assert.equal(job.tasks.at(-1).TASK_STATUS, 'SUCCEEDED');
    assert.equal(job.task_count, job.tasks.length);
    // Terraform's poll pages with limit 50 until a page is empty.
    assert.deepEqual((await v2.get(`/jobs/${created.body.job_id}?limit=50&offset=50`)).body.tasks, []);

    let got = await v2.get(`${instances}/${id}`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(
      [got.body.name, got.body.description, got.body.environment_id, got.body.platform_type, got.body.flavor_id, got.body.version, got.body.artifacts],
      ['web-dev', 'first', env.id, 'vmapp', 'SMALL-10G:1.0C:2G', '1.0.0', undefined],
    );
    assert.deepEqual(got.body.configuration, { env: [{ name: 'GREETING', value: 'v2', internal: false }], probes: configuration.probes });
    assert.deepEqual(got.body.refer_resources, [{ id: 'local', type: 'ecs' }]);
    assert.deepEqual(got.body.status_detail, { status: 'RUNNING', available_replica: 1, replica: 1, last_job_id: created.body.job_id, last_job_status: 'SUCCEEDED', enterprise_project_id: '0' });

    // The same component through v3: named after the instance, on the Node.js system stack, with the flavor's limits.
    const v3path = `/applications/${app.id}/components/${id}`;
    let v3 = await s.cas.get(v3path);
    assert.equal(v3.status, 200, v3.text);
    assert.deepEqual([v3.body.name, v3.body.runtime_stack.name, v3.body.limit_cpu, v3.body.limit_memory, v3.body.source.repo_url], ['web-dev', 'Nodejs20', 1, 2, repo]);
    const hello = await answer(v3.body.status.instances[0].port);
    assert.deepEqual([hello.service, hello.version, hello.app], ['web-dev', '1.0.0', app.name]);

    const action = (body: unknown) => v2.post(`${instances}/${id}/action`, body);
    // golangsdk sends replica as a string.
    let r = await action({ action: 'scale', parameters: { replica: '2' } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await waitV2Job(v2, r.body.job_id)).job.EXECUTION_STATUS, 'SUCCEEDED');
    got = await v2.get(`${instances}/${id}`);
    assert.deepEqual([got.body.status_detail.replica, got.body.status_detail.available_replica], [2, 2]);

    r = await v2.put(`${instances}/${id}`, { version: '1.0.1', description: 'second' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await waitV2Job(v2, r.body.job_id)).job.EXECUTION_STATUS, 'SUCCEEDED');
    got = await v2.get(`${instances}/${id}`);
    assert.deepEqual([got.body.version, got.body.description, got.body.status_detail.replica, got.body.configuration.env], ['1.0.1', 'second', 2, configuration.env.map((e) => ({ ...e, internal: false }))]);
    const snapshots = await v2.get(`${instances}/${id}/snapshots`);
    assert.deepEqual(snapshots.body.snapshots.map((x: any) => [x.version, x.instance_id]), [['1.0.1', id], ['1.0.0', id]]);
    assert.equal(snapshots.body.count, 2);

    r = await action({ action: 'rollback', parameters: { version: '1.0.0' } });
    assert.equal((await waitV2Job(v2, r.body.job_id)).job.EXECUTION_STATUS, 'SUCCEEDED');
    got = await v2.get(`${instances}/${id}`);
    assert.deepEqual([got.body.version, got.body.status_detail.status], ['1.0.0', 'RUNNING']);
    v3 = await s.cas.get(v3path);
    assert.ok(v3.body.status.instances.every((i: any) => i.version === '1.0.0'), v3.text);

    r = await action({ action: 'stop' });
    assert.equal((await waitV2Job(v2, r.body.job_id)).job.EXECUTION_STATUS, 'SUCCEEDED');
    assert.equal((await v2.get(`${instances}/${id}`)).body.status_detail.status, 'STOPPED');

    // What still runs an instance cannot go; a v3 component of the application is a v2 component of its own.
    assertCasError(await v2.delete(`${base}/${comp.body.id}`), 400, 'SVCSTG.00100402');
    assertCasError(await v2.delete(`/environments/${env.id}`), 400, 'SVCSTG.00100402');
    const v3created = await s.cas.post(`/applications/${app.id}/components`, { name: uniqName('v3c'), runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0' }, source: { kind: 'code', repo_url: repo, repo_ref: 'main' }, replica: 1, version: '2.0.0', environment_id: env.id, refer_resources: [] });
    assert.equal(v3created.status, 200, v3created.text);
    const v3id = v3created.body.component_id as string;
    const list = await v2.get(base);
    const seen = list.body.components.find((c: any) => c.id === v3id);
    assert.deepEqual([list.body.count, seen?.runtime, seen?.category, seen?.source], [2, 'Nodejs8', 'Common', { kind: 'code', spec: { repo_url: repo, repo_ref: 'main' } }]);
    const own = await v2.get(`${base}/${v3id}/instances`);
    assert.deepEqual(own.body.instances.map((i: any) => [i.id, i.component_id, i.version]), [[v3id, v3id, '2.0.0']]);
    const forced = await v2.delete(`${base}/${v3id}?force=true`);
    assert.equal(forced.status, 204, forced.text);
    await eventually('the forced delete to end', async () => ((await v2.get(`${base}/${v3id}`)).status === 404 ? true : undefined), 60_000);
    assertCasError(await s.cas.get(`/applications/${app.id}/components/${v3id}`), 401, 'SVCSTG.00100401');

    r = await v2.delete(`${instances}/${id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal((await waitV2Job(v2, r.body.job_id)).job.EXECUTION_STATUS, 'SUCCEEDED');
    await eventually('the instance to go', async () => ((await v2.get(`${instances}/${id}`)).status === 404 ? true : undefined));
    assertCasError(await v2.get(`${instances}/${id}`), 404, 'SVCSTG.00100412');
    for (const path of [`${base}/${comp.body.id}`, `/applications/${app.id}`, `/environments/${env.id}`]) {
      const del = await v2.delete(path);
      assert.equal(del.status, 204, `${path}: ${del.text}`);
    }
  });
});
