import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { zipSync } from 'fflate';
import { CasClient, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { answer, envAndApp, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { gitCli, GitClient } from '../git/client.js';
import { ADMIN, login } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';
import { fixtureDir } from '../helpers/server.js';

// Issue #14: every escape a tenant's component used to have, tried from inside a deployed
// component (at build time and while it runs) that reports what it could reach. Each attempt
// must fail: the data directory (master key, database), another project's component
// directory and hosted repository, OpenStage's environment (/proc/<pid>/environ), writes
// outside the component's own directories, running as root.

/** The probe: what a process can reach, as JSON. Run by `npm run build` and served at GET /report. */
const PROBE = `
const fs = require('fs');
const cp = require('child_process');
module.exports = function probe() {
  const t = JSON.parse(fs.readFileSync(__dirname + '/targets.json', 'utf8'));
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) => (new RegExp('^' + name + ':\\\\s*(\\\\S+)', 'm').exec(status) || [])[1];
  const out = { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs'),
    pids: fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).map(Number), read: {}, write: {}, list: {}, clone: {}, environ: '', envKeys: Object.keys(process.env) };
  for (const p of t.read) { try { fs.readFileSync(p); out.read[p] = 'READ'; } catch (e) { out.read[p] = e.code; } }
  for (const p of t.write) { try { fs.writeFileSync(p, 'x'); out.write[p] = 'WROTE'; } catch (e) { out.write[p] = e.code; } }
  for (const p of t.list) { try { out.list[p] = 'LISTED ' + fs.readdirSync(p).length; } catch (e) { out.list[p] = e.code; } }
  for (const u of t.clone) {
    const r = cp.spawnSync('git', ['clone', '-q', u, '/tmp/clone-' + Math.random().toString(36).slice(2)], { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    out.clone[u] = r.status === 0 ? 'CLONED' : 'FAILED';
  }
  try { fs.readFileSync('/proc/' + t.serverPid + '/environ'); out.environ = 'READ'; } catch (e) { out.environ = e.code; }
  try { out.rootUsable = cp.spawnSync('su', ['-c', 'id -u'], { encoding: 'utf8' }).stdout.trim(); } catch (e) { out.rootUsable = ''; }
  return out;
};
`;

const SERVER = `
const http = require('http');
const fs = require('fs');
const probe = require('./probe.js');
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/build-report') return res.end(fs.readFileSync('build-report.json'));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(probe()));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** A file:// git repository of the probe application (build = probe, start = server) trying `targets`. */
async function probeRepo(t: TestContext, targets: unknown): Promise<string> {
  const dir = fixtureDir(t, 'probe-');
  writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', private: true, scripts: { build: 'node -e "require(\'fs\').writeFileSync(\'build-report.json\', JSON.stringify(require(\'./probe.js\')()))"', start: 'node server.js' } }));
  writeFileSync(join(dir, 'probe.js'), PROBE);
  writeFileSync(join(dir, 'server.js'), SERVER);
  await gitCli(['init', '--quiet', '-b', 'main'], dir);
  await gitCli(['add', '.'], dir);
  await gitCli(['commit', '--quiet', '-m', 'probe'], dir);
  return pathToFileURL(dir).toString();
}

/** Deploys the probe in the client's project; @returns its runtime report, its build report and the component id. */
async function deployProbe(t: TestContext, s: CasServer, cas: CasClient, targets: unknown): Promise<{ run: any; build: any; componentId: string }> {
  const repo = await probeRepo(t, targets);
  const client = { ...s, cas } as CasServer;
  const { envId, appId } = await envAndApp(client);
  const created = await cas.post(`/applications/${appId}/components`, nodeBody(envId, repo));
  assert.equal(created.status, 200, created.text);
  const job = await waitJob(client, created.body.job_id);
  assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
  const got = (await cas.get(`/applications/${appId}/components/${created.body.component_id}`)).body;
  const port = got.status.instances[0].port;
  return { run: await answer(port), build: await (await fetch(`http://127.0.0.1:${port}/build-report`)).json(), componentId: created.body.component_id };
}

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the confinement of real builds and replicas; nothing here depends on the store.
describe('confinement of builds and replicas (a tenant tries every escape)', () => {
  it('a component of project B reaches nothing of OpenStage or of project A, at build time and while it runs', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });

    // Project A: a hosted repository and a deployed component.
    const git = new GitClient(s.url, s.cas.token);
    const auth = uniqName('auth');
    assert.equal((await git.call('POST', '/auths/local/password', { body: { name: auth, token: Buffer.from('owner:Owner-pass-1').toString('base64') } })).status, 200);
    const hosted = await git.call('POST', '/repos/secret/projects', { auth, body: { name: 'plans' } });
    assert.equal(hosted.status, 200, hosted.text);
    const a = await deployProbe(t, s, s.cas, { read: [], write: [], list: [], clone: [], serverPid: 1 });

    // Project B: a new project of the same domain, its own token.
    const created = await call(s.url, 'POST', '/v3/projects', { body: { project: { name: uniqName('tenant-b') } }, headers: { 'x-auth-token': s.cas.token } });
    assert.equal(created.status, 201, created.text);
    const projectB: string = created.body.project.id;
    const tokenB = (await login(s.url, ADMIN.name, ADMIN.password, { project: { id: projectB } })).headers.get('x-subject-token')!;
    const casB = new CasClient(s.url, tokenB, projectB);

    const data = s.dataDir;
    const artifactsA = join(data, 'deploy', 'artifacts', ADMIN.projectId);
    const componentDirA = join(artifactsA, a.componentId);
    const buildOfA = readdirSync(componentDirA).find((f) => !f.endsWith('.log'))!;
    const repoA = join(data, 'git', ADMIN.projectId, 'secret', 'plans.git');
    const targets = {
      read: [join(data, 'master.key'), join(data, 'openstage.db'), join(componentDirA, buildOfA, 'probe.js'), join(repoA, 'config'), '/etc/shadow', '/root/.bashrc'],
      write: ['/usr/local/escaped', '/etc/escaped', join(data, 'escaped'), join(componentDirA, buildOfA, 'escaped'), '/escaped'],
      list: [data, join(data, 'deploy'), artifactsA, join(data, 'git')],
      clone: [pathToFileURL(repoA).toString(), `file://${repoA}`],
      serverPid: process.pid,
    };
    const b = await deployProbe(t, s, casB, targets);

    for (const [when, report] of [['build', b.build], ['run', b.run]] as const) {
      const why = `${when}: ${JSON.stringify(report)}`;
      for (const p of targets.read) assert.notEqual(report.read[p], 'READ', `${why}: read ${p}`);
      for (const p of targets.write) assert.notEqual(report.write[p], 'WROTE', `${why}: wrote ${p}`);
      // The data directory is an empty tmpfs inside the sandbox (or out of reach): nothing in it can be listed.
      for (const p of targets.list) assert.ok(!/^LISTED [1-9]/.test(report.list[p]) || p === data, `${why}: listed ${p}: ${report.list[p]}`);
      for (const u of targets.clone) assert.equal(report.clone[u], 'FAILED', `${why}: cloned ${u}`);
      assert.notEqual(report.environ, 'READ', `${why}: OpenStage's environment`);
      assert.ok(!report.envKeys.some((k: string) => /^OPENSTAGE_|PASSWORD|SECRET/.test(k)), `${why}: ${report.envKeys.join(',')}`);
      // Not root: an unprivileged uid of its own project, no capabilities, no new privileges, no groups of the host.
      assert.notEqual(report.uid, 0, why);
      assert.equal(report.capEff, '0000000000000000', why);
      assert.equal(report.noNewPrivs, '1', why);
      assert.deepEqual(report.groups, [report.gid], why);
      assert.notEqual(report.rootUsable, '0', why);
      // Its own PID namespace: OpenStage and other replicas are not in its /proc.
      assert.ok(!report.pids.includes(process.pid) || process.pid < 10, why);
      assert.ok(report.pids.length < 10, why);
    }
    // One uid per project: A's replicas and builds run as another user than B's.
    assert.equal(b.run.uid, b.build.uid);
    assert.equal(a.run.uid, a.build.uid);
    assert.notEqual(a.run.uid, b.run.uid);
    // The data directory's listing inside is an empty tmpfs, not the real one.
    assert.ok(['LISTED 0', 'LISTED 1', 'EACCES', 'ENOENT'].includes(b.run.list[data]), b.run.list[data]);
  });
});

/** Serves `path` → a body generated chunk by chunk (never held whole); @returns the base URL. */
async function bigServer(t: TestContext, routes: Record<string, { bytes: number } | Buffer>): Promise<string> {
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) return res.writeHead(404).end();
    if (Buffer.isBuffer(route)) return res.end(route);
    // Chunked, no Content-Length: the fetch must count as it streams.
    const chunk = Buffer.alloc(1024 * 1024);
    let sent = 0;
    const pump = (): void => {
      while (sent < route.bytes) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => server.close(() => ok())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('package fetches are bounded outside OpenStage\'s memory (review H3)', () => {
  it('a 700 MB download and a zip bomb fail their builds with the cap in the message; the server\'s RSS does not grow', async (t) => {
    // 120 MB of zeros compress to ~120 KB: with deploy.unpackedMaxMiB 64 the unpack must stop.
    const bomb = Buffer.from(zipSync({ 'zeros.bin': new Uint8Array(120 * 1024 * 1024) }, { level: 9 }));
    const base = await bigServer(t, { '/huge.jar': { bytes: 700 * 1024 * 1024 }, '/bomb.zip': bomb });
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.unpackedMaxMiB': 64 }, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    t.after(() => clearInterval(sampler));
    const java = { name: 'OpenJDK17', type: 'Java', version: '1.0.0', deploy_mode: 'virtualmachine' };
    const huge = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, '', { runtime_stack: java, source: { kind: 'package', url: `${base}/huge.jar` } }));
    const zip = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, '', { runtime_stack: java, source: { kind: 'package', url: `${base}/bomb.zip` } }));
    assert.equal(huge.status, 200, huge.text);
    assert.equal(zip.status, 200, zip.text);
    const [hugeJob, zipJob] = await Promise.all([waitJob(s, huge.body.job_id, 300_000), waitJob(s, zip.body.job_id, 300_000)]);
    clearInterval(sampler);
    const fetchMessage = (job: any): string => job.tasks.find((x: any) => x.task_name === 'fetch source').messages;
    assert.equal(hugeJob.job.execution_status, 'FAILED');
    assert.match(fetchMessage(hugeJob), /the package is larger than 536870912 bytes/);
    assert.equal(zipJob.job.execution_status, 'FAILED');
    assert.match(fetchMessage(zipJob), /bomb\.zip unpacks to more than 67108864 bytes/);
    const grewMiB = (peak - before) / 1024 / 1024;
    t.diagnostic(`server (test process) RSS ${Math.round(before / 1048576)} MiB before, peak ${Math.round(peak / 1048576)} MiB during`);
    assert.ok(grewMiB < 100, `RSS grew by ${grewMiB.toFixed(0)} MiB`);
  });
});
