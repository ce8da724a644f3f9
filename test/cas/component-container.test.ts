import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { CasClient, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { ADMIN, login } from '../helpers/iam-client.js';
import { envAndApp, eventually, FAST_DEPLOY, waitJob } from '../helpers/component.js';
import { busyboxContext, removePodmanDirs, testPodman, waitForHttp } from '../helpers/container.js';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.js';
import { freePort } from '../helpers/cli.js';
import { fixtureDir, freshDatabase, HOST_ENV } from '../helpers/server.js';
import { GitClient } from '../git/client.js';

// Components on the container runtime through the component API (issue #14 Proof): image
// components pulled with registry credentials from a real registry on loopback, run by the
// real podman; every action, a killed container, a SIGKILL of OpenStage, delete.

/** The server's podman: what an operator types to see OpenStage's containers. */
function serverPodman(dataDir: string, args: string[]): string {
  return execFileSync('podman', args, { env: { ...HOST_ENV, CONTAINERS_CONF: join(dataDir, 'containers', 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dataDir, 'containers', 'storage.conf') }, encoding: 'utf8' });
}

/** Names of the server's containers (running or not). */
function containers(dataDir: string): string[] {
  return serverPodman(dataDir, ['ps', '--all', '--format', '{{.Names}}']).split('\n').filter(Boolean).sort();
}

/** Pushes the busybox web image answering `index` as `<registry>/team/web:<tag>`; @returns its reference */
async function pushWeb(t: TestContext, registry: TestRegistry, tag: string, index: string): Promise<string> {
  const { podman } = testPodman(t, { insecureRegistries: [registry.host] });
  const dir = mkdtempSync(join(tmpdir(), 'openstage-ctx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  busyboxContext(dir, { index });
  const signal = new AbortController().signal;
  await podman.build({ contextDir: dir, tag: `localhost/src/web:${tag}`, logFile: join(dir, 'build.log'), signal });
  const ref = `${registry.host}/team/web:${tag}`;
  await podman.push({ image: `localhost/src/web:${tag}`, destination: ref, credentials: { username: registry.username, password: registry.password }, signal, logFile: join(dir, 'push.log') });
  return ref;
}

/** A git authorization holding the registry's credentials (what `source.repo_auth` names). */
async function registryAuth(s: CasServer, registry: TestRegistry): Promise<string> {
  const name = uniqName('swr');
  const r = await new GitClient(s.url, s.cas.token).call('POST', '/auths/local/password', { body: { name, token: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') } });
  assert.equal(r.status, 200, r.text);
  return name;
}

/** An image component's body (the Docker stack). */
function imageBody(envId: string, url: string, auth: string, over: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: uniqName('web'),
    runtime_stack: { name: 'Docker', type: 'Docker', version: '1.0.0', deploy_mode: 'container' },
    source: { kind: 'image', storage: 'swr', url, repo_auth: auth },
    replica: 1,
    version: '1.0.0',
    environment_id: envId,
    refer_resources: [],
    envs: [{ name: 'GREETING', value: 'hello from an image' }],
    readiness_probe: { type: 'http', path: '/index.html', timeout: 1 },
    ...over,
  };
}

/** Runs a component action and waits for its job. */
async function act(s: CasServer, path: string, action: Record<string, unknown>): Promise<void> {
  const r = await s.cas.post(`${path}/action`, action);
  assert.equal(r.status, 200, r.text);
  const job = await waitJob(s, r.body.job_id);
  assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
}

describe('components on the container runtime (podman)', () => {
  it('an image component answers with its injected env and config file; scale to 3, upgrade, rollback to the stored image, a killed container replaced, stop, delete leaves nothing', async (t) => {
    const registry = await startRegistry(t);
    const v1 = await pushWeb(t, registry, '1.0', 'one');
    const v2 = await pushWeb(t, registry, '2.0', 'two');
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.containerInsecureRegistries': [registry.host] }, { realClock: true });
    const auth = await registryAuth(s, registry);
    const { envId, appId } = await envAndApp(s);
    const group = await s.cas.post('/config-groups', { name: uniqName('grp') });
    const file = await s.cas.post('/configs', { config_group_id: group.body.id, name: uniqName('cfg'), type: 'yaml', content: 'instance: ${CAS_INSTANCE_ID}\n' });
    assert.equal(file.status, 200, file.text);

    // Without the credentials the pull is refused by the registry: the job fails saying so.
    const anonymous = await s.cas.post(`/applications/${appId}/components`, imageBody(envId, v1, auth, { source: { kind: 'image', storage: 'swr', url: v1 } }));
    assert.equal(anonymous.status, 200, anonymous.text);
    const refused = await waitJob(s, anonymous.body.job_id);
    assert.equal(refused.job.execution_status, 'FAILED');
    assert.match(JSON.stringify(refused.tasks), /unauthorized|authentication required/i);

    const body = imageBody(envId, v1, auth, { storages: [{ type: 'ConfigMap', name: 'cfg', parameters: { name: file.body.id }, mounts: [{ path: '/etc/app/app.yaml' }] }] });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    let got = (await s.cas.get(path)).body;
    assert.equal(got.status.component_status, 'RUNNING');
    const [first] = got.status.instances;
    const env = (await waitForHttp(first.port, '/cgi-bin/env')).split('\n');
    for (const line of ['GREETING=hello from an image', `PORT=${first.port}`, `CAS_INSTANCE_ID=${first.instance_id}`, `CAS_COMPONENT_ID=${created.body.component_id}`]) assert.ok(env.includes(line), `${line} in\n${env.join('\n')}`);
    assert.equal(await waitForHttp(first.port, '/cgi-bin/cat?/etc/app/app.yaml'), `instance: ${first.instance_id}\n`);
    // Not the host's root: an unprivileged uid range of the project's own.
    assert.match(await waitForHttp(first.port, '/cgi-bin/id'), /^uid=0\(root\) gid=0\b/);
    const hostUid = Number(serverPodman(s.dataDir, ['top', `openstage-${first.instance_id}`, 'huser']).split('\n')[1]?.trim());
    assert.ok(hostUid >= 1_000_000_000, `host uid ${hostUid}`);
    const logs = await s.cas.get(`${path}/logs?lines=20`);
    assert.equal(logs.status, 200, logs.text);
    assert.equal(logs.body.logs[0].instance_id, first.instance_id);

    // Scale to 3.
    await act(s, path, { action: 'scale', parameters: { replica: 3 } });
    got = (await s.cas.get(path)).body;
    assert.deepEqual([got.status.available_replica, got.status.instances.length], [3, 3]);
    for (const i of got.status.instances) assert.equal(await waitForHttp(i.port, '/index.html'), 'one');
    assert.equal(containers(s.dataDir).length, 3);

    // Upgrade to a new image.
    const up = await s.cas.put(path, { ...body, version: '2.0.0', replica: 3, source: { ...body.source, url: v2 } });
    assert.equal(up.status, 200, up.text);
    assert.equal((await waitJob(s, up.body.job_id)).job.execution_status, 'SUCCEEDED');
    got = (await s.cas.get(path)).body;
    assert.equal(got.version, '2.0.0');
    for (const i of got.status.instances) assert.equal(await waitForHttp(i.port, '/index.html'), 'two');

    // Rollback to the stored image of 1.0.0, with the registry gone.
    registry.stop();
    await act(s, path, { action: 'rollback', parameters: { version: '1.0.0' } });
    got = (await s.cas.get(path)).body;
    assert.equal(got.version, '1.0.0');
    assert.equal(got.status.instances.length, 3);
    for (const i of got.status.instances) assert.equal(await waitForHttp(i.port, '/index.html'), 'one');

    // `podman kill` of one container: it is replaced (started again), none is added.
    const victim = got.status.instances[1];
    serverPodman(s.dataDir, ['kill', `openstage-${victim.instance_id}`]);
    const healed = await eventually('the killed replica to run again', async () => {
      const now = (await s.cas.get(path)).body;
      const v = now.status.instances.find((i: any) => i.instance_id === victim.instance_id);
      return v && v.restarts === 1 && v.state === 'running' && now.status.available_replica === 3 ? v : undefined;
    }, 60_000);
    assert.equal(await waitForHttp(healed.port, '/index.html'), 'one');
    assert.equal(containers(s.dataDir).length, 3);

    // Stop: no container is left running; start brings them back.
    await act(s, path, { action: 'stop' });
    assert.equal((await s.cas.get(path)).body.status.component_status, 'STOPPED');
    assert.deepEqual(containers(s.dataDir), []);
    await act(s, path, { action: 'start' });
    got = (await s.cas.get(path)).body;
    assert.equal(got.status.available_replica, 3);

    // Delete: the containers and the component's images go; the failed component's nothing either.
    for (const id of [created.body.component_id, anonymous.body.component_id]) {
      const del = await s.cas.delete(`/applications/${appId}/components/${id}`);
      assert.equal(del.status, 200, del.text);
      await eventually('the component to disappear', async () => ((await s.cas.get(`/applications/${appId}/components/${id}`)).status !== 200 ? true : undefined), 60_000);
    }
    assert.deepEqual(containers(s.dataDir), []);
    assert.deepEqual(serverPodman(s.dataDir, ['images', '--all', '--format', '{{.ID}} {{.Names}}']).trim(), '');
  });

  it('builds a Docker-stack component from its repository\'s Dockerfile (build.parameters.dockerfile_path) and runs it', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const repo = fixtureDir(t, 'repo-');
    busyboxContext(repo, { index: 'built by podman', dockerfileName: 'deploy/app.Dockerfile' });
    const git = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
    for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-q', '-m', 'app']]) execFileSync('git', args, { cwd: repo, env: git });
    const { envId, appId, appName } = await envAndApp(s);
    const body = imageBody(envId, '', '', { source: { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: 'main' }, build: { parameters: { dockerfile_path: 'deploy/app.Dockerfile' } } });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const image = `localhost/${appName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}/${body.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}:1.0.0`;
    assert.match(JSON.stringify(job.tasks), new RegExp(`building ${image.replace(/[.]/g, '\\.')} from deploy/app.Dockerfile`));
    const got = (await s.cas.get(`/applications/${appId}/components/${created.body.component_id}`)).body;
    assert.equal(await waitForHttp(got.status.instances[0].port, '/index.html'), 'built by podman');
    assert.match(serverPodman(s.dataDir, ['images', '--format', '{{.Repository}}:{{.Tag}}']), new RegExp(image.replace(/[.]/g, '\\.')));
  });

  it('takes over its containers after a SIGKILL of OpenStage: none duplicated, the same replicas answering; delete then removes them', async (t) => {
    const registry = await startRegistry(t);
    const url = await pushWeb(t, registry, '1.0', 'survivor');
    const dataDir = mkdtempSync(join(tmpdir(), 'openstage-cli-'));
    const database = await freshDatabase();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const children: ChildProcess[] = [];
    t.after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      try {
        serverPodman(dataDir, ['rm', '--all', '--force', '--time', '0']);
      } catch {
        // nothing left
      }
      await removePodmanDirs(join(dataDir, 'containers'));
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      await database.drop();
    });
    const env = {
      ...HOST_ENV,
      OPENSTAGE_ADMIN_PASSWORD: ADMIN.password,
      // Load shedding off, as in startServer: a test machine's own hiccups must not answer 429.
      OPENSTAGE_HTTP_SHED_LAG_MS: '0',
      OPENSTAGE_PROJECT_ID: ADMIN.projectId,
      OPENSTAGE_ACCESS_KEY: ADMIN.ak,
      OPENSTAGE_SECRET_KEY: ADMIN.sk,
      OPENSTAGE_SECRETS_PASSWORD_HASH_LOG2_N: '10',
      OPENSTAGE_DEPLOY_SETTLE_SECONDS: '1',
      OPENSTAGE_DEPLOY_MONITOR_SECONDS: '1',
      OPENSTAGE_DEPLOY_READY_TIMEOUT_SECONDS: '30',
      OPENSTAGE_DEPLOY_CONTAINER_INSECURE_REGISTRIES: registry.host,
    };
    const start = async (): Promise<{ child: ChildProcess; s: CasServer }> => {
      const child = spawn(process.execPath, [new URL('../../src/cli.js', import.meta.url).pathname, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--db', database.db, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      await eventually('openstage serve', async () => {
        assert.equal(child.exitCode, null, 'openstage exited');
        return (await fetch(`${base}/health`).then((r) => r.status).catch(() => 0)) === 200 ? true : undefined;
      });
      const r = await login(base, ADMIN.name, ADMIN.password);
      assert.equal(r.status, 201, r.text);
      return { child, s: { url: base, dataDir, cas: new CasClient(base, r.headers.get('x-subject-token')!) } as CasServer };
    };

    let { child, s } = await start();
    const auth = await registryAuth(s, registry);
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, imageBody(envId, url, auth, { replica: 2 }));
    assert.equal(created.status, 200, created.text);
    assert.equal((await waitJob(s, created.body.job_id)).job.execution_status, 'SUCCEEDED');
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    const before = (await s.cas.get(path)).body.status.instances;
    assert.equal(before.length, 2);
    const names = containers(dataDir);
    assert.deepEqual(names, before.map((i: any) => `openstage-${i.instance_id}`).sort());

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // OpenStage is gone; the containers answer on.
    for (const i of before) assert.equal(await waitForHttp(i.port, '/index.html'), 'survivor');

    ({ child, s } = await start());
    const after = await eventually('RUNNING after the restart', async () => {
      const got = (await s.cas.get(path)).body;
      return got.status?.component_status === 'RUNNING' && got.status.available_replica === 2 ? got.status.instances : undefined;
    }, 60_000);
    assert.deepEqual(after.map((i: any) => [i.instance_id, i.port, i.restarts]), before.map((i: any) => [i.instance_id, i.port, 0]), 'the same replicas, not restarted');
    assert.deepEqual(containers(dataDir), names, 'none duplicated');
    for (const i of after) assert.equal(await waitForHttp(i.port, '/index.html'), 'survivor');

    const del = await s.cas.delete(path);
    assert.equal(del.status, 200, del.text);
    await eventually('the component to disappear', async () => ((await s.cas.get(path)).status !== 200 ? true : undefined), 60_000);
    assert.deepEqual(containers(dataDir), []);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
