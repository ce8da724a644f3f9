#!/usr/bin/env node
// Container runtime benchmark: what the container runtime adds to running an image, loopback
// only. Needs podman + runc + busybox-static and the test registry (scripts/oci-registry.sh).
//
//   npm run build && node bench/deploy/containers.mjs
//
// The runtime runs in a child process (bench/deploy/container-host.mjs: the container runtime
// of the server, with SQLite, outside the HTTP layer), with OpenStage's podman under a temp
// data dir; a registry with credentials runs on loopback and holds a busybox httpd image
// (built FROM scratch, ~2 MB) as team/web:<n>, one tag per deployment.
// (a) BENCH_REPEATS times: create → answering of an image component from that local registry
//     (1 replica, an http readiness probe on /index.html; the pull finds the layers already
//     here after the first run): the runtime pulls with the credentials, names the image,
//     starts the container and waits until the probe passes, then the driver polls GET /
//     until it answers. Baseline in the same run: `podman run --network host` of the same image by the
//     driver, polled the same way.
// (b) The runtime process's CPU (its own, its finished children's — every podman call — and
//     its podman events follower's) and RSS over BENCH_WINDOW_SECONDS: idle with no container
//     (baseline), then supervising BENCH_REPLICAS containers of one component. The containers'
//     conmon monitors (one per container, podman's, not OpenStage's) are summed apart.
// Results: stdout, bench/results/containers-latest.md and .json.
//
// Environment (all optional): BENCH_REPEATS=5, BENCH_REPLICAS=50, BENCH_WINDOW_SECONDS=60,
// BENCH_TIMEOUT_SECONDS=1800.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { busyboxContext, removePodmanDirs } from '../../dist/test/helpers/container.js';
import { startRegistry } from '../../dist/test/helpers/oci-registry.js';
import { CLK_TCK, cpuSecondsOf, env, freePort, log, root, rssOf, writeResults } from '../lib.mjs';

const run = promisify(execFile);
const REPEATS = env('BENCH_REPEATS', 5);
const REPLICAS = env('BENCH_REPLICAS', 50);
const WINDOW_SECONDS = env('BENCH_WINDOW_SECONDS', 60);
const TIMEOUT_SECONDS = env('BENCH_TIMEOUT_SECONDS', 1800);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const cleanups = [];
const fakeT = { after: (fn) => cleanups.push(fn) };
const dataDir = mkdtempSync(join(tmpdir(), 'openstage-bench-ctr-'));
const podmanEnv = { ...process.env, CONTAINERS_CONF: join(dataDir, 'containers', 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dataDir, 'containers', 'storage.conf'), CONTAINERS_REGISTRIES_CONF: join(dataDir, 'containers', 'registries.conf') };
let hostProcess;
const deadline = setTimeout(() => {
  log(`timed out after ${TIMEOUT_SECONDS} s`);
  void finish(1);
}, TIMEOUT_SECONDS * 1000);

async function finish(code) {
  clearTimeout(deadline);
  if (hostProcess && hostProcess.exitCode === null) {
    hostProcess.kill('SIGTERM');
    await Promise.race([new Promise((r) => hostProcess.once('exit', r)), sleep(60_000)]);
  }
  await run('podman', ['rm', '--all', '--force', '--time', '0'], { env: podmanEnv }).catch(() => undefined);
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  await removePodmanDirs(join(dataDir, 'containers')).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  process.exit(code);
}

/** GET http://127.0.0.1:<port>/ every 10 ms until it answers 200. */
async function answered(port) {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`);
      await res.text();
      if (res.ok) return;
    } catch {
      // not yet
    }
    await sleep(10);
  }
}

/** Pids of `pid`'s children (from the children file of each of its tasks in /proc). */
function childrenOf(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU seconds of the runtime process: its own, its waited-for children's, and its live children's (the events follower). */
function runtimeCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
  for (const child of childrenOf(pid)) {
    try {
      total += cpuSecondsOf(child);
    } catch {
      // ended meanwhile (then counted in cutime/cstime)
    }
  }
  return total;
}

/** conmon processes of this data dir's containers: count, CPU seconds, RSS MB. */
function conmons() {
  let count = 0;
  let cpu = 0;
  let rss = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.startsWith('/usr/bin/conmon') || !cmd.includes(dataDir)) continue;
      count += 1;
      cpu += cpuSecondsOf(pid);
      rss += rssOf(pid).rssMB;
    } catch {
      // gone
    }
  }
  return { count, cpu, rss };
}

/** Measures the runtime process over one window. */
async function window(pid, seconds) {
  const cpu0 = runtimeCpuSeconds(pid);
  const c0 = conmons();
  const t0 = Date.now();
  const rss = [];
  while (Date.now() - t0 < seconds * 1000) {
    rss.push(rssOf(pid).rssMB);
    await sleep(1000);
  }
  const elapsed = (Date.now() - t0) / 1000;
  const c1 = conmons();
  return { seconds: elapsed, cpuPerMinute: ((runtimeCpuSeconds(pid) - cpu0) / elapsed) * 60, rssMeanMB: rss.reduce((a, b) => a + b, 0) / rss.length, rssMaxMB: Math.max(...rss), conmon: { count: c1.count, cpuPerMinute: ((c1.cpu - c0.cpu) / elapsed) * 60, rssMB: c1.rss } };
}

try {
  const startedAt = new Date();
  const load = loadavg();
  log('starting the registry');
  const registry = await startRegistry(fakeT);
  const credentials = { username: registry.username, password: registry.password };

  log('starting the runtime process');
  hostProcess = spawn(process.execPath, [join(root, 'bench/deploy/container-host.mjs'), dataDir, registry.host], { stdio: ['pipe', 'pipe', 'inherit'] });
  const replies = createInterface({ input: hostProcess.stdout });
  const pending = [];
  replies.on('line', (line) => pending.shift()?.(JSON.parse(line)));
  const ask = (command) =>
    new Promise((resolve, reject) => {
      pending.push((reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply)));
      hostProcess.stdin.write(`${JSON.stringify(command)}\n`);
    });

  await ask({ cmd: 'stop' }); // answered once the runtime has written its podman configuration
  // The image, pushed once per deployment under its own tag (the runtime drops the pulled name).
  const ctx = mkdtempSync(join(tmpdir(), 'openstage-bench-img-'));
  cleanups.push(() => rmSync(ctx, { recursive: true, force: true }));
  busyboxContext(ctx, { index: 'bench' });
  await run('podman', ['build', '-q', '--layers=false', '-t', 'localhost/bench/web:src', ctx], { env: podmanEnv });
  const authFile = join(dataDir, 'bench-auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') } } }), { mode: 0o600 });
  const push = async (tag) => run('podman', ['push', '--authfile', authFile, 'localhost/bench/web:src', `${registry.host}/team/web:${tag}`], { env: podmanEnv });

  // (a) create → answering, and the baseline.
  const runs = [];
  for (let i = 0; i <= REPEATS; i++) {
    await push(`v${i}`);
    const t0 = performance.now();
    const { ports } = await ask({ cmd: 'deploy', version: `1.0.${i}`, url: `${registry.host}/team/web:v${i}`, ...credentials, replicas: 1 });
    const deployed = performance.now();
    await answered(ports[0]);
    const total = performance.now() - t0;
    await ask({ cmd: 'stop' });
    // Baseline: podman run of the same image, by hand, on a free port.
    const port = await freePort();
    const b0 = performance.now();
    const name = `bench-baseline-${i}`;
    await run('podman', ['run', '-d', '--name', name, '--network', 'host', '-e', `PORT=${port}`, 'localhost/bench/web:src'], { env: podmanEnv });
    await answered(port);
    const baseline = performance.now() - b0;
    await run('podman', ['rm', '-f', '-t', '0', name], { env: podmanEnv });
    if (i === 0) log(`warm-up: ${fmt(total)} ms (baseline ${fmt(baseline)} ms)`);
    else runs.push({ run: i, deployMs: deployed - t0, answersMs: total, baselineMs: baseline });
    if (i > 0) log(`run ${i}: ${fmt(total)} ms (baseline ${fmt(baseline)} ms)`);
  }

  // (b) idle, then 50 containers.
  log(`idle window (${WINDOW_SECONDS} s)`);
  const idle = await window(hostProcess.pid, WINDOW_SECONDS);
  await push('many');
  const s0 = performance.now();
  await ask({ cmd: 'deploy', version: '2.0.0', url: `${registry.host}/team/web:many`, ...credentials, replicas: 1 });
  const { ports } = await ask({ cmd: 'scale', replicas: REPLICAS });
  const scaleMs = performance.now() - s0;
  log(`${ports.length} containers in ${fmt(scaleMs / 1000, 1)} s; window (${WINDOW_SECONDS} s)`);
  await sleep(5000);
  const busy = await window(hostProcess.pid, WINDOW_SECONDS);
  let answering = 0;
  for (const p of ports) {
    try {
      if ((await fetch(`http://127.0.0.1:${p}/index.html`)).ok) answering += 1;
    } catch {
      // counted as not answering
    }
  }
  const d0 = performance.now();
  await ask({ cmd: 'stop' });
  const stopMs = performance.now() - d0;
  const left = (await run('podman', ['ps', '-a', '-q'], { env: podmanEnv })).stdout.trim().split('\n').filter(Boolean).length;
  const images = (await run('podman', ['images', '-q'], { env: podmanEnv })).stdout.trim().split('\n').filter(Boolean).length;

  const med = { answersMs: median(runs.map((r) => r.answersMs)), deployMs: median(runs.map((r) => r.deployMs)), baselineMs: median(runs.map((r) => r.baselineMs)) };
  const report = { startedAt, load, cpus: cpus().length, runs, median: med, idle, busy, replicas: REPLICAS, scaleMs, answering, stopMs, containersLeft: left, imagesLeft: images - 1 };
  const md = [
    '# Container runtime benchmark',
    '',
    `${startedAt.toISOString()} · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · ${fmt(totalmem() / 2 ** 30, 1)} GB · load average at start ${load.map((l) => l.toFixed(2)).join(' ')}`,
    '`node bench/deploy/containers.mjs` · the container runtime in a child process (SQLite) · podman 4.3 + runc, OpenStage\'s containers.conf · a busybox httpd image (FROM scratch, ~2 MB) in a registry with credentials on loopback',
    '',
    `## (a) image component create → answering (1 replica, image layers already local), ${REPEATS} runs after one warm-up`,
    '',
    '| run | pull + name + container started + ready (ms) | answers (ms) | baseline: podman run → answers (ms) |',
    '|---|---:|---:|---:|',
    ...runs.map((r) => `| ${r.run} | ${fmt(r.deployMs)} | ${fmt(r.answersMs)} | ${fmt(r.baselineMs)} |`),
    `| **median** | ${fmt(med.deployMs)} | **${fmt(med.answersMs)}** | **${fmt(med.baselineMs)}** |`,
    '',
    `Target ≤ 2,000 ms create → answering: **${fmt(med.answersMs)} ms** (${med.answersMs <= 2000 ? 'met' : 'missed'}). OpenStage / baseline: **${fmt(med.answersMs / med.baselineMs, 2)}×**.`,
    'The runtime\'s time includes the pull (the registry is asked every time: credentials checked, manifest read; the layers are not downloaded again), naming the image (podman tag, then dropping the pulled name), writing the replica\'s config file, `podman run` with the user namespace and limits, and the readiness probe (http GET /index.html, checked 50 ms after the start, then a quarter longer each time). The baseline is the driver\'s own `podman run -d --network host` of the local image.',
    '',
    `## (b) the runtime process supervising ${REPLICAS} containers`,
    '',
    '| window | CPU s per minute | CPU % of one core | RSS mean (MB) | RSS max (MB) | conmon processes | their CPU s per minute | their RSS (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| idle, no container (baseline), ${fmt(idle.seconds, 1)} s | ${fmt(idle.cpuPerMinute, 2)} | ${fmt(idle.cpuPerMinute / 0.6, 2)} | ${fmt(idle.rssMeanMB, 1)} | ${fmt(idle.rssMaxMB, 1)} | ${idle.conmon.count} | ${fmt(idle.conmon.cpuPerMinute, 2)} | ${fmt(idle.conmon.rssMB, 1)} |`,
    `| ${REPLICAS} containers, ${fmt(busy.seconds, 1)} s | ${fmt(busy.cpuPerMinute, 2)} | ${fmt(busy.cpuPerMinute / 0.6, 2)} | ${fmt(busy.rssMeanMB, 1)} | ${fmt(busy.rssMaxMB, 1)} | ${busy.conmon.count} | ${fmt(busy.conmon.cpuPerMinute, 2)} | ${fmt(busy.conmon.rssMB, 1)} |`,
    `| difference (supervision cost) | ${fmt(busy.cpuPerMinute - idle.cpuPerMinute, 2)} | ${fmt((busy.cpuPerMinute - idle.cpuPerMinute) / 0.6, 2)} | ${fmt(busy.rssMeanMB - idle.rssMeanMB, 1)} | – | | | |`,
    '',
    'CPU = utime + stime of the runtime process, plus those of its finished children (every podman call it made: the periodic `podman ps` check every 30 s) and of its live `podman events` follower, from /proc; RSS of the runtime process sampled every second. The window starts 5 s after the scale; during it the runtime also probes each container\'s readiness (http GET /index.html) every 5 s (deploy.monitorSeconds). Each container has its own conmon (podman\'s monitor, not a child of OpenStage): shown apart.',
    `Scale 1 → ${REPLICAS}: ${fmt(scaleMs / 1000, 1)} s (deploy of 1 + scale, every container ready); ${answering}/${REPLICAS} answering after the window; stop of all and image removal: ${fmt(stopMs / 1000, 1)} s; containers left: ${left}; images left besides the benchmark's source image: ${images - 1}.`,
    '',
  ].join('\n');
  writeResults('containers', report, md);
  await finish(0);
} catch (err) {
  log(`failed: ${err?.stack ?? err}`);
  await finish(1);
}
