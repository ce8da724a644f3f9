import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { ensureTomcatHome, findWar, prepareCatalinaBase, type TomcatSettings } from '../../../src/deploy/build/tomcat.js';
import { BuildError } from '../../../src/deploy/build/run.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-tomcat-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tar.gz shaped like a Tomcat distribution (apache-tomcat-<v>/bin/bootstrap.jar …). */
function fakeDistribution(dir: string, version: string): Buffer {
  const top = join(dir, 'src', `apache-tomcat-${version}`);
  mkdirSync(join(top, 'bin'), { recursive: true });
  mkdirSync(join(top, 'conf'), { recursive: true });
  writeFileSync(join(top, 'bin', 'bootstrap.jar'), 'bootstrap');
  writeFileSync(join(top, 'bin', 'tomcat-juli.jar'), 'juli');
  writeFileSync(join(top, 'conf', 'web.xml'), '<web-app/>');
  writeFileSync(join(top, 'conf', 'logging.properties'), '');
  execFileSync('tar', ['-czf', join(dir, 'dist.tar.gz'), '-C', join(dir, 'src'), `apache-tomcat-${version}`]);
  return readFileSync(join(dir, 'dist.tar.gz'));
}

/** Serves `files` by path and counts the requests per path. */
async function serve(t: TestContext, files: Record<string, Buffer | string>, delayMs = 0): Promise<{ url: string; hits: Record<string, number> }> {
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    hits[path] = (hits[path] ?? 0) + 1;
    const body = files[path];
    setTimeout(() => {
      res.statusCode = body === undefined ? 404 : 200;
      res.end(body ?? '');
    }, delayMs);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => {
    server.closeAllConnections();
    server.close(() => ok());
  }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/tomcat`, hits };
}

/** A loopback port nothing listens on. */
async function closedPortOf(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

function options(dir: string, lines: string[] = []) {
  return { env, logFile: join(dir, 'build.log'), signal: new AbortController().signal, log: (l: string) => lines.push(l) };
}

describe('ensureTomcatHome', () => {
  it('downloads once for concurrent builds, verifies the sha512, unpacks into the cache and reuses it', async (t) => {
    const dir = tempDir(t);
    const archive = fakeDistribution(dir, '10.9.9');
    const sum = createHash('sha512').update(archive).digest('hex');
    const { url, hits } = await serve(t, { '/tomcat/10.9.9/tomcat-10.9.9.tar.gz': archive, '/tomcat/10.9.9/tomcat-10.9.9.tar.gz.sha512': `${sum}\n` });
    const settings: TomcatSettings = { home: '', version: '10.9.9', baseUrl: `${url}/`, cacheDir: join(dir, 'cache'), address: '127.0.0.1' };
    // A partial unpack left by a build killed long ago is removed; a recent one (another build's) is not.
    mkdirSync(join(dir, 'cache', '.partial-10.9.9-dead'), { recursive: true });
    utimesSync(join(dir, 'cache', '.partial-10.9.9-dead'), new Date(0), new Date(0));
    mkdirSync(join(dir, 'cache', '.partial-10.9.9-busy'), { recursive: true });
    const lines: string[] = [];
    const homes = await Promise.all([ensureTomcatHome(settings, options(dir, lines)), ensureTomcatHome(settings, options(dir, lines))]);
    assert.deepEqual(homes, [join(dir, 'cache', '10.9.9'), join(dir, 'cache', '10.9.9')]);
    assert.equal(hits['/tomcat/10.9.9/tomcat-10.9.9.tar.gz'], 1);
    assert.equal(readFileSync(join(homes[0]!, 'bin', 'bootstrap.jar'), 'utf8'), 'bootstrap');
    assert.deepEqual(readdirSync(join(dir, 'cache')).sort(), ['.partial-10.9.9-busy', '10.9.9']);
    assert.ok(lines.some((l) => /Tomcat 10\.9\.9 downloaded, verified and unpacked in \d+ ms/.test(l)), lines.join('\n'));
    const again: string[] = [];
    assert.equal(await ensureTomcatHome(settings, options(dir, again)), homes[0]);
    assert.deepEqual(again, ['Tomcat 10.9.9 (cached)']);
    assert.equal(hits['/tomcat/10.9.9/tomcat-10.9.9.tar.gz'], 1);
  });

  it('keeps a shared download going for the other builds when one of them is cancelled, and stops it when all are', async (t) => {
    const dir = tempDir(t);
    const archive = fakeDistribution(dir, '7.7.7');
    const sum = createHash('sha512').update(archive).digest('hex');
    const { url, hits } = await serve(t, { '/tomcat/7.7.7/tomcat-7.7.7.tar.gz': archive, '/tomcat/7.7.7/tomcat-7.7.7.tar.gz.sha512': sum, '/tomcat/7.7.8/tomcat-7.7.8.tar.gz': archive, '/tomcat/7.7.8/tomcat-7.7.8.tar.gz.sha512': sum }, 300);
    const settings: TomcatSettings = { home: '', version: '7.7.7', baseUrl: url, cacheDir: join(dir, 'cache'), address: '127.0.0.1' };
    const cancelled = new AbortController();
    const lines: string[] = [];
    const first = ensureTomcatHome(settings, { ...options(dir), signal: cancelled.signal });
    const second = ensureTomcatHome(settings, options(dir, lines));
    cancelled.abort(new Error('cancelled by tester'));
    await assert.rejects(first, /cancelled by tester/);
    assert.equal(await second, join(dir, 'cache', '7.7.7'));
    assert.deepEqual(lines, ['waiting for the download of Tomcat 7.7.7 another build started']);
    assert.equal(hits['/tomcat/7.7.7/tomcat-7.7.7.tar.gz'], 1);

    const other = { ...settings, version: '7.7.8', cacheDir: join(dir, 'cache2') };
    const all = new AbortController();
    const both = [ensureTomcatHome(other, { ...options(dir), signal: all.signal }), ensureTomcatHome(other, { ...options(dir), signal: all.signal })];
    all.abort(new Error('timed out'));
    for (const p of both) await assert.rejects(p, /timed out/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(existsSync(join(dir, 'cache2', '7.7.8')), false, 'the download was stopped');
    assert.deepEqual(readdirSync(join(dir, 'cache2')), []);
  });

  it('sends the user info of deploy.tomcatUrl as Basic auth and never puts the password in a message', async (t) => {
    const dir = tempDir(t);
    const archive = fakeDistribution(dir, '3.3.3');
    const sum = createHash('sha512').update(archive).digest('hex');
    const files: Record<string, Buffer | string> = { '/m/3.3.3/tomcat-3.3.3.tar.gz': archive, '/m/3.3.3/tomcat-3.3.3.tar.gz.sha512': sum };
    const auths: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      auths.push(req.headers.authorization);
      const body = files[req.url ?? ''];
      res.statusCode = req.headers.authorization !== `Basic ${Buffer.from('mirror-user:Pa55w@rd!').toString('base64')}` ? 401 : body === undefined ? 404 : 200;
      res.end(res.statusCode === 200 ? body : '');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    t.after(() => new Promise<void>((ok) => server.close(() => ok())));
    const port = (server.address() as { port: number }).port;
    const lines: string[] = [];
    const settings: TomcatSettings = { home: '', version: '3.3.3', baseUrl: `http://mirror-user:Pa55w%40rd!@127.0.0.1:${port}/m`, cacheDir: join(dir, 'cache'), address: '127.0.0.1' };
    const home = await ensureTomcatHome(settings, options(dir, lines));
    assert.ok(existsSync(join(home, 'bin', 'bootstrap.jar')));
    assert.equal(auths.length, 2);
    assert.ok(lines.length > 0 && lines.every((l) => !l.includes('Pa55w') && !l.includes('mirror-user')), lines.join('\n'));
    // A failure names the URL without its user info.
    const failing = { ...settings, version: '3.3.4', baseUrl: `http://mirror-user:Pa55w%40rd!@127.0.0.1:${await closedPortOf()}/m` };
    const err = await ensureTomcatHome(failing, options(dir)).then(() => undefined, (e: unknown) => e as Error);
    assert.ok(err instanceof BuildError, String(err));
    assert.match(err.message, /cannot download http:\/\/127\.0\.0\.1:\d+\/m\/3\.3\.4\/tomcat-3\.3\.4\.tar\.gz: ECONNREFUSED/);
    assert.ok(!err.message.includes('Pa55w') && !err.message.includes('mirror-user'), err.message);
  });

  it('falls back to the .sha1 file and reads file:// mirrors', async (t) => {
    const dir = tempDir(t);
    const archive = fakeDistribution(dir, '1.2.3');
    mkdirSync(join(dir, 'repo', '1.2.3'), { recursive: true });
    writeFileSync(join(dir, 'repo', '1.2.3', 'tomcat-1.2.3.tar.gz'), archive);
    writeFileSync(join(dir, 'repo', '1.2.3', 'tomcat-1.2.3.tar.gz.sha1'), createHash('sha1').update(archive).digest('hex'));
    const home = await ensureTomcatHome({ home: '', version: '1.2.3', baseUrl: pathToFileURL(join(dir, 'repo')).toString(), cacheDir: join(dir, 'cache'), address: '127.0.0.1' }, options(dir));
    assert.ok(existsSync(join(home, 'bin', 'tomcat-juli.jar')));
  });

  it('refuses an archive that is not a Tomcat distribution and keeps nothing', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'src', 'x'), { recursive: true });
    writeFileSync(join(dir, 'src', 'x', 'README'), 'hi');
    execFileSync('tar', ['-czf', join(dir, 'x.tar.gz'), '-C', join(dir, 'src'), 'x']);
    const archive = readFileSync(join(dir, 'x.tar.gz'));
    const { url } = await serve(t, { '/tomcat/5.0.0/tomcat-5.0.0.tar.gz': archive, '/tomcat/5.0.0/tomcat-5.0.0.tar.gz.sha512': createHash('sha512').update(archive).digest('hex') });
    await assert.rejects(ensureTomcatHome({ home: '', version: '5.0.0', baseUrl: url, cacheDir: join(dir, 'cache'), address: '127.0.0.1' }, options(dir)), (e: Error) => e instanceof BuildError && /is not a Tomcat distribution/.test(e.message));
    assert.deepEqual(readdirSync(join(dir, 'cache')), []);
  });
});

describe('findWar', () => {
  const cases: [string, string[], boolean, string | RegExp][] = [
    ['a package with one war', ['app.war', 'README'], false, 'app.war'],
    ['a Maven build with one war', ['target/app.war', 'target/classes/x'], true, 'target/app.war'],
    ['a package with two wars', ['a.war', 'b.war'], false, /the package holds 2 wars \(a\.war, b\.war\)/],
    ['a Maven build without a war', ['target/app.jar'], true, /no \.war in target\/.*found: app\.jar/],
    ['a Maven build without target/', [], true, /found: nothing/],
  ];
  for (const [what, files, built, expected] of cases) {
    it(`handles ${what}`, (t) => {
      const dir = tempDir(t);
      for (const f of files) {
        mkdirSync(join(dir, f, '..'), { recursive: true });
        writeFileSync(join(dir, f), '');
      }
      if (typeof expected === 'string') assert.equal(findWar(dir, built), expected);
      else assert.throws(() => findWar(dir, built), (e: Error) => e instanceof BuildError && expected.test(e.message));
    });
  }
});

describe('prepareCatalinaBase', () => {
  it('writes conf/ from CATALINA_HOME, a server.xml on the port and address, ROOT.war and the start arguments', (t) => {
    const dir = tempDir(t);
    const home = join(dir, 'home');
    mkdirSync(join(home, 'conf'), { recursive: true });
    writeFileSync(join(home, 'conf', 'web.xml'), '<web-app/>');
    mkdirSync(join(dir, 'artifact', 'target'), { recursive: true });
    writeFileSync(join(dir, 'artifact', 'target', 'app.war'), 'war bytes');
    const base = join(dir, 'base');
    const args = prepareCatalinaBase(base, join(dir, 'artifact'), { home, war: 'target/app.war', address: '0.0.0.0' }, 21234);
    const xml = readFileSync(join(base, 'conf', 'server.xml'), 'utf8');
    assert.match(xml, /<Server port="-1" shutdown="SHUTDOWN">/);
    assert.match(xml, /<Connector address="0\.0\.0\.0" port="21234" protocol="HTTP\/1\.1"/);
    assert.equal((xml.match(/<Connector /g) ?? []).length, 1);
    assert.equal(readFileSync(join(base, 'conf', 'web.xml'), 'utf8'), '<web-app/>');
    assert.equal(readFileSync(join(base, 'webapps', 'ROOT.war'), 'utf8'), 'war bytes');
    for (const sub of ['logs', 'temp', 'work']) assert.ok(existsSync(join(base, sub)), sub);
    assert.deepEqual(args.slice(-4), ['-cp', `${home}/bin/bootstrap.jar:${home}/bin/tomcat-juli.jar`, 'org.apache.catalina.startup.Bootstrap', 'start']);
    assert.ok(args.includes(`-Dcatalina.home=${home}`) && args.includes(`-Dcatalina.base=${base}`) && args.includes(`-Djava.io.tmpdir=${base}/temp`), args.join(' '));
  });
});
