#!/usr/bin/env node
// Cluster benchmark (issue #16): what running several servers on one PostgreSQL costs.
//
//   npm run build && node bench/cluster/run.mjs
//
// A throw-away PostgreSQL cluster is started (scripts/pg-temp.mjs), so its CPU is this
// benchmark's alone. For N = 1 and N = 3 servers (`node dist/src/cli.js serve`, one database,
// one master key): preload SERVICES × PER_SERVICE registry instances and KVS Kie kvs, then
// for each operation run wrk against every server at once (one wrk process per server,
// CONNECTIONS split over them) for BENCH_SECONDS: heartbeat, find(1), register, Kie list. Reported
// per operation: requests/s, server CPU µs/request (all servers' user+system CPU over the
// requests answered) and PostgreSQL CPU µs/request (all its processes). Then, with N = 3,
// the cross-server wake-up: WAITERS Kie long polls held on servers 2 and 3, each woken by a
// PUT on server 1 (SAMPLES, one at a time): latency from the PUT sent to the poll's 200, and
// the same on one server for comparison. Results: stdout, bench/results/cluster-latest.md
// and .json.
//
// Environment (all optional): BENCH_SECONDS=10, BENCH_WARMUP_SECONDS=2, BENCH_CONNECTIONS=64,
// BENCH_SERVICES=1000, BENCH_INSTANCES_PER_SERVICE=10, BENCH_KVS=1000, BENCH_WAITERS=1000,
// BENCH_SAMPLES=300, BENCH_ONLY=heartbeat,find1,register,kielist,wake, BENCH_TIMEOUT_SECONDS=1800,
// BENCH_SERVERS=1,3, BENCH_CLI=<server entry point> (e.g. another build's dist/src/cli.js, for a
// one-server baseline before this change; its results go to cluster-<BENCH_RESULTS_NAME>).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTempPostgres } from '../../scripts/pg-temp.mjs';
import { Children, CONNECTIONS, SECONDS, WARMUP_SECONDS, cli, cpuSecondsOf, env, exitAfter, freePort, log, root, wrk, writeResults } from '../lib.mjs';

const SERVICES = env('BENCH_SERVICES', 1000);
const PER_SERVICE = env('BENCH_INSTANCES_PER_SERVICE', 10);
const KVS = env('BENCH_KVS', 1000);
const WAITERS = env('BENCH_WAITERS', 1000);
const SAMPLES = env('BENCH_SAMPLES', 300);
const TIMEOUT_SECONDS = env('BENCH_TIMEOUT_SECONDS', 1800);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'heartbeat,find1,register,kielist,wake').split(','));
/** Cluster sizes to measure (BENCH_SERVERS=1 with BENCH_CLI=<another build> measures a baseline). */
const SIZES = (process.env.BENCH_SERVERS ?? '1,3').split(',').map(Number);
const KEY = 'b7'.repeat(32);
const REG = '/v4/default/registry';
const KIE = '/v1/bench/kie';
const TARGET_WAKE_P99_MS = 100;

const children = new Children(root);

/** One HTTP request on a fresh or pooled connection; resolves with status, headers, text and the arrival time (ns). */
function request(port, method, path, body, { agent } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), atNs: process.hrtime.bigint() }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * CPU seconds of every process of the PostgreSQL cluster whose postmaster is `postmaster`:
 * its own, its live children's, and those of children that have exited (cutime + cstime).
 */
function pgCpuSeconds(postmaster) {
  const stat = readFileSync(`/proc/${postmaster}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let total = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += cpuSecondsOf(Number(name));
    } catch {
      /* gone */
    }
  }
  return total;
}

async function waitReady(port, child) {
  for (const until = Date.now() + 180_000; Date.now() < until; ) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await request(port, 'GET', '/health')).status === 200) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on ${port} not ready`);
}

/** Starts `count` servers on database `db`; returns their ports and processes. */
async function startServers(count, db, dirs) {
  const servers = [];
  for (let i = 0; i < count; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'openstage-cluster-bench-'));
    dirs.push(dir);
    const port = await freePort();
    const child = children.start(`s${i + 1}`, [cli, 'serve', '--port', String(port), '--data-dir', dir, '--db', db, '--auth', 'none', '--log-level', 'warn'], {
      OPENSTAGE_MASTER_KEY: KEY,
      OPENSTAGE_GIT_DIR: join(dirs[0], 'git'),
      QUOTA_INSTANCE: '1000000',
      QUOTA_SERVICE: '1000000',
    });
    servers.push({ port, child });
  }
  await Promise.all(servers.map((s) => waitReady(s.port, s.child)));
  return servers;
}

/** Runs wrk against every server at once (one process each, connections split); sums what they answered. */
async function spread(servers, seconds, workloadOf) {
  const per = Math.max(1, Math.floor(CONNECTIONS / servers.length));
  const runs = await Promise.all(servers.map((s, i) => wrk(s.port, { ...workloadOf(i), seconds, connections: per })));
  return {
    total: runs.reduce((n, r) => n + r.totalRequests, 0),
    ok: runs.reduce((n, r) => n + r.ok, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    duration: Math.max(...runs.map((r) => r.durationS)),
    p99: Math.max(...runs.map((r) => r.latencyMs.p99)),
  };
}

async function measure(servers, postmaster, requestsOf) {
  if (WARMUP_SECONDS > 0) await spread(servers, WARMUP_SECONDS, requestsOf);
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = servers.reduce((n, s) => n + cpuSecondsOf(s.child.pid), 0);
  const pg0 = pgCpuSeconds(postmaster);
  const r = await spread(servers, SECONDS, requestsOf);
  const cpu = servers.reduce((n, s) => n + cpuSecondsOf(s.child.pid), 0) - cpu0;
  const pgCpu = pgCpuSeconds(postmaster) - pg0;
  return { reqPerSec: r.ok / r.duration, p99Ms: r.p99, non2xx: r.non2xx, errors: r.errors, serverCpuUsPerReq: (cpu * 1e6) / Math.max(1, r.total), pgCpuUsPerReq: (pgCpu * 1e6) / Math.max(1, r.total) };
}

async function preload(port) {
  const serviceIds = [];
  const pairs = [];
  const findNames = [];
  const queue = Array.from({ length: SERVICES }, (_, i) => i);
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const name = `svc${i}`;
      const s = JSON.parse((await request(port, 'POST', `${REG}/microservices`, { service: { appId: 'bench', serviceName: name, version: '1.0.0' } }, { agent: keepAlive })).text);
      serviceIds.push(s.serviceId);
      findNames.push(name);
      for (let j = 0; j < (i < 100 ? 1 : PER_SERVICE); j++) {
        const r = JSON.parse((await request(port, 'POST', `${REG}/microservices/${s.serviceId}/instances`, { instance: { hostName: `h${j}`, endpoints: [`rest://10.0.${i % 250}.${j}:8080`], healthCheck: { mode: 'push', interval: 30, times: 19 } } }, { agent: keepAlive })).text);
        pairs.push([s.serviceId, r.instanceId]);
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const items = Array.from({ length: KVS }, (_, i) => ({ key: `bench.key${i}`, value: `value of key ${i} `.repeat(4), status: 'enabled', labels: { app: 'bench', service: `s${i % 100}` } }));
  const imported = JSON.parse((await request(port, 'POST', `${KIE}/file?override=force`, { data: items })).text);
  if (imported.success.length !== KVS) throw new Error('kv import failed');
  return { serviceIds, pairs, find1: findNames.slice(0, 100) };
}

async function runOps(count, adminUrl, postmaster, dirs) {
  const dbName = `bench_${count}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const db = adminUrl.replace(/\/postgres$/, `/${dbName}`);
  const servers = await startServers(count, db, dirs);
  log(`${count} server(s) up; preloading ${SERVICES} services, ${KVS} kvs`);
  const data = await preload(servers[0].port);
  await new Promise((r) => setTimeout(r, 2000));
  const rows = {};
  // Each server's wrk starts at another place of the lists; register bodies carry a unique endpoint.
  const rotate = (list, i) => [...list.slice((i * list.length) / 3), ...list.slice(0, (i * list.length) / 3)];
  let seed = 0;
  const ops = {
    heartbeat: (i) => ({ method: 'PUT', paths: rotate(data.pairs.map(([s, inst]) => `${REG}/microservices/${s}/instances/${inst}/heartbeat`), i) }),
    find1: (i) => ({ paths: rotate(data.find1.map((name) => `${REG}/instances?appId=bench&serviceName=${name}`), i) }),
    register: (i) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instance: { hostName: 'new', endpoints: ['rest://10.9.%n.1:1'], healthCheck: { mode: 'push', interval: 30, times: 19 } } }),
      bodySeed: (seed += 10_000_000) + i * 1_000_000,
      paths: rotate(data.serviceIds.map((id) => `${REG}/microservices/${id}/instances`), i),
    }),
    kielist: (i) => ({ paths: rotate(Array.from({ length: 100 }, (_, n) => `${KIE}/kv?label=app:bench&label=service:s${n}`), i) }),
  };
  for (const [key, requestsOf] of Object.entries(ops)) {
    if (!ONLY.has(key)) continue;
    log(`${count} server(s): ${key}`);
    rows[key] = await measure(servers, postmaster, requestsOf);
    log(`  ${rows[key].reqPerSec.toFixed(0)} req/s, server ${rows[key].serverCpuUsPerReq.toFixed(0)} µs/req, PostgreSQL ${rows[key].pgCpuUsPerReq.toFixed(0)} µs/req, non2xx ${rows[key].non2xx}`);
  }
  return { servers, rows };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * The wake-up test's Kie path: project `default`, where imports (`/kie/file`) put kvs whatever
 * the path's project (CSE's import API, src/kie/index.ts ENGINE_KIE_PROJECT).
 */
const WAKE_KIE = '/v1/default/kie';

/** Held polls on `pollPorts` (spread), each woken by a PUT on `writePort`: latency PUT sent → 200. */
async function wake(writePort, pollPorts) {
  const items = Array.from({ length: WAITERS }, (_, i) => ({ key: 'wake', value: 'v0', labels: { app: 'wake', w: String(i) } }));
  const kvs = JSON.parse((await request(writePort, 'POST', `${WAKE_KIE}/file?override=force`, { data: items })).text).success;
  const idOf = new Map(kvs.map((k) => [k.labels.w, k.id]));
  await new Promise((r) => setTimeout(r, 1000));
  let rev = (await request(pollPorts[0], 'GET', `${WAKE_KIE}/kv?label=app:none`)).headers['x-kie-revision'];
  const polls = new Map();
  const open = (i) => {
    const port = pollPorts[i % pollPorts.length];
    const reply = request(port, 'GET', `${WAKE_KIE}/kv?label=app:wake&label=w:${i}&revision=${rev}&wait=5m`, undefined, { agent: false });
    reply.catch(() => undefined);
    polls.set(i, reply);
  };
  for (let i = 0; i < WAITERS; i += 250) {
    for (let j = i; j < Math.min(WAITERS, i + 250); j++) open(j);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 3000));
  const latencies = [];
  let version = 0;
  for (let s = 0; s < SAMPLES; s++) {
    const i = (s * 7919) % WAITERS;
    const t0 = process.hrtime.bigint();
    const [put, reply] = await Promise.all([request(writePort, 'PUT', `${WAKE_KIE}/kv/${idOf.get(String(i))}`, { value: `v${++version}` }, { agent: keepAlive }), polls.get(i)]);
    if (put.status !== 200) throw new Error(`the PUT of kv ${i} answered ${put.status}: ${put.text}`);
    if (reply.status !== 200) throw new Error(`poll ${i} answered ${reply.status}`);
    latencies.push(Number(reply.atNs - t0) / 1e6);
    rev = reply.headers['x-kie-revision'];
    open(i);
    await new Promise((r) => setImmediate(r));
  }
  latencies.sort((a, b) => a - b);
  return { samples: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] };
}

async function main() {
  exitAfter(TIMEOUT_SECONDS, children);
  const temp = await startTempPostgres();
  if (!temp) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  const dirs = [];
  const results = { startedAt: new Date().toISOString(), node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, memGB: totalmem() / 2 ** 30, loadAvg: loadavg(), config: { SECONDS, WARMUP_SECONDS, CONNECTIONS, SERVICES, PER_SERVICE, KVS, WAITERS, SAMPLES } };
  try {
    const pgPort = Number(new URL(temp.url).port);
    const postmaster = findPostmaster(pgPort);
    for (const count of SIZES) {
      const { servers, rows } = await runOps(count, temp.url, postmaster, dirs);
      results[`n${count}`] = rows;
      if (ONLY.has('wake')) {
        log(`${count} server(s): wake-up with ${WAITERS} held polls`);
        results[`wake${count}`] = count === 1 ? await wake(servers[0].port, [servers[0].port]) : await wake(servers[0].port, servers.slice(1).map((s) => s.port));
        log(`  p50 ${results[`wake${count}`].p50.toFixed(2)} ms, p99 ${results[`wake${count}`].p99.toFixed(2)} ms`);
      }
      for (const s of servers) await children.stop(s.child);
    }
  } finally {
    children.killAll();
    temp.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  report(results);
}

/** The postmaster listening on `port` (its command line names the port). */
function findPostmaster(port) {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('/postgres') && cmd.includes(`-p ${port}`)) return Number(name);
      if (cmd[0]?.endsWith('/postgres') && cmd.join(' ').includes(`-p ${port} `)) return Number(name);
    } catch {
      /* gone */
    }
  }
  throw new Error(`no postmaster on port ${port}`);
}

function report(r) {
  const f = (n, d = 0) => (n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const labels = { heartbeat: 'heartbeat (PUT …/heartbeat)', find1: 'find 1 instance (GET /instances)', register: 'register new instance (POST …/instances)', kielist: 'Kie list, 10 of 1,000 kvs by labels' };
  const lines = [
    '# Cluster benchmark',
    '',
    `${r.startedAt} · node ${r.node} · ${r.cpus} · ${f(r.memGB, 1)} GB · load average at start ${r.loadAvg.map((x) => x.toFixed(2)).join(' ')}`,
    `\`node bench/cluster/run.mjs\` · a private PostgreSQL (fsync off) · ${f(SERVICES)} services, ${f(SERVICES * PER_SERVICE)} instances, ${f(KVS)} kvs · wrk, ${CONNECTIONS} connections split over the servers (one wrk process each), ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up (everything shares the 2 cores)`,
    '',
    '| operation | servers | req/s | p99 ms | server CPU µs/req (all servers) | PostgreSQL CPU µs/req | non-2xx / errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const key of Object.keys(labels)) {
    for (const n of [1, 3]) {
      const row = r[`n${n}`]?.[key];
      if (!row) continue;
      lines.push(`| ${labels[key]} | ${n} | ${f(row.reqPerSec)} | ${f(row.p99Ms)} | ${f(row.serverCpuUsPerReq)} | ${f(row.pgCpuUsPerReq)} | ${row.non2xx} / ${row.errors} |`);
    }
  }
  if (r.wake1 || r.wake3) {
    lines.push('', '| wake-up (PUT sent → held poll answered) | p50 ms | p99 ms | max ms | target |', '|---|---:|---:|---:|---|');
    if (r.wake1) lines.push(`| one server, ${f(WAITERS)} polls held on it | ${f(r.wake1.p50, 2)} | ${f(r.wake1.p99, 2)} | ${f(r.wake1.max, 2)} | – |`);
    if (r.wake3) lines.push(`| PUT on server 1, ${f(WAITERS)} polls held on servers 2 and 3 | ${f(r.wake3.p50, 2)} | ${f(r.wake3.p99, 2)} | ${f(r.wake3.max, 2)} | p99 ≤ ${TARGET_WAKE_P99_MS} ms: ${r.wake3.p99 <= TARGET_WAKE_P99_MS ? 'pass' : 'FAIL'} |`);
  }
  lines.push(
    '',
    'Server CPU µs/req = user+system CPU of every server process during the run / requests answered (so with 3 servers it is what the cluster spends per request); PostgreSQL CPU µs/req = the same for every process of the private PostgreSQL cluster. The difference between the 1- and 3-server rows is what scale-out costs: the change log (one row and a NOTIFY per write, applied by every server), the acknowledgements a write waits for, and the batched writes of heartbeats.',
    `Wake-ups: ${SAMPLES} PUTs one at a time, each matching exactly one held poll (own labels, own connection); the PUT is answered only once every server has applied it, so the poll is woken before the PUT returns.`,
    '',
  );
  writeResults(process.env.BENCH_RESULTS_NAME ? `cluster-${process.env.BENCH_RESULTS_NAME}` : 'cluster', r, lines.join('\n'));
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  children.killAll();
  process.exit(1);
});
