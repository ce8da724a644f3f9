#!/usr/bin/env node
// Load-shedding benchmark (issue #15): heartbeat and find latency during a registration storm,
// with shedding on against the same server with it off, in one run.
//
//   npm run build && node bench/registry/shed.mjs
//
// For each of two servers (`openstage serve` children, SQLite, temp data dir) — one with
// `http.shedLagMs` 0 (the baseline), one with BENCH_SHED_LAG_MS — the driver registers
// HEARTBEATERS instances, then starts the storm in a separate child process (this file with
// `storm` as argument): STORM_CONCURRENCY registrations of new instances in flight at all
// times for BENCH_SECONDS, each retried after its Retry-After when shed. Meanwhile this process
// sends heartbeats of the registered instances and finds of an unrelated service, each at a
// steady pace on its own keep-alive connections, and records their latencies. Results:
// stdout, bench/results/shed-latest.md and .json.
//
// Environment (all optional):
//   BENCH_SECONDS=15            storm length
//   BENCH_SHED_LAG_MS=500       http.shedLagMs of the shedding server (the default)
//   BENCH_MAX_WRITES_IN_FLIGHT=256  its http.maxWritesInFlight (the other server has both off)
//   BENCH_STORM_CONCURRENCY=1000
//   BENCH_HEARTBEATERS=200      instances whose heartbeats are measured, round robin
//   BENCH_PROBE_LOOPS=10        concurrent heartbeat loops (and as many find loops)
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Children, cli, env, freePort, log, root, writeResults } from '../lib.mjs';

const SECONDS = env('BENCH_SECONDS', 15);
const SHED_LAG_MS = env('BENCH_SHED_LAG_MS', 500);
const MAX_WRITES = env('BENCH_MAX_WRITES_IN_FLIGHT', 256);
const STORM_CONCURRENCY = env('BENCH_STORM_CONCURRENCY', 1000);
const HEARTBEATERS = env('BENCH_HEARTBEATERS', 200);
const PROBE_LOOPS = env('BENCH_PROBE_LOOPS', 10);
const base = '/v4/default/registry';

/** One JSON request on `agent`; resolves {status, body, ms, retryAfter}. */
function request(agent, port, method, path, body) {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, timeout: 60_000, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined, ms: performance.now() - started, retryAfter: Number(res.headers['retry-after'] ?? 0) });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

const pct = (xs, p) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]);

// ───────────── the storm (a child process) ─────────────

async function storm(port, serviceId, seconds, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const until = performance.now() + seconds * 1000;
  const counts = { ok: 0, shed: 0, other: 0 };
  const latencies = [];
  let n = 0;
  const loop = async () => {
    while (performance.now() < until) {
      const r = await request(agent, port, 'POST', `${base}/microservices/${serviceId}/instances`, { instance: { hostName: `storm-${process.pid}-${n++}`, endpoints: [`rest://10.1.0.1:${n % 60000}`], healthCheck: { mode: 'push', interval: 30, times: 19 } } }).catch(() => ({ status: 0, ms: 0 }));
      if (r.status === 200) {
        counts.ok++;
        latencies.push(r.ms);
      } else if (r.status === 429) {
        counts.shed++;
        await new Promise((res) => setTimeout(res, (r.retryAfter || 1) * 1000));
      } else counts.other++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  process.stdout.write(JSON.stringify({ ...counts, p50: pct(latencies, 50), p99: pct(latencies, 99) }));
  agent.destroy();
}

// ───────────── the driver ─────────────

async function measure(children, shedLagMs) {
  const dataDir = mkdtempSync(join(tmpdir(), 'openstage-bench-shed-'));
  const port = await freePort();
  // Off = both triggers off: no lag threshold and no cap on writes in flight.
  const server = children.start('server', [cli, 'serve', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], {
    OPENSTAGE_HTTP_SHED_LAG_MS: String(shedLagMs),
    OPENSTAGE_HTTP_MAX_WRITES_IN_FLIGHT: String(shedLagMs === 0 ? 0 : MAX_WRITES),
  });
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    for (let i = 0; ; i++) {
      if ((await request(agent, port, 'GET', '/version').catch(() => ({ status: 0 }))).status === 200) break;
      if (i > 300) throw new Error('server not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const svc = (name) => request(agent, port, 'POST', `${base}/microservices`, { service: { appId: 'bench', serviceName: name, version: '1.0.0' } }).then((r) => r.body.serviceId);
    const heartbeatService = await svc('heartbeating');
    const stormService = await svc('storming');
    const readService = await svc('unrelated');
    await request(agent, port, 'POST', `${base}/microservices/${readService}/instances`, { instance: { hostName: 'reader', endpoints: ['rest://10.0.0.9:80'] } });
    const instances = [];
    for (let i = 0; i < HEARTBEATERS; i++) {
      const r = await request(agent, port, 'POST', `${base}/microservices/${heartbeatService}/instances`, { instance: { hostName: `hb-${i}`, endpoints: [`rest://10.0.0.1:${1000 + i}`], healthCheck: { mode: 'push', interval: 30, times: 19 } } });
      instances.push(r.body.instanceId);
    }
    log(`shedLagMs ${shedLagMs}: ${HEARTBEATERS} instances registered; storm of ${STORM_CONCURRENCY} concurrent registrations for ${SECONDS} s`);
    const stormChild = children.start('storm', [fileURLToPath(import.meta.url), 'storm', String(port), stormService, String(SECONDS), String(STORM_CONCURRENCY)]);
    let stormOut = '';
    stormChild.stdout.on('data', (d) => (stormOut += d));
    const heartbeats = [];
    const finds = [];
    const failures = { heartbeat: 0, find: 0 };
    let running = true;
    const probeAgent = new http.Agent({ keepAlive: true, maxSockets: PROBE_LOOPS * 2 });
    const probe = async (kind, k) => {
      let i = k;
      while (running) {
        const started = performance.now();
        const r =
          kind === 'heartbeat'
            ? await request(probeAgent, port, 'PUT', `${base}/microservices/${heartbeatService}/instances/${instances[i++ % instances.length]}/heartbeat`).catch(() => ({ status: 0 }))
            : await request(probeAgent, port, 'GET', `${base}/instances?appId=bench&serviceName=unrelated&version=latest`).catch(() => ({ status: 0 }));
        if (r.status === 200) (kind === 'heartbeat' ? heartbeats : finds).push(performance.now() - started);
        else failures[kind]++;
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    const probes = [...Array.from({ length: PROBE_LOOPS }, (_, k) => probe('heartbeat', k)), ...Array.from({ length: PROBE_LOOPS }, (_, k) => probe('find', k))];
    const stormResult = await stormChild.exited;
    running = false;
    await Promise.all(probes);
    if (stormResult.code !== 0) throw new Error(`storm exited with ${stormResult.code}`);
    const s = JSON.parse(stormOut);
    probeAgent.destroy();
    agent.destroy();
    return {
      shedLagMs,
      heartbeat: { n: heartbeats.length, failed: failures.heartbeat, p50: pct(heartbeats, 50), p99: pct(heartbeats, 99), max: Math.max(...heartbeats) },
      find: { n: finds.length, failed: failures.find, p50: pct(finds, 50), p99: pct(finds, 99), max: Math.max(...finds) },
      registrations: { committed: s.ok, shed: s.shed, other: s.other, p50: s.p50, p99: s.p99, perSecond: s.ok / SECONDS },
    };
  } finally {
    await children.stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const children = new Children(root);
  process.on('exit', () => children.killAll());
  const baseline = await measure(children, 0);
  const shedding = await measure(children, SHED_LAG_MS);
  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '–');
  const rows = [
    ['heartbeat p50 (ms)', baseline.heartbeat.p50, shedding.heartbeat.p50],
    ['heartbeat p99 (ms)', baseline.heartbeat.p99, shedding.heartbeat.p99],
    ['heartbeat max (ms)', baseline.heartbeat.max, shedding.heartbeat.max],
    ['find (unrelated service) p99 (ms)', baseline.find.p99, shedding.find.p99],
    ['registration p99 (ms, committed ones)', baseline.registrations.p99, shedding.registrations.p99],
    ['registrations committed per second', baseline.registrations.perSecond, shedding.registrations.perSecond],
  ];
  const md = [
    `# Load shedding: heartbeats during a registration storm`,
    '',
    `\`node bench/registry/shed.mjs\` · ${new Date().toISOString()} · ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')} · SQLite · storm: ${STORM_CONCURRENCY} registrations in flight for ${SECONDS} s from a separate process (a shed one waits its Retry-After) · probes: ${PROBE_LOOPS} heartbeat and ${PROBE_LOOPS} find loops, one request per loop every 50 ms, from the driver process`,
    '',
    `| metric | shedding off | shedding on (lag ${SHED_LAG_MS} ms, ${MAX_WRITES} writes in flight) | on ÷ off |`,
    '|---|---:|---:|---:|',
    ...rows.map(([name, a, b]) => `| ${name} | ${f(a)} | ${f(b)} | ${ratio(b, a)} |`),
    `| registrations answered 429 | ${baseline.registrations.shed} | ${shedding.registrations.shed} | – |`,
    `| heartbeats / finds measured (failed) | ${baseline.heartbeat.n} / ${baseline.find.n} (${baseline.heartbeat.failed + baseline.find.failed}) | ${shedding.heartbeat.n} / ${shedding.find.n} (${shedding.heartbeat.failed + shedding.find.failed}) | – |`,
    '',
  ].join('\n');
  writeResults('shed', { seconds: SECONDS, stormConcurrency: STORM_CONCURRENCY, heartbeaters: HEARTBEATERS, baseline, shedding }, md);
}

if (process.argv[2] === 'storm') {
  const [, , , port, serviceId, seconds, concurrency] = process.argv;
  await storm(Number(port), serviceId, Number(seconds), Number(concurrency));
} else {
  await main();
}
