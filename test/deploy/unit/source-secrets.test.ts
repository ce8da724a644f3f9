import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fetchSource } from '../../../src/deploy/source.js';
import { plainRunner } from '../../helpers/build.js';

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
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
    mkdirSync(join(dir, 'out'));
    const err = await fetchSource({ kind: 'code', repo_url: join(dir, 'no-such-repo.git'), repo_ref: 'main' }, join(dir, 'out'), {
      env,
      run: plainRunner(join(dir, 'out'), env, logFile, new AbortController().signal),
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

// A package URL with user info: fetch() refuses such URLs and its TypeError quoted the whole
// URL, password included, into the job's task messages.
describe('user info of a package URL', () => {
  it('goes as Basic auth, and neither a success nor a failure shows the password', async (t) => {
    const dir = tempDir(t);
    const password = 'Pkg-pass-42';
    const seenAuth: string[] = [];
    const server = createServer((req, res) => {
      seenAuth.push(req.headers.authorization ?? '');
      if (req.url === '/app.jar') res.end('jar bytes');
      else res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const base = `http://deployer:${password}@127.0.0.1:${(server.address() as AddressInfo).port}`;
    const lines: string[] = [];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
    const options = (out: string) => {
      mkdirSync(join(dir, out));
      return { env, run: plainRunner(join(dir, out), env, join(dir, 'build.log'), new AbortController().signal), log: (l: string) => lines.push(l) };
    };
    await fetchSource({ kind: 'package', url: `${base}/app.jar` }, join(dir, 'ok'), options('ok'));
    assert.equal(readFileSync(join(dir, 'ok', 'app.jar'), 'utf8'), 'jar bytes');
    assert.equal(seenAuth[0], `Basic ${Buffer.from(`deployer:${password}`).toString('base64')}`);
    const err = await fetchSource({ kind: 'package', url: `${base}/broken.jar` }, join(dir, 'bad'), options('bad')).then(
      () => assert.fail('a 500 was accepted'),
      (e: Error) => e,
    );
    assert.match(err.message, /cannot download http:\/\/127\.0\.0\.1:\d+\/broken\.jar: HTTP 500/);
    assert.ok(!existsSync(join(dir, 'bad', 'broken.jar')));
    assert.ok(![err.message, ...lines].join('\n').includes(password), [err.message, ...lines].join('\n'));
  });
});
