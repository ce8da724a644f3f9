// Helpers shared by the benchmark drivers (bench/*/run.mjs): numeric settings from the
// environment, free loopback ports, child processes that are always stopped, and /proc
// readings of CPU and memory. Linux only (the benchmarks read /proc).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A numeric setting from the environment, or `dflt` when unset or empty. */
export const env = (name, dflt) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt);

/** The repository root, where results go, and the server entry point (BENCH_CLI overrides it). */
export const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const resultsDir = join(root, 'bench/results');
export const cli = process.env.BENCH_CLI ? resolve(process.env.BENCH_CLI) : join(root, 'dist/src/cli.js');

/** Settings every driver shares: run length, warm-up (seconds), autocannon connections, baseline switch. */
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
