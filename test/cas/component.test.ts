import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCasError, startCas, uniqName } from '../helpers/cas-client.js';
import { answer, envAndApp, eventually, FAST_DEPLOY, nodeBody, nodeHelloRepo, waitJob } from '../helpers/component.js';

// Components on the deployment engine with real processes (examples/node-hello from a
// file:// git repository) and the real clock; every wait is bounded.

describe('component lifecycle (real processes)', () => {
  it('deploys, answers, registers, mounts a config file, scales, upgrades, rolls back, refuses dependent deletes, then deletes', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const repo = nodeHelloRepo(t);
    const { envId, envName, appId, appName } = await envAndApp(s);
    const group = await s.cas.post('/config-groups', { name: uniqName('grp') });
    assert.equal(group.status, 200, group.text);
    const file = await s.cas.post('/configs', { config_group_id: group.body.id, name: uniqName('cfg'), type: 'yaml', content: 'component: ${CAS_COMPONENT_ID}\ninstance: ${CAS_INSTANCE_ID}\nhash: $2b$10$abc\n' });
    assert.equal(file.status, 200, file.text);
    await s.cas.put(`/applications/${appId}/configuration`, { environment_id: envId, configuration: { env: [{ name: 'GREETING', value: 'from-app' }, { name: 'LEVEL', value: 'app' }] } });

    const body = nodeBody(envId, repo, {
      envs: [{ name: 'LEVEL', value: 'component' }],
      storages: [{ type: 'ConfigMap', name: 'cfg', parameters: { name: file.body.id }, mounts: [{ path: '/opt/app/app.yaml' }] }],
    });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['component_id', 'job_id']);
    const id = created.body.component_id as string;
    const path = `/applications/${appId}/components/${id}`;
    let job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));

    let got = await s.cas.get(path);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.name, body.name);
    assert.equal(got.body.environment_id, envId);
    assert.equal(got.body.application_name, appName);
    assert.equal(got.body.environment_name, envName);
    assert.deepEqual(got.body.source, body.source);
    assert.deepEqual(got.body.storages, body.storages);
    assert.equal(got.body.status.component_status, 'RUNNING');
    assert.equal(got.body.status.available_replica, 1);
    assert.equal(got.body.status.replica, 1);
    assert.equal(got.body.status.last_job_id, created.body.job_id);
    assert.equal(typeof got.body.status.create_time, 'number');
    assert.equal(got.body.status.instances.length, 1);
    const first = got.body.status.instances[0];
    const hello = await answer(first.port);
    assert.deepEqual([hello.service, hello.version, hello.app, hello.instance], [body.name, '1.0.0', appName, first.instance_id]);

    // The replica registered itself in this server's registry through PAAS_CSE_SC_ENDPOINT.
    const endpoints = await eventually('the registry entry', async () => {
      const r = await fetch(`${s.url}/v4/default/registry/instances?appId=${appName}&serviceName=${body.name}&version=latest`);
      const j = (await r.json()) as { instances?: { endpoints: string[] }[] };
      return r.status === 200 && j.instances?.length ? j.instances.flatMap((i) => i.endpoints) : undefined;
    });
    assert.deepEqual(endpoints, [`rest://127.0.0.1:${first.port}`]);

    // The config file is rendered per replica under its mount root; the rest is untouched.
    const mounted = readFileSync(join(s.dataDir, 'deploy', 'replicas', first.instance_id, 'mounts', 'opt', 'app', 'app.yaml'), 'utf8');
    assert.equal(mounted, `component: ${id}\ninstance: ${first.instance_id}\nhash: $2b$10$abc\n`);
    const cfg = await s.cas.get(`/configs/${file.body.id}`);
    assert.deepEqual(cfg.body.components, [{ environment_id: envId, application_id: appId, component_id: id, component_name: body.name }]);

    // The log API shows the replica's output.
    const logs = await s.cas.get(`${path}/logs?lines=20`);
    assert.equal(logs.status, 200, logs.text);
    assert.equal(logs.body.logs[0].instance_id, first.instance_id);
    assert.ok(logs.body.logs[0].lines.some((l: string) => l.includes(`listening on ${first.port}`)), logs.text);

    // scale 1 → 3 → 1
    let act = await s.cas.post(`${path}/action`, { action: 'scale', parameters: { replica: 3 } });
    assert.equal(act.status, 200, act.text);
    job = await waitJob(s, act.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    got = await s.cas.get(path);
    assert.deepEqual([got.body.status.available_replica, got.body.status.replica, got.body.replica], [3, 3, 3]);
    act = await s.cas.post(`${path}/action`, { action: 'scale', parameters: { replica: 1 } });
    job = await waitJob(s, act.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED');
    got = await s.cas.get(path);
    assert.deepEqual(got.body.status.instances.map((i: any) => i.instance_id), [first.instance_id]);

    // upgrade with the full body (and an environment variable 1.0.0 did not have)
    const up = await s.cas.put(path, { ...body, version: '1.1.0', envs: [...(body.envs ?? []), { name: 'ONLY_IN_1_1', value: 'yes' }] });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.component_id, id);
    job = await waitJob(s, up.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    got = await s.cas.get(path);
    assert.equal(got.body.version, '1.1.0');
    assert.deepEqual(got.body.envs.map((e: any) => e.name), ['LEVEL', 'ONLY_IN_1_1']);
    assert.equal((await answer(got.body.status.instances[0].port)).version, '1.1.0');

    // rollback to the stored artifact of 1.0.0
    act = await s.cas.post(`${path}/action`, { action: 'rollback', parameters: { version: '1.0.0' } });
    assert.equal(act.status, 200, act.text);
    job = await waitJob(s, act.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    got = await s.cas.get(path);
    assert.equal(got.body.version, '1.0.0');
    assert.equal((await answer(got.body.status.instances[0].port)).version, '1.0.0');
    assert.deepEqual(got.body.envs.map((e: any) => e.name), ['LEVEL'], 'the component shows the body 1.0.0 was deployed with');
    // A target without an artifact is refused before anything stops.
    const pids = got.body.status.instances.map((i: any) => i.instance_id);
    assertCasError(await s.cas.post(`${path}/action`, { action: 'rollback', parameters: { version: '9.9.9' } }), 400, 'SVCSTG.00100400', /no stored artifact/);
    assert.deepEqual((await s.cas.get(path)).body.status.instances.map((i: any) => i.instance_id), pids);

    // records: one per deployment or action, newest first
    const rec = await s.cas.get(`${path}/records`);
    assert.equal(rec.status, 200, rec.text);
    assert.equal(rec.body.count, 5);
    assert.deepEqual(rec.body.records.map((r: any) => r.deploy_type), ['rollback', 'upgrade', 'scale', 'scale', 'deploy']);
    assert.deepEqual(rec.body.records.map((r: any) => r.status), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    assert.deepEqual(rec.body.records.map((r: any) => r.current_used), [true, false, false, false, false]);
    const last = rec.body.records[4];
    assert.equal(last.jobs[0].job_id, created.body.job_id);
    assert.equal(last.jobs[0].job_info.source_url, repo);
    assert.equal(last.version, '1.0.0');
    assert.match(last.begin_time, /^\d{4}-\d\d-\d\dT/);
    assert.ok(Date.parse(last.end_time) >= Date.parse(last.begin_time));
    const page = await s.cas.get(`${path}/records?limit=2&offset=4`);
    assert.deepEqual([page.body.count, page.body.records.length], [5, 1]);
    assert.deepEqual((await s.cas.get(`${path}/records?limit=2&offset=5`)).body.records, []);
    const refreshed = await s.cas.put(`${path}/refresh`);
    assert.deepEqual([refreshed.status, refreshed.body], [200, { message: 'OK' }]);

    // what the component uses cannot be deleted
    assertCasError(await s.cas.delete(`/environments/${envId}`), 400, 'SVCSTG.00100402');
    assertCasError(await s.cas.delete(`/applications/${appId}`), 400, 'SVCSTG.00100402');
    assertCasError(await s.cas.delete(`/configs/${file.body.id}`), 400, 'SVCSTG.00100402');
    assert.equal((await s.cas.get(`/applications/${appId}`)).body.component_count, 1);

    // delete: 200 {component_id}, the replica stops, then the component is gone
    const port = got.body.status.instances[0].port;
    const del = await s.cas.delete(path);
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.body, { component_id: id });
    const during = await s.cas.get(path);
    if (during.status === 200) assert.equal(during.body.status.component_status, 'DELETING');
    await eventually('the component to disappear', async () => ((await s.cas.get(path)).status === 401 ? true : undefined));
    assertCasError(await s.cas.get(path), 401, 'SVCSTG.00100401');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
    assert.equal((await s.cas.delete(`/configs/${file.body.id}`)).status, 200);
    assert.equal((await s.cas.delete(`/applications/${appId}`)).status, 204);
    assert.equal((await s.cas.delete(`/environments/${envId}`)).status, 204);
  });

  it('fails a deployment whose start command exits, with the exit code in the task messages and status FAILED', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const repo = nodeHelloRepo(t);
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, repo, { command: { command: ['node', 'nope.js'] } }));
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'FAILED');
    const failed = job.tasks.find((x: any) => x.task_status === 'FAILED');
    assert.equal(failed.task_type, 'rollout');
    assert.match(failed.messages, /exit code 1/);
    assert.match(failed.messages, /nope\.js/);
    const got = await s.cas.get(`/applications/${appId}/components/${created.body.component_id}`);
    assert.equal(got.body.status.component_status, 'FAILED');
    assert.match(got.body.status.fail_detail, /exit code 1/);
    assert.deepEqual(got.body.status.instances, []);
    const rec = await s.cas.get(`/applications/${appId}/components/${created.body.component_id}/records`);
    assert.deepEqual(rec.body.records.map((r: any) => [r.deploy_type, r.status, r.current_used]), [['deploy', 'FAILED', false]]);
    // Nothing was deployed, so there is nothing to scale (the engine's 400 passes through).
    assertCasError(await s.cas.post(`/applications/${appId}/components/${created.body.component_id}/action`, { action: 'scale', parameters: { replica: 2 } }), 400, 'SVCSTG.00100400', /no deployed version/);
  });
});

describe('gray release actions (issue #18 item 6)', () => {
  it('check_gray_release and modify_gray_rule act on the gray release waiting for continue_deploy', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const repo = nodeHelloRepo(t);
    const { envId, appId } = await envAndApp(s);
    const body = nodeBody(envId, repo, { replica: 2 });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    assert.equal((await waitJob(s, created.body.job_id)).job.execution_status, 'SUCCEEDED');

    const gray = { type: 'GrayRelease', gray_release: { type: 'weight', first_batch_weight: 50, first_batch_replica: 1, remaining_batch: 1 } };
    const upgraded = await s.cas.put(path, { ...body, version: '1.1.0', deploy_strategy: gray });
    assert.equal(upgraded.status, 200, upgraded.text);
    await eventually('GRAYING', async () => ((await s.cas.get(path)).body.status.component_status === 'GRAYING' ? true : undefined), 60_000);

    const checked = await s.cas.post(`${path}/action`, { action: 'check_gray_release' });
    assert.equal(checked.status, 200, checked.text);
    assert.equal(checked.body.job_id, upgraded.body.job_id);
    const rules = [{ type: 'header', key: 'x-user', value: 'tester', condition: '=' }];
    const modified = await s.cas.post(`${path}/action`, { action: 'modify_gray_rule', parameters: { rules, rule_match_mode: 'ALL', first_batch_weight: 20 } });
    assert.equal(modified.status, 200, modified.text);
    assert.equal(modified.body.job_id, upgraded.body.job_id);
    const shown = (await s.cas.get(path)).body;
    assert.deepEqual(shown.deploy_strategy.gray_release.rules, rules);
    assert.equal(shown.deploy_strategy.gray_release.first_batch_weight, 20);
    assert.equal(shown.status.component_status, 'GRAYING', 'neither action moves the release on');

    assert.equal((await s.cas.post(`${path}/action`, { action: 'continue_deploy' })).status, 200);
    assert.equal((await waitJob(s, upgraded.body.job_id)).job.execution_status, 'SUCCEEDED');
    assertCasError(await s.cas.post(`${path}/action`, { action: 'check_gray_release' }), 400, 'SVCSTG.00100400', /no gray release/);
  });
});
