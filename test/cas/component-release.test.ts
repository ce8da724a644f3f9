import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { assertCasError, startCas, type CasServer } from '../helpers/cas-client.js';
import { answer, envAndApp, eventually, EXAMPLES, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { ADMIN } from '../helpers/iam-client.js';
import { fixtureDir, HOST_ENV, startServer } from '../helpers/server.js';

// Issue #18 items 9, 17, 18, 19 and 21: releases never end half-done. Real processes, the real
// clock, bounded waits. The deployed service registers itself in this server's registry and
// ignores SIGTERM (it is killed after a 1 s grace and never deregisters itself); with
// FAIL_START set it exits at start.

const SERVER = `const http = require('node:http');
const port = Number(process.env.PORT);
const version = process.env.CAS_INSTANCE_VERSION;
const instance = process.env.CAS_INSTANCE_ID;
if (process.env.FAIL_START) { console.error('refusing to start: FAIL_START is set'); process.exit(3); }
const registry = (process.env.PAAS_CSE_SC_ENDPOINT || '').split(',')[0];
const call = async (method, path, body) => {
  const res = await fetch(registry + '/v4/default/registry' + path, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (!res.ok) throw new Error(method + ' ' + path + ' ' + res.status);
  return res.json();
};
http.createServer((q, r) => r.end(JSON.stringify({ version, instance, greeting: process.env.GREETING }))).listen(port, '127.0.0.1', async () => {
  console.log('listening on ' + port);
  const { serviceId } = await call('POST', '/microservices', { service: { appId: process.env.CAS_APPLICATION_NAME, serviceName: process.env.CAS_COMPONENT_NAME, version } });
  const { instanceId } = await call('POST', '/microservices/' + serviceId + '/instances', { instance: { hostName: instance, endpoints: ['rest://127.0.0.1:' + port], healthCheck: { mode: 'push', interval: 30, times: 3 } } });
  console.log('registered ' + instanceId);
  setInterval(() => call('PUT', '/microservices/' + serviceId + '/instances/' + instanceId + '/heartbeat').catch(() => undefined), 5000);
});
process.on('SIGTERM', () => console.log('SIGTERM ignored'));
`;

/** A file:// git repository (branch main) of the service above. */
function releaseRepo(t: TestContext): string {
  const dir = fixtureDir(t, 'release-');
  cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
  writeFileSync(join(dir, 'server.js'), SERVER);
  const env = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  execFileSync('git', ['add', '.'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env });
  return pathToFileURL(dir).toString();
}

/** A component body of `version` with GREETING = `greeting`. */
function body(envId: string, repo: string, name: string, version: string, greeting: string, over: Record<string, unknown> = {}): Record<string, any> {
  return nodeBody(envId, repo, { name, version, replica: 2, envs: [{ name: 'GREETING', value: greeting }], readiness_probe: { type: 'tcp', timeout: 1 }, update_strategy: { termination_period_seconds: 1 }, ...over });
}

const GRAY = { deploy_strategy: { type: 'GrayRelease', gray_release: { first_batch_replica: 1 } } };

/** A created component, its first job SUCCEEDED. */
async function created(s: CasServer, appId: string, b: Record<string, unknown>): Promise<string> {
  const r = await s.cas.post(`/applications/${appId}/components`, b);
  assert.equal(r.status, 200, r.text);
  const job = await waitJob(s, r.body.job_id, 180_000);
  assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
  return `/applications/${appId}/components/${r.body.component_id}`;
}

/** Upgrades `path` to a gray release and waits until it is GRAYING. @returns its job id */
async function graying(s: CasServer, path: string, b: Record<string, unknown>): Promise<string> {
  const r = await s.cas.put(path, { ...b, ...GRAY });
  assert.equal(r.status, 200, r.text);
  await eventually('GRAYING', async () => {
    const got = await s.cas.get(path);
    const job = await s.cas.get(`/jobs/${r.body.job_id}`);
    assert.equal(job.body.job.execution_status, 'RUNNING', job.text);
    return got.body.status.component_status === 'GRAYING' ? true : undefined;
  }, 180_000);
  return r.body.job_id as string;
}

/** The registry instances of a component's service, every version. */
async function registered(s: CasServer, appName: string, name: string): Promise<{ version: string; endpoints: string[] }[]> {
  const r = await fetch(`${s.url}/v4/default/registry/instances?appId=${appName}&serviceName=${name}&version=0.0.0%2B`);
  const j = (await r.json()) as { instances?: { version: string; endpoints: string[] }[] };
  return j.instances ?? [];
}

/** Asserts what GET says runs: version, greeting, status and every replica's answer. */
async function assertRuns(s: CasServer, path: string, version: string, greeting: string, status = 'RUNNING'): Promise<any> {
  const got = (await s.cas.get(path)).body;
  assert.equal(got.version, version, JSON.stringify(got));
  assert.deepEqual(got.envs, [{ name: 'GREETING', value: greeting }]);
  // The engine's status follows the job's end (its onFinish) within moments.
  if (got.status.component_status !== status) got.status = await eventually(`status ${status}`, async () => {
    const again = (await s.cas.get(path)).body.status;
    return again.component_status === status ? again : undefined;
  }, 10_000);
  if (status === 'RUNNING') {
    assert.deepEqual([got.status.replica, got.status.available_replica], [2, 2], JSON.stringify(got.status));
    assert.deepEqual(got.status.instances.map((i: any) => i.version), [version, version]);
    for (const i of got.status.instances) assert.deepEqual(await answer(i.port), { version, instance: i.instance_id, greeting });
  }
  return got;
}

describe('gray releases interrupted by a rollback, a stop or a delete (issue #18 items 9, 17, 21)', () => {
  it('rollback_current, stop and rollback act at once on a paused gray release, and nothing stale stays registered', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const repo = releaseRepo(t);
    const { envId, appId, appName } = await envAndApp(s);
    const name = `rel${Date.now().toString(36)}`;
    const path = await created(s, appId, body(envId, repo, name, '1.0.0', 'one'));
    await eventually('two instances registered', async () => ((await registered(s, appName, name)).length === 2 ? true : undefined));

    // rollback_current while 1.1.0 waits for continue_deploy: back to 1.0.0, never forward to 1.1.0.
    const gray1 = await graying(s, path, body(envId, repo, name, '1.1.0', 'two'));
    await eventually('the gray replica registered', async () => ((await registered(s, appName, name)).some((i) => i.version === '1.1.0') ? true : undefined));
    const started = Date.now();
    const back = await s.cas.post(`${path}/action`, { action: 'rollback_current' });
    assert.equal(back.status, 200, back.text);
    const grayJob = await waitJob(s, gray1, 60_000);
    assert.equal(grayJob.job.execution_status, 'FAILED');
    const wait = grayJob.tasks.find((x: any) => x.task_name === 'wait for continue_deploy');
    assert.equal(wait.task_status, 'FAILED');
    assert.match(wait.messages, /abandoned: a rollback to 1\.0\.0 was asked for/);
    assert.equal((await waitJob(s, back.body.job_id, 120_000)).job.execution_status, 'SUCCEEDED');
    assert.ok(Date.now() - started < 120_000, 'the rollback did not wait for the pause to time out');
    await assertRuns(s, path, '1.0.0', 'one');
    const records = (await s.cas.get(`${path}/records`)).body.records;
    assert.deepEqual([records[0].jobs[0].deploy_type, records[0].version], ['rollback_current', '1.0.0']);
    // The gray replica was killed (it ignores SIGTERM): the platform removed its instance; a
    // 1.0.0 replica started to restore the count registers itself when it is up.
    await eventually('two 1.0.0 instances and no other', async () => (JSON.stringify((await registered(s, appName, name)).map((i) => i.version)) === '["1.0.0","1.0.0"]' ? true : undefined));

    // A stop while 1.2.0 waits: the pause ends, every replica stops, none stays registered.
    const gray2 = await graying(s, path, body(envId, repo, name, '1.2.0', 'three'));
    const stop = await s.cas.post(`${path}/action`, { action: 'stop' });
    assert.equal(stop.status, 200, stop.text);
    const stopJob = await waitJob(s, stop.body.job_id, 120_000);
    assert.equal(stopJob.job.execution_status, 'SUCCEEDED', JSON.stringify(stopJob.tasks));
    assert.match((await waitJob(s, gray2)).tasks.find((x: any) => x.task_name === 'wait for continue_deploy').messages, /abandoned: a stop was asked for/);
    const stopped = await assertRuns(s, path, '1.0.0', 'one', 'STOPPED');
    assert.deepEqual(stopped.status.instances, []);
    assert.deepEqual(await registered(s, appName, name), [], 'a finished stop leaves no instance registered');

    // A rollback to a named version while 1.3.0 waits.
    const start = await s.cas.post(`${path}/action`, { action: 'start' });
    assert.equal((await waitJob(s, start.body.job_id, 120_000)).job.execution_status, 'SUCCEEDED');
    const gray3 = await graying(s, path, body(envId, repo, name, '1.3.0', 'four'));
    const to = await s.cas.post(`${path}/action`, { action: 'rollback', parameters: { version: '1.1.0' } });
    assert.equal(to.status, 200, to.text);
    assert.equal((await waitJob(s, to.body.job_id, 120_000)).job.execution_status, 'SUCCEEDED');
    assert.match((await waitJob(s, gray3)).tasks.find((x: any) => x.task_name === 'wait for continue_deploy').messages, /abandoned: a rollback to 1\.1\.0 was asked for/);
    await assertRuns(s, path, '1.1.0', 'two');
    assert.deepEqual((await registered(s, appName, name)).map((i) => i.version), ['1.1.0', '1.1.0']);
  });

  it('deleting a component whose gray release waits for continue_deploy removes it; its application and environment can then be deleted', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const repo = releaseRepo(t);
    const { envId, appId, appName } = await envAndApp(s);
    const name = `del${Date.now().toString(36)}`;
    const path = await created(s, appId, body(envId, repo, name, '1.0.0', 'one'));
    const gray = await graying(s, path, body(envId, repo, name, '1.1.0', 'two'));
    const ports = (await s.cas.get(path)).body.status.instances.map((i: any) => i.port as number);
    assert.equal(ports.length, 2);
    const del = await s.cas.delete(path);
    assert.deepEqual([del.status, del.body], [200, { component_id: path.split('/').pop() }]);
    const grayJob = await waitJob(s, gray, 60_000);
    assert.equal(grayJob.job.execution_status, 'FAILED');
    assert.match(grayJob.tasks.find((x: any) => x.task_name === 'wait for continue_deploy').messages, /abandoned: the component is being deleted/);
    await eventually('the component gone', async () => ((await s.cas.get(path)).status === 401 ? true : undefined), 120_000);
    for (const port of ports) await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
    assert.deepEqual(await registered(s, appName, name), []);
    const app = await s.cas.delete(`/applications/${appId}`);
    assert.equal(app.status, 204, app.text);
    const env = await s.cas.delete(`/environments/${envId}`);
    assert.equal(env.status, 204, env.text);
  });
});

describe('failed releases revert to what ran before (issue #18 item 18)', () => {
  it('a cancelled gray release, a timed-out one and a failed upgrade leave the stable version running, and GET says so', async (t) => {
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.grayWaitSeconds': 40 }, { realClock: true });
    const repo = releaseRepo(t);
    const { envId, appId } = await envAndApp(s);
    const name = `rev${Date.now().toString(36)}`;
    const path = await created(s, appId, body(envId, repo, name, '1.0.0', 'one'));

    const cancelled = await graying(s, path, body(envId, repo, name, '1.1.0', 'two'));
    const cancel = await s.cas.post(`/jobs/${cancelled}/action`, { action: 'cancel' });
    assert.deepEqual([cancel.status, cancel.body], [200, { job_id: cancelled, execution_status: 'FAILED' }]);
    let job = (await s.cas.get(`/jobs/${cancelled}`)).body;
    assert.deepEqual(job.tasks.map((x: any) => [x.task_name, x.task_status]), [
      ['fetch source', 'SUCCEEDED'],
      ['build', 'SUCCEEDED'],
      ['store artifact', 'SUCCEEDED'],
      ['roll out: gray batch of 1', 'SUCCEEDED'],
      ['wait for continue_deploy', 'FAILED'],
      ['roll out: remaining 1', 'SKIPPED'],
      ['verify', 'SKIPPED'],
      ['revert on failure', 'SUCCEEDED'],
    ]);
    assert.match(job.tasks[4].messages, /cancelled by admin/);
    assert.match(job.tasks[7].messages, /stopped 1 replica\(s\) of 1\.1\.0 \(the roll out of 1\.1\.0 did not complete\)/);
    assert.match(job.tasks[7].messages, /reverted to 1\.0\.0: 2 replica\(s\) of 1\.0\.0/);
    const got = await assertRuns(s, path, '1.0.0', 'one');
    assert.match(got.status.fail_detail, /cancelled by admin/);

    const timedOut = await graying(s, path, body(envId, repo, name, '1.2.0', 'three'));
    job = await waitJob(s, timedOut, 180_000);
    assert.equal(job.job.execution_status, 'FAILED');
    assert.match(job.tasks[4].messages, /timed out after 40 s/);
    assert.equal(job.tasks[7].task_status, 'SUCCEEDED', job.tasks[7].messages);
    await assertRuns(s, path, '1.0.0', 'one');

    // A plain upgrade whose replicas exit at start.
    const failing = await s.cas.put(path, body(envId, repo, name, '1.3.0', 'four', { envs: [{ name: 'GREETING', value: 'four' }, { name: 'FAIL_START', value: '1' }] }));
    assert.equal(failing.status, 200, failing.text);
    job = await waitJob(s, failing.body.job_id, 180_000);
    assert.equal(job.job.execution_status, 'FAILED');
    await assertRuns(s, path, '1.0.0', 'one');
    // The engine writes the failure's reason as the job ends.
    await eventually('the failure in fail_detail', async () => (/exit code 3/.test((await s.cas.get(path)).body.status.fail_detail) ? true : undefined));
  });
});

describe('retention (issue #18 item 19)', () => {
  it('keeps the running version and revision_history_limit others (the server default when absent), removing older releases and their artifacts', async (t) => {
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.revisionHistoryLimit': 1 }, { realClock: true });
    const repo = releaseRepo(t);
    const { envId, appId } = await envAndApp(s);
    const name = `ret${Date.now().toString(36)}`;
    const one = { replica: 1 };
    const path = await created(s, appId, body(envId, repo, name, '1.0.0', 'one', one));
    const componentId = path.split('/').pop()!;
    const artifacts = join(s.dataDir, 'deploy', 'artifacts', ADMIN.projectId, componentId);
    const versions = (): string[] => [...new Set(readdirSync(artifacts).map((f) => f.slice(0, f.indexOf('-'))))].sort();
    const upgrade = async (version: string, over: Record<string, unknown> = {}): Promise<any> => {
      const r = await s.cas.put(path, body(envId, repo, name, version, version, { ...one, ...over }));
      assert.equal(r.status, 200, r.text);
      const job = await waitJob(s, r.body.job_id, 180_000);
      assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
      return job;
    };
    await upgrade('1.1.0');
    assert.deepEqual(versions(), ['1.0.0', '1.1.0']);
    const job = await upgrade('1.2.0');
    assert.match(job.tasks.find((x: any) => x.task_name === 'verify').messages, /removed 1\.0\.0 and their artifacts: 1 earlier version\(s\) are kept/);
    assert.deepEqual(versions(), ['1.1.0', '1.2.0']);
    assertCasError(await s.cas.post(`${path}/action`, { action: 'rollback', parameters: { version: '1.0.0' } }), 400, 'SVCSTG.00100400', /1\.0\.0 has no stored artifact/);

    // The component's own limit wins: 0 keeps only what runs.
    await upgrade('1.3.0', { update_strategy: { termination_period_seconds: 1, revision_history_limit: 0 } });
    assert.deepEqual(versions(), ['1.3.0']);
    assertCasError(await s.cas.post(`${path}/action`, { action: 'rollback_current' }), 400, 'SVCSTG.00100400', /no earlier version/);
    const got = (await s.cas.get(path)).body;
    assert.deepEqual([got.version, got.status.component_status], ['1.3.0', 'RUNNING']);
    // The deployment records stay readable.
    const records = (await s.cas.get(`${path}/records`)).body;
    assert.deepEqual(records.records.map((r: any) => r.version), ['1.3.0', '1.2.0', '1.1.0', '1.0.0']);
  });
});

describe('registry clean-up of stopped replicas (issue #18 item 21)', () => {
  it('removes only instances registered and last renewed while the replica ran, not a newer one on the same port', async (t) => {
    const s = await startServer(t);
    const reg = (path: string, b?: unknown) => fetch(`${s.url}/v4/default/registry${path}`, { method: b ? 'POST' : 'GET', headers: { 'content-type': 'application/json' }, body: b ? JSON.stringify(b) : undefined }).then((r) => r.json() as Promise<any>);
    const { serviceId } = await reg('/microservices', { service: { appId: 'a', serviceName: `svc${Date.now()}`, version: '1.0.0' } });
    const add = async (host: string) => (await reg(`/microservices/${serviceId}/instances`, { instance: { hostName: host, endpoints: [`rest://${host}:24680?sslEnabled=false`] } })).instanceId as string;
    const before = await add('127.0.0.1');
    s.clock.advance(5000);
    const startedAtMs = s.clock.now();
    const mine = await add('localhost');
    const elsewhere = await add('10.255.255.1');
    s.clock.advance(5000);
    const endedAtMs = s.clock.now();
    s.clock.advance(2000);
    // Another endpoint set on the same port (the same set would re-register `before`, issue #18 item 11).
    const newer = (await reg(`/microservices/${serviceId}/instances`, { instance: { hostName: '127.0.0.1', endpoints: ['rest://127.0.0.1:24680?sslEnabled=false', 'highway://127.0.0.1:24681'] } })).instanceId as string;
    const removed = await s.server.registry.deregisterStale({ hosts: ['127.0.0.1', 'localhost'], port: 24680, fromMs: startedAtMs, toMs: endedAtMs });
    assert.equal(removed, 1);
    const left = (await reg(`/microservices/${serviceId}/instances`)).instances.map((i: any) => i.instanceId).sort();
    assert.deepEqual(left, [before, elsewhere, newer].sort());
    assert.ok(!left.includes(mine));
  });
});
