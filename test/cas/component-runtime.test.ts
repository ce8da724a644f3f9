import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { CasClient, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { freePort } from '../helpers/cli.js';
import { answer, envAndApp, eventually, EXAMPLES, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { ADMIN, login } from '../helpers/iam-client.js';
import { FIXTURE_ROOT, fixtureDir, freshDatabase, HOST_ENV } from '../helpers/server.js';

// Issue #6 end to end with real processes, the real clock and bounded waits: a Java jar and a
// Python package deployed through the component API, replicas surviving a SIGKILL of
// OpenStage (a `openstage serve` child process), and a long build cancelled through the job
// API. Every replica is stopped when a test ends (deploy.stopOnShutdown in-process; an
// explicit delete, and a SIGKILL of the process groups as a safety net, for the child).

const run = promisify(execFile);
const GIT_ENV = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };

function tempDir(t: TestContext, prefix = 'rt-'): string {
  return fixtureDir(t, prefix);
}

/** A data directory for a child server (outside the fixtures builds may read). */
function dataDirOf(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-rt-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pids of live processes whose command line (or, with `where` 'environ', environment) contains `marker`. */
function processesWith(marker: string, where: 'cmdline' | 'environ' = 'cmdline'): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/${where}`, 'utf8').includes(marker) && alive(Number(name))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The state letter and process group of `pid` from /proc/<pid>/stat, or undefined when it is gone. */
function statOf(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** True when process `pid` exists and is not a zombie. */
function alive(pid: number): boolean {
  const s = statOf(pid);
  return s !== undefined && s.state !== 'Z';
}

/** A git repository (branch main) of `folder`, changed by `edit` before the first commit. */
async function gitRepo(t: TestContext, folder: string, edit: (dir: string) => void = () => undefined): Promise<{ dir: string; url: string }> {
  const dir = join(tempDir(t, 'openstage-rt-repo-'), 'repo');
  cpSync(folder, dir, { recursive: true });
  edit(dir);
  await run('git', ['init', '-q', '-b', 'main'], { cwd: dir, env: GIT_ENV });
  await run('git', ['add', '.'], { cwd: dir, env: GIT_ENV });
  await run('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env: GIT_ENV });
  return { dir, url: pathToFileURL(dir).toString() };
}

/** Deploys `body` in a new environment and application, waits for its job; @returns the component path and its GET body. */
async function deployAndGet(s: CasServer, body: (envId: string) => Record<string, unknown>): Promise<{ path: string; got: any; job: any }> {
  const { envId, appId } = await envAndApp(s);
  const created = await s.cas.post(`/applications/${appId}/components`, body(envId));
  assert.equal(created.status, 200, created.text);
  const job = await waitJob(s, created.body.job_id, 180_000);
  assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
  const path = `/applications/${appId}/components/${created.body.component_id}`;
  const got = await s.cas.get(path);
  assert.equal(got.status, 200, got.text);
  return { path, got: got.body, job };
}

describe('POST /v3/{project}/cas/applications/{application_id}/components (runtime stacks, real processes)', () => {
  it('deploys a Java jar from a file:// package: RUNNING, and the JVM answers on its port', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'classes'));
    await run('javac', ['-d', join(dir, 'classes'), join(EXAMPLES, 'java-hello/src/main/java/hello/Main.java')]);
    await run('jar', ['--create', '--file', join(dir, 'java-hello.jar'), '--main-class', 'hello.Main', '-C', join(dir, 'classes'), '.']);
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const url = pathToFileURL(join(dir, 'java-hello.jar')).toString();
    const { path, got, job } = await deployAndGet(s, (envId) =>
      nodeBody(envId, '', {
        runtime_stack: { name: 'OpenJDK17', type: 'Java', version: '1.0.0', deploy_mode: 'virtualmachine' },
        source: { kind: 'package', storage: 'obs', url },
        version: '2.1.0',
        jvm_opts: '-Xmx64m',
      }),
    );
    assert.deepEqual(job.tasks.map((x: any) => x.task_status), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SKIPPED']);
    assert.match(job.tasks[1].messages, /start command: java -Xmx64m -jar java-hello\.jar/);
    assert.equal(got.status.component_status, 'RUNNING');
    assert.deepEqual([got.status.replica, got.status.available_replica], [1, 1]);
    const inst = got.status.instances[0];
    const hello = await answer(inst.port);
    assert.deepEqual(hello, { service: got.name, version: '2.1.0', instance: inst.instance_id });
    const logs = await s.cas.get(`${path}/logs?lines=5`);
    assert.ok(logs.body.logs[0].lines.includes(`${got.name} 2.1.0 listening on ${inst.port}`), logs.text);
  });

  it('deploys a Python service from a file:// .tar.gz package (venv build): RUNNING, and it answers on its port', async (t) => {
    const dir = tempDir(t);
    await run('tar', ['-czf', join(dir, 'python-hello.tar.gz'), '-C', EXAMPLES, 'python-hello']);
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const url = pathToFileURL(join(dir, 'python-hello.tar.gz')).toString();
    const { got, job } = await deployAndGet(s, (envId) =>
      nodeBody(envId, '', {
        runtime_stack: { name: 'Python3', type: 'Python', version: '1.0.0', deploy_mode: 'virtualmachine' },
        source: { kind: 'package', storage: 'obs', url },
        version: '0.3.0',
        replica: 2,
      }),
    );
    assert.match(job.tasks[1].messages, /python3 -m venv \.venv/);
    assert.match(job.tasks[1].messages, /start command: \.venv\/bin\/python -u app\.py/);
    assert.equal(got.status.component_status, 'RUNNING');
    assert.deepEqual([got.status.replica, got.status.available_replica], [2, 2]);
    const answers = await Promise.all(got.status.instances.map((i: any) => answer(i.port)));
    assert.deepEqual(answers.map((a: any) => [a.service, a.version, a.instance]), got.status.instances.map((i: any) => [got.name, '0.3.0', i.instance_id]));
    // Each replica runs in a PID namespace of its own (the sandbox): it sees itself as one of the first pids.
    assert.ok(answers.every((a: any) => a.pid <= 3), JSON.stringify(answers));
  });
});

/** `openstage serve` as a child process with fixed bootstrap credentials, on a data dir and database kept across restarts. */
async function cliServer(t: TestContext) {
  const dataDir = dataDirOf(t);
  const database = await freshDatabase();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const cli = new URL('../../src/cli.js', import.meta.url).pathname;
  const env = {
    ...process.env,
    OPENSTAGE_ADMIN_PASSWORD: ADMIN.password,
    // Load shedding off, as in startServer: a test machine's own hiccups must not answer 429.
    OPENSTAGE_HTTP_SHED_LAG_MS: '0',
    OPENSTAGE_PROJECT_ID: ADMIN.projectId,
    OPENSTAGE_ACCESS_KEY: ADMIN.ak,
    OPENSTAGE_SECRET_KEY: ADMIN.sk,
    OPENSTAGE_SECRETS_PASSWORD_HASH_LOG2_N: '10',
    OPENSTAGE_DEPLOY_SETTLE_SECONDS: '1',
    OPENSTAGE_DEPLOY_MONITOR_SECONDS: '1',
    OPENSTAGE_DEPLOY_READY_TIMEOUT_SECONDS: '20',
    OPENSTAGE_DEPLOY_SOURCE_ROOTS: FIXTURE_ROOT,
  };
  const children: ChildProcess[] = [];
  let stderr = '';
  /** Pids of replicas to SIGKILL (by process group) if the test ends before deleting them. */
  const replicaGroups = new Set<number>();
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const pid of replicaGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await database.drop();
  });
  const start = async (): Promise<{ child: ChildProcess; cas: CasClient }> => {
    const child = spawn(process.execPath, [cli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--db', database.db, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(`openstage serve on ${url}`, async () => {
      assert.equal(child.exitCode, null, `openstage exited: ${stderr}`);
      return (await fetch(`${url}/health`).then((r) => r.status).catch(() => 0)) === 200 ? true : undefined;
    }, 120_000);
    const r = await login(url, ADMIN.name, ADMIN.password);
    assert.equal(r.status, 201, r.text);
    return { child, cas: new CasClient(url, r.headers.get('x-subject-token')!) };
  };
  return { start, url, replicaGroups, stderr: () => stderr };
}

describe('GET /v3/{project}/cas/applications/{application_id}/components/{component_id} after a SIGKILL of OpenStage', () => {
  it('shows the component RUNNING with the same replicas (same pids) answering, and a delete then stops them', async (t) => {
    const server = await cliServer(t);
    let { child, cas } = await server.start();
    const s = { cas } as CasServer;
    const repo = await gitRepo(t, join(EXAMPLES, 'node-hello'));
    const { envId, appId } = await envAndApp(s);
    const created = await cas.post(`/applications/${appId}/components`, nodeBody(envId, repo.url, { replica: 2 }));
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    const before = (await cas.get(path)).body;
    assert.equal(before.status.component_status, 'RUNNING');
    assert.equal(before.status.instances.length, 2);
    const answersBefore = await Promise.all(before.status.instances.map((i: any) => answer(i.port)));
    // Each replica is a process group (the sandbox, npm start → node server.js) with CAS_INSTANCE_ID in its environment.
    for (const i of before.status.instances) {
      const procs = processesWith(`CAS_INSTANCE_ID=${i.instance_id}\0`, 'environ');
      assert.ok(procs.length >= 2, `replica ${i.instance_id}: ${procs.join(',')}`);
      const group = statOf(procs[0]!)!.pgrp;
      assert.ok(procs.every((p) => statOf(p)!.pgrp === group));
      server.replicaGroups.add(group);
    }

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // OpenStage is gone; the replicas answer on.
    for (const [n, i] of before.status.instances.entries()) assert.deepEqual(await answer(i.port), answersBefore[n]);

    ({ child, cas } = await server.start());
    s.cas = cas;
    const after = await eventually('RUNNING after the restart', async () => {
      const got = await cas.get(path);
      assert.equal(got.status, 200, got.text);
      return got.body.status.component_status === 'RUNNING' && got.body.status.available_replica === 2 ? got.body : undefined;
    });
    assert.deepEqual(after.status.instances.map((i: any) => [i.instance_id, i.port, i.state, i.ready, i.restarts]), before.status.instances.map((i: any) => [i.instance_id, i.port, 'running', true, 0]));
    const answersAfter = await Promise.all(after.status.instances.map((i: any) => answer(i.port)));
    assert.deepEqual(answersAfter, answersBefore, 'the same processes (same pids) answer');
    assert.equal(after.status.last_job_id, created.body.job_id);

    // Delete: the adopted replicas are stopped, then the component is gone.
    const del = await cas.delete(path);
    assert.equal(del.status, 200, del.text);
    await eventually('the component to disappear', async () => ((await cas.get(path)).status === 401 ? true : undefined), 60_000);
    for (const i of before.status.instances) await assert.rejects(fetch(`http://127.0.0.1:${i.port}/`));
    await eventually('the replica processes to end', async () => (before.status.instances.every((i: any) => processesWith(`CAS_INSTANCE_ID=${i.instance_id}\0`, 'environ').length === 0) ? true : undefined), 10_000);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});

describe('a build running when OpenStage is SIGKILLed (review L8)', () => {
  it('dies with OpenStage: no build process survives, and after the restart the interrupted job is FAILED', async (t) => {
    const server = await cliServer(t);
    const { child, cas } = await server.start();
    const s = { cas } as CasServer;
    const marker = `openstage-orphan-build-${uniqName('m')}`;
    const repo = await gitRepo(t, join(EXAMPLES, 'node-hello'), (dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      pkg.scripts.build = `node -e "setTimeout(()=>{},120000)" ${marker}`;
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    });
    t.after(() => {
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    });
    const { envId, appId } = await envAndApp(s);
    const created = await cas.post(`/applications/${appId}/components`, nodeBody(envId, repo.url));
    assert.equal(created.status, 200, created.text);
    await eventually('the build script to start', async () => (processesWith(marker).length > 0 ? true : undefined), 90_000);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await eventually('the build processes to die with OpenStage', async () => (processesWith(marker).length === 0 ? true : undefined), 10_000);
    const again = await server.start();
    const job = await waitJob({ cas: again.cas } as CasServer, created.body.job_id);
    assert.equal(job.job.execution_status, 'FAILED');
    assert.match(JSON.stringify(job.tasks), /interrupted/);
    again.child.kill('SIGTERM');
    await new Promise((r) => again.child.once('exit', r));
  });
});

describe('POST /v3/{project}/cas/jobs/{job_id}/action (cancel a running build)', () => {
  it('cancels a long build: 200, job FAILED with "cancelled", the build processes gone, and the next upgrade runs', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const marker = `openstage-slow-build-${uniqName('m')}`;
    const slowBuild = `node -e "setTimeout(()=>{},60000)" ${marker}`;
    const setBuild = (dir: string, build: string): void => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      pkg.scripts.build = build;
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    };
    const repo = await gitRepo(t, join(EXAMPLES, 'node-hello'), (dir) => setBuild(dir, slowBuild));
    t.after(() => {
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    });
    const { envId, appId } = await envAndApp(s);
    const body = nodeBody(envId, repo.url);
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const jobId = created.body.job_id as string;
    const path = `/applications/${appId}/components/${created.body.component_id}`;

    // The build task runs, and so does its sleeping script.
    await eventually('the build task to run', async () => {
      const j = await s.cas.get(`/jobs/${jobId}`);
      assert.equal(j.body.job.execution_status, 'RUNNING', j.text);
      return j.body.tasks[1].task_status === 'RUNNING' ? true : undefined;
    }, 60_000);
    const pids = await eventually('the build script to start', async () => {
      const found = processesWith(marker);
      return found.length > 0 ? found : undefined;
    }, 60_000);
    const running = await s.cas.get(`/jobs/${jobId}`);
    assert.equal(running.body.tasks[1].task_status, 'RUNNING', running.text);
    assert.equal((await s.cas.get(path)).body.status.component_status, 'INITIALIZING');

    const started = Date.now();
    const cancel = await s.cas.post(`/jobs/${jobId}/action`, { action: 'cancel' });
    assert.equal(cancel.status, 200, cancel.text);
    assert.deepEqual(cancel.body, { job_id: jobId, execution_status: 'FAILED' });
    assert.ok(Date.now() - started < 10_000, 'the cancel does not wait for the build');
    const job = (await s.cas.get(`/jobs/${jobId}`)).body;
    assert.equal(job.job.execution_status, 'FAILED');
    // The clean-up task runs after the failure: a first deployment has nothing to go back to.
    assert.deepEqual(job.tasks.map((x: any) => x.task_status), ['SUCCEEDED', 'FAILED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SUCCEEDED']);
    assert.match(job.tasks[5].messages, /no earlier version runs/);
    assert.match(job.tasks[1].messages, /cancelled by admin/);
    await eventually('the build processes to end', async () => (pids.every((p) => !alive(p)) && processesWith(marker).length === 0 ? true : undefined), 10_000);
    // Idempotent: a second cancel answers the final status.
    const again = await s.cas.post(`/jobs/${jobId}/action`, { action: 'cancel' });
    assert.deepEqual([again.status, again.body], [200, { job_id: jobId, execution_status: 'FAILED' }]);
    const failed = (await s.cas.get(path)).body;
    assert.equal(failed.status.component_status, 'FAILED');
    assert.match(failed.status.fail_detail, /cancelled/);
    assert.deepEqual(failed.status.instances, []);

    // The next upgrade of the component runs (the cancelled job no longer holds it).
    setBuild(repo.dir, 'node -e "console.log(\'built\')"');
    await run('git', ['commit', '-q', '-am', 'quick build'], { cwd: repo.dir, env: GIT_ENV });
    const up = await s.cas.put(path, { ...body, version: '1.0.1' });
    assert.equal(up.status, 200, up.text);
    const upJob = await waitJob(s, up.body.job_id);
    assert.equal(upJob.job.execution_status, 'SUCCEEDED', JSON.stringify(upJob.tasks));
    const got = (await s.cas.get(path)).body;
    assert.equal(got.status.component_status, 'RUNNING');
    const hello = await answer(got.status.instances[0].port);
    assert.deepEqual([hello.service, hello.version], [body.name, '1.0.1']);
    const records = (await s.cas.get(`${path}/records`)).body.records;
    assert.deepEqual(records.map((r: any) => [r.deploy_type, r.status]), [['upgrade', 'SUCCEEDED'], ['deploy', 'FAILED']]);
  });
});
