import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import pino from 'pino';
import { Bus } from '../../src/core/bus.js';
import { systemClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { openDatabase, type Db } from '../../src/core/db/kysely.js';
import { SecretBox } from '../../src/core/secrets.js';
import { DeployService } from '../../src/deploy/service.js';
import { JobService } from '../../src/deploy/job-service.js';
import type { ComponentPlan, DeployEvents } from '../../src/deploy/types.js';
import { fixtureDir, freshDatabase, TEST_DEPLOY } from '../helpers/server.js';

const examples = resolve(new URL('../../../examples', import.meta.url).pathname);
const log = pino({ level: 'silent' });
const hostEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

/** An engine on a temp data dir and the suite's database, with the real clock (real processes). */
async function engine(t: TestContext, dataDir = mkdtempSync(join(tmpdir(), 'openstage-engine-')), dbUrl?: { db: string; drop: () => Promise<void> }) {
  const database = dbUrl ?? (await freshDatabase());
  const config = loadConfig({ overrides: { dataDir, db: database.db, logLevel: 'silent', 'deploy.settleSeconds': 1, 'deploy.monitorSeconds': 1, 'deploy.readyTimeoutSeconds': 20, ...TEST_DEPLOY } });
  const db: Db = await openDatabase(config.db, dataDir, log);
  const bus = new Bus<DeployEvents>();
  const jobs = new JobService({ db, bus, clock: systemClock, log });
  await jobs.start();
  const secrets = SecretBox.open('', dataDir);
  const deploy = new DeployService({ db, bus, clock: systemClock, log, config, secrets, jobs, renderFile: (c, v) => c.replace(/\$\{([A-Z_]+)\}/g, (m, n: string) => v[n] ?? m), hostEnv });
  await deploy.start();
  let closed = false;
  const close = async (stopReplicas: boolean) => {
    if (closed) return;
    closed = true;
    await deploy.shutdown(stopReplicas);
    await jobs.stop();
    await db.close();
  };
  t.after(async () => {
    await close(true);
    if (!dbUrl) {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  return { deploy, jobs, dataDir, database, close };
}

/** A file:// git repository of examples/node-hello on branch main. */
function repo(t: TestContext): string {
  const dir = fixtureDir(t, 'repo-');
  cpSync(join(examples, 'node-hello'), dir, { recursive: true });
  const env = { ...hostEnv, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  execFileSync('git', ['add', '.'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env });
  return dir;
}

function plan(repoDir: string, over: Partial<ComponentPlan> = {}): ComponentPlan {
  return {
    project: 'p1',
    componentId: 'c1',
    componentName: 'web',
    applicationId: 'a1',
    applicationName: 'shop',
    environmentId: 'e1',
    environmentName: 'dev',
    version: '1.0.0',
    source: { kind: 'code', repo_url: pathToFileURL(repoDir).toString(), repo_ref: 'main' },
    stackType: 'Nodejs',
    replicas: 2,
    env: { CAS_COMPONENT_NAME: 'web', GREETING: 'hi' },
    files: [{ path: '/config/app.yaml', content: 'instance: ${CAS_INSTANCE_ID}\nhash: $2b$10$abc\n' }],
    readinessProbe: { type: 'http', path: '/health', timeout: 1 },
    strategy: { type: 'OneBatchRelease' },
    terminationGraceSeconds: 5,
    ...over,
  };
}

async function job(jobs: JobService, jobId: string) {
  await jobs.settled(jobId);
  return jobs.get('p1', jobId);
}

async function answers(port: number): Promise<any> {
  return (await fetch(`http://127.0.0.1:${port}/`)).json();
}

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the deployment engine with real processes; the deploy store's queries run on both
// databases through test/cas.
describe('DeployService (process runtime, real processes)', () => {
  it('deploys, scales, upgrades with a rolling release, rolls back to the stored artifact and refuses a missing one before stopping anything', async (t) => {
    const { deploy, jobs, dataDir } = await engine(t);
    const dir = repo(t);
    let j = await job(jobs, await deploy.deploy(plan(dir)));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.deepEqual(j.tasks.map((x) => [x.name, x.status]), [['fetch source', 'SUCCEEDED'], ['build', 'SUCCEEDED'], ['store artifact', 'SUCCEEDED'], ['roll out: 1 batch', 'SUCCEEDED'], ['verify', 'SUCCEEDED'], ['revert on failure', 'SKIPPED']]);
    let rt = deploy.runtime('p1', 'c1')!;
    assert.equal(rt.status, 'RUNNING');
    assert.equal(rt.availableReplica, 2);
    const body = await answers(rt.replicas[0]!.port);
    assert.deepEqual([body.service, body.version, body.instance], ['web', '1.0.0', rt.replicas[0]!.instanceId]);
    // The config file was rendered per replica under its mount root, everything else kept.
    const mounted = execFileSync('cat', [join(dataDir, 'deploy', 'replicas', rt.replicas[0]!.instanceId, 'mounts', 'config', 'app.yaml')], { encoding: 'utf8' });
    assert.equal(mounted, `instance: ${rt.replicas[0]!.instanceId}\nhash: $2b$10$abc\n`);

    j = await job(jobs, await deploy.action('p1', 'c1', 'scale', { replica: 3 }));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const before = deploy.runtime('p1', 'c1')!.replicas.map((r) => r.instanceId);
    assert.equal(before.length, 3);
    j = await job(jobs, await deploy.action('p1', 'c1', 'scale', { replica: 1 }));
    rt = deploy.runtime('p1', 'c1')!;
    assert.deepEqual(rt.replicas.map((r) => r.instanceId), [before[0]], 'scaling down keeps the oldest replica untouched');
    assert.equal(rt.replica, 1);

    j = await job(jobs, await deploy.deploy(plan(dir, { version: '1.1.0', replicas: 2, strategy: { type: 'RollingRelease', batches: 2 } })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    rt = deploy.runtime('p1', 'c1')!;
    assert.deepEqual(rt.replicas.map((r) => r.version), ['1.1.0', '1.1.0']);
    assert.equal((await answers(rt.replicas[1]!.port)).version, '1.1.0');
    assert.deepEqual((await deploy.releases('p1', 'c1')).map((r) => r.version), ['1.0.0', '1.1.0']);

    j = await job(jobs, await deploy.action('p1', 'c1', 'scale', { replica: 1 }));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    j = await job(jobs, await deploy.action('p1', 'c1', 'rollback', { version: '1.0.0' }));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.ok(!j.tasks.some((x) => x.name === 'build'), 'a rollback never rebuilds');
    rt = deploy.runtime('p1', 'c1')!;
    assert.equal(rt.version, '1.0.0');
    assert.deepEqual(rt.replicas.map((r) => r.version), ['1.0.0'], 'a rollback keeps the scaled replica count (1.0.0 was deployed with 2)');
    assert.equal(rt.replica, 1);
    assert.equal((await answers(rt.replicas[0]!.port)).version, '1.0.0');

    const running = rt.replicas.map((r) => r.pid);
    await assert.rejects(deploy.action('p1', 'c1', 'rollback', { version: '9.9.9' }), (e: { status?: number; detail?: string }) => e.status === 400 && /no stored artifact.*nothing was stopped/.test(e.detail ?? ''));
    assert.deepEqual(deploy.runtime('p1', 'c1')!.replicas.map((r) => r.pid), running);
  });

  it('fails a deployment whose process crashes with its exit code and last log lines, keeping the old replicas', async (t) => {
    const { deploy, jobs } = await engine(t);
    const dir = repo(t);
    let j = await job(jobs, await deploy.deploy(plan(dir, { replicas: 1 })));
    assert.equal(j.job.status, 'SUCCEEDED');
    const old = deploy.runtime('p1', 'c1')!.replicas[0]!;
    writeFileSync(join(dir, 'crash.js'), "console.error('cannot connect to the database'); process.exit(3);\n");
    execFileSync('git', ['add', '.'], { cwd: dir });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'crash'], { cwd: dir });
    j = await job(jobs, await deploy.deploy(plan(dir, { version: '2.0.0', replicas: 1, command: { command: ['node', 'crash.js'] } })));
    assert.equal(j.job.status, 'FAILED');
    const failed = j.tasks.find((x) => x.status === 'FAILED')!;
    assert.equal(failed.type, 'rollout');
    assert.match(failed.messages.at(-1)!, /exit code 3/);
    assert.match(failed.messages.at(-1)!, /cannot connect to the database/);
    assert.deepEqual(j.tasks.map((x) => x.status).slice(-2), ['SKIPPED', 'SUCCEEDED']);
    assert.match(j.tasks.at(-1)!.messages.join('\n'), /nothing to revert: 1\.0\.0 runs with 1 replica/);
    const rt = deploy.runtime('p1', 'c1')!;
    assert.deepEqual(rt.replicas.map((r) => r.instanceId), [old.instanceId]);
    assert.equal(rt.status, 'RUNNING');
    assert.match(rt.failDetail, /exit code 3/);
  });

  it('says in the stop job how many replicas ignored SIGTERM and were killed after the grace period', async (t) => {
    const { deploy, jobs } = await engine(t);
    const dir = repo(t);
    const stubborn = "process.on('SIGTERM', () => {}); require('http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');";
    let j = await job(jobs, await deploy.deploy(plan(dir, { replicas: 2, terminationGraceSeconds: 1, command: { command: ['node', '-e', stubborn] } })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    j = await job(jobs, await deploy.action('p1', 'c1', 'stop'));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.equal(j.tasks.at(-1)!.messages.at(-1), 'stopped 2 replica(s); 2 did not end within the termination grace period and were killed (SIGKILL)');
    j = await job(jobs, await deploy.action('p1', 'c1', 'start'));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
  });

  it('holds a gray release in GRAYING until continue_deploy, then finishes it', async (t) => {
    const { deploy, jobs } = await engine(t);
    const dir = repo(t);
    await job(jobs, await deploy.deploy(plan(dir, { replicas: 3 })));
    const jobId = await deploy.deploy(plan(dir, { version: '1.1.0', replicas: 3, strategy: { type: 'GrayRelease', firstBatchReplica: 1 } }));
    const deadline = Date.now() + 60_000;
    while (deploy.runtime('p1', 'c1')!.status !== 'GRAYING') {
      assert.ok(Date.now() < deadline, 'never GRAYING');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(deploy.runtime('p1', 'c1')!.replicas.map((r) => r.version).sort(), ['1.0.0', '1.0.0', '1.1.0']);
    assert.equal(await deploy.action('p1', 'c1', 'continue_deploy'), jobId);
    const j = await job(jobs, jobId);
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.deepEqual(deploy.runtime('p1', 'c1')!.replicas.map((r) => r.version), ['1.1.0', '1.1.0', '1.1.0']);
    await assert.rejects(deploy.action('p1', 'c1', 'continue_deploy'), (e: { detail?: string }) => /waiting for continue_deploy/.test(e.detail ?? ''));
  });

  it('after a restart that cut a rollout short, a recover job stops the new version and restores the current one', async (t) => {
    const first = await engine(t);
    const dir = repo(t);
    let j = await job(first.jobs, await first.deploy.deploy(plan(dir, { replicas: 1 })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const old = first.deploy.runtime('p1', 'c1')!.replicas[0]!;
    // 1.1.0's replicas never become ready, so the rollout is still waiting when OpenStage stops.
    const rolloutId = await first.deploy.deploy(plan(dir, { version: '1.1.0', replicas: 2, readinessProbe: { type: 'http', path: '/never-ready', timeout: 1 } }));
    const deadline = Date.now() + 60_000;
    let fresh: number[] = [];
    while ((fresh = first.deploy.runtime('p1', 'c1')!.replicas.filter((r) => r.version === '1.1.0' && r.pid).map((r) => r.port)).length < 2) {
      assert.ok(Date.now() < deadline, 'the 1.1.0 replicas never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.close(false); // OpenStage stops mid-rollout; every replica keeps running
    for (const port of fresh) {
      const until = Date.now() + 20_000;
      for (;;) {
        const a = await answers(port).catch(() => undefined); // the process may still be starting
        if (a) {
          assert.equal(a.version, '1.1.0');
          break;
        }
        assert.ok(Date.now() < until, `the 1.1.0 replica on ${port} stopped with OpenStage`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const second = await engine(t, first.dataDir, first.database);
    assert.equal((await job(second.jobs, rolloutId)).job.status, 'FAILED');
    const recoverId = second.deploy.runtime('p1', 'c1')!.lastJobId;
    assert.notEqual(recoverId, rolloutId);
    j = await job(second.jobs, recoverId);
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.equal(j.job.jobType, 'recover');
    assert.match(j.tasks[0]!.messages.join('\n'), /stopped 2 replica\(s\) of 1\.1\.0 left by a rollout interrupted/);
    const rt = second.deploy.runtime('p1', 'c1')!;
    assert.deepEqual(rt.replicas.map((r) => [r.instanceId, r.version]), [[old.instanceId, '1.0.0']]);
    assert.deepEqual([rt.status, rt.version, rt.replica, rt.availableReplica], ['RUNNING', '1.0.0', 1, 1]);
    for (const port of fresh) await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
  });

  it('keeps replicas running across an engine restart and takes them over; stop and start actions', async (t) => {
    const first = await engine(t);
    const dir = repo(t);
    await job(first.jobs, await first.deploy.deploy(plan(dir)));
    const before = first.deploy.runtime('p1', 'c1')!.replicas;
    await first.close(false); // OpenStage stops; the replicas keep running
    for (const r of before) assert.equal((await answers(r.port)).instance, r.instanceId);
    const second = await engine(t, first.dataDir, first.database);
    const after = second.deploy.runtime('p1', 'c1')!;
    assert.deepEqual(after.replicas.map((r) => [r.instanceId, r.pid]), before.map((r) => [r.instanceId, r.pid]));
    assert.equal(after.status, 'RUNNING');
    let j = await job(second.jobs, await second.deploy.action('p1', 'c1', 'stop'));
    assert.equal(j.job.status, 'SUCCEEDED');
    assert.equal(second.deploy.runtime('p1', 'c1')!.status, 'STOPPED');
    await assert.rejects(fetch(`http://127.0.0.1:${before[0]!.port}/`));
    j = await job(second.jobs, await second.deploy.action('p1', 'c1', 'start'));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.equal(second.deploy.runtime('p1', 'c1')!.availableReplica, 2);
  });
});
