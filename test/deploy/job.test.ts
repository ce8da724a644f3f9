import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskContext, TaskSpec } from '../../src/deploy/types.js';
import { assertCasError, restartCas, startCas, type CasServer } from '../helpers/cas-client.js';
import { ADMIN } from '../helpers/iam-client.js';

/** A task that runs until the test settles it (or its signal aborts). */
function gate(name: string, timeoutMs = 60_000): TaskSpec & { started: boolean; finish: () => void; fail: (msg: string) => void; sawAbort: boolean } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const g = {
    name,
    type: 'test',
    timeoutMs,
    started: false,
    sawAbort: false,
    finish: () => resolve(),
    fail: (msg: string) => reject(new Error(msg)),
    run: async (ctx: TaskContext) => {
      g.started = true;
      ctx.log(`${name} started`);
      ctx.signal.addEventListener('abort', () => {
        g.sawAbort = true;
      });
      await done;
      ctx.log(`${name} done`);
    },
  };
  return g;
}

/** Waits (up to 5 s of real time: database round trips, not timers) until `check()` holds. */
const until = async (check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  assert.ok(check(), 'condition never became true');
};

async function job(s: CasServer, id: string): Promise<any> {
  const r = await s.cas.get(`/jobs/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('GET /v3/{project}/cas/jobs/{job_id}', () => {
  it('shows a job RUNNING with PENDING tasks, then SUCCEEDED with each task and its messages', async (t) => {
    const s = await startCas(t);
    const a = gate('build');
    const b = gate('deploy');
    const { job: submitted } = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [a, b] });
    assert.match(submitted.jobId, /^JOB[0-9a-f-]{36}$/);
    await until(() => a.started);
    let body = await job(s, submitted.jobId);
    assert.equal(body.task_count, 2);
    assert.deepEqual(body.job, { job_id: submitted.jobId, job_type: 'deploy', execution_status: 'RUNNING', rollback_enabled: false });
    assert.deepEqual(body.tasks.map((x: any) => [x.task_name, x.task_status]), [['build', 'RUNNING'], ['deploy', 'PENDING']]);
    a.finish();
    await until(() => b.started);
    b.finish();
    await s.server.jobs.settled(submitted.jobId);
    body = await job(s, submitted.jobId);
    assert.equal(body.job.execution_status, 'SUCCEEDED');
    assert.deepEqual(body.tasks.map((x: any) => [x.task_name, x.task_status, x.messages]), [['build', 'SUCCEEDED', 'build started\nbuild done'], ['deploy', 'SUCCEEDED', 'deploy started\ndeploy done']]);
    assert.equal(body.tasks[0].created_at, new Date(s.clock.now()).toISOString());
    const desc = await s.cas.get(`/jobs/${submitted.jobId}?desc=true&limit=1`);
    assert.deepEqual(desc.body.tasks.map((x: any) => x.task_name), ['deploy']);
    assert.equal(desc.body.task_count, 2);
  });

  it('fails a task that passes its timeout, with the reason, and skips the rest', async (t) => {
    const s = await startCas(t);
    const a = gate('build', 30_000);
    const b = gate('deploy');
    const { job: submitted } = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [a, b] });
    await until(() => a.started);
    s.clock.advance(29_999);
    assert.equal((await job(s, submitted.jobId)).job.execution_status, 'RUNNING');
    s.clock.advance(1);
    await s.server.jobs.settled(submitted.jobId);
    const body = await job(s, submitted.jobId);
    assert.equal(body.job.execution_status, 'FAILED');
    assert.equal(body.tasks[0].task_status, 'FAILED');
    assert.match(body.tasks[0].messages, /timed out after 30 s$/);
    assert.equal(a.sawAbort, true);
    assert.equal(body.tasks[1].task_status, 'SKIPPED');
    assert.equal(b.started, false);
  });

  it('fails the job with the error of a task that throws', async (t) => {
    const s = await startCas(t);
    const a = gate('build');
    const { job: submitted } = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [a] });
    await until(() => a.started);
    a.fail('exit code 2');
    await s.server.jobs.settled(submitted.jobId);
    const body = await job(s, submitted.jobId);
    assert.equal(body.job.execution_status, 'FAILED');
    assert.match(body.tasks[0].messages, /failed: exit code 2$/);
  });

  it('returns 404 SVCSTG.00100429 for an unknown job and for another project\'s job, 400 SVCSTG.00100414 without an id', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/jobs/JOBnope'), 404, 'SVCSTG.00100429');
    const { job: submitted } = await s.server.jobs.submit({ project: 'another-project', jobType: 'deploy', targetId: 'c1', tasks: [] });
    await s.server.jobs.settled(submitted.jobId);
    assertCasError(await s.cas.get(`/jobs/${submitted.jobId}`), 404, 'SVCSTG.00100429');
    assertCasError(await s.cas.get('/jobs'), 400, 'SVCSTG.00100414');
    assertCasError(await s.cas.get('/jobs/x?limit=abc'), 400, 'SVCSTG.00100400', /limit/);
  });

  it('keeps a finished job after a restart, and fails a job a stop interrupted', async (t) => {
    const s = await startCas(t);
    const done = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [] });
    await s.server.jobs.settled(done.job.jobId);
    const a = gate('build');
    const running = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c2', tasks: [a] });
    await until(() => a.started);
    const s2 = await restartCas(s);
    assert.equal((await job(s2, done.job.jobId)).job.execution_status, 'SUCCEEDED');
    const body = await job(s2, running.job.jobId);
    assert.equal(body.job.execution_status, 'FAILED');
    assert.match(body.tasks[0].messages, /interrupted/);
  });
});

describe('POST /v3/{project}/cas/jobs/{job_id}/action', () => {
  it('cancels a running job: its task is aborted, the job FAILED, a repeat is idempotent and the next job runs', async (t) => {
    const s = await startCas(t);
    const a = gate('build');
    const first = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [a] });
    const b = gate('deploy');
    const second = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [b] });
    await until(() => a.started);
    assert.equal(b.started, false, 'jobs on one target run one at a time');
    const r = await s.cas.post(`/jobs/${first.job.jobId}/action`, { action: 'cancel' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { job_id: first.job.jobId, execution_status: 'FAILED' });
    assert.equal(a.sawAbort, true);
    const body = await job(s, first.job.jobId);
    assert.match(body.tasks[0].messages, /cancelled by admin$/);
    const again = await s.cas.post(`/jobs/${first.job.jobId}/action`, { action: 'cancel' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.execution_status, 'FAILED');
    await until(() => b.started);
    b.finish();
    await s.server.jobs.settled(second.job.jobId);
    assert.equal((await job(s, second.job.jobId)).job.execution_status, 'SUCCEEDED');
  });

  it('cancels a queued job at once without running it, while the job ahead keeps running', async (t) => {
    const s = await startCas(t);
    const a = gate('build');
    const first = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [a] });
    const b = gate('deploy');
    const second = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [b, gate('verify')] });
    const c = gate('third');
    const third = await s.server.jobs.submit({ project: ADMIN.projectId, jobType: 'deploy', targetId: 'c1', tasks: [c] });
    await until(() => a.started);
    const r = await s.cas.post(`/jobs/${second.job.jobId}/action`, { action: 'cancel' });
    assert.equal(r.body.execution_status, 'FAILED', r.text);
    const body = await job(s, second.job.jobId);
    assert.deepEqual(body.tasks.map((x: any) => x.task_status), ['FAILED', 'SKIPPED']);
    assert.equal((await job(s, first.job.jobId)).job.execution_status, 'RUNNING');
    assert.equal(c.started, false, 'the third job still waits for the first');
    a.finish();
    await until(() => c.started);
    assert.equal(b.started, false);
    c.finish();
    await s.server.jobs.settled(third.job.jobId);
  });

  it('returns 400 SVCSTG.00100418 for an unknown action and 404 for an unknown job', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/jobs/JOBnope/action', { action: 'pause' }), 400, 'SVCSTG.00100418');
    assertCasError(await s.cas.post('/jobs/JOBnope/action', { action: 'cancel' }), 404, 'SVCSTG.00100429');
    assertCasError(await s.cas.post('/jobs/JOBnope/action', {}), 400, 'SVCSTG.00100400', /action/);
  });
});
