#!/usr/bin/env node
// Config center (Kie) benchmark: OpenStage vs a bare node:http baseline, loopback only.
//
//   npm run bench:kie        (= npm run build && node bench/kie/run.mjs)
//
// Order: polls first (memory is measured on a heap the list runs have not grown), then lists.
// 1. list QPS: a project of KVS kvs (labels app:bench, service:s<i % SERVICES>); wrk (a separate process)
//    on `GET /v1/default/kie/kv?label=app:bench&label=service:s7` (KVS / SERVICES kvs per reply),
//    and on the whole project with `limit=LIMIT` (total counted over every kv).
// 2. held polls: WAITERS polls held at once, each on its own connection with its own labels
//    (`label=app:wake&label=w:<i>`, revision = latest, wait=WAIT); server RSS before/after
//    gives memory per held poll.
// 3. publish-to-wake: SAMPLES times, one at a time, PUT a kv whose labels match exactly one
//    held poll; latency = PUT sent → that poll's 200 received. The woken poll is re-issued so
//    WAITERS stay held. Any other poll answering early is counted as a spurious wake.
// Each figure is also measured on a bare node:http child (same body sizes; a held request
// answered by POST /wake). Results: stdout, bench/results/kie-latest.md and .json.
//
// Environment (all optional):
//   BENCH_SECONDS=10  BENCH_WARMUP_SECONDS=2  BENCH_CONNECTIONS=64
//   BENCH_KVS=1000  BENCH_SERVICES=100  BENCH_LIMIT=20
//   BENCH_WAITERS=10000  BENCH_SAMPLES=500  BENCH_WAIT=300s
//   BENCH_NO_BASELINE=1   BENCH_TIMEOUT_SECONDS=900   BENCH_CLI=path/to/cli.js
//   BENCH_CPU_PROF=1      server runs with --cpu-prof into bench/results/profiles/
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Children, CONNECTIONS, NO_BASELINE, SECONDS, WARMUP_SECONDS, cli, cpuSecondsOf, env, exitAfter, freePort, log, resultsDir, root, rssOf, wrk, writeResults } from '../lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const KVS = env('BENCH_KVS', 1000);
const SERVICES = env('BENCH_SERVICES', 100);
const LIMIT = env('BENCH_LIMIT', 20);
const WAITERS = env('BENCH_WAITERS', 10_000);
const SAMPLES = env('BENCH_SAMPLES', 500);
const WAIT = process.env.BENCH_WAIT || '300s';
const TIMEOUT_SECONDS = env('BENCH_TIMEOUT_SECONDS', 900);
const TARGETS = { list: 10_000, wakeP99Ms: 50, bytesPerWaiter: 10 * 1024, listAllCpuRatio: 4 };
// Imports land in the engine's Kie project `default` (src/kie/routes/file.ts), so the bench lists there.
const P = '/v1/default/kie';

const children = new Children(root);
// Enough quota for the preloaded kvs and one kv per held poll.
const startChild = (name, args) => children.start(name, args, { QUOTA_CONFIG: String(KVS + WAITERS + 1000) });
const stopChild = (child) => children.stop(child, 15_000);
const rssMB = (pid) => rssOf(pid).rssMB;
let tmpDir;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One request; `opts.agent` false = its own connection. Resolves with status, headers, text, and the time it answered. */
function request(port, method, path, body, opts = {}) {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: opts.agent ?? agent, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, text: Buffer.concat(chunks).toString('utf8'), atNs: process.hrtime.bigint() }));
      r.on('error', rej);
    });
    req.on('error', rej);
    opts.onRequest?.(req);
    req.end(data);
  });
}

async function waitReady(port, path, child) {
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('child exited before listening');
    try {
      if ((await request(port, 'GET', path)).status === 200) return;
    } catch { /* not yet */ }
    if (Date.now() > until) throw new Error(`port ${port} not ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A warm-up, then a measured wrk run (a separate process) on `path`, with the server child's CPU per request. */
async function load(port, pid, path) {
  if (WARMUP_SECONDS > 0) await wrk(port, { paths: [path], seconds: WARMUP_SECONDS });
  const cpu0 = cpuSecondsOf(pid);
  const r = await wrk(port, { paths: [path] });
  const cpuS = cpuSecondsOf(pid) - cpu0;
  return { reqPerSec: r.reqPerSec, p99Ms: r.latencyMs.p99, non2xx: r.non2xx, errors: r.errors, serverCpuUsPerReq: (cpuS * 1e6) / Math.max(1, r.totalRequests) };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Opens `count` held polls (path(i) for poll i) on their own connections, in batches so the
 * listen backlog never overflows. Returns the map of pending replies by index.
 */
async function openPolls(port, count, path) {
  const polls = new Map();
  const open = (i) => {
    let req;
    const reply = request(port, 'GET', path(i), undefined, { agent: false, onRequest: (r) => (req = r) });
    reply.catch(() => undefined);
    polls.set(i, { reply, destroy: () => req?.destroy() });
  };
  for (let i = 0; i < count; i += 250) {
    for (let j = i; j < Math.min(count, i + 250); j++) open(j);
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 3000));
  return { polls, open };
}

async function main() {
  exitAfter(TIMEOUT_SECONDS, children);
  tmpDir = mkdtempSync(join(tmpdir(), 'openstage-kie-bench-'));
  const results = { startedAt: new Date().toISOString(), node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, memGB: totalmem() / 2 ** 30, loadAvg: loadavg(), config: { SECONDS, WARMUP_SECONDS, CONNECTIONS, KVS, SERVICES, LIMIT, WAITERS, SAMPLES, WAIT } };

  // ── OpenStage ──
  const port = await freePort();
  const profDir = join(resultsDir, 'profiles');
  if (process.env.BENCH_CPU_PROF === '1') {
    mkdirSync(profDir, { recursive: true });
    writeFileSync(join(profDir, '.gitignore'), '*\n');
  }
  const profArgs = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  // --auth none: the preload uses the import API, which sits behind the IAM check.
  const server = startChild('openstage', [...profArgs, cli, 'serve', '--port', String(port), '--data-dir', tmpDir, '--log-level', 'warn', '--auth', 'none']);
  await waitReady(port, '/v1/health', server);
  const rssEmpty = rssMB(server.pid);
  const items = Array.from({ length: KVS }, (_, i) => ({ key: `bench.key${i}`, value: `value of key ${i} `.repeat(4), status: 'enabled', labels: { app: 'bench', service: `s${i % SERVICES}` } }));
  const imported = JSON.parse((await request(port, 'POST', `${P}/file?override=force`, { data: items })).text);
  if (imported.success.length !== KVS) throw new Error(`import: ${imported.failure.length} failures`);
  // Kvs the wake-ups update, one per sampled waiter.
  const sampled = [...new Set(Array.from({ length: SAMPLES }, (_, s) => (s * 7919) % WAITERS))];
  const wakeItems = sampled.map((i) => ({ key: 'wake', value: 'v0', labels: { app: 'wake', w: String(i) } }));
  const wakeKvs = JSON.parse((await request(port, 'POST', `${P}/file?override=force`, { data: wakeItems })).text).success;
  const kvIdOf = new Map(wakeKvs.map((k) => [k.labels.w, k.id]));
  const revision = (await request(port, 'GET', `${P}/kv?label=app:none`)).headers['x-kie-revision'];
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssMB(server.pid);
  let rev = revision;
  const pollPath = (i) => `${P}/kv?label=app:wake&label=w:${i}&revision=${rev}&wait=${WAIT}`;
  log(`opening ${WAITERS} held polls`);
  const { polls, open } = await openPolls(port, WAITERS, pollPath);
  const rssHeld = rssMB(server.pid);
  results.rss = { emptyMB: rssEmpty, beforePollsMB: rssBefore, withPollsMB: rssHeld, bytesPerWaiter: ((rssHeld - rssBefore) * 1024 * 1024) / WAITERS };
  log(`RSS ${rssBefore.toFixed(1)} → ${rssHeld.toFixed(1)} MB with ${WAITERS} held polls`);
  let version = 0;
  const reopen = (i, reply) => {
    rev = reply.headers['x-kie-revision'];
    let req;
    const next = request(port, 'GET', pollPath(i), undefined, { agent: false, onRequest: (r) => (req = r) });
    next.catch(() => undefined);
    polls.set(i, { reply: next, destroy: () => req?.destroy() });
  };
  let early = 0;
  for (const p of polls.values()) p.reply.then(() => early++, () => undefined);
  await new Promise((r) => setTimeout(r, 100));
  if (early > 0) throw new Error(`${early} polls answered before any change`);
  const cpu0 = cpuSecondsOf(server.pid);
  results.wake = await measureWakesOnce(polls, reopen, (i) => request(port, 'PUT', `${P}/kv/${kvIdOf.get(String(i))}`, { value: `v${++version}` }));
  results.wake.serverCpuMsPerWake = ((cpuSecondsOf(server.pid) - cpu0) * 1000) / SAMPLES;
  log(`wake p50 ${results.wake.p50.toFixed(2)} ms, p99 ${results.wake.p99.toFixed(2)} ms, spurious ${results.wake.spurious}`);
  for (const p of polls.values()) p.destroy();
  await new Promise((r) => setTimeout(r, 1000));
  const labelPath = `${P}/kv?label=app:bench&label=service:s7`;
  const pagePath = `${P}/kv?label=app:bench&limit=${LIMIT}`;
  const labelBody = (await request(port, 'GET', labelPath)).text;
  const pageBody = (await request(port, 'GET', pagePath)).text;
  const allPath = `${P}/kv?label=app:bench`;
  const allBody = (await request(port, 'GET', allPath)).text;
  log(`list reply sizes: by labels ${labelBody.length} B, page ${pageBody.length} B, all ${allBody.length} B`);
  results.loadAtLists = loadavg().map((l) => l.toFixed(2)).join(' ');
  results.listLabels = await load(port, server.pid, labelPath);
  log(`list by labels: ${results.listLabels.reqPerSec.toFixed(0)} req/s`);
  results.listPage = await load(port, server.pid, pagePath);
  log(`list page: ${results.listPage.reqPerSec.toFixed(0)} req/s`);
  results.listAll = await load(port, server.pid, allPath);
  log(`list all: ${results.listAll.reqPerSec.toFixed(0)} req/s, ${results.listAll.serverCpuUsPerReq.toFixed(0)} µs/req`);

  results.rss.endMB = rssMB(server.pid);
  await stopChild(server);

  // ── baseline ──
  if (!NO_BASELINE) {
    const bodyFile = join(tmpDir, 'list-body.json');
    writeFileSync(bodyFile, labelBody);
    const bport = await freePort();
    const base = startChild('baseline', [join(here, 'baseline-server.mjs'), String(bport), bodyFile]);
    await waitReady(bport, '/list', base);
    const bRssBefore = rssMB(base.pid);
    const b = await openPolls(bport, WAITERS, (i) => `/poll?i=${i}`);
    const bRssHeld = rssMB(base.pid);
    results.baseRss = { beforePollsMB: bRssBefore, withPollsMB: bRssHeld, bytesPerWaiter: ((bRssHeld - bRssBefore) * 1024 * 1024) / WAITERS };
    const breopen = (i) => {
      let req;
      const next = request(bport, 'GET', `/poll?i=${i}`, undefined, { agent: false, onRequest: (r) => (req = r) });
      next.catch(() => undefined);
      b.polls.set(i, { reply: next, destroy: () => req?.destroy() });
    };
    results.baseWake = await measureWakesOnce(b.polls, breopen, (i) => request(bport, 'POST', `/wake?i=${i}`));
    for (const p of b.polls.values()) p.destroy();
    await new Promise((r) => setTimeout(r, 1000));
    results.baseListLabels = await load(bport, base.pid, '/list');
    await stopChild(base);
    writeFileSync(bodyFile, pageBody);
    const base2 = startChild('baseline', [join(here, 'baseline-server.mjs'), String(bport), bodyFile]);
    await waitReady(bport, '/list', base2);
    results.baseListPage = await load(bport, base2.pid, '/list');
    await stopChild(base2);
    writeFileSync(bodyFile, allBody);
    const base3 = startChild('baseline', [join(here, 'baseline-server.mjs'), String(bport), bodyFile]);
    await waitReady(bport, '/list', base3);
    results.baseListAll = await load(bport, base3.pid, '/list');
    await stopChild(base3);
  }
  agent.destroy();
  rmSync(tmpDir, { recursive: true, force: true });
  report(results);
}

/**
 * Measures publish-to-wake SAMPLES times, one at a time: `publish(i)` must wake poll i only;
 * latency = publish sent → poll i answered; `reopen` re-issues the woken poll. Counts polls
 * that answered without their publish (spurious wake-ups).
 */
async function measureWakesOnce(polls, reopen, publish) {
  let spurious = 0;
  const expected = new Set();
  for (const [i, p] of polls) p.reply.then(() => !expected.has(i) && spurious++, () => undefined);
  const latencies = [];
  for (let s = 0; s < SAMPLES; s++) {
    const i = (s * 7919) % WAITERS;
    expected.add(i);
    const poll = polls.get(i);
    const t0 = process.hrtime.bigint();
    const [, reply] = await Promise.all([publish(i), poll.reply]);
    if (reply.status !== 200) throw new Error(`poll ${i} answered ${reply.status} ${reply.text}`);
    latencies.push(Number(reply.atNs - t0) / 1e6);
    expected.delete(i);
    reopen(i, reply);
    const next = polls.get(i);
    next.reply.then(() => !expected.has(i) && spurious++, () => undefined);
    expected.add(i);
    // The re-opened poll must be held before it can be woken again.
    await new Promise((r) => setImmediate(r));
  }
  latencies.sort((a, b) => a - b);
  return { samples: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1], spurious };
}

function report(r) {
  const f = (n, d = 0) => (n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const pass = (ok) => (ok ? 'pass' : 'FAIL');
  const rows = [
    ['list, 10 of 1,000 kvs by labels (req/s)', f(r.listLabels.reqPerSec), f(r.baseListLabels?.reqPerSec), f(r.listLabels.p99Ms), `${f(r.listLabels.serverCpuUsPerReq)} / ${f(r.baseListLabels?.serverCpuUsPerReq)}`, `≥ ${f(TARGETS.list)}/s`, pass(r.listLabels.reqPerSec >= TARGETS.list)],
    [`list, page of ${LIMIT} of 1,000 kvs, total counted (req/s)`, f(r.listPage.reqPerSec), f(r.baseListPage?.reqPerSec), f(r.listPage.p99Ms), `${f(r.listPage.serverCpuUsPerReq)} / ${f(r.baseListPage?.serverCpuUsPerReq)}`, `≥ ${f(TARGETS.list)}/s`, pass(r.listPage.reqPerSec >= TARGETS.list)],
    [`list, all ${f(KVS)} kvs (req/s)`, f(r.listAll.reqPerSec), f(r.baseListAll?.reqPerSec), f(r.listAll.p99Ms), `${f(r.listAll.serverCpuUsPerReq)} / ${f(r.baseListAll?.serverCpuUsPerReq)}`, `≤ ${TARGETS.listAllCpuRatio}× baseline CPU/req`, pass(r.baseListAll ? r.listAll.serverCpuUsPerReq <= TARGETS.listAllCpuRatio * r.baseListAll.serverCpuUsPerReq : false)],
    [`publish-to-wake p50 with ${f(WAITERS)} held polls (ms)`, f(r.wake.p50, 2), f(r.baseWake?.p50, 2), '–', '–', '–', '–'],
    [`publish-to-wake p99 with ${f(WAITERS)} held polls (ms)`, f(r.wake.p99, 2), f(r.baseWake?.p99, 2), '–', '–', `≤ ${TARGETS.wakeP99Ms} ms`, pass(r.wake.p99 <= TARGETS.wakeP99Ms)],
    ['memory per held poll (RSS, KB)', f(r.rss.bytesPerWaiter / 1024, 2), f(r.baseRss ? r.baseRss.bytesPerWaiter / 1024 : undefined, 2), '–', '–', `≤ ${TARGETS.bytesPerWaiter / 1024} KB`, pass(r.rss.bytesPerWaiter <= TARGETS.bytesPerWaiter)],
  ];
  const md = [
    '# Config center (Kie) benchmark',
    '',
    `${r.startedAt} · node ${r.node} · ${r.cpus} · ${f(r.memGB, 1)} GB · load average at start ${r.loadAvg.map((l) => l.toFixed(2)).join(' ')}`,
    `\`npm run bench:kie\` · wrk (a separate process, 1 thread) ${CONNECTIONS} connections, ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up · SQLite · ${f(KVS)} kvs in one project (${SERVICES} services × ${KVS / SERVICES}) · load average at the lists ${r.loadAtLists ?? '–'}`,
    '',
    '| metric | openstage | baseline (bare node:http) | p99 ms | server CPU µs/req (openstage / baseline) | target | pass/fail |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `Wake-ups: ${r.wake.samples} sequential PUTs, each matching exactly one of ${f(WAITERS)} held polls (own labels, own connection); latency = PUT sent → that poll's 200 received (includes the PUT's SQLite commit); the woken poll is re-issued at once. Polls woken without their PUT: ${r.wake.spurious} (baseline ${r.baseWake?.spurious ?? '–'}). Server CPU per wake-up (PUT + wake + re-poll): ${f(r.wake.serverCpuMsPerWake, 2)} ms. Max ${f(r.wake.max, 2)} ms.`,
    `RSS: empty ${f(r.rss.emptyMB, 1)} MB · ${f(KVS)} kvs ${f(r.rss.beforePollsMB, 1)} MB · with ${f(WAITERS)} held polls ${f(r.rss.withPollsMB, 1)} MB · end ${f(r.rss.endMB, 1)} MB. Memory per held poll = RSS growth / ${f(WAITERS)}, connection included (baseline: the same for node:http holding requests, ${f(r.baseRss?.beforePollsMB, 1)} → ${f(r.baseRss?.withPollsMB, 1)} MB).`,
    'Baseline: a bare node:http child answering a fixed body of the same size for lists, and holding requests until POST /wake answers one.',
    '',
  ].join('\n');
  writeResults('kie', r, md);
}

main().catch((err) => {
  log(err.stack ?? String(err));
  children.killAll();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  process.exit(1);
});
