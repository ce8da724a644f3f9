#!/usr/bin/env node
// Route benchmark: the latency a stable route adds to a request, against a direct connection
// to the same replica, loopback only.
//
//   npm run build && node bench/routes/run.mjs        (or: npm run bench:routes)
//
// Steps: start `node dist/src/cli.js serve` as a child (free port, temp data dir, SQLite, log
// level warn, default settings: replicas confined) and log in through IAM; deploy a plain
// Node.js HTTP service (APP below: `/` answers a small JSON at once, `/work?ms=N` after N ms of
// waiting, as a handler waiting on a database would, `/work?ms=N&kb=K` K KiB of JSON after N ms) from a file:// git repository (1 replica,
// http readiness probe) and read its route host (`status.routes`) and its replica's port
// (`status.instances`). Then, for each path of BENCH_PATHS (`/`: the proxy's whole cost is
// visible; `/work?ms=2`; `/work?ms=10&kb=16`, a page-sized answer of an API that waits on its
// database) and each connection count of BENCH_LOADS, BENCH_ROUNDS rounds
// alternating the two targets, each a wrk run of BENCH_SECONDS (Debian's /usr/bin/wrk, a
// separate process, one thread, keep-alive):
//   direct  GET http://127.0.0.1:<replica port><path>            (the baseline)
//   route   GET http://127.0.0.1:<server port><path> with Host: <component>.<app>.localhost
//   nginx   GET http://127.0.0.1:<nginx port><path>                (a reference: what a
//           well-known reverse proxy, Debian's nginx with one worker and a keep-alive upstream
//           to the same replica, adds on the same machine in the same rounds; skipped when
//           nginx is not installed)
// The report gives each target's p50/p90/p99 latency and rate (median over the rounds), the
// latency the route adds at p50 and the ratio route/direct of the p50 (target ≤ 1.3×), and
// nginx/direct beside it. Results: stdout, bench/results/routes-latest.md and .json.
//
// Environment (all optional):
//   BENCH_SECONDS=10          length of one wrk run
//   BENCH_ROUNDS=3            rounds per load (each: direct, then route)
//   BENCH_LOADS=1,16          wrk connections of each load
//   BENCH_PATHS=/,/work?ms=2,/work?ms=10&kb=16   paths measured, in order
//   BENCH_TIMEOUT_SECONDS=900 hard limit for the whole run
//   BENCH_NODE_ARGS=          node flags for the server, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Children, cli, cpuSecondsOf, env, freePort, log, root, writeResults, wrk } from '../lib.mjs';

const run = promisify(execFile);
const SECONDS = env('BENCH_SECONDS', 10);
const ROUNDS = env('BENCH_ROUNDS', 3);
const LOADS = (process.env.BENCH_LOADS || '1,16').split(',').map(Number);
const TIMEOUT_SECONDS = env('BENCH_TIMEOUT_SECONDS', 900);
const PATHS = (process.env.BENCH_PATHS || '/,/work?ms=2,/work?ms=10&kb=16').split(',');
const TARGET_RATIO = 1.3;
/** Extra node flags for the server (profiling: `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);

/** The replica: no dependencies, exits on SIGTERM. */
const APP = `const http = require('node:http');
const body = JSON.stringify({ service: 'hello', version: process.env.CAS_INSTANCE_VERSION, instance: process.env.CAS_INSTANCE_ID });
const bodies = new Map();
http.createServer((req, res) => {
  if (!req.url.startsWith('/work')) { res.writeHead(200, { 'content-type': 'application/json' }); return res.end(body); }
  const q = new URL(req.url, 'http://x').searchParams;
  const kb = Number(q.get('kb')) || 0;
  if (kb && !bodies.has(kb)) bodies.set(kb, JSON.stringify({ items: Array.from({ length: Math.ceil(kb * 1024 / 40) }, (_, i) => ({ id: i, name: 'item-' + i })) }).slice(0, kb * 1024));
  setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(kb ? bodies.get(kb) : body); }, Number(q.get('ms')) || 0);
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const ADMIN = { name: 'admin', password: 'Bench-Passw0rd!', projectId: 'be0c4be0c4be0c4be0c4be0c4be0c4b', ak: 'BENCHAKBENCHAKBENCH1', sk: 'benchSecretKeyBenchSecretKeyBenchSecr01' };
const HOST_ENV = Object.fromEntries(['PATH', 'HOME', 'LANG', 'TMPDIR', 'npm_config_cache'].flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]]] : [])));
const GIT_ENV = { ...HOST_ENV, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const children = new Children(root);
let tmpDir;
/** The reference nginx (not a node child: killed here on every way out). */
let nginxChild;

async function until(what, probe, timeoutMs, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function main() {
  const startedAt = new Date();
  const loadAvgAtStart = loadavg();
  tmpDir = mkdtempSync(join(tmpdir(), 'openstage-bench-routes-'));
  chmodSync(tmpDir, 0o755);
  const sources = join(tmpDir, 'src');
  mkdirSync(sources, { mode: 0o755 });
  const repoDir = join(sources, 'hello');
  mkdirSync(repoDir, { mode: 0o755 });
  writeFileSync(join(repoDir, 'package.json'), JSON.stringify({ name: 'hello', version: '1.0.0', private: true, main: 'server.js' }));
  writeFileSync(join(repoDir, 'server.js'), APP);
  await run('git', ['init', '-q', '-b', 'main'], { cwd: repoDir, env: GIT_ENV });
  await run('git', ['add', '.'], { cwd: repoDir, env: GIT_ENV });
  await run('git', ['commit', '-q', '-m', 'hello'], { cwd: repoDir, env: GIT_ENV });

  const port = await freePort();
  log(`starting openstage on 127.0.0.1:${port}`);
  const server = children.start('openstage', [...NODE_ARGS, cli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(tmpDir, 'data'), '--log-level', 'warn'], {
    OPENSTAGE_ADMIN_PASSWORD: ADMIN.password,
    OPENSTAGE_PROJECT_ID: ADMIN.projectId,
    OPENSTAGE_ACCESS_KEY: ADMIN.ak,
    OPENSTAGE_SECRET_KEY: ADMIN.sk,
    OPENSTAGE_DEPLOY_STOP_ON_SHUTDOWN: 'true',
    OPENSTAGE_DEPLOY_SOURCE_ROOTS: sources,
  });
  const base = `http://127.0.0.1:${port}`;
  await until('openstage to answer', async () => {
    if (server.exitCode !== null) throw new Error(`openstage exited with ${server.exitCode}`);
    return (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) ? true : undefined;
  }, 60_000);
  const login = await fetch(`${base}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: ADMIN.name, password: ADMIN.password, domain: { name: 'openstage' } } } }, scope: { project: { id: ADMIN.projectId } } } }) });
  const token = login.headers.get('x-subject-token');
  const cas = async (method, path, body) => {
    const r = await fetch(`${base}/v3/${ADMIN.projectId}/cas${path}`, { method, headers: { 'content-type': 'application/json', 'x-auth-token': token }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await r.json();
    if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const envRes = await cas('POST', '/environments', { name: 'benchenv', vpc_id: 'vpc-local' });
  const app = await cas('POST', '/applications', { name: 'bench' });
  const created = await cas('POST', `/applications/${app.id}/components`, {
    name: 'hello',
    runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' },
    source: { kind: 'code', repo_url: pathToFileURL(repoDir).toString(), repo_ref: 'main' },
    replica: 1,
    version: '1.0.0',
    environment_id: envRes.id,
    readiness_probe: { type: 'http', path: '/', timeout: 1 },
  });
  const path = `/applications/${app.id}/components/${created.component_id}`;
  const component = await until('RUNNING', async () => {
    const c = await cas('GET', path);
    if (c.status.component_status === 'FAILED') throw new Error(`deployment failed: ${c.status.fail_detail}`);
    return c.status.component_status === 'RUNNING' && c.status.routes?.[0]?.ready_replicas === 1 ? c : undefined;
  }, 300_000, 500);
  const host = component.status.routes.find((r) => r.type === 'http').host;
  const replicaPort = component.status.instances[0].port;
  log(`route ${host} → replica on 127.0.0.1:${replicaPort}`);

  const nginx = await startNginx(replicaPort);
  // The server's own CPU while nothing is proxied (the background the per-request figure includes).
  const idleCpu0 = cpuSecondsOf(server.pid);
  await sleep(5000);
  const serverIdleCpuPercent = +(((cpuSecondsOf(server.pid) - idleCpu0) / 5) * 100).toFixed(1);
  log(`server idle CPU ${serverIdleCpuPercent}%`);
  const loads = [];
  for (const path of PATHS) {
    for (const connections of LOADS) {
      const direct = [];
      const routed = [];
      const viaNginx = [];
      // Warm-up of both paths (JIT, keep-alive connections to the replica).
      await wrk(replicaPort, { paths: [path], seconds: 2, connections });
      await wrk(port, { paths: [path], headers: { Host: host }, seconds: 2, connections });
      if (nginx) await wrk(nginx.port, { paths: [path], seconds: 2, connections });
      for (let i = 0; i < ROUNDS; i++) {
        const d = await wrk(replicaPort, { paths: [path], seconds: SECONDS, connections });
        const cpuBefore = cpuSecondsOf(server.pid);
        const r = await wrk(port, { paths: [path], headers: { Host: host }, seconds: SECONDS, connections });
        r.serverCpuUsPerRequest = Math.round(((cpuSecondsOf(server.pid) - cpuBefore) / r.totalRequests) * 1e6);
        if (d.non2xx || d.errors || r.non2xx || r.errors) throw new Error(`failed requests: direct ${d.non2xx}+${d.errors}, route ${r.non2xx}+${r.errors}`);
        direct.push(d);
        routed.push(r);
        if (nginx) {
          const n = await wrk(nginx.port, { paths: [path], seconds: SECONDS, connections });
          if (n.non2xx || n.errors) throw new Error(`failed requests through nginx: ${n.non2xx}+${n.errors}`);
          viaNginx.push(n);
        }
        d.loadAvg1 = r.loadAvg1 = +loadavg()[0].toFixed(2);
        log(`${path} c=${connections} round ${i + 1} (load ${d.loadAvg1}): direct p50 ${d.latencyMs.p50} ms (${d.reqPerSec.toFixed(0)}/s), route p50 ${r.latencyMs.p50} ms (${r.reqPerSec.toFixed(0)}/s, server CPU ${r.serverCpuUsPerRequest} µs/request)`);
      }
      const summary = (runs) => ({ p50: median(runs.map((x) => x.latencyMs.p50)), p90: median(runs.map((x) => x.latencyMs.p90)), p99: median(runs.map((x) => x.latencyMs.p99)), reqPerSec: Math.round(median(runs.map((x) => x.reqPerSec))) });
      const d = summary(direct);
      const r = summary(routed);
      const n = nginx ? summary(viaNginx) : undefined;
      loads.push({ path, connections, direct: d, route: r, ...(n ? { nginx: n, nginxP50Ratio: +(n.p50 / d.p50).toFixed(2) } : {}), addedP50Ms: +(r.p50 - d.p50).toFixed(3), routeCpuUsPerRequest: median(routed.map((x) => x.serverCpuUsPerRequest)), p50Ratio: +(r.p50 / d.p50).toFixed(2), runs: { direct, route: routed, nginx: viaNginx } });
    }
  }

  const report = { startedAt: startedAt.toISOString(), cpus: cpus().length, loadAvgAtStart, loadAvgAtEnd: loadavg(), seconds: SECONDS, rounds: ROUNDS, paths: PATHS, serverIdleCpuPercent, targetP50Ratio: TARGET_RATIO, loads };
  const md = [
    '# Route overhead (bench/routes/run.mjs)',
    '',
    `${startedAt.toISOString()} · ${cpus().length} CPUs · load average at start ${loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${report.loadAvgAtEnd.map((x) => x.toFixed(2)).join(' ')} · wrk, 1 thread, ${SECONDS} s per run, ${ROUNDS} rounds alternating, medians`,
    '',
    "A plain Node.js service, 1 confined replica: `/` answers a 90-byte JSON at once, `/work?ms=N` the same after N ms (a handler waiting on its database), `/work?ms=N&kb=K` K KiB of JSON after N ms. direct: wrk → the replica's port; route: wrk → OpenStage's port with the route's Host header → the replica (undici keep-alive pool); nginx (a reference for what any reverse proxy adds here): wrk → nginx (one worker, `proxy_pass` to a keep-alive upstream) → the same replica.",
    '',
    `server CPU: OpenStage's own CPU time (user + system, /proc) per proxied request, median over the rounds (idle, the server used ${serverIdleCpuPercent}% of a CPU).`,
    '',
    '| path | connections | direct p50 / p90 / p99 ms | route p50 / p90 / p99 ms | nginx p50 / p90 / p99 ms | direct req/s | route req/s | nginx req/s | added p50 ms | server CPU µs/request | route/direct p50 | nginx/direct p50 | target ≤ 1.3× |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...loads.map((l) => `| \`${l.path}\` | ${l.connections} | ${l.direct.p50} / ${l.direct.p90} / ${l.direct.p99} | ${l.route.p50} / ${l.route.p90} / ${l.route.p99} | ${l.nginx ? `${l.nginx.p50} / ${l.nginx.p90} / ${l.nginx.p99}` : '–'} | ${l.direct.reqPerSec} | ${l.route.reqPerSec} | ${l.nginx?.reqPerSec ?? '–'} | ${l.addedP50Ms} | ${l.routeCpuUsPerRequest} | ${l.p50Ratio}× | ${l.nginxP50Ratio ? `${l.nginxP50Ratio}×` : '–'} | ${l.p50Ratio <= TARGET_RATIO ? 'met' : 'missed'} |`),
    '',
  ].join('\n');
  writeResults('routes', report, md);
  nginxChild?.kill('SIGTERM');
  // SIGTERM: the server stops the replica (deploy.stopOnShutdown).
  await children.stop(server);
}

/**
 * Starts nginx (one worker, foreground, its files in tmpDir) proxying to the replica over a
 * keep-alive upstream, the Host and X-Forwarded-For headers set as the route sets them.
 * @returns its port and process; undefined when nginx is not installed
 */
async function startNginx(replicaPort) {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
  } catch {
    log('nginx is not installed: no reference proxy');
    return undefined;
  }
  const nginxPort = await freePort();
  const dir = join(tmpDir, 'nginx');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream replica { server 127.0.0.1:${replicaPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://replica;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
    }
  }
}
`);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginxChild = child;
  child.stderr.on('data', (d) => process.stderr.write(`[nginx] ${d}`));
  await until('nginx to answer', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    return (await fetch(`http://127.0.0.1:${nginxPort}/`).then((r) => r.ok, () => false)) ? true : undefined;
  }, 10_000);
  log(`nginx on 127.0.0.1:${nginxPort} → replica on 127.0.0.1:${replicaPort}`);
  return { port: nginxPort, process: child };
}

const timer = setTimeout(() => {
  log(`timed out after ${TIMEOUT_SECONDS} s`);
  nginxChild?.kill('SIGKILL');
  children.killAll();
  process.exit(1);
}, TIMEOUT_SECONDS * 1000);
main()
  .then(async () => {
    clearTimeout(timer);
    children.killAll();
    rmSync(tmpDir, { recursive: true, force: true });
  })
  .catch((err) => {
    log(err.stack ?? String(err));
    nginxChild?.kill('SIGKILL');
    children.killAll();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    process.exit(1);
  });
