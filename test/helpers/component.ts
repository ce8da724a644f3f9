import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestContext } from 'node:test';
import { uniqName, type CasServer } from './cas-client.js';
import { fixtureDir, HOST_ENV } from './server.js';

/** Helpers of the component tests (test/cas/component*.test.ts): sources, bodies, job polling. */

export const EXAMPLES = resolve(new URL('../../../examples', import.meta.url).pathname);

/** Engine settings that keep real-process tests short. */
export const FAST_DEPLOY = { 'deploy.settleSeconds': 1, 'deploy.monitorSeconds': 1, 'deploy.readyTimeoutSeconds': 20 };

/** A file:// git repository of examples/node-hello on branch main, removed after the test. */
export function nodeHelloRepo(t: TestContext): string {
  const dir = fixtureDir(t, 'repo-');
  cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
  const env = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  execFileSync('git', ['add', '.'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env });
  return pathToFileURL(dir).toString();
}

/** A new environment and application. */
export async function envAndApp(s: CasServer): Promise<{ envId: string; envName: string; appId: string; appName: string }> {
  const envName = uniqName('env');
  const e = await s.cas.post('/environments', { name: envName, vpc_id: 'vpc-local' });
  assert.equal(e.status, 200, e.text);
  const appName = uniqName('app');
  const a = await s.cas.post('/applications', { name: appName });
  assert.equal(a.status, 200, a.text);
  return { envId: e.body.id, envName, appId: a.body.id, appName };
}

/** A valid Nodejs component body from a git repository URL. */
export function nodeBody(envId: string, repoUrl: string, over: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: uniqName('web'),
    runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' },
    source: { kind: 'code', repo_url: repoUrl, repo_ref: 'main' },
    replica: 1,
    version: '1.0.0',
    environment_id: envId,
    refer_resources: [],
    readiness_probe: { type: 'http', path: '/health', timeout: 1 },
    ...over,
  };
}

/** Polls GET /jobs/{id} until the job leaves RUNNING (at most `timeoutMs`). @returns the job detail */
export async function waitJob(s: CasServer, jobId: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await s.cas.get(`/jobs/${jobId}`);
    assert.equal(r.status, 200, r.text);
    if (r.body.job.execution_status !== 'RUNNING') return r.body;
    assert.ok(Date.now() < deadline, `job ${jobId} still RUNNING after ${timeoutMs} ms: ${r.text}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Polls `probe` until it returns a value other than undefined (at most `timeoutMs`). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** GET / of a replica on 127.0.0.1:port. */
export async function answer(port: number): Promise<any> {
  return (await fetch(`http://127.0.0.1:${port}/`)).json();
}
