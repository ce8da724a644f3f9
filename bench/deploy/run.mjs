#!/usr/bin/env node
// Deployment benchmark: what OpenStage adds to deploying and running a service, loopback only.
//
//   npm run build && node bench/deploy/run.mjs        (or: npm run bench:deploy)
//
// Steps: start `node dist/src/cli.js serve` as a child (free port, temp data dir, SQLite, log
// level warn, default deploy settings, fixed bootstrap credentials) and log in through IAM.
// (a) BENCH_REPEATS times, alternating: deploy examples/node-hello from a file:// git
//     repository through the component API (1 replica, http readiness probe on /health) and
//     time create → RUNNING → the replica answers, with the wall time of each job task (from
//     the tasks' update_at: tasks run back to back); then delete it — once on a server with
//     builds and replicas confined (deploy.sandbox on, the default) and once on a second server
//     with deploy.sandbox off, so that the cost of confinement is measured in the same run.
//     Baseline, done by this script in the same run: `git clone --depth 1` + `npm ci` +
//     `node server.js` until it answers /health.
// (b) The server's own CPU (user + system from /proc/<pid>/stat of the OpenStage process only,
//     not its builds or replicas) and RSS over BENCH_WINDOW_SECONDS: first idle (no component:
//     the baseline), then supervising BENCH_REPLICAS replicas of one component (created with 1
//     replica, scaled through the action API). The replicas' own RSS is summed too.
// Every replica carries OPENSTAGE_BENCH_RUN=<run id> in its environment; whatever is left of
// them at the end is SIGKILLed by process group. Results: stdout, bench/results/deploy-latest.md
// and .json.
//
// Environment (all optional):
//   BENCH_REPEATS=3             deployments timed in (a), and as many baseline runs
//   BENCH_REPLICAS=50           replicas supervised in (b)
//   BENCH_WINDOW_SECONDS=60     length of each CPU/RSS window in (b)
//   BENCH_TIMEOUT_SECONDS=1200  hard limit for the whole run
//   BENCH_CLI=path/to/cli.js    server entry point to benchmark (default dist/src/cli.js)
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Children, cli, cpuSecondsOf, env, freePort, log, root, rssOf, writeResults } from '../lib.mjs';

const run = promisify(execFile);

const REPEATS = env('BENCH_REPEATS', 3);
const REPLICAS = env('BENCH_REPLICAS', 50);
const WINDOW_SECONDS = env('BENCH_WINDOW_SECONDS', 60);
const TIMEOUT_SECONDS = env('BENCH_TIMEOUT_SECONDS', 1200);

const RUN_ID = randomUUID();
const ADMIN = { name: 'admin', password: 'Bench-Passw0rd!', projectId: 'be0c4be0c4be0c4be0c4be0c4be0c4b', ak: 'BENCHAKBENCHAKBENCH1', sk: 'benchSecretKeyBenchSecretKeyBenchSecr01' };
const EXAMPLE = join(root, 'examples/node-hello');
const HOST_ENV = Object.fromEntries(['PATH', 'HOME', 'LANG', 'TMPDIR', 'npm_config_cache'].flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]]] : [])));
const GIT_ENV = { ...HOST_ENV, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// ───────────────────────── processes ─────────────────────────

const children = new Children(root);
let tmpDir;

/** Pids of live processes whose environment holds `NAME=value`. */
function processesWithEnv(name, value) {
  const needle = `${name}=${value}\0`;
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (readFileSync(`/proc/${p}/environ`, 'utf8').includes(needle)) out.push(Number(p));
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

/** SIGKILLs the process groups of every replica of this run still alive. */
function killReplicas() {
  for (const pid of processesWithEnv('OPENSTAGE_BENCH_RUN', RUN_ID)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      process.kill(-pgrp, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function killAllNow() {
  children.killAll();
  killReplicas();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
}

/** Sum of the RSS (MB) of the replica processes of this run. */
function replicasRssMB() {
  let mb = 0;
  for (const pid of processesWithEnv('OPENSTAGE_BENCH_RUN', RUN_ID)) {
    try {
      mb += rssOf(pid).rssMB || 0;
    } catch {
      /* gone */
    }
  }
  return mb;
}

// ───────────────────────── HTTP ─────────────────────────

class Api {
  constructor(base) {
    this.base = base;
    this.token = '';
  }

  async call(method, path, body) {
    const r = await fetch(`${this.base}${path}`, { method, headers: { 'content-type': 'application/json', ...(this.token ? { 'x-auth-token': this.token } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.status, body: json, text, headers: r.headers };
  }

  async ok(method, path, body, expected = [200]) {
    const r = await this.call(method, path, body);
    if (!expected.includes(r.status)) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.body;
  }

  cas(method, path, body, expected) {
    return this.ok(method, `/v3/${ADMIN.projectId}/cas${path}`, body, expected);
  }

  async login() {
    const r = await this.call('POST', '/v3/auth/tokens', { auth: { identity: { methods: ['password'], password: { user: { name: ADMIN.name, password: ADMIN.password, domain: { name: 'openstage' } } } }, scope: { project: { id: ADMIN.projectId } } } });
    if (r.status !== 201) throw new Error(`login → ${r.status} ${r.text}`);
    this.token = r.headers.get('x-subject-token');
  }
}

/** Polls `probe` every `everyMs` until it returns something other than undefined. */
async function until(what, probe, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function answers(port, path = '/health') {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status === 200;
  } catch {
    return false;
  }
}

// ───────────────────────── (a) create → RUNNING ─────────────────────────

function componentBody(envId, repoUrl, replica = 1) {
  return {
    name: `bench${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' },
    source: { kind: 'code', repo_url: repoUrl, repo_ref: 'main' },
    replica,
    version: '1.0.0',
    environment_id: envId,
    envs: [{ name: 'OPENSTAGE_BENCH_RUN', value: RUN_ID }],
    readiness_probe: { type: 'http', path: '/health', timeout: 1 },
  };
}

/** Deletes a component and waits until it is gone (its replicas stopped). */
async function removeComponent(api, appId, id) {
  await api.cas('DELETE', `/applications/${appId}/components/${id}`);
  await until('the component to be deleted', async () => ((await api.call('GET', `/v3/${ADMIN.projectId}/cas/applications/${appId}/components/${id}`)).status === 401 ? true : undefined), 120_000, 200);
}

/** One deployment through the API, timed. */
async function timeDeploy(api, envId, appId, repoUrl) {
  const t0 = nowMs();
  const created = await api.cas('POST', `/applications/${appId}/components`, componentBody(envId, repoUrl));
  const accepted = nowMs() - t0;
  const path = `/applications/${appId}/components/${created.component_id}`;
  const got = await until('RUNNING', async () => {
    const c = await api.cas('GET', path);
    if (c.status.component_status === 'FAILED') throw new Error(`deployment failed: ${c.status.fail_detail}`);
    return c.status.component_status === 'RUNNING' ? c : undefined;
  }, 300_000);
  const running = nowMs() - t0;
  const port = got.status.instances[0].port;
  await until('the replica to answer', async () => ((await answers(port, '/')) ? true : undefined), 30_000, 10);
  const answered = nowMs() - t0;
  const job = await api.cas('GET', `/jobs/${created.job_id}`);
  if (job.job.execution_status !== 'SUCCEEDED') throw new Error(`job ${created.job_id} is ${job.job.execution_status}`);
  let previous = Date.parse(job.tasks[0].created_at);
  const tasks = job.tasks.map((t) => {
    const end = Date.parse(t.update_at);
    const ms = end - previous;
    previous = end;
    return { name: t.task_name, ms };
  });
  await removeComponent(api, appId, created.component_id);
  return { acceptedMs: accepted, runningMs: running, answeredMs: answered, tasks };
}

/** The baseline: git clone + npm ci + node server.js until /health answers, done here. */
async function timeBaseline(repoUrl, i) {
  const dir = join(tmpDir, `baseline-${i}`);
  const t0 = nowMs();
  await run('git', ['clone', '--quiet', '--depth', '1', '--branch', 'main', '--', repoUrl, dir], { env: { ...GIT_ENV, GIT_TERMINAL_PROMPT: '0' } });
  const cloned = nowMs();
  await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env: HOST_ENV });
  const built = nowMs();
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], { cwd: dir, env: { ...HOST_ENV, PORT: String(port), OPENSTAGE_BENCH_RUN: RUN_ID }, stdio: 'ignore', detached: true });
  const exited = new Promise((r) => child.once('exit', r));
  let answered;
  try {
    await until('the baseline server to answer', async () => ((await answers(port)) ? true : undefined), 30_000, 10);
    answered = nowMs();
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  return { cloneMs: cloned - t0, npmCiMs: built - cloned, startMs: answered - built, totalMs: answered - t0 };
}

// ───────────────────────── (b) supervising ─────────────────────────

/** The server's CPU (seconds per minute) and RSS (sampled every second) over `seconds`. */
async function window(pid, seconds, what) {
  log(`${what}: measuring ${seconds} s`);
  const cpu0 = cpuSecondsOf(pid);
  const t0 = nowMs();
  const rss = [];
  while (nowMs() - t0 < seconds * 1000) {
    rss.push(rssOf(pid).rssMB);
    await sleep(1000);
  }
  const wallS = (nowMs() - t0) / 1000;
  const cpuS = cpuSecondsOf(pid) - cpu0;
  const out = { seconds: +wallS.toFixed(1), cpuSeconds: +cpuS.toFixed(3), cpuSecondsPerMinute: +((cpuS / wallS) * 60).toFixed(3), cpuPercent: +((100 * cpuS) / wallS).toFixed(2), rssMeanMB: +(rss.reduce((a, b) => a + b, 0) / rss.length).toFixed(1), rssMaxMB: +Math.max(...rss).toFixed(1) };
  log(`  ${out.cpuSecondsPerMinute} CPU s/min (${out.cpuPercent}% of a core), RSS mean ${out.rssMeanMB} MB, max ${out.rssMaxMB} MB`);
  return out;
}

// ───────────────────────── main ─────────────────────────

async function main() {
  const startedAt = new Date();
  const loadAvgAtStart = loadavg();
  tmpDir = mkdtempSync(join(tmpdir(), 'openstage-bench-deploy-'));
  // Confined builds read file:// sources only under deploy.sourceRoots, as the project's user.
  chmodSync(tmpDir, 0o755);
  const sources = join(tmpDir, 'src');
  mkdirSync(sources, { mode: 0o755 });

  // The example as a file:// git repository.
  const repoDir = join(sources, 'node-hello');
  cpSync(EXAMPLE, repoDir, { recursive: true });
  await run('git', ['init', '-q', '-b', 'main'], { cwd: repoDir, env: GIT_ENV });
  await run('git', ['add', '.'], { cwd: repoDir, env: GIT_ENV });
  await run('git', ['commit', '-q', '-m', 'node-hello'], { cwd: repoDir, env: GIT_ENV });
  const repoUrl = pathToFileURL(repoDir).toString();

  /** Starts `openstage serve` on a free port with its own data dir; @returns it, logged in, with an environment and an application. */
  const startServer = async (name, extraEnv) => {
    const port = await freePort();
    log(`starting openstage (${name}) on 127.0.0.1:${port} (data dir ${tmpDir}/data-${name})`);
    const child = children.start(`openstage-${name}`, [cli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(tmpDir, `data-${name}`), '--log-level', 'warn'], {
      OPENSTAGE_ADMIN_PASSWORD: ADMIN.password,
      OPENSTAGE_PROJECT_ID: ADMIN.projectId,
      OPENSTAGE_ACCESS_KEY: ADMIN.ak,
      OPENSTAGE_SECRET_KEY: ADMIN.sk,
      // A SIGTERM of the server also stops whatever replicas are left (the run deletes them first).
      OPENSTAGE_DEPLOY_STOP_ON_SHUTDOWN: 'true',
      OPENSTAGE_DEPLOY_SOURCE_ROOTS: sources,
      ...extraEnv,
    });
    const api = new Api(`http://127.0.0.1:${port}`);
    await until(`openstage (${name}) to answer`, async () => {
      if (child.exitCode !== null) throw new Error(`openstage (${name}) exited with ${child.exitCode}`);
      return (await answers(port)) ? true : undefined;
    }, 60_000, 100);
    const rssEmpty = rssOf(child.pid);
    await api.login();
    const env = await api.cas('POST', '/environments', { name: `benchenv${Date.now().toString(36)}`, vpc_id: 'vpc-local' });
    const app = await api.cas('POST', '/applications', { name: `benchapp${Date.now().toString(36)}` });
    return { child, api, env, app, rssEmpty };
  };
  const confined = await startServer('confined', {});
  const open = await startServer('unconfined', { OPENSTAGE_DEPLOY_SANDBOX: 'off' });
  const { child: server, api, env, app, rssEmpty } = confined;

  // (a) warm-up (npm cache, JIT of every side), then alternate.
  log('warm-up deployments and baseline');
  await timeDeploy(api, env.id, app.id, repoUrl);
  await timeDeploy(open.api, open.env.id, open.app.id, repoUrl);
  await timeBaseline(repoUrl, 'warm');
  const deploys = [];
  const unconfined = [];
  const baselines = [];
  for (let i = 0; i < REPEATS; i++) {
    const d = await timeDeploy(api, env.id, app.id, repoUrl);
    deploys.push(d);
    log(`deploy ${i + 1} (confined): RUNNING after ${d.runningMs.toFixed(0)} ms, answering after ${d.answeredMs.toFixed(0)} ms (${d.tasks.map((t) => `${t.name} ${t.ms}`).join(', ')})`);
    const u = await timeDeploy(open.api, open.env.id, open.app.id, repoUrl);
    unconfined.push(u);
    log(`deploy ${i + 1} (unconfined): RUNNING after ${u.runningMs.toFixed(0)} ms, answering after ${u.answeredMs.toFixed(0)} ms (${u.tasks.map((t) => `${t.name} ${t.ms}`).join(', ')})`);
    const b = await timeBaseline(repoUrl, i);
    baselines.push(b);
    log(`baseline ${i + 1}: answering after ${b.totalMs.toFixed(0)} ms (clone ${b.cloneMs.toFixed(0)}, npm ci ${b.npmCiMs.toFixed(0)}, start ${b.startMs.toFixed(0)})`);
  }

  await children.stop(open.child);

  // (b) idle, then REPLICAS replicas.
  await sleep(5000);
  const idle = await window(server.pid, WINDOW_SECONDS, 'idle server (no component)');
  const created = await api.cas('POST', `/applications/${app.id}/components`, componentBody(env.id, repoUrl, 1));
  const path = `/applications/${app.id}/components/${created.component_id}`;
  await until('the first replica', async () => ((await api.cas('GET', path)).status.component_status === 'RUNNING' ? true : undefined), 300_000, 200);
  log(`scaling to ${REPLICAS} replicas`);
  const s0 = nowMs();
  const scale = await api.cas('POST', `${path}/action`, { action: 'scale', parameters: { replica: REPLICAS } });
  const scaled = await until(`${REPLICAS} replicas`, async () => {
    const j = await api.cas('GET', `/jobs/${scale.job_id}`);
    if (j.job.execution_status === 'FAILED') throw new Error(`scale failed: ${JSON.stringify(j.tasks)}`);
    return j.job.execution_status === 'SUCCEEDED' ? j : undefined;
  }, 600_000, 200);
  const scaleMs = nowMs() - s0;
  const c = await api.cas('GET', path);
  if (c.status.component_status !== 'RUNNING' || c.status.available_replica !== REPLICAS) {
    const odd = (c.status.instances ?? []).filter((i) => i.state !== 'running' || !i.ready);
    throw new Error(`after scaling: ${c.status.component_status}, ${c.status.available_replica} available; replicas not ready: ${JSON.stringify(odd)}`);
  }
  log(`${REPLICAS} replicas ready after ${(scaleMs / 1000).toFixed(1)} s (${scaled.tasks[0].messages.split('\n').at(-1)})`);
  await sleep(5000);
  const replicaRss0 = replicasRssMB();
  const busy = await window(server.pid, WINDOW_SECONDS, `supervising ${REPLICAS} replicas`);
  const replicaRss = replicasRssMB();
  const after = await api.cas('GET', path);
  const stillUp = (await Promise.all(after.status.instances.map((i) => answers(i.port)))).filter(Boolean).length;
  const restarts = after.status.instances.reduce((a, i) => a + i.restarts, 0);
  log(`replicas: ${stillUp}/${REPLICAS} answering after the window, ${restarts} restarts, replicas' RSS ${replicaRss.toFixed(0)} MB`);
  const d0 = nowMs();
  await removeComponent(api, app.id, created.component_id);
  const deleteMs = nowMs() - d0;
  const left = processesWithEnv('OPENSTAGE_BENCH_RUN', RUN_ID).length;
  log(`deleted in ${(deleteMs / 1000).toFixed(1)} s; replica processes left: ${left}`);
  const rssEnd = rssOf(server.pid);
  await children.stop(server);

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const taskNames = deploys[0].tasks.map((t) => t.name);
  const report = {
    date: startedAt.toISOString(),
    machine: { loadAvgAtStart: loadAvgAtStart.map((n) => +n.toFixed(2)), cpus: cpus().length, cpuModel: cpus()[0]?.model, memGB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: process.platform },
    settings: { repeats: REPEATS, replicas: REPLICAS, windowSeconds: WINDOW_SECONDS, db: 'sqlite', deploy: 'defaults (settleSeconds 3, monitorSeconds 5, readiness probe http /health, checked 50 ms after a replica starts, then a quarter longer each time up to 1 s)' },
    deploy: {
      runs: deploys.map((d) => ({ acceptedMs: +d.acceptedMs.toFixed(1), runningMs: +d.runningMs.toFixed(0), answeredMs: +d.answeredMs.toFixed(0), tasks: d.tasks })),
      medianRunningMs: median(deploys.map((d) => d.runningMs)),
      medianAnsweredMs: median(deploys.map((d) => d.answeredMs)),
      medianTaskMs: Object.fromEntries(taskNames.map((n, i) => [n, median(deploys.map((d) => d.tasks[i].ms))])),
    },
    unconfined: {
      runs: unconfined.map((d) => ({ acceptedMs: +d.acceptedMs.toFixed(1), runningMs: +d.runningMs.toFixed(0), answeredMs: +d.answeredMs.toFixed(0), tasks: d.tasks })),
      medianRunningMs: median(unconfined.map((d) => d.runningMs)),
      medianAnsweredMs: median(unconfined.map((d) => d.answeredMs)),
      medianTaskMs: Object.fromEntries(taskNames.map((n, i) => [n, median(unconfined.map((d) => d.tasks[i].ms))])),
    },
    baseline: {
      runs: baselines.map((b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, +v.toFixed(0)]))),
      medianTotalMs: median(baselines.map((b) => b.totalMs)),
      medianCloneMs: median(baselines.map((b) => b.cloneMs)),
      medianNpmCiMs: median(baselines.map((b) => b.npmCiMs)),
      medianStartMs: median(baselines.map((b) => b.startMs)),
    },
    supervise: { idle, busy, scaleUpMs: +scaleMs.toFixed(0), deleteMs: +deleteMs.toFixed(0), replicasRssMB: +((replicaRss0 + replicaRss) / 2).toFixed(0), replicasAnsweringAfter: stillUp, restarts, processesLeft: left },
    rss: { emptyMB: +rssEmpty.rssMB.toFixed(1), endMB: +rssEnd.rssMB.toFixed(1), peakMB: +rssEnd.hwmMB.toFixed(1) },
  };
  report.deploy.ratio = +(report.deploy.medianAnsweredMs / report.baseline.medianTotalMs).toFixed(2);
  report.deploy.confinementRatio = +(report.deploy.medianAnsweredMs / report.unconfined.medianAnsweredMs).toFixed(3);
  const md = toMarkdown(report);
  writeResults('deploy', report, md);
  return report;
}

function toMarkdown(r) {
  const ms = (n) => Math.round(n).toLocaleString('en-US');
  const d = r.deploy;
  const b = r.baseline;
  const s = r.supervise;
  const lines = [
    '# Deployment benchmark',
    '',
    `${r.date} · node ${r.machine.node} · ${r.machine.cpus} × ${r.machine.cpuModel} · ${r.machine.memGB} GB · load average at start ${r.machine.loadAvgAtStart.join(' ')}`,
    `\`npm run bench:deploy\` · OpenStage as a child process (\`openstage serve\`, SQLite, deploy settings: ${r.settings.deploy}) · examples/node-hello from a file:// git repository · ${r.settings.repeats} timed runs each after one warm-up`,
    '',
    '## (a) create → RUNNING, Node.js example, 1 replica',
    '',
    `| run | POST answered (ms) | RUNNING (ms) | replica answers (ms) | ${d.runs[0].tasks.map((t) => `${t.name} (ms)`).join(' | ')} | baseline: clone / npm ci / start (ms) | baseline total (ms) |`,
    `|---|---:|---:|---:|${d.runs[0].tasks.map(() => '---:').join('|')}|---:|---:|`,
  ];
  d.runs.forEach((run, i) => {
    const base = b.runs[i];
    lines.push(`| ${i + 1} | ${run.acceptedMs} | ${ms(run.runningMs)} | ${ms(run.answeredMs)} | ${run.tasks.map((t) => ms(t.ms)).join(' | ')} | ${ms(base.cloneMs)} / ${ms(base.npmCiMs)} / ${ms(base.startMs)} | ${ms(base.totalMs)} |`);
  });
  lines.push(`| **median** | – | **${ms(d.medianRunningMs)}** | **${ms(d.medianAnsweredMs)}** | ${Object.values(d.medianTaskMs).map(ms).join(' | ')} | ${ms(b.medianCloneMs)} / ${ms(b.medianNpmCiMs)} / ${ms(b.medianStartMs)} | **${ms(b.medianTotalMs)}** |`);
  lines.push('');
  lines.push(`OpenStage / baseline (median time until the service answers): **${d.ratio}×** (${ms(d.medianAnsweredMs)} ms vs ${ms(b.medianTotalMs)} ms).`);
  const u = r.unconfined;
  lines.push('');
  lines.push(`Confined (deploy.sandbox on, the default) / unconfined (deploy.sandbox off), same run, alternating: **${d.confinementRatio}×** (median ${ms(d.medianAnsweredMs)} ms vs ${ms(u.medianAnsweredMs)} ms until the replica answers; target ≤ 1.10). Unconfined runs: ${u.runs.map((x) => ms(x.answeredMs)).join(', ')} ms; median tasks ${Object.entries(u.medianTaskMs).map(([n, v]) => `${n} ${ms(v)}`).join(', ')} ms.`);
  lines.push('Task times are the differences of successive task update_at (tasks run back to back; the first from the job\'s created_at); they have millisecond resolution. "RUNNING" is the first GET of the component (polled every 50 ms) that said so; "replica answers" the first 200 of GET / on its port.');
  lines.push('Baseline: the same steps done directly by the driver — `git clone --depth 1 --branch main`, `npm ci --no-audit --no-fund`, `node server.js` with PORT set, polled every 10 ms until GET /health answers. OpenStage in addition persists the job and each task, starts the replica with `npm start` (the package has a start script), waits for the readiness probe and then verifies the replica count. Most of the roll-out task is `npm start` itself: the npm CLI starts before node server.js does.');
  lines.push('');
  lines.push(`## (b) the server supervising ${r.settings.replicas} replicas`);
  lines.push('');
  lines.push('| window | CPU s per minute | CPU % of one core | RSS mean (MB) | RSS max (MB) |');
  lines.push('|---|---:|---:|---:|---:|');
  lines.push(`| idle, no component (baseline), ${s.idle.seconds} s | ${s.idle.cpuSecondsPerMinute} | ${s.idle.cpuPercent} | ${s.idle.rssMeanMB} | ${s.idle.rssMaxMB} |`);
  lines.push(`| ${r.settings.replicas} replicas of one component, ${s.busy.seconds} s | ${s.busy.cpuSecondsPerMinute} | ${s.busy.cpuPercent} | ${s.busy.rssMeanMB} | ${s.busy.rssMaxMB} |`);
  lines.push(`| difference (supervision cost) | ${(s.busy.cpuSecondsPerMinute - s.idle.cpuSecondsPerMinute).toFixed(3)} | ${(s.busy.cpuPercent - s.idle.cpuPercent).toFixed(2)} | ${(s.busy.rssMeanMB - s.idle.rssMeanMB).toFixed(1)} | – |`);
  lines.push('');
  lines.push(`CPU = utime + stime of the OpenStage process from /proc/<pid>/stat (its builds and replicas are other processes and not counted); RSS sampled every second. The window starts 5 s after the scale job succeeded. During it the server watches each replica's process (exit events), probes each replica's readiness (HTTP GET /health) every 5 s (deploy.monitorSeconds), and serves the replicas' own registry heartbeats (node-hello registers itself and heartbeats every 10 s: ${r.settings.replicas / 10} req/s).`);
  lines.push(`Scale 1 → ${r.settings.replicas}: ${(s.scaleUpMs / 1000).toFixed(1)} s until the scale job succeeded; ${s.replicasAnsweringAfter}/${r.settings.replicas} replicas answering after the window, ${s.restarts} restarts; delete of the component (all replicas stopped): ${(s.deleteMs / 1000).toFixed(1)} s; replica processes left afterwards: ${s.processesLeft}.`);
  if (s.busy.rssMeanMB < s.idle.rssMeanMB) lines.push('RSS is of the server process alone; the lower figure with replicas than idle means V8 gave back memory left from the deployments of (a): supervising adds nothing measurable to it.');
  lines.push(`The ${r.settings.replicas} replicas themselves (npm + node per replica) used ${ms(s.replicasRssMB)} MB RSS in total. Server RSS: empty ${r.rss.emptyMB} MB · end ${r.rss.endMB} MB · peak (VmHWM) ${r.rss.peakMB} MB.`);
  lines.push('');
  return lines.join('\n');
}

// ───────────────────────── lifecycle ─────────────────────────

const watchdog = setTimeout(() => {
  log(`timeout after ${TIMEOUT_SECONDS} s, stopping`);
  killAllNow();
  process.exit(2);
}, TIMEOUT_SECONDS * 1000);
watchdog.unref();

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}, stopping`);
    killAllNow();
    process.exit(130);
  });
}
process.once('exit', killAllNow);

try {
  await main();
  process.exitCode = 0;
} catch (err) {
  log(`failed: ${err.stack ?? err}`);
  process.exitCode = 2;
} finally {
  for (const c of [...children]) await children.stop(c, 5000);
  killReplicas();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
  clearTimeout(watchdog);
}
