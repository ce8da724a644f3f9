import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { ADMIN, IAM_OVERRIDES, login, signedCall } from '../helpers/iam-client.js';
import { startServer } from '../helpers/server.js';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

/**
 * Runs `openstage …` against `url` with the admin key; resolves with code and output.
 * Asynchronous on purpose: the server under test runs in this process.
 */
function cli(url: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, OPENSTAGE_URL: url, OPENSTAGE_ACCESS_KEY: ADMIN.ak, OPENSTAGE_SECRET_KEY: ADMIN.sk, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the command-line client; the server side of every call runs on both databases in
// test/iam.
describe('openstage user|project|key commands', () => {
  it('create and list users, projects, memberships and access keys on a running server', async (t) => {
    // The CLI signs with the real clock, so the server keeps the real clock too.
    const srv = await startServer(t, IAM_OVERRIDES);
    srv.clock.advance(Date.now() - srv.clock.now());
    const user = await cli(srv.url, ['user', 'create', '--name', 'carol', '--password', 'Carol-Passw0rd!']);
    assert.equal(user.code, 0, user.err);
    assert.match(user.out, /user carol created/);
    const project = await cli(srv.url, ['project', 'create', '--name', 'team-a']);
    assert.equal(project.code, 0, project.err);
    const projectId = /id ([0-9a-f]{32})/.exec(project.out)![1]!;
    assert.equal((await cli(srv.url, ['project', 'add-user', '--project', projectId, '--user', 'carol'])).code, 0);
    assert.match((await cli(srv.url, ['user', 'list'])).out, new RegExp(`carol\\tprojects: ${projectId}`));
    assert.match((await cli(srv.url, ['project', 'list'])).out, /team-a/);
    const key = await cli(srv.url, ['key', 'create', '--user', 'carol']);
    assert.equal(key.code, 0, key.err);
    const ak = /AK\): (\S+)/.exec(key.out)![1]!;
    const sk = /SK\): (\S+)/.exec(key.out)![1]!;
    // carol's new key works in her project, and carol can log in there
    assert.equal((await signedCall(srv.url, 'GET', `/v3/projects/${projectId}`, { ak, sk })).status, 200);
    assert.equal((await login(srv.url, 'carol', 'Carol-Passw0rd!', { project: { id: projectId } })).status, 201);
    assert.match((await cli(srv.url, ['key', 'list', '--user', 'carol'])).out, new RegExp(ak));
    assert.equal((await cli(srv.url, ['key', 'delete', '--key', ak])).code, 0);
    assert.equal((await signedCall(srv.url, 'GET', `/v3/projects/${projectId}`, { ak, sk })).status, 401);
    // only the admin may administer
    const denied = await cli(srv.url, ['user', 'list'], { OPENSTAGE_ACCESS_KEY: ak, OPENSTAGE_SECRET_KEY: sk });
    assert.equal(denied.code, 1);
  });

  it('fails with a clear message without credentials or with a bad server', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const none = await cli(srv.url, ['user', 'list'], { OPENSTAGE_ACCESS_KEY: '', OPENSTAGE_SECRET_KEY: '' });
    assert.equal(none.code, 1);
    assert.match(none.err, /admin access key is needed/);
    const wrong = await cli(srv.url, ['user', 'list'], { OPENSTAGE_SECRET_KEY: 'x'.repeat(40) });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /401/);
    assert.equal((await cli(srv.url, ['user', 'frobnicate'])).code, 2);
  });
});
