// Helpers shared by the benchmark drivers (bench/*/run.mjs): numeric settings from the
// environment, free loopback ports, child processes that are always stopped, and /proc
// readings of CPU and memory. Linux only (the benchmarks read /proc).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir as tmpdirOs } from 'node:os';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A numeric setting from the environment, or `dflt` when unset or empty. */
export const env = (name, dflt) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt);

/** The repository root, where results go, and the server entry point (BENCH_CLI overrides it). */
export const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const resultsDir = join(root, 'bench/results');
export const cli = process.env.BENCH_CLI ? resolve(process.env.BENCH_CLI) : join(root, 'dist/src/cli.js');

/** Settings every driver shares: run length, warm-up (seconds), load-generator connections, baseline switch. */
export const SECONDS = env('BENCH_SECONDS', 10);
export const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 2);
export const CONNECTIONS = env('BENCH_CONNECTIONS', 64);
export const NO_BASELINE = process.env.BENCH_NO_BASELINE === '1';

/** A progress line on stderr. */
export const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

/** Writes bench/results/<name>-latest.json and .md and prints the markdown. */
export function writeResults(name, report, md) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}-latest.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${name}-latest.md`), md);
  process.stdout.write(md);
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** Child Node processes of one benchmark run; `killAll` ends whatever is still running. */
export class Children {
  constructor(cwd) {
    this.cwd = cwd;
    this.running = new Set();
  }

  /** Starts `node <args>`; stderr is echoed with a `[name]` prefix; `child.exited` resolves {code, signal}. */
  start(name, args, extraEnv = {}) {
    const child = spawn(process.execPath, args, { cwd: this.cwd, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.running.add(child);
    child.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        this.running.delete(child);
        r({ code, signal });
      }),
    );
    child.stdout.on('data', () => {});
    child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
    return child;
  }

  /** SIGTERM, then SIGKILL after `graceMs` milliseconds; resolves when the child is gone. */
  async stop(child, graceMs = 10_000) {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
  }

  /** The children still running. */
  [Symbol.iterator]() {
    return this.running.values();
  }

  /** SIGKILLs every child still running. */
  killAll() {
    for (const c of this.running) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

/** USER_HZ on Linux: /proc CPU times are in these ticks. */
export const CLK_TCK = 100;

/** CPU seconds (user + system) used so far by process `pid`. */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size and its peak (VmHWM) of process `pid`, in MB. */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

/** After `seconds`, kills every child of `children` and exits with 2 (a hung run never lingers). */
export function exitAfter(seconds, children) {
  const timer = setTimeout(() => {
    log(`timeout after ${seconds} s`);
    children.killAll();
    process.exit(2);
  }, seconds * 1000);
  timer.unref();
}

/**
 * Drives load from a separate process with wrk (Debian's /usr/bin/wrk; BENCH_WRK overrides
 * the path), so the load generator never competes inside the server's or the driver's event
 * loop: `connections` connections on one wrk thread for `seconds`; request n (counted per
 * wrk thread) goes to `paths[n % paths.length]` with `method`, `headers` and `body`, where
 * `%n` in the body becomes n + `bodySeed` (unique bodies, e.g. endpoints of new instances).
 * @returns {reqPerSec (2xx and 3xx only), totalRequests, ok, non2xx, errors, durationS,
 *   latencyMs: {p50, p90, p99, max, mean}}
 * @throws when wrk is missing or exits non-zero
 */
export async function wrk(port, { paths, method = 'GET', headers = {}, body, bodySeed = 0, seconds = SECONDS, connections = CONNECTIONS }) {
  const lua = (s) => `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const script = [
    `local paths = {${paths.map(lua).join(',')}}`,
    `local headers = {${Object.entries(headers).map(([k, v]) => `[${lua(k)}] = ${lua(v)}`).join(',')}}`,
    `local body = ${body === undefined ? 'nil' : lua(body)}`,
    'local n = 0',
    'request = function()',
    '  n = n + 1',
    `  local b = body and string.gsub(body, "%%n", tostring(n + ${bodySeed})) or nil`,
    `  return wrk.format(${lua(method)}, paths[(n % #paths) + 1], headers, b)`,
    'end',
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("WRK_RESULT %d %d %d %d %d %.3f %.3f %.3f %.3f %.3f\\n", summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout,',
    '    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))',
    'end',
  ].join('\n');
  const file = join(mkdtempSync(join(tmpdirOs(), 'openstage-wrk-')), 'load.lua');
  writeFileSync(file, script);
  const bin = process.env.BENCH_WRK || '/usr/bin/wrk';
  const out = await new Promise((resolveRun, reject) => {
    // One thread: the request counter (and so `%n`) is per thread.
    const child = spawn(bin, ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', file, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolveRun(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  });
  rmSync(dirname(file), { recursive: true, force: true });
  const m = /^WRK_RESULT (.+)$/m.exec(out);
  if (!m) throw new Error(`no result from wrk: ${out}`);
  const [requests, durationUs, status, socket, timeout, p50, p90, p99, max, mean] = m[1].split(' ').map(Number);
  const durationS = durationUs / 1e6;
  return { reqPerSec: (requests - status) / durationS, totalRequests: requests, ok: requests - status, non2xx: status, errors: socket + timeout, durationS, latencyMs: { p50, p90, p99, max, mean } };
}
