import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import pino from 'pino';
import { Bus } from '../../src/core/bus.js';
import { systemClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { openDatabase } from '../../src/core/db/kysely.js';
import { SecretBox } from '../../src/core/secrets.js';
import { DeployService } from '../../src/deploy/service.js';
import { JobService } from '../../src/deploy/job-service.js';
import type { ComponentPlan, DeployEvents } from '../../src/deploy/types.js';
import { fixtureDir, freshDatabase, TEST_DEPLOY } from '../helpers/server.js';
import { exampleRepo, sharedTomcatHome, tomcatHelloWar } from '../helpers/tomcat.js';

const log = pino({ level: 'silent' });
const hostEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

/** An engine on a temp data dir and the suite's database, real clock and processes; Tomcat from the shared cache unless overridden. */
async function engine(t: TestContext, overrides: Record<string, unknown> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'openstage-tomcat-'));
  const database = await freshDatabase();
  const config = loadConfig({ overrides: { dataDir, db: database.db, logLevel: 'silent', 'deploy.settleSeconds': 1, 'deploy.monitorSeconds': 1, 'deploy.readyTimeoutSeconds': 60, 'deploy.tomcatHome': await sharedTomcatHome(), ...TEST_DEPLOY, ...overrides } });
  const db = await openDatabase(config.db, dataDir, log);
  const bus = new Bus<DeployEvents>();
  const jobs = new JobService({ db, bus, clock: systemClock, log });
  await jobs.start();
  const deploy = new DeployService({ db, bus, clock: systemClock, log, config, secrets: SecretBox.open('', dataDir), jobs, renderFile: (c) => c, hostEnv });
  await deploy.start();
  t.after(async () => {
    await deploy.shutdown(true);
    await jobs.stop();
    await db.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { deploy, jobs, dataDir };
}

function plan(source: ComponentPlan['source'], over: Partial<ComponentPlan> = {}): ComponentPlan {
  return {
    project: 'p1',
    componentId: 'c1',
    componentName: 'shop-web',
    applicationId: 'a1',
    applicationName: 'shop',
    environmentId: 'e1',
    environmentName: 'dev',
    version: '1.0.0',
    source,
    stackType: 'Tomcat',
    replicas: 1,
    env: { CAS_COMPONENT_NAME: 'shop-web' },
    files: [],
    readinessProbe: { type: 'http', path: '/health', timeout: 1 },
    strategy: { type: 'OneBatchRelease' },
    terminationGraceSeconds: 30,
    ...over,
  };
}

async function job(jobs: JobService, jobId: string) {
  await jobs.settled(jobId);
  return jobs.get('p1', jobId);
}

async function answers(port: number): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(res.status, 200);
  return res.json();
}

/** A dummy war file (the build fails before anything reads it). */
function dummyWar(t: TestContext): string {
  const dir = fixtureDir(t, 'war-');
  writeFileSync(join(dir, 'app.war'), 'PK not a real war');
  return pathToFileURL(join(dir, 'app.war')).toString();
}

/** A war whose ROOT context fails to start: its web.xml names a listener class it does not hold. */
function brokenWar(t: TestContext): string {
  const dir = fixtureDir(t, 'war-');
  mkdirSync(join(dir, 'app', 'WEB-INF'), { recursive: true });
  writeFileSync(
    join(dir, 'app', 'WEB-INF', 'web.xml'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">\n  <listener><listener-class>no.such.StartupListener</listener-class></listener>\n</web-app>\n',
  );
  execFileSync('jar', ['cf', join(dir, 'broken.war'), '-C', join(dir, 'app'), '.'], { env: hostEnv });
  return pathToFileURL(join(dir, 'broken.war')).toString();
}

/** A local HTTP server answering `routes[path]` (404 otherwise). @returns its base URL */
async function mirror(t: TestContext, routes: Record<string, Buffer | string>): Promise<string> {
  const server: Server = createServer((req, res) => {
    const body = routes[req.url ?? ''];
    res.statusCode = body === undefined ? 404 : 200;
    res.end(body ?? 'not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => server.close(() => ok())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** The command lines of the live processes of process group `pgid`. */
function groupCommandLines(pgid: number): string[][] {
  const out: string[][] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      out.push(readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the deployment engine building and running Tomcat with real processes; the deploy
// store's queries run on both databases through test/cas.
describe('DeployService, Tomcat runtime (real Tomcat and Maven)', () => {
  it('builds the tomcat-hello example with Maven and runs the war as ROOT on each replica\'s port; restart and a clean stop on SIGTERM', async (t) => {
    const { deploy, jobs, dataDir } = await engine(t);
    const started = Date.now();
    let j = await job(jobs, await deploy.deploy(plan({ kind: 'code', repo_url: exampleRepo(t, 'tomcat-hello'), repo_ref: 'main' }, { replicas: 2, jvmOpts: ['-Xmx128m', '-Dopenstage.test=1'] })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    t.diagnostic(`git clone + Maven build + 2 Tomcat replicas ready: ${Date.now() - started} ms`);
    const build = j.tasks.find((x) => x.name === 'build')!;
    assert.ok(build.messages.includes('mvn -q -B package -DskipTests'), build.messages.join('\n'));
    assert.ok(build.messages.includes('war target/tomcat-hello.war'), build.messages.join('\n'));
    const rt = deploy.runtime('p1', 'c1')!;
    assert.equal(rt.status, 'RUNNING');
    assert.equal(rt.availableReplica, 2);
    assert.notEqual(rt.replicas[0]!.port, rt.replicas[1]!.port);
    for (const r of rt.replicas) {
      const body = await answers(r.port);
      assert.deepEqual([body.service, body.version, body.instance, body.port], ['shop-web', '1.0.0', r.instanceId, String(r.port)]);
      assert.match(body.server, /^Apache Tomcat\/10\./);
      assert.equal(await (await fetch(`http://127.0.0.1:${r.port}/health`)).text(), 'ok');
    }
    // Each replica has its own CATALINA_BASE: its port, no shutdown port, no AJP; one java process with the JVM options.
    const base = join(dataDir, 'deploy', 'replicas', rt.replicas[0]!.instanceId, 'catalina-base');
    const serverXml = readFileSync(join(base, 'conf', 'server.xml'), 'utf8');
    assert.match(serverXml, new RegExp(`<Connector address="127\\.0\\.0\\.1" port="${rt.replicas[0]!.port}" protocol="HTTP/1\\.1"`));
    assert.match(serverXml, /<Server port="-1"/);
    assert.doesNotMatch(serverXml, /AJP/);
    // The replica's process is the sandbox (bwrap); java runs in its process group.
    const cmdline = groupCommandLines(rt.replicas[0]!.pid!).find((c) => c[0] === 'java') ?? [];
    assert.equal(cmdline[0], 'java', JSON.stringify(groupCommandLines(rt.replicas[0]!.pid!)));
    assert.ok(cmdline.includes('-Xmx128m') && cmdline.includes(`-Dcatalina.base=${base}`) && cmdline.includes('org.apache.catalina.startup.Bootstrap'), cmdline.join(' '));

    const pids = rt.replicas.map((r) => r.pid);
    j = await job(jobs, await deploy.action('p1', 'c1', 'restart'));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const after = deploy.runtime('p1', 'c1')!.replicas;
    assert.equal(after.length, 2);
    assert.ok(after.every((r) => !pids.includes(r.pid)), 'restart starts new processes');
    assert.equal((await answers(after[0]!.port)).instance, after[0]!.instanceId);

    // terminationGraceSeconds is 30: a stop well under that means Tomcat ended on SIGTERM.
    const stopAt = Date.now();
    j = await job(jobs, await deploy.action('p1', 'c1', 'stop'));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.ok(Date.now() - stopAt < 15_000, `stop took ${Date.now() - stopAt} ms`);
    assert.equal(deploy.runtime('p1', 'c1')!.status, 'STOPPED');
    await assert.rejects(fetch(`http://127.0.0.1:${after[0]!.port}/`));
    for (const r of after) assert.throws(() => process.kill(r.pid!, 0), 'no java process is left');
  });

  it('deploys a war package (file:// URL) without building, and rolls back to the earlier war', async (t) => {
    const { deploy, jobs } = await engine(t);
    const war = pathToFileURL(await tomcatHelloWar()).toString();
    let j = await job(jobs, await deploy.deploy(plan({ kind: 'package', url: war })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const build = j.tasks.find((x) => x.name === 'build')!;
    assert.ok(!build.messages.some((m) => m.startsWith('mvn')), build.messages.join('\n'));
    assert.ok(build.messages.includes('war tomcat-hello.war'), build.messages.join('\n'));
    assert.equal((await answers(deploy.runtime('p1', 'c1')!.replicas[0]!.port)).version, '1.0.0');
    j = await job(jobs, await deploy.deploy(plan({ kind: 'package', url: war }, { version: '1.1.0' })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    assert.equal((await answers(deploy.runtime('p1', 'c1')!.replicas[0]!.port)).version, '1.1.0');
    j = await job(jobs, await deploy.action('p1', 'c1', 'rollback', { version: '1.0.0' }));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const rt = deploy.runtime('p1', 'c1')!;
    assert.deepEqual([rt.version, rt.replicas.length], ['1.0.0', 1]);
    assert.equal((await answers(rt.replicas[0]!.port)).version, '1.0.0');
  });

  it('without a readiness probe a replica is ready once Tomcat listens; the application\'s startup errors are in the replica log, no log files under logs/', async (t) => {
    // settleSeconds 0: only the implicit TCP check can keep the rollout waiting for the JVM.
    const { deploy, jobs, dataDir } = await engine(t, { 'deploy.settleSeconds': 0, 'deploy.readyTimeoutSeconds': 15 });
    const war = pathToFileURL(await tomcatHelloWar()).toString();
    const noProbe = plan({ kind: 'package', url: war });
    delete noProbe.readinessProbe;
    let j = await job(jobs, await deploy.deploy(noProbe));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const [replica] = deploy.runtime('p1', 'c1')!.replicas;
    assert.equal((await answers(replica!.port)).instance, replica!.instanceId, 'answers as soon as the rollout says ready');
    const base = join(dataDir, 'deploy', 'replicas', replica!.instanceId, 'catalina-base');
    assert.deepEqual(readdirSync(join(base, 'logs')), [], 'Tomcat writes no catalina/localhost log files');
    assert.ok((await deploy.logs('p1', 'c1', 200)).find((r) => r.instanceId === replica!.instanceId)!.lines.some((l) => l.includes('Server startup in')));

    // A context that fails to start: Tomcat still listens, the /health probe fails, and the
    // failure's reason (logged by the `localhost` logger) is in the rollout's log tail.
    j = await job(jobs, await deploy.deploy(plan({ kind: 'package', url: brokenWar(t) }, { componentId: 'c2' })));
    assert.equal(j.job.status, 'FAILED');
    const failed = j.tasks.find((x) => x.status === 'FAILED')!;
    const message = failed.messages.at(-1)!;
    assert.match(message, /was not ready after 15 s; last lines of its log:/);
    assert.match(message, /no\.such\.StartupListener|Skipped installing application listeners/, message);
  });

  it('fails the build naming what target/ holds when the Maven project packages no war', async (t) => {
    const { deploy, jobs } = await engine(t);
    const j = await job(jobs, await deploy.deploy(plan({ kind: 'code', repo_url: exampleRepo(t, 'java-hello'), repo_ref: 'main' })));
    assert.equal(j.job.status, 'FAILED');
    const failed = j.tasks.find((x) => x.status === 'FAILED')!;
    assert.equal(failed.name, 'build');
    assert.match(failed.messages.at(-1)!, /the Maven build left no \.war in target\/ \(is <packaging>war<\/packaging> set in pom\.xml\?\); found: .*java-hello\.jar/);
    // store, roll out and verify skipped; the clean-up finds nothing to go back to (a first deployment).
    assert.deepEqual(j.tasks.slice(-4).map((x) => x.status), ['SKIPPED', 'SKIPPED', 'SKIPPED', 'SUCCEEDED']);
    assert.equal(deploy.runtime('p1', 'c1')!.replicas.length, 0);
  });

  it('takes a Maven artifact from a shared read-only repository (deploy.mavenRepositories) into the project\'s own cache', async (t) => {
    // A repository (a local repository's layout) holding an artifact found nowhere else.
    const shared = fixtureDir(t, 'm2-');
    const artifact = join('org', 'openstage', 'test', 'shared-only', '1.0');
    mkdirSync(join(shared, artifact), { recursive: true });
    const pom = '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>org.openstage.test</groupId><artifactId>shared-only</artifactId><version>1.0</version><packaging>pom</packaging></project>\n';
    writeFileSync(join(shared, artifact, 'shared-only-1.0.pom'), pom);
    const sharedFiles = readdirSync(shared, { recursive: true }).sort();
    // java-hello depending on it.
    const url = exampleRepo(t, 'java-hello');
    const dir = fileURLToPath(url);
    const pomFile = join(dir, 'pom.xml');
    writeFileSync(pomFile, readFileSync(pomFile, 'utf8').replace('<build>', '<dependencies><dependency><groupId>org.openstage.test</groupId><artifactId>shared-only</artifactId><version>1.0</version><type>pom</type></dependency></dependencies>\n  <build>'));
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-am', 'depends on shared-only'], { cwd: dir });
    const repositories = [shared, ...(TEST_DEPLOY['deploy.mavenRepositories'] as string[])];
    const { deploy, jobs, dataDir } = await engine(t, { 'deploy.mavenRepositories': repositories });
    const j = await job(jobs, await deploy.deploy(plan({ kind: 'code', repo_url: url, repo_ref: 'main' }, { stackType: 'Java', readinessProbe: { type: 'http', path: '/health', timeout: 1 } })));
    assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.tasks));
    const port = deploy.runtime('p1', 'c1')!.replicas[0]!.port;
    assert.equal((await answers(port)).service, 'shop-web');
    // Copied into the project's cache; the shared repository is as it was.
    assert.equal(readFileSync(join(dataDir, 'deploy', 'home', 'p1', '.m2', 'repository', artifact, 'shared-only-1.0.pom'), 'utf8'), pom);
    assert.deepEqual(readdirSync(shared, { recursive: true }).sort(), sharedFiles);
  });

  const downloadCases: [string, (t: TestContext) => Promise<Record<string, unknown>>, RegExp][] = [
    [
      'the checksum does not match',
      async (t) => ({ 'deploy.tomcatUrl': await mirror(t, { '/9.0.1/tomcat-9.0.1.tar.gz': 'not tomcat', '/9.0.1/tomcat-9.0.1.tar.gz.sha512': `${'0'.repeat(128)}  tomcat-9.0.1.tar.gz\n` }) }),
      /does not match its sha512 checksum \(expected 0{128}, got [0-9a-f]{128}\); nothing was kept/,
    ],
    ['the mirror has no checksum file', async (t) => ({ 'deploy.tomcatUrl': await mirror(t, { '/9.0.1/tomcat-9.0.1.tar.gz': 'not tomcat' }) }), /cannot verify the Tomcat 9\.0\.1 download: neither .*\.sha512 nor \.sha1 exists/],
    ['the version is not published', async (t) => ({ 'deploy.tomcatUrl': await mirror(t, {}) }), /cannot download Tomcat 9\.0\.1: .*tomcat-9\.0\.1\.tar\.gz answered 404/],
    ['the mirror is unreachable', async () => ({ 'deploy.tomcatUrl': `http://127.0.0.1:${await closedPort()}/maven2/org/apache/tomcat/tomcat` }), /cannot download http:\/\/127\.0\.0\.1:\d+\/maven2\/.*: ECONNREFUSED/],
    ['deploy.tomcatHome is not a Tomcat installation', async () => ({ 'deploy.tomcatHome': tmpdir() }), /deploy\.tomcatHome .* is not a Tomcat installation/],
  ];
  for (const [what, overrides, reason] of downloadCases) {
    it(`fails the build with the reason when ${what}`, async (t) => {
      const { deploy, jobs, dataDir } = await engine(t, { 'deploy.tomcatHome': '', 'deploy.tomcatVersion': '9.0.1', ...(await overrides(t)) });
      const j = await job(jobs, await deploy.deploy(plan({ kind: 'package', url: dummyWar(t) })));
      assert.equal(j.job.status, 'FAILED');
      const failed = j.tasks.find((x) => x.status === 'FAILED')!;
      assert.equal(failed.name, 'build');
      assert.match(failed.messages.at(-1)!, reason);
      assert.match(deploy.runtime('p1', 'c1')!.failDetail, reason);
      assert.throws(() => readFileSync(join(dataDir, 'deploy', 'tomcat', '9.0.1', 'bin', 'bootstrap.jar')), 'nothing is cached');
    });
  }
});
