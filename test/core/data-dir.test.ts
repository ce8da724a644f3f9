import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.js';
import { buildServer } from '../../src/server.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';
import { freshDatabase, TEST_DB } from '../helpers/server.js';

describe('the data directory (issue #15)', () => {
  it('given as a relative path, is resolved at start: a hosted repository is created (it answered 500 "not in a git directory")', async (t) => {
    const parent = mkdtempSync(join(tmpdir(), 'openstage-rel-'));
    t.after(() => rmSync(parent, { recursive: true, force: true }));
    const relativeDir = relative(process.cwd(), join(parent, 'demo-data'));
    assert.ok(!isAbsolute(relativeDir));
    const { db, drop } = await freshDatabase();
    t.after(drop);
    const config = loadConfig({ overrides: { ...IAM_OVERRIDES, port: 0, dataDir: relativeDir, db, logLevel: 'silent', 'secrets.passwordHashLog2N': 10 } });
    assert.equal(config.dataDir, join(parent, 'demo-data'));
    const server = await buildServer(config);
    t.after(() => server.close());
    const url = await server.listen('127.0.0.1', 0);
    const token = (await login(url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const git = (method: string, path: string, body: unknown, auth?: string) =>
      call(url, method, `/v1/${ADMIN.projectId}/git${path}`, { body, headers: { 'x-auth-token': token, ...(auth ? { 'x-repo-auth': auth } : {}) } });
    assert.equal((await git('POST', '/auths/local/password', { name: 'me', token: Buffer.from('me:My-pass-1').toString('base64') })).status, 200);
    const repo = await git('POST', '/repos/shop/projects', { name: 'web' }, 'me');
    assert.equal(repo.status, 200, repo.text);
    assert.match(repo.body.clone_url, /\/git\/[0-9a-f]+\/shop\/web\.git$/);
    const file = await git('POST', '/files/shop/web/README.md?ref=main', { message: 'init', content: 'hi\n' }, 'me');
    assert.equal(file.status, 200, file.text);
  });

  it('is created readable by its owner alone, with the database and the master key (L7)', { skip: TEST_DB !== 'sqlite' }, async (t) => {
    const parent = mkdtempSync(join(tmpdir(), 'openstage-modes-'));
    t.after(() => rmSync(parent, { recursive: true, force: true }));
    const dataDir = join(parent, 'fresh', 'data');
    const server = await buildServer(loadConfig({ overrides: { port: 0, dataDir, logLevel: 'silent', 'secrets.passwordHashLog2N': 10 } }));
    t.after(() => server.close());
    const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
    assert.equal(mode(dataDir), '700');
    assert.equal(mode(join(dataDir, 'openstage.db')), '600');
    assert.equal(mode(join(dataDir, 'openstage.db-wal')), '600');
    assert.equal(mode(join(dataDir, 'master.key')), '600');
  });
});
