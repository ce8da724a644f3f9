#!/usr/bin/env node
// Registry benchmark: OpenStage service center vs a bare node:http baseline, loopback only.
//
//   npm run build && node bench/registry/run.mjs
//
// Steps: start `node dist/src/cli.js serve` as a child (free port, temp data dir, SQLite,
// log level warn); preload SERVICES × PER_SERVICE instances through the HTTP API; add the
// find targets (FIND1_SERVICES services with 1 instance, one service with 100); then, each
// for BENCH_SECONDS with wrk (a separate process, bench/lib.mjs): heartbeat, find(1),
// find(100), RSS, new-instance registration. Every figure is also measured against a bare
// node:http child answering a fixed body of the same size. Results: stdout,
// bench/results/registry-latest.md and .json.
//
// Environment (all optional):
//   BENCH_SECONDS=10            duration of each wrk run
//   BENCH_WARMUP_SECONDS=2      unrecorded wrk run before each measured one (0 = none)
//   BENCH_CONNECTIONS=64        wrk connections
//   BENCH_WRK=/usr/bin/wrk      the wrk binary
//   BENCH_SERVICES=10000        preloaded services
//   BENCH_INSTANCES_PER_SERVICE=10
//   BENCH_FIND1_SERVICES=100    find(1) cycles over this many 1-instance services
//   BENCH_PRELOAD_CONCURRENCY=64
//   BENCH_LEASE_TIMES=19        healthCheck.times of preloaded instances (interval 30 s → TTL 600 s,
//                               so nothing expires while the runs go on; 3 gives the usual 120 s)
//   BENCH_ONLY=heartbeat,find1  run only these metrics (heartbeat, find1, find100, register)
//   BENCH_NO_BASELINE=1         skip the baseline runs
//   BENCH_CPU_PROF=1            run the server with --cpu-prof into bench/results/profiles/;
//                               phase windows go to bench/results/profiles/phases.json
//                               (summarise with bench/registry/profile-summary.mjs)
//   BENCH_TIMEOUT_SECONDS=1200  hard limit for the whole run
//   BENCH_CLI=path/to/cli.js    server entry point to benchmark (default dist/src/cli.js)
//   BENCH_STRICT=1              exit 1 when a target is missed (default: exit 0, the table says FAIL)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Children, CLK_TCK, CONNECTIONS, NO_BASELINE, SECONDS, WARMUP_SECONDS, cli, cpuSecondsOf, env, freePort, log, resultsDir, root, rssOf, wrk, writeResults } from '../lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const SERVICES = env('BENCH_SERVICES', 10_000);
const PER_SERVICE = env('BENCH_INSTANCES_PER_SERVICE', 10);
const FIND1_SERVICES = env('BENCH_FIND1_SERVICES', 100);
const PRELOAD_CONCURRENCY = env('BENCH_PRELOAD_CONCURRENCY', 64);
const LEASE_TIMES = env('BENCH_LEASE_TIMES', 19);
const TIMEOUT_SECONDS = env('BENCH_TIMEOUT_SECONDS', 1200);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'heartbeat,find1,find100,register').split(',').map((s) => s.trim()).filter(Boolean));
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';

const APP = 'bench';
const FIND100_NAME = 'benchfind100';
const base = '/v4/default/registry';
const TARGETS = { heartbeat: 15_000, find1: 15_000, find100: 3_000, register: 3_000, rssMB: 500 };

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

// ───────────────────────── child processes ─────────────────────────

const children = new Children(root);
const startChild = (name, args, extraEnv) => children.start(name, args, extraEnv);
const stopChild = (child, graceMs) => children.stop(child, graceMs);
let tmpDir;

function killAllNow() {
  children.killAll();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
}

async function waitHttp(port, path, child, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`child exited with ${child.exitCode} before listening`);
    try {
      const r = await request(port, 'GET', path);
      if (r.status === 200) return;
    } catch { /* not yet */ }
    if (Date.now() > until) throw new Error(`server on port ${port} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU seconds all CPUs spent busy so far (from /proc/stat). */
function busyCpuSeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3] - f[4]) / CLK_TCK;
}

// ───────────────────────── HTTP client for preload ─────────────────────────

const agent = new http.Agent({ keepAlive: true, maxSockets: PRELOAD_CONCURRENCY });

function request(port, method, path, body) {
  return new Promise((resolveReq, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, timeout: 30_000, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveReq({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function requestJson(port, method, path, body) {
  const r = await request(port, method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
  return r.text ? JSON.parse(r.text) : {};
}

/** Runs fn(i) for i in [0, count) with `concurrency` in flight. */
async function pool(count, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const serviceBody = (name) => ({ service: { appId: APP, serviceName: name, version: '1.0.0' } });
// Endpoints are unique per instance: a registration with the endpoints of an instance of the
// service re-registers that instance (issue #18 item 11).
const instanceBody = (n) => ({ instance: { hostName: 'h', endpoints: [`rest://127.0.0.1:8080/p${n}`], healthCheck: { mode: 'push', interval: 30, times: LEASE_TIMES } } });
const findPath = (name) => `${base}/instances?appId=${APP}&serviceName=${name}&version=1.0.0`;

// ───────────────────────── load (wrk) ─────────────────────────

/**
 * A warm-up run (JIT of both sides), then the measured run inside phase `name`, driven by wrk
 * in a separate process (bench/lib.mjs), with the CPU time the server child (`pid`) spent.
 * The load generator's CPU is part of "other" (everything but the server).
 */
async function load(port, pid, workload, phase, name) {
  // The warm-up's registrations (`%n` from 0) must not collide with the measured run's.
  if (WARMUP_SECONDS > 0) await wrk(port, { ...workload, seconds: WARMUP_SECONDS });
  workload = { ...workload, bodySeed: 1_000_000_000 };
  const server0 = cpuSecondsOf(pid);
  const busy0 = busyCpuSeconds();
  const wall0 = process.hrtime.bigint();
  const out = await phase(name, () => wrk(port, workload));
  const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
  const serverCpuS = cpuSecondsOf(pid) - server0;
  out.serverCpuPercent = (100 * serverCpuS) / wallS;
  out.otherCpuPercent = Math.max(0, (100 * (busyCpuSeconds() - busy0)) / wallS - out.serverCpuPercent);
  out.serverCpuUsPerReq = out.totalRequests > 0 ? (serverCpuS * 1e6) / out.totalRequests : null;
  return out;
}

// ───────────────────────── main ─────────────────────────

async function main() {
  const startedAt = new Date();
  const loadAvgAtStart = loadavg();
  const phases = [];
  const phase = async (name, fn) => {
    const t0 = nowUs();
    try {
      return await fn();
    } finally {
      phases.push({ name, startUs: t0, endUs: nowUs() });
    }
  };

  tmpDir = mkdtempSync(join(tmpdir(), 'openstage-bench-'));
  const port = await freePort();
  const nodeArgs = [];
  const profDir = join(resultsDir, 'profiles');
  if (CPU_PROF) {
    mkdirSync(profDir, { recursive: true });
    writeFileSync(join(profDir, '.gitignore'), '*\n');
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  }
  log(`starting openstage on 127.0.0.1:${port} (data dir ${tmpDir})`);
  // Quota raised so the registration run never turns into 400100 errors; RSS is read before it.
  const server = startChild('openstage', [...nodeArgs, cli, 'serve', '--port', String(port), '--data-dir', join(tmpDir, 'data'), '--log-level', 'warn'], { QUOTA_INSTANCE: '10000000', QUOTA_SERVICE: '1000000' });
  await waitHttp(port, '/version', server);
  const rssEmpty = rssOf(server.pid);

  // Preload.
  const pairs = new Array(SERVICES * PER_SERVICE);
  const serviceIds = new Array(SERVICES);
  const preloadT0 = Date.now();
  await phase('preload', async () => {
    let t = Date.now();
    await pool(SERVICES, PRELOAD_CONCURRENCY, async (i) => {
      serviceIds[i] = (await requestJson(port, 'POST', `${base}/microservices`, serviceBody(`svc${i}`))).serviceId;
    });
    log(`${SERVICES} services in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = Date.now();
    await pool(SERVICES * PER_SERVICE, PRELOAD_CONCURRENCY, async (k) => {
      const sid = serviceIds[k % SERVICES];
      const { instanceId } = await requestJson(port, 'POST', `${base}/microservices/${sid}/instances`, instanceBody(k));
      pairs[k] = [sid, instanceId];
    });
    log(`${pairs.length} instances in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  });
  const preloadSeconds = (Date.now() - preloadT0) / 1000;

  // Find targets: FIND1_SERVICES services with one instance, one service with 100.
  const find1Names = Array.from({ length: FIND1_SERVICES }, (_, i) => `benchfind1x${i}`);
  await pool(FIND1_SERVICES, PRELOAD_CONCURRENCY, async (i) => {
    const { serviceId } = await requestJson(port, 'POST', `${base}/microservices`, serviceBody(find1Names[i]));
    await requestJson(port, 'POST', `${base}/microservices/${serviceId}/instances`, instanceBody(i));
  });
  const { serviceId: find100Id } = await requestJson(port, 'POST', `${base}/microservices`, serviceBody(FIND100_NAME));
  await pool(100, PRELOAD_CONCURRENCY, (i) => requestJson(port, 'POST', `${base}/microservices/${find100Id}/instances`, instanceBody(i)));
  const instanceCount = pairs.length + FIND1_SERVICES + 100;

  const find1Reply = await request(port, 'GET', findPath(find1Names[0]));
  const find100Reply = await request(port, 'GET', findPath(FIND100_NAME));
  const n1 = JSON.parse(find1Reply.text).instances?.length;
  const n100 = JSON.parse(find100Reply.text).instances?.length;
  if (n1 !== 1 || n100 !== 100) throw new Error(`find sanity check failed: find(1) returned ${n1}, find(100) returned ${n100}`);
  log(`find(1) reply ${Buffer.byteLength(find1Reply.text)} B, find(100) reply ${Buffer.byteLength(find100Reply.text)} B`);

  await new Promise((r) => setTimeout(r, 2000));
  const rssAfterPreload = rssOf(server.pid);
  log(`RSS after preload (${instanceCount} instances): ${rssAfterPreload.rssMB.toFixed(1)} MB`);

  // Baseline child, answering bodies of the same size as ours.
  let baseline;
  let basePort;
  if (!NO_BASELINE) {
    writeFileSync(join(tmpDir, 'find1.json'), find1Reply.text);
    writeFileSync(join(tmpDir, 'find100.json'), find100Reply.text);
    basePort = await freePort();
    baseline = startChild('baseline', [join(here, 'baseline-server.mjs'), String(basePort), join(tmpDir, 'find1.json'), join(tmpDir, 'find100.json'), FIND100_NAME]);
    await waitHttp(basePort, '/', baseline);
  }

  // Workloads for wrk: each request takes the next path of its list. Heartbeats cycle over
  // (at most) 10,000 instances, find(1) over its services; each registration carries an
  // endpoint of its own (`%n`), or it would re-register the instance with that endpoint.
  const regBody = JSON.stringify(instanceBody(0)).replace('/p0', '/r%n');
  const workloads = {
    heartbeat: { label: 'heartbeat (PUT …/heartbeat)', method: 'PUT', paths: pairs.slice(0, 10_000).map(([s, i]) => `${base}/microservices/${s}/instances/${i}/heartbeat`) },
    find1: { label: `find 1 instance (GET /instances, ${FIND1_SERVICES} services)`, method: 'GET', paths: find1Names.map(findPath) },
    find100: { label: 'find 100 instances (GET /instances)', method: 'GET', paths: [findPath(FIND100_NAME)] },
    register: {
      label: `register new instance (POST …/instances, ${SERVICES} services)`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: regBody,
      paths: serviceIds.map((s) => `${base}/microservices/${s}/instances`),
    },
  };

  const rows = [];
  let rssAfterRuns;
  for (const key of ['heartbeat', 'find1', 'find100', 'register']) {
    if (key === 'register') {
      rssAfterRuns = rssOf(server.pid);
      log(`RSS before registration run: ${rssAfterRuns.rssMB.toFixed(1)} MB`);
    }
    if (!ONLY.has(key)) continue;
    const w = workloads[key];
    log(`run ${key}: openstage, ${SECONDS} s × ${CONNECTIONS} connections`);
    const ours = await load(port, server.pid, w, phase, `${key}:openstage`);
    log(`  ${ours.reqPerSec.toFixed(0)} req/s, p99 ${ours.latencyMs.p99} ms, non2xx ${ours.non2xx}, errors ${ours.errors}, server CPU ${ours.serverCpuPercent.toFixed(0)}% (${ours.serverCpuUsPerReq.toFixed(0)} µs/req), other (wrk included) ${ours.otherCpuPercent.toFixed(0)}%`);
    let theirs;
    if (baseline) {
      log(`run ${key}: baseline`);
      theirs = await load(basePort, baseline.pid, w, phase, `${key}:baseline`);
      log(`  ${theirs.reqPerSec.toFixed(0)} req/s, p99 ${theirs.latencyMs.p99} ms, server CPU ${theirs.serverCpuPercent.toFixed(0)}% (${theirs.serverCpuUsPerReq.toFixed(0)} µs/req), other (wrk included) ${theirs.otherCpuPercent.toFixed(0)}%`);
    }
    rows.push({ key, label: w.label, target: TARGETS[key], openstage: ours, baseline: theirs, ratio: theirs ? ours.reqPerSec / theirs.reqPerSec : null, pass: ours.reqPerSec >= TARGETS[key] && ours.non2xx === 0 && ours.errors === 0 });
  }
  const rssEnd = rssOf(server.pid);
  const baselineRss = baseline ? rssOf(baseline.pid) : undefined;
  const rssCheck = rssAfterRuns ?? rssEnd;

  await stopChild(baseline);
  await stopChild(server);
  if (CPU_PROF) {
    writeFileSync(join(profDir, 'phases.json'), `${JSON.stringify({ serverPid: server.pid, phases }, null, 2)}\n`);
    log(`cpu profile of pid ${server.pid} in ${profDir}`);
  }

  const report = {
    date: startedAt.toISOString(),
    machine: { loadAvgAtStart: loadAvgAtStart.map((n) => +n.toFixed(2)), cpus: cpus().length, cpuModel: cpus()[0]?.model, memGB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: process.platform },
    settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, pipelining: 1, services: SERVICES, instancesPerService: PER_SERVICE, find1Services: FIND1_SERVICES, leaseTtlSeconds: 30 * (LEASE_TIMES + 1), db: 'sqlite', loadGenerator: 'wrk, a separate process (1 thread)' },
    preload: { instances: instanceCount, seconds: +preloadSeconds.toFixed(1), perSecond: +(((SERVICES + pairs.length) / preloadSeconds)).toFixed(0) },
    replyBytes: { find1: Buffer.byteLength(find1Reply.text), find100: Buffer.byteLength(find100Reply.text) },
    rss: { emptyMB: +rssEmpty.rssMB.toFixed(1), afterPreloadMB: +rssAfterPreload.rssMB.toFixed(1), beforeRegistrationMB: +rssCheck.rssMB.toFixed(1), endMB: +rssEnd.rssMB.toFixed(1), peakMB: +rssEnd.hwmMB.toFixed(1), baselineMB: baselineRss ? +baselineRss.rssMB.toFixed(1) : null, instances: instanceCount, targetMB: TARGETS.rssMB, pass: rssCheck.rssMB <= TARGETS.rssMB },
    runs: rows,
  };
  const md = toMarkdown(report);
  writeResults('registry', report, md);
  return report;
}

function toMarkdown(r) {
  const f0 = (n) => (n === undefined || n === null ? '–' : Math.round(n).toLocaleString('en-US'));
  const lines = [
    '# Registry benchmark',
    '',
    `${r.date} · node ${r.machine.node} · ${r.machine.cpus} × ${r.machine.cpuModel} · ${r.machine.memGB} GB`,
    `wrk (a separate process, 1 thread) ${r.settings.connections} connections, ${r.settings.seconds} s per run after ${r.settings.warmupSeconds} s warm-up · SQLite · ${r.rss.instances.toLocaleString('en-US')} instances (${r.settings.services.toLocaleString('en-US')} services × ${r.settings.instancesPerService} + find targets)`,
    `preload ${r.preload.seconds} s (${r.preload.perSecond.toLocaleString('en-US')} writes/s) · find(1) reply ${r.replyBytes.find1} B · find(100) reply ${r.replyBytes.find100.toLocaleString('en-US')} B`,
    '',
    '| metric | openstage req/s | baseline req/s | ratio | p99 ms | baseline p99 ms | non-2xx / errors | server CPU µs/req (openstage / baseline) | target | pass/fail |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of r.runs) {
    const o = row.openstage;
    const b = row.baseline;
    lines.push(`| ${row.label} | ${f0(o.reqPerSec)} | ${b ? f0(b.reqPerSec) : '–'} | ${row.ratio === null ? '–' : row.ratio.toFixed(2)} | ${o.latencyMs.p99} | ${b ? b.latencyMs.p99 : '–'} | ${o.non2xx} / ${o.errors} | ${f0(o.serverCpuUsPerReq)} / ${b ? f0(b.serverCpuUsPerReq) : '–'} | ≥ ${f0(row.target)}/s | ${row.pass ? 'pass' : 'FAIL'} |`);
  }
  lines.push(`| RSS @ ${r.rss.instances.toLocaleString('en-US')} instances (before registration run) | ${r.rss.beforeRegistrationMB} MB | ${r.rss.baselineMB ?? '–'} MB | – | – | – | – | – | ≤ ${r.rss.targetMB} MB | ${r.rss.pass ? 'pass' : 'FAIL'} |`);
  lines.push('');
  lines.push(`RSS: empty ${r.rss.emptyMB} MB · after preload ${r.rss.afterPreloadMB} MB · before registration ${r.rss.beforeRegistrationMB} MB · end ${r.rss.endMB} MB · peak (VmHWM) ${r.rss.peakMB} MB.`);
  lines.push('req/s counts 2xx responses only; ratio = openstage / baseline (bare node:http answering a same-size fixed body after reading the request body).');
  lines.push('server CPU µs/req = user+system CPU of the server process during the run / requests answered; 1e6 / that is the most one fully busy core could serve. When the baseline ratio is near 1 the load generator, not the server, is the limit.');
  const cpuLine = r.runs.map((row) => `${row.key} ${Math.round(row.openstage.serverCpuPercent)}/${Math.round(row.openstage.otherCpuPercent)}`).join(' · ');
  if (cpuLine) lines.push(`CPU % during the openstage runs (server / rest of the machine, wrk included; 100 = one core): ${cpuLine}. Load average at start: ${r.machine.loadAvgAtStart.join(' ')}.`);
  const busy = r.runs.flatMap((row) => [row.openstage, row.baseline].filter(Boolean)).some((x) => x.otherCpuPercent > 25);
  if (busy) lines.push('**Warning: other processes used more than 25% of a core during some runs; req/s figures are depressed and noisy. Compare the µs/req column, or rerun on an idle machine.**');
  lines.push(`Preloaded leases use interval 30 s × (times ${r.settings.leaseTtlSeconds / 30 - 1} + 1) = ${r.settings.leaseTtlSeconds} s so none expires mid-run; instance quota raised for the registration run.`);
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
  const report = await main();
  const failed = report.runs.some((r) => !r.pass) || !report.rss.pass;
  process.exitCode = failed && process.env.BENCH_STRICT === '1' ? 1 : 0;
} catch (err) {
  log(`failed: ${err.stack ?? err}`);
  process.exitCode = 2;
} finally {
  for (const c of [...children]) await stopChild(c, 5000);
  agent.destroy();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
  clearTimeout(watchdog);
}
