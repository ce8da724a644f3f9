import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, restartCas, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { envAndApp, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';

// Component validation, not-found answers, lists, filters and durability. Sources point at a
// repository that does not exist, so jobs fail fast and nothing runs; the real clock is used
// because the engine waits on it.

const NO_REPO = 'file:///nonexistent/openstage-test-repo';

async function server(t: Parameters<typeof startCas>[0]): Promise<CasServer> {
  return startCas(t, FAST_DEPLOY, { realClock: true });
}

/** Creates a component whose job fails at once; waits for the job. @returns its id */
async function cheapComponent(s: CasServer, appId: string, envId: string, over: Record<string, unknown> = {}): Promise<string> {
  const r = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, NO_REPO, over));
  assert.equal(r.status, 200, r.text);
  const job = await waitJob(s, r.body.job_id, 30_000);
  assert.equal(job.job.execution_status, 'FAILED');
  return r.body.component_id;
}

describe('POST /v3/{project}/cas/applications/{application_id}/components', () => {
  const drop = (key: string) => (b: Record<string, any>) => {
    delete b[key];
  };
  const set = (f: (b: Record<string, any>) => void) => f;
  const cases: [string, (b: Record<string, any>) => void, RegExp][] = [
    ['name is missing', drop('name'), /name/],
    ['name starts with a digit', set((b) => (b.name = '1abc')), /name/],
    ['runtime_stack is missing', drop('runtime_stack'), /runtime_stack/],
    ['runtime_stack.type is missing', set((b) => delete b.runtime_stack.type), /type/],
    ['runtime_stack.deploy_mode is unknown', set((b) => (b.runtime_stack.deploy_mode = 'bare')), /deploy_mode/],
    ['source is missing', drop('source'), /source/],
    ['source.kind is unknown', set((b) => (b.source.kind = 'svn')), /kind/],
    ['replica is 0', set((b) => (b.replica = 0)), /replica/],
    ['replica is a string', set((b) => (b.replica = '1')), /replica/],
    ['version is not n.n.n', set((b) => (b.version = 'v1')), /version/],
    ['version is missing', drop('version'), /version/],
    ['environment_id is missing', drop('environment_id'), /environment_id/],
    ['an env has no name', set((b) => (b.envs = [{ value: 'x' }])), /name/],
    ['a storage has no mounts', set((b) => (b.storages = [{ type: 'ConfigMap', parameters: { name: 'x' } }])), /mounts/],
    ['a mount path is relative', set((b) => (b.storages = [{ type: 'ConfigMap', parameters: { name: 'x' }, mounts: [{ path: 'etc/app.yaml' }] }])), /path/],
    ['a storage type is unknown', set((b) => (b.storages = [{ type: 'NFS', mounts: [{ path: '/x' }] }])), /type/],
    ['a probe type is unknown', set((b) => (b.readiness_probe = { type: 'exec' })), /type/],
    ['deploy_strategy.type is unknown', set((b) => (b.deploy_strategy = { type: 'BlueGreen' })), /type/],
    ['command.command is a string', set((b) => (b.command = { command: 'node app.js' })), /command/],
    ['limit_cpu is a string', set((b) => (b.limit_cpu = '1')), /limit_cpu/],
    ['labels is a map', set((b) => (b.labels = { a: 'b' })), /labels/],
    ['kind code has no repository', set((b) => (b.source = { kind: 'code' })), /repo_url/],
    ['kind package has no url', set((b) => (b.source = { kind: 'package' })), /source\.url/],
    ['a package url is ftp://', set((b) => (b.source = { kind: 'package', url: 'ftp://host/app.tgz' })), /source\.url/],
    ['a ConfigMap names no config file', set((b) => (b.storages = [{ type: 'ConfigMap', parameters: {}, mounts: [{ path: '/x' }] }])), /config_id/],
    ['a ConfigMap names a config file that does not exist', set((b) => (b.storages = [{ type: 'ConfigMap', parameters: { config_id: 'nope' }, mounts: [{ path: '/x' }] }])), /nope/],
    ['two files are mounted at one path', set((b) => (b.storages = [{ type: 'ConfigMap', parameters: { name: 'a' }, mounts: [{ path: '/x' }, { path: '/x' }] }])), /\/x/],
  ];

  it('returns 400 SVCSTG.00100400 naming the field for bad bodies and writes nothing', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    for (const [what, mutate, field] of cases) {
      const body = structuredClone(nodeBody(envId, NO_REPO));
      mutate(body);
      const r = await s.cas.post(`/applications/${appId}/components`, body);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assertCasError(r, 400, 'SVCSTG.00100400', field);
    }
    const list = await s.cas.get(`/applications/${appId}/components`);
    assert.deepEqual([list.body.count, list.body.components], [0, []]);
  });

  it('returns 400 SVCSTG.00100420 for a stack no runtime serves, an image on a process stack, or an ecs host other than this machine', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const php = nodeBody(envId, NO_REPO, { runtime_stack: { name: 'Php7', type: 'Php', version: '1.0.0', deploy_mode: 'virtualmachine' } });
    assertCasError(await s.cas.post(`/applications/${appId}/components`, php), 400, 'SVCSTG.00100420', /'Php' is not served by any runtime/);
    const image = nodeBody(envId, NO_REPO, { source: { kind: 'image', storage: 'swr', url: 'swr.example/app:1' } });
    assertCasError(await s.cas.post(`/applications/${appId}/components`, image), 400, 'SVCSTG.00100420', /image runs on the Docker runtime stack, not Nodejs/);
    // An environment bound to another host: never run silently on this one.
    const bound = await s.cas.put(`/environments/${envId}/resources`, { resources: [{ id: 'vm-1', type: 'ecs', name: 'web-vm', parameters: { host: '10.0.0.5' } }] });
    assert.equal(bound.status, 200, bound.text);
    assertCasError(await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, NO_REPO)), 400, 'SVCSTG.00100420', /ecs host vm-1 \(web-vm\), which no OpenStage runtime reaches/);
    assert.equal((await s.cas.get(`/applications/${appId}/components`)).body.count, 0);
  });

  it('returns 401 SVCSTG.00100401 when the application or the environment does not exist', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    assertCasError(await s.cas.post('/applications/no-such-app/components', nodeBody(envId, NO_REPO)), 401, 'SVCSTG.00100401');
    assertCasError(await s.cas.post(`/applications/${appId}/components`, nodeBody('no-such-env', NO_REPO)), 401, 'SVCSTG.00100401');
  });

  it('refuses a name used in the same application and environment (400 SVCSTG.00100459), not in another environment', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const name = uniqName('dup');
    await cheapComponent(s, appId, envId, { name });
    assertCasError(await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, NO_REPO, { name })), 400, 'SVCSTG.00100459', new RegExp(name));
    const other = await s.cas.post('/environments', { name: uniqName('env') });
    await cheapComponent(s, appId, other.body.id, { name });
  });

  it('accepts a lower-case stack type and stores it canonically; a failed source fetch fails the job, not the call', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const id = await cheapComponent(s, appId, envId, { runtime_stack: { name: 'Nodejs20', type: 'nodejs', version: '1.0.0' } });
    const got = await s.cas.get(`/applications/${appId}/components/${id}`);
    assert.equal(got.body.runtime_stack.type, 'Nodejs');
    assert.equal(got.body.status.component_status, 'FAILED');
    assert.match(got.body.status.fail_detail, /fetch source/);
    assert.deepEqual(got.body.refer_resources, []);
  });
});

describe('GET /v3/{project}/cas/components and /applications/{application_id}/components', () => {
  it('lists with counts, paging, `[]` past the end, name filters and filter options; survives a restart', async (t) => {
    let s = await server(t);
    const a = await envAndApp(s);
    const b = await envAndApp(s);
    const ids = [await cheapComponent(s, a.appId, a.envId, { name: uniqName('alpha') }), await cheapComponent(s, a.appId, a.envId, { name: uniqName('beta') }), await cheapComponent(s, b.appId, b.envId, { name: uniqName('gamma') })];

    const inApp = await s.cas.get(`/applications/${a.appId}/components?order=asc`);
    assert.equal(inApp.status, 200, inApp.text);
    assert.equal(inApp.body.count, 2);
    assert.deepEqual(inApp.body.components.map((c: any) => c.id), ids.slice(0, 2));
    const item = inApp.body.components[0];
    assert.deepEqual([item.application_id, item.application_name, item.environment_id, item.environment_name, item.version, item.platform_type], [a.appId, a.appName, a.envId, a.envName, '1.0.0', 'process']);
    assert.equal(item.status.component_status, 'FAILED');
    assert.deepEqual(item.runtime_stack, { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' });
    const paged = await s.cas.get(`/applications/${a.appId}/components?order=asc&limit=1&offset=1`);
    assert.deepEqual([paged.body.count, paged.body.components.map((c: any) => c.id)], [2, [ids[1]]]);
    assert.deepEqual((await s.cas.get(`/applications/${a.appId}/components?limit=1&offset=2`)).body.components, []);
    assertCasError(await s.cas.get('/applications/no-such-app/components'), 401, 'SVCSTG.00100401');

    const all = await s.cas.get('/components');
    assert.deepEqual(new Set(all.body.components.map((c: any) => c.id)), new Set(ids));
    const byApp = await s.cas.get(`/components?application_name=${b.appName}`);
    assert.deepEqual(byApp.body.components.map((c: any) => c.id), [ids[2]]);
    const byName = await s.cas.get('/components?component_name=beta');
    assert.deepEqual(byName.body.components.map((c: any) => c.id), [ids[1]]);
    assert.equal((await s.cas.get('/components?component_name=nothing-like-this')).body.count, 0);

    const opts = await s.cas.get('/components/filterOptions');
    assert.equal(opts.status, 200, opts.text);
    assert.deepEqual(opts.body.filter_options.applications, [{ id: a.appId, label: a.appName }, { id: b.appId, label: b.appName }].sort((x, y) => (x.label < y.label ? -1 : 1)));
    assert.deepEqual(opts.body.filter_options.environments, [{ id: a.envId, label: a.envName }, { id: b.envId, label: b.envName }].sort((x, y) => (x.label < y.label ? -1 : 1)));
    assert.deepEqual(opts.body.filter_options.enterprise_projects, ['0']);

    s = await restartCas(s);
    const again = await s.cas.get(`/applications/${a.appId}/components/${ids[0]}`);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.status.component_status, 'FAILED');
    assert.equal((await s.cas.get(`/applications/${a.appId}/components/${ids[0]}/records`)).body.records[0].status, 'FAILED');
    assertCasError(await s.cas.delete(`/applications/${a.appId}`), 400, 'SVCSTG.00100402');
  });
});

describe('component paths with a missing component', () => {
  it('answer 401 SVCSTG.00100401, also for a component of another application', async (t) => {
    const s = await server(t);
    const a = await envAndApp(s);
    const b = await envAndApp(s);
    const id = await cheapComponent(s, a.appId, a.envId);
    const body = nodeBody(a.envId, NO_REPO);
    for (const base of [`/applications/${a.appId}/components/nope`, `/applications/${b.appId}/components/${id}`]) {
      assertCasError(await s.cas.get(base), 401, 'SVCSTG.00100401');
      assertCasError(await s.cas.put(base, body), 401, 'SVCSTG.00100401');
      assertCasError(await s.cas.delete(base), 401, 'SVCSTG.00100401');
      assertCasError(await s.cas.post(`${base}/action`, { action: 'restart' }), 401, 'SVCSTG.00100401');
      assertCasError(await s.cas.get(`${base}/records`), 401, 'SVCSTG.00100401');
      assertCasError(await s.cas.put(`${base}/refresh`), 401, 'SVCSTG.00100401');
      assertCasError(await s.cas.get(`${base}/logs`), 401, 'SVCSTG.00100401');
    }
  });
});

describe('PUT /v3/{project}/cas/applications/{application_id}/components/{component_id}', () => {
  it('refuses a changed name, runtime stack or environment with 400 and keeps the component', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const name = uniqName('keep');
    const id = await cheapComponent(s, appId, envId, { name });
    const path = `/applications/${appId}/components/${id}`;
    const body = nodeBody(envId, NO_REPO, { name });
    assertCasError(await s.cas.put(path, { ...body, name: uniqName('other') }), 400, 'SVCSTG.00100400', /name cannot change/);
    assertCasError(await s.cas.put(path, { ...body, runtime_stack: { name: 'Python3', type: 'Python', version: '1.0.0' } }), 400, 'SVCSTG.00100400', /runtime_stack cannot change/);
    assertCasError(await s.cas.put(path, { ...body, environment_id: 'elsewhere' }), 400, 'SVCSTG.00100400', /environment_id cannot change/);
    const noName = { ...body } as Record<string, unknown>;
    delete noName.name;
    assertCasError(await s.cas.put(path, noName), 400, 'SVCSTG.00100400', /name/);
    const r = await s.cas.put(path, { ...body, version: '2.0.0', description: 'second' });
    assert.equal(r.status, 200, r.text);
    await waitJob(s, r.body.job_id, 30_000);
    const got = await s.cas.get(path);
    assert.deepEqual([got.body.version, got.body.description], ['2.0.0', 'second']);
    const records = (await s.cas.get(`${path}/records`)).body.records;
    assert.deepEqual(records.map((x: any) => [x.deploy_type, x.version]), [['upgrade', '2.0.0'], ['deploy', '1.0.0']]);
  });
});

describe('POST /v3/{project}/cas/applications/{application_id}/components/{component_id}/action', () => {
  it('returns 400 SVCSTG.00100418 for an undefined action and 400 for missing parameters or nothing to continue', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const id = await cheapComponent(s, appId, envId);
    const path = `/applications/${appId}/components/${id}/action`;
    for (const action of ['check_gray_release', 'modify_gray_rule']) assertCasError(await s.cas.post(path, { action }), 400, 'SVCSTG.00100400', /no gray release/);
    for (const action of ['explode', 'sync_workload', 'deploy']) assertCasError(await s.cas.post(path, { action }), 400, 'SVCSTG.00100418', new RegExp(action));
    assertCasError(await s.cas.post(path, {}), 400, 'SVCSTG.00100400', /action/);
    assertCasError(await s.cas.post(path, { action: 'scale' }), 400, 'SVCSTG.00100400', /replica/);
    assertCasError(await s.cas.post(path, { action: 'scale', parameters: { replica: -1 } }), 400, 'SVCSTG.00100400', /replica/);
    assertCasError(await s.cas.post(path, { action: 'rollback' }), 400, 'SVCSTG.00100400', /version/);
    assertCasError(await s.cas.post(path, { action: 'continue_deploy' }), 400, 'SVCSTG.00100400', /continue_deploy/);
    assertCasError(await s.cas.post(path, { action: 'restart' }), 400, 'SVCSTG.00100400', /no deployed version/);
  });
});

describe('DELETE /v3/{project}/cas/applications/{application_id}/components/{component_id}', () => {
  it('answers {component_id}, accepts a JSON body, and the component is gone after its job', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const id = await cheapComponent(s, appId, envId);
    const path = `/applications/${appId}/components/${id}`;
    const r = await s.cas.delete(path, {});
    assert.deepEqual([r.status, r.body], [200, { component_id: id }]);
    const deadline = Date.now() + 30_000;
    while ((await s.cas.get(path)).status === 200) {
      assert.ok(Date.now() < deadline, 'component never removed');
      await new Promise((res) => setTimeout(res, 100));
    }
    assertCasError(await s.cas.get(path), 401, 'SVCSTG.00100401');
    assert.equal((await s.cas.get(`/applications/${appId}`)).body.component_count, 0);
    assert.equal((await s.cas.delete(`/environments/${envId}`)).status, 204);
  });
});

describe('resources used by components', () => {
  it('a runtime stack with components reports them and cannot be deleted until they are gone', async (t) => {
    const s = await server(t);
    const { envId, appId } = await envAndApp(s);
    const stack = await s.cas.post('/runtimestacks', { name: uniqName('stk'), deploy_mode: 'virtualmachine', type: 'Nodejs', version: '2.0.0' });
    assert.equal(stack.status, 200, stack.text);
    const id = await cheapComponent(s, appId, envId, { runtime_stack: { name: stack.body.name, type: 'Nodejs', version: '2.0.0' } });
    assert.equal((await s.cas.get(`/runtimestacks/${stack.body.id}`)).body.component_count, 1);
    assertCasError(await s.cas.delete(`/runtimestacks/${stack.body.id}`), 409, 'SVCSTG.00100409');
    await s.cas.delete(`/applications/${appId}/components/${id}`);
    const deadline = Date.now() + 30_000;
    while ((await s.cas.get(`/applications/${appId}/components/${id}`)).status === 200) {
      assert.ok(Date.now() < deadline, 'component never removed');
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal((await s.cas.get(`/runtimestacks/${stack.body.id}`)).body.component_count, 0);
    assert.ok([200, 204].includes((await s.cas.delete(`/runtimestacks/${stack.body.id}`)).status));
  });
});
