import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { runProbe } from '../core/process/probe.js';
import { ProcessRuntime, type ReplicaSpec, type ReplicaState } from '../core/process/supervisor.js';
import { randomToken } from '../core/secrets.js';

/** The OpenStage command line an engine process runs: `node <repo>/dist/src/cli.js serve …`. */
export const CLI_PATH = fileURLToPath(new URL('../cli.js', import.meta.url));

/** What starting one engine process needs. */
export interface EngineLaunch {
  engineId: string;
  port: number;
  host: string;
  dataDir: string;
  /** Instance quota per project (QUOTA_INSTANCE). */
  instances: number;
  /** Root password when the engine has RBAC on; undefined for NONE. */
  rootPassword?: string;
}

/** True when `port` on `host` can be bound now (nobody listens on it). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A free port chosen by the kernel. */
export function anyFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The engine processes: each exclusive engine is one OpenStage server (registry, config
 * center and — for RBAC engines — engine RBAC) in its own data directory on its own port,
 * run as a supervised child of the main server through the shared process runtime
 * (restarted after a crash with back-off; adopted after an OpenStage restart). The process
 * gets its whole environment from here: its quota, its root password (RBAC), throw-away
 * IAM bootstrap credentials (its own IAM-protected areas stay closed) and PATH/HOME.
 */
export class EngineProcesses {
  readonly runtime: ProcessRuntime;

  constructor(
    private readonly deps: {
      clock: Clock;
      log: Logger;
      terminationGraceMs: number;
      onChange: (state: ReplicaState) => void;
    },
  ) {
    this.runtime = new ProcessRuntime({
      clock: deps.clock,
      log: deps.log,
      backoff: { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 },
      pollMs: 1000,
      onChange: deps.onChange,
    });
  }

  /** The supervisor's spec of an engine process; the password lives only in its environment. */
  specOf(l: EngineLaunch): ReplicaSpec {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: l.dataDir,
      QUOTA_INSTANCE: String(l.instances),
      OPENSTAGE_LOG_LEVEL: 'warn',
      OPENSTAGE_ADMIN_PASSWORD: `${randomToken(18)}aA1!`,
      OPENSTAGE_SECRET_KEY: randomToken(30),
      // Imports and exports forwarded by the main server (X-Engine-ID) are guarded like
      // the engine's kv API, since its IAM stays closed.
      OPENSTAGE_KIE_TRANSFER_AUTH: 'engine',
    };
    const args = [CLI_PATH, 'serve', '--host', l.host, '--port', String(l.port), '--data-dir', l.dataDir, '--db', 'sqlite', '--auth', 'iam'];
    if (l.rootPassword !== undefined) {
      args.push('--rbac');
      env.OPENSTAGE_ROOT_PASSWORD = l.rootPassword;
    }
    return { instanceId: l.engineId, command: process.execPath, args, cwd: l.dataDir, env, logFile: `${l.dataDir}/engine.log`, terminationGraceMs: this.deps.terminationGraceMs };
  }

  /**
   * Waits until the engine answers its health checks (registry `/health` and config center
   * `/v1/health`), polling every 200 ms of real time (it waits for a child process, not for
   * a timer of ours) until `signal` aborts.
   * @throws the signal's reason when aborted
   */
  async waitHealthy(host: string, port: number, signal: AbortSignal, log: (line: string) => void): Promise<void> {
    let last = '';
    for (;;) {
      signal.throwIfAborted();
      const registry = await runProbe({ type: 'http', host, port, path: '/health', timeoutMs: 2000 }, { port, cwd: '/', env: {} });
      const kie = registry.ok ? await runProbe({ type: 'http', host, port, path: '/v1/health', timeoutMs: 2000 }, { port, cwd: '/', env: {} }) : registry;
      if (registry.ok && kie.ok) {
        log(`${registry.detail}; ${kie.detail}`);
        return;
      }
      if (kie.detail !== last) {
        last = kie.detail;
        log(`waiting: ${kie.detail}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }
}

/** Result of one HTTP call to an engine. */
interface EngineReply {
  status: number;
  body: any;
}

/** Calls an engine's API with an optional bearer token; times out after `timeoutMs`. */
export async function callEngine(base: string, method: string, path: string, options: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<EngineReply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/**
 * Counts the instances registered in an engine's `default/default` tenant (the one
 * ServiceComb clients use) through its registry API: the services, then each one's
 * instances. @throws Error when the engine does not answer
 */
export async function countInstances(base: string, token: string | undefined): Promise<number> {
  const services = await callEngine(base, 'GET', '/v4/default/registry/microservices', { ...(token ? { token } : {}) });
  if (services.status !== 200) throw new Error(`GET microservices → ${services.status}`);
  let total = 0;
  for (const s of (services.body?.services ?? []) as { serviceId: string }[]) {
    const r = await callEngine(base, 'GET', `/v4/default/registry/microservices/${encodeURIComponent(s.serviceId)}/instances`, { ...(token ? { token } : {}) });
    if (r.status === 200) total += ((r.body?.instances ?? []) as unknown[]).length;
  }
  return total;
}
