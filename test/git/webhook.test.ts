import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PushEvent } from '../../src/git/types.js';
import { assertCasError } from '../helpers/cas-client.js';
import { call } from '../helpers/registry-client.js';
import { startGit } from './client.js';

const SECRET = 'wh-secret-123';
const githubPush = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), repository: { clone_url: 'https://github.com/o/r.git' } });
const gitlabPush = JSON.stringify({ ref: 'refs/heads/dev', after: 'b'.repeat(40), project: { git_http_url: 'https://gitlab.com/g/r.git' } });
const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function setup(t: Parameters<typeof startGit>[0]) {
  const s = await startGit(t, { 'git.webhookSecret': SECRET });
  const events: PushEvent[] = [];
  s.server.git.deps.bus.subscribe('git.push.received', (e) => events.push(e));
  const post = (body: string, headers: Record<string, string>) => call(s.url, 'POST', `/v1/${s.git.project}/git/webhooks`, { body, headers: { 'content-type': 'application/json', ...headers } });
  return { s, events, post };
}

describe('POST /v1/{p}/git/webhooks', () => {
  it('publishes a GitHub push with a valid X-Hub-Signature-256 (no IAM token needed)', async (t) => {
    const { s, events, post } = await setup(t);
    const r = await post(githubPush, { 'x-github-event': 'push', 'x-hub-signature-256': sign(githubPush) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { result: 'published', branch: 'main' });
    assert.deepEqual(events, [{ project: s.git.project, repoType: 'github', cloneUrl: 'https://github.com/o/r.git', branch: 'main', sha: 'a'.repeat(40) }]);
  });

  it('publishes a GitLab push with the right X-Gitlab-Token', async (t) => {
    const { s, events, post } = await setup(t);
    const r = await post(gitlabPush, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(events, [{ project: s.git.project, repoType: 'gitlab', cloneUrl: 'https://gitlab.com/g/r.git', branch: 'dev', sha: 'b'.repeat(40) }]);
  });

  const refused: [string, string, Record<string, string>][] = [
    ['a GitHub delivery signed with another secret', githubPush, { 'x-github-event': 'push', 'x-hub-signature-256': sign(githubPush, 'other') }],
    ['a GitHub delivery without signature', githubPush, { 'x-github-event': 'push' }],
    ['a GitHub body changed after signing', githubPush.replace('main', 'evil'), { 'x-github-event': 'push', 'x-hub-signature-256': sign(githubPush) }],
    ['a GitLab delivery with a wrong token', gitlabPush, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' }],
    ['a GitLab delivery without token', gitlabPush, { 'x-gitlab-event': 'Push Hook' }],
  ];
  for (const [what, body, headers] of refused) {
    it(`refuses ${what} with 401 SVCSTG.REPO.0453 and publishes nothing`, async (t) => {
      const { events, post } = await setup(t);
      assertCasError(await post(body, headers), 401, 'SVCSTG.REPO.0453');
      assert.deepEqual(events, []);
    });
  }

  it('verifies with the secret of a hook created through the API, and ignores tag pushes and pings', async (t) => {
    const { s, events, post } = await setup(t);
    await s.git.call('POST', '/auths/local/password', { body: { name: 'l1', token: Buffer.from('u:p-long-enough').toString('base64') } });
    await s.git.call('POST', '/repos/ns/projects', { auth: 'l1', body: { name: 'r' } });
    await s.git.call('POST', '/repos/ns/r/hooks', { auth: 'l1', body: { url: 'http://127.0.0.1:9/x', secret: 'per-hook' } });
    assert.equal((await post(githubPush, { 'x-github-event': 'push', 'x-hub-signature-256': sign(githubPush, 'per-hook') })).status, 200);
    const tag = JSON.stringify({ ref: 'refs/tags/v1', after: 'c'.repeat(40) });
    assert.deepEqual((await post(tag, { 'x-github-event': 'push', 'x-hub-signature-256': sign(tag) })).body, { result: 'ignored' });
    const ping = JSON.stringify({ zen: 'hi' });
    assert.deepEqual((await post(ping, { 'x-github-event': 'ping', 'x-hub-signature-256': sign(ping) })).body, { result: 'ignored' });
    assert.equal(events.length, 1);
  });

  it('answers a 10,000-level body with 400 SVCSTG.REPO.0400 naming the bound, not 500 (issue #15 M1)', async (t) => {
    const { events, post } = await setup(t);
    const deep = '{"a":'.repeat(5_000) + '['.repeat(5_000) + ']'.repeat(5_000) + '}'.repeat(5_000);
    assertCasError(await post(deep, { 'x-github-event': 'push', 'x-hub-signature-256': sign(deep) }), 400, 'SVCSTG.REPO.0400', /nests deeper than 64 levels/);
    assert.deepEqual(events, []);
  });

  it('returns 400 SVCSTG.REPO.0400 for a delivery from an unknown sender', async (t) => {
    const { post } = await setup(t);
    assertCasError(await post('{}', {}), 400, 'SVCSTG.REPO.0400');
  });
});
