import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fetchSource } from '../../../src/deploy/source.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-source-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Review #6: a failed clone quoted its whole command line, `-c http.extraHeader=Authorization:
// Basic <base64 user:password>` included, in the job's task messages (and the credentials sat
// in the argv of git, readable in /proc by every local user).
describe('git credentials of a clone', () => {
  it('never appear in the error of a failed clone nor in the build log', async (t) => {
    const dir = tempDir(t);
    const password = 'Sekret-pass-42';
    const basic = Buffer.from(`builder:${password}`).toString('base64');
    const lines: string[] = [];
    const logFile = join(dir, 'build.log');
    const err = await fetchSource({ kind: 'code', repo_url: join(dir, 'no-such-repo.git'), repo_ref: 'main' }, join(dir, 'out'), {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      logFile,
      signal: new AbortController().signal,
      credentials: { username: 'builder', password },
      log: (l) => lines.push(l),
    }).then(
      () => assert.fail('the clone of a missing repository succeeded'),
      (e: Error) => e,
    );
    const seen = [err.message, ...lines, readFileSync(logFile, 'utf8')].join('\n');
    assert.match(err.message, /git .*clone/);
    assert.ok(!seen.includes(basic), seen);
    assert.ok(!seen.includes(password), seen);
    assert.ok(!seen.includes('extraHeader'), seen);
  });
});
