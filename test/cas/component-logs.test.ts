import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { startCas, type CasServer } from '../helpers/cas-client.js';
import { envAndApp, eventually, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { httpRoute, routeAppRepo, viaRoute } from '../helpers/route.js';
import { fixtureDir, HOST_ENV } from '../helpers/server.js';

// Logs (issue #20 items 3 and 6): build logs per job task, followable; replica logs
// followable; stopped replicas keep their last lines; a failed build shows its error lines
// first; each build has its own revision in the records. Real server, real builds and replicas.

/** An event of a Server-Sent Events stream. */
interface SseEvent {
  event: string;
  data: any;
}

/**
 * Opens an event stream (GET with the admin token) and collects its events until `until`
 * says so or the stream ends. @returns the events and a function that closes the stream
 */
function openEvents(s: CasServer, path: string): { events: SseEvent[]; ended: Promise<void>; close: () => void; status: Promise<{ status: number; type: string }> } {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  let resolveStatus!: (v: { status: number; type: string }) => void;
  const status = new Promise<{ status: number; type: string }>((r) => (resolveStatus = r));
  const ended = (async () => {
    try {
      const res = await fetch(`${s.url}/v3/${s.cas.project}/cas${path}`, { headers: { 'x-auth-token': s.cas.token }, signal: controller.signal });
      resolveStatus({ status: res.status, type: res.headers.get('content-type') ?? '' });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    }
  })();
  return { events, ended, close: () => controller.abort(), status };
}

/** A Node.js repository whose lockfile lacks a dependency of package.json: `npm ci` fails with EUSAGE and its usage text. */
function brokenLockRepo(t: TestContext): string {
  const dir = fixtureDir(t, 'broken-lock-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'broken', version: '1.0.0', dependencies: { 'left-pad': '1.3.0' } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'broken', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'broken', version: '1.0.0' } } }));
  writeFileSync(join(dir, 'server.js'), 'require("node:http").createServer((q, r) => r.end("x")).listen(process.env.PORT);\n');
  const env = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  execFileSync('git', ['add', '.'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env });
  return pathToFileURL(dir).toString();
}

describe('GET /v3/{project}/cas/jobs/{job_id}/tasks/{task_id}/logs', () => {
  it("answers each task's whole log, and follows a running build until it ends", async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, routeAppRepo(t)));
    assert.equal(created.status, 200, created.text);
    const jobId = created.body.job_id;
    const tasks = (await s.cas.get(`/jobs/${jobId}`)).body.tasks;
    // Follow the build task from before it starts: its lines, then `end` with its status.
    const follow = openEvents(s, `/jobs/${jobId}/tasks/${tasks[1].task_id}/logs?follow=true`);
    assert.deepEqual(await follow.status, { status: 200, type: 'text/event-stream; charset=utf-8' });
    await follow.ended;
    const end = follow.events.at(-1)!;
    assert.deepEqual(end, { event: 'end', data: { task_status: 'SUCCEEDED' } });
    const followed = follow.events.filter((e) => e.event === 'log').map((e) => e.data.line);
    assert.ok(followed.includes('npm install (no lockfile)'), followed.join('\n'));
    assert.ok(followed.some((l) => /^start command: /.test(l)), followed.join('\n'));
    assert.equal((await waitJob(s, jobId)).job.execution_status, 'SUCCEEDED');
    // The whole log afterwards: the same lines.
    const build = await s.cas.get(`/jobs/${jobId}/tasks/${tasks[1].task_id}/logs`);
    assert.equal(build.status, 200, build.text);
    assert.equal(build.body.task_status, 'SUCCEEDED');
    assert.equal(build.body.skipped_bytes, 0);
    assert.deepEqual(build.body.lines, followed);
    const fetchLog = await s.cas.get(`/jobs/${jobId}/tasks/${tasks[0].task_id}/logs?lines=1`);
    assert.match(fetchLog.body.lines[0], /^source revision [0-9a-f]{40}$/);
    const rollout = await s.cas.get(`/jobs/${jobId}/tasks/${tasks[3].task_id}/logs`);
    assert.ok(rollout.body.lines.some((l: string) => /replica\(s\) ready/.test(l)), rollout.text);
    // A task that does not exist: 404 in the job API's format.
    const missing = await s.cas.get(`/jobs/${jobId}/tasks/TASKnope/logs`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 'SVCSTG.00100408');
  });

  it("shows a failed npm ci's error lines first in the job, and its whole log through the API", async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, brokenLockRepo(t)));
    const job = await waitJob(s, created.body.job_id, 180_000);
    assert.equal(job.job.execution_status, 'FAILED');
    const build = job.tasks[1];
    assert.equal(build.task_status, 'FAILED');
    // npm's first error lines (the reason) come before the tail, which is its usage text.
    const errorsAt = build.messages.indexOf('error lines of the build log:');
    const tailAt = build.messages.indexOf('last lines of the build log:');
    assert.ok(errorsAt > 0 && tailAt > errorsAt, build.messages);
    const first = build.messages.slice(errorsAt, tailAt);
    assert.match(first, /npm error code EUSAGE/);
    assert.match(first, /npm error Missing: left-pad@1\.3\.0 from lock file/);
    assert.doesNotMatch(first, /Usage:/);
    const whole = await s.cas.get(`/jobs/${created.body.job_id}/tasks/${build.task_id}/logs`);
    assert.ok(whole.body.lines.includes('npm error Usage:'), whole.text);
    assert.ok(whole.body.lines.includes('npm error Missing: left-pad@1.3.0 from lock file'));
    // The task's failure message closes the log (its quoted lines after it).
    assert.ok(whole.body.lines.some((l: string) => /^failed: 'npm ci --no-audit --no-fund' failed with exit code 1; error lines of the build log:$/.test(l)), whole.text);
  });
});

describe('GET /v3/{project}/cas/applications/{application_id}/components/{component_id}/logs', () => {
  it('follows the replicas (new ones included) with follow=true, and keeps the last lines of stopped ones', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, routeAppRepo(t)));
    assert.equal((await waitJob(s, created.body.job_id, 180_000)).job.execution_status, 'SUCCEEDED');
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    const got = (await s.cas.get(path)).body;
    const host = httpRoute(got).host;
    const port = Number(new URL(s.url).port);
    const follow = openEvents(s, `${path}/logs?follow=true&lines=5`);
    t.after(() => follow.close());
    assert.deepEqual(await follow.status, { status: 200, type: 'text/event-stream; charset=utf-8' });
    const first = got.status.instances[0].instance_id;
    await eventually('the tail', async () => (follow.events.some((e) => e.data.line === `route-app 1.0.0 listening on ${got.status.instances[0].port}`) ? true : undefined));
    assert.equal((await viaRoute(port, host, '/log?text=marker-one')).text, 'logged');
    await eventually('a new line', async () => (follow.events.some((e) => e.data.line === 'marker-one') ? true : undefined));
    assert.deepEqual(follow.events.find((e) => e.data.line === 'marker-one')!.data, { instance_id: first, version: '1.0.0', line: 'marker-one' });
    // A replica started during the follow is followed from its first line.
    const scale = await s.cas.post(`${path}/action`, { action: 'scale', parameters: { replica: 2 } });
    assert.equal((await waitJob(s, scale.body.job_id)).job.execution_status, 'SUCCEEDED');
    const second = (await s.cas.get(path)).body.status.instances.find((i: any) => i.instance_id !== first);
    await eventually("the new replica's first line", async () => (follow.events.some((e) => e.data.instance_id === second.instance_id && e.data.line === `route-app 1.0.0 listening on ${second.port}`) ? true : undefined));
    follow.close();
    await follow.ended;
    // Stopped: the replicas' last lines stay readable.
    const stop = await s.cas.post(`${path}/action`, { action: 'stop' });
    assert.equal((await waitJob(s, stop.body.job_id)).job.execution_status, 'SUCCEEDED');
    const logs = await s.cas.get(`${path}/logs?lines=3`);
    assert.equal(logs.status, 200, logs.text);
    assert.deepEqual(logs.body.logs.map((l: any) => l.state), ['stopped', 'stopped'], logs.text);
    const kept = logs.body.logs.find((l: any) => l.instance_id === first);
    assert.ok(kept.lines.includes('marker-one'), logs.text);
    assert.match(kept.stopped_at, /^\d{4}-\d\d-\d\dT/);
  });
});

describe('GET .../components/{component_id}/records', () => {
  it('gives each build its own revision when the version stays the same', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const body = nodeBody(envId, routeAppRepo(t));
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    await waitJob(s, created.body.job_id, 180_000);
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    const again = await s.cas.put(path, body);
    await waitJob(s, again.body.job_id, 180_000);
    const records = (await s.cas.get(`${path}/records`)).body.records;
    assert.deepEqual(records.map((r: any) => r.version), ['1.0.0', '1.0.0']);
    const revisions = records.map((r: any) => r.description.revision);
    assert.deepEqual(revisions, [`1.0.0-${again.body.job_id.slice(3, 11)}`, `1.0.0-${created.body.job_id.slice(3, 11)}`]);
  });
});
