import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { PushEvent } from '../../src/git/types.js';
import { assertCasError, uniqName } from '../helpers/cas-client.js';
import { TEST_CLUSTER } from '../helpers/server.js';
import { gitCli, gitRun, localAuth, startGit, stubServer } from './client.js';

function workDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-git-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves with the next `git.push.received` event of the server (of whichever server received the push). */
function nextPush(s: Awaited<ReturnType<typeof startGit>>): Promise<PushEvent> {
  return new Promise((resolve) => {
    const offs = s.servers.map((server) =>
      server.git.deps.bus.subscribe('git.push.received', (e) => {
        for (const off of offs) off();
        resolve(e);
      }),
    );
  });
}

describe('smart HTTP /git/{project}/{namespace}/{repo}.git', () => {
  it('clones, pushes with the authorization credentials, and the API reads the pushed tree and files back', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'alice', 'pw-alice-1');
    const created = await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } });
    await s.git.call('POST', '/files/team/web/README.md?ref=main', { auth, body: { message: 'init', content: 'hello\n' } });
    const url = new URL(created.body.clone_url);
    url.username = 'alice';
    url.password = 'pw-alice-1';
    const dir = workDir(t);
    await gitCli(['clone', '--quiet', url.toString(), 'web'], dir);
    const repo = join(dir, 'web');
    assert.equal(readFileSync(join(repo, 'README.md'), 'utf8'), 'hello\n');
    writeFileSync(join(repo, 'app.js'), 'console.log("hi");\n');
    await gitCli(['add', 'app.js'], repo);
    await gitCli(['commit', '--quiet', '-m', 'add app'], repo);
    const pushed = nextPush(s);
    await gitCli(['push', '--quiet', 'origin', 'main'], repo);
    const head = (await gitCli(['rev-parse', 'HEAD'], repo)).trim();
    const event = await pushed;
    assert.deepEqual(event, { project: s.git.project, repoType: 'local', cloneUrl: created.body.clone_url, branch: 'main', sha: head });
    assert.deepEqual((await s.git.call('GET', '/files/team/web/trees?ref=main', { auth })).body, { paths: ['README.md', 'app.js'] });
    const f = await s.git.call('GET', '/files/team/web/app.js?ref=main', { auth });
    assert.equal(f.body.content, 'console.log("hi");\n');
    const commits = (await s.git.call('GET', '/repos/team/web/commits', { auth })).body.commits;
    assert.deepEqual([commits[0].sha, commits[0].message], [head, 'add app']);
    await gitCli(['push', '--quiet', 'origin', 'main:feature'], repo);
    assert.deepEqual((await s.git.call('GET', '/repos/team/web/branches', { auth })).body, { branches: ['feature', 'main'] });
    // An API commit is fetched by the clone.
    await s.git.call('POST', '/files/team/web/api.txt?ref=main', { auth, body: { message: 'from api', content: 'x' } });
    await gitCli(['pull', '--quiet', '--ff-only', 'origin', 'main'], repo);
    assert.equal(readFileSync(join(repo, 'api.txt'), 'utf8'), 'x');
  });

  it('accepts a private token as the password with any user name', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('tok');
    assert.equal((await s.git.call('POST', '/auths/local/personal', { body: { name: auth, token: 'tok-123456' } })).status, 200);
    await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'lib' } });
    const dir = workDir(t);
    await gitCli(['clone', '--quiet', `http://anyone:tok-123456@${new URL(s.url).host}/git/${s.git.project}/team/lib.git`, 'lib'], dir);
  });

  const refused: [string, string][] = [
    ['no credentials', ''],
    ['a wrong password', 'alice:wrong@'],
    ['a wrong user for a password authorization', 'mallory:pw-alice-1@'],
  ];
  for (const [what, creds] of refused) {
    it(`refuses ${what} with 401`, async (t) => {
      const s = await startGit(t);
      const auth = uniqName('a');
      await localAuth(s, auth, 'alice', 'pw-alice-1');
      await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } });
      const r = await fetch(`${s.url}/git/${s.git.project}/team/web.git/info/refs?service=git-upload-pack`, {
        headers: creds ? { authorization: `Basic ${Buffer.from(creds.slice(0, -1)).toString('base64')}` } : {},
      });
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic /);
      const dir = workDir(t);
      const c = await gitRun(['clone', `http://${creds}${new URL(s.url).host}/git/${s.git.project}/team/web.git`, 'web'], dir);
      assert.notEqual(c.status, 0);
    });
  }

  it('answers 404 for an unknown repository or a dumb-HTTP path', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'alice', 'pw-alice-1');
    const h = { authorization: `Basic ${Buffer.from('alice:pw-alice-1').toString('base64')}` };
    assert.equal((await fetch(`${s.url}/git/${s.git.project}/team/none.git/info/refs?service=git-upload-pack`, { headers: h })).status, 404);
    await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } });
    assert.equal((await fetch(`${s.url}/git/${s.git.project}/team/web.git/HEAD`, { headers: h })).status, 404);
    assert.equal((await fetch(`${s.url}/git/${s.git.project}/team/web.git/info/refs?service=git-upload-pack`, { headers: h })).status, 200);
  });

  it("delivers the repository's hooks after a push, signed with the hook secret", async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'alice', 'pw-alice-1');
    let gotDelivery!: (body: string, sig: string) => void;
    const delivered = new Promise<{ body: string; sig: string }>((resolve) => (gotDelivery = (body, sig) => resolve({ body, sig })));
    const stub = await stubServer(t, (req, res) => {
      res.writeHead(200).end();
      gotDelivery(req.body, String(req.headers['x-hub-signature-256']));
    });
    const created = await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'svc' } });
    assert.equal((await s.git.call('POST', '/repos/team/svc/hooks', { auth, body: { url: `${stub.base}/hook`, secret: 'hs-1' } })).status, 200);
    const dir = workDir(t);
    const url = new URL(created.body.clone_url);
    url.username = 'alice';
    url.password = 'pw-alice-1';
    await gitCli(['init', '--quiet', '-b', 'main', 'svc'], dir);
    const repo = join(dir, 'svc');
    writeFileSync(join(repo, 'a.txt'), 'a');
    await gitCli(['add', '.'], repo);
    await gitCli(['commit', '--quiet', '-m', 'a'], repo);
    await gitCli(['push', '--quiet', url.toString(), 'main'], repo);
    const { body, sig } = await delivered;
    assert.equal(sig, `sha256=${createHmac('sha256', 'hs-1').update(body).digest('hex')}`);
    const payload = JSON.parse(body);
    assert.equal(payload.ref, 'refs/heads/main');
    assert.equal(payload.after, (await gitCli(['rev-parse', 'HEAD'], repo)).trim());
    assert.equal(payload.repository.clone_url, created.body.clone_url);
  });

  it('keeps a keep-alive connection usable after git answers before reading the body (415 on a wrong Content-Type, issue #15 M3)', async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'alice', 'pw-alice-1');
    await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } });
    const { hostname, port } = new URL(s.url);
    const basicAuth = `Basic ${Buffer.from('alice:pw-alice-1').toString('base64')}`;
    const path = `/git/${s.git.project}/team/web.git`;
    const body = 'x'.repeat(512 * 1024);
    const answers = await new Promise<string[]>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      const seen: string[] = [];
      let buffer = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(seen);
      }, 15_000);
      socket.on('data', (d) => {
        buffer += d.toString('latin1');
        // Each answer ends after its Content-Length or its last chunk.
        const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/.exec(buffer);
        if (!m) return;
        const length = /content-length: (\d+)/i.exec(m[0]);
        const end = length ? m[0].length + Number(length[1]) : buffer.indexOf('0\r\n\r\n', m[0].length) + 5;
        if (end < 5 || buffer.length < end) return;
        seen.push(m[1]!);
        buffer = buffer.slice(end);
        if (seen.length === 1) socket.write(`GET ${path}/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth}\r\n\r\n`);
        else {
          clearTimeout(timer);
          socket.destroy();
          resolve(seen);
        }
      });
      socket.on('error', reject);
      socket.write(`POST ${path}/git-receive-pack HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    assert.deepEqual(answers, ['415', '200'], 'the second request on the connection is answered');
  });

  // Login back-off is counted per server (docs/cluster.md): behind a round-robin balancer the
  // five failures spread over three servers.
  it('backs off Basic auth after 5 wrong passwords from one address (429 with Retry-After), and refuses a short local password (issue #15 L2)', { skip: TEST_CLUSTER > 1 && 'login back-off is counted per server' }, async (t) => {
    const s = await startGit(t);
    const auth = uniqName('a');
    await localAuth(s, auth, 'alice', 'pw-alice-1');
    await s.git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } });
    const refs = `${s.url}/git/${s.git.project}/team/web.git/info/refs?service=git-upload-pack`;
    const as = (password: string) => fetch(refs, { headers: { authorization: `Basic ${Buffer.from(`alice:${password}`).toString('base64')}` } });
    for (let i = 0; i < 5; i++) assert.equal((await as(`guess-${i}`)).status, 401);
    const held = await as('pw-alice-1');
    assert.equal(held.status, 429, 'the right password waits too: nothing is checked during the wait');
    assert.equal(held.headers.get('retry-after'), '1');
    s.clock.advance(1000);
    assert.equal((await as('pw-alice-1')).status, 200);

    const short = await s.git.call('POST', '/auths/local/password', { body: { name: uniqName('s'), token: Buffer.from('bob:x').toString('base64') } });
    assertCasError(short, 400, 'SVCSTG.REPO.0400', /at least 8 characters/);
    assertCasError(await s.git.call('POST', '/auths/local/personal', { body: { name: uniqName('s'), token: 'tok' } }), 400, 'SVCSTG.REPO.0400', /at least 8 characters/);
  });
});
