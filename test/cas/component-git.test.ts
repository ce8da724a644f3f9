import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { assertCasError, startCas, uniqName } from '../helpers/cas-client.js';
import { answer, envAndApp, EXAMPLES, FAST_DEPLOY, nodeBody, waitJob, eventually } from '../helpers/component.js';
import { gitCli, GitClient } from '../git/client.js';

function workDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-comp-git-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Components whose source is a repository hosted by OpenStage (issue #6 source kind code,
// issue #7 authorizations and push-triggered redeploys), with real processes.
describe('components from hosted git repositories', () => {
  it('clones with the repo_auth credentials, and a push to the branch redeploys the component', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const git = new GitClient(s.url, s.cas.token);
    const auth = uniqName('auth');
    const r = await git.call('POST', '/auths/local/password', { body: { name: auth, token: Buffer.from('builder:Builder-pass-1').toString('base64') } });
    assert.equal(r.status, 200, r.text);
    const project = await git.call('POST', '/repos/shop/projects', { auth, body: { name: 'web' } });
    assert.equal(project.status, 200, project.text);
    const cloneUrl: string = project.body.clone_url;
    // Push examples/node-hello to the hosted repository with the authorization's credentials.
    const withCreds = new URL(cloneUrl);
    withCreds.username = 'builder';
    withCreds.password = 'Builder-pass-1';
    const dir = join(workDir(t), 'web');
    cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
    await gitCli(['init', '--quiet', '-b', 'main'], dir);
    await gitCli(['add', '.'], dir);
    await gitCli(['commit', '--quiet', '-m', 'node-hello'], dir);
    await gitCli(['push', '--quiet', withCreds.toString(), 'main'], dir);

    const { envId, appId } = await envAndApp(s);
    // Without credentials the hosted repository refuses the clone; an unknown authorization is refused at once.
    assertCasError(await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, cloneUrl, { source: { kind: 'code', repo_url: cloneUrl, repo_ref: 'main', repo_auth: 'nope' } })), 400, 'SVCSTG.00100400', /repo_auth/);
    const body = nodeBody(envId, cloneUrl, { source: { kind: 'code', repo_url: cloneUrl, repo_ref: 'main', repo_auth: auth } });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const first = await waitJob(s, created.body.job_id);
    assert.equal(first.job.execution_status, 'SUCCEEDED', JSON.stringify(first.tasks));
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    const before = (await s.cas.get(path)).body.status.instances[0];
    assert.equal((await answer(before.port)).service, body.name);

    // A push to main starts a redeploy job that builds the pushed commit.
    writeFileSync(join(dir, 'NOTES.md'), 'second commit\n');
    await gitCli(['add', '.'], dir);
    await gitCli(['commit', '--quiet', '-m', 'notes'], dir);
    const head = (await gitCli(['rev-parse', 'HEAD'], dir)).trim();
    await gitCli(['push', '--quiet', withCreds.toString(), 'main'], dir);
    const redeploy = await eventually('a redeploy job', async () => {
      const got = await s.cas.get(path);
      return got.body.status.last_job_id !== created.body.job_id ? (got.body.status.last_job_id as string) : undefined;
    });
    const job = await waitJob(s, redeploy);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    assert.ok(job.tasks.some((x: any) => x.messages.includes(`source revision ${head}`)), JSON.stringify(job.tasks));
    const after = (await s.cas.get(path)).body.status.instances;
    assert.equal(after.length, 1);
    assert.notEqual(after[0].instance_id, before.instance_id);
    assert.equal((await answer(after[0].port)).service, body.name);
    const records = (await s.cas.get(`${path}/records`)).body.records;
    assert.ok(records.some((x: any) => x.jobs[0].job_id === redeploy));

    // A push to another branch redeploys nothing.
    await gitCli(['push', '--quiet', withCreds.toString(), 'main:feature'], dir);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await s.cas.get(path)).body.status.last_job_id, redeploy);
  });
});
