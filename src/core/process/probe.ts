import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

/**
 * A liveness or readiness probe (servicestage.md §4.1 `liveness_probe` / `readiness_probe`):
 * `http` (a GET answered 200–399), `tcp` (a connection accepted) or `command` (exit code 0).
 */
export interface ProbeSpec {
  type: 'http' | 'tcp' | 'command';
  /** Host to reach; default 127.0.0.1. */
  host?: string;
  port?: number;
  /** HTTP path; default "/". */
  path?: string;
  scheme?: 'HTTP' | 'HTTPS';
  /** argv of a `command` probe (run without a shell, in the replica's directory and environment). */
  command?: string[];
  /** Longest a single check may take, milliseconds. */
  timeoutMs: number;
}

/** A probe's verdict with a short reason for the task messages. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/**
 * Runs one check. Never throws: failures (refused, timed out, bad status, exit code) come
 * back as `{ok: false, detail}`. The timeout is a deadline on the network or child process,
 * in real time.
 * @param context.port the replica's port when the probe names none
 */
export function runProbe(probe: ProbeSpec, context: { port: number; cwd: string; env: Record<string, string> }): Promise<ProbeResult> {
  const host = probe.host || '127.0.0.1';
  const port = probe.port ?? context.port;
  if (probe.type === 'tcp') {
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: probe.timeoutMs });
      const done = (r: ProbeResult): void => {
        socket.destroy();
        resolve(r);
      };
      socket.once('connect', () => done({ ok: true, detail: `tcp ${host}:${port} accepted` }));
      socket.once('timeout', () => done({ ok: false, detail: `tcp ${host}:${port} timed out after ${probe.timeoutMs} ms` }));
      socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: `tcp ${host}:${port}: ${err.code ?? err.message}` }));
    });
  }
  if (probe.type === 'http') {
    const path = probe.path ? (probe.path.startsWith('/') ? probe.path : `/${probe.path}`) : '/';
    const send = probe.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    const url = `${probe.scheme === 'HTTPS' ? 'https' : 'http'}://${host}:${port}${path}`;
    return new Promise((resolve) => {
      const req = send(url, { method: 'GET', timeout: probe.timeoutMs, rejectUnauthorized: false }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, detail: `GET ${url} → ${status}` });
      });
      req.once('timeout', () => req.destroy(new Error(`timed out after ${probe.timeoutMs} ms`)));
      req.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `GET ${url}: ${err.code ?? err.message}` }));
      req.end();
    });
  }
  const [cmd, ...args] = probe.command ?? [];
  if (!cmd) return Promise.resolve({ ok: false, detail: 'command probe without a command' });
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: context.cwd, env: context.env, timeout: probe.timeoutMs, killSignal: 'SIGKILL' }, (err) => {
      if (!err) return resolve({ ok: true, detail: `${cmd} exited 0` });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      resolve({ ok: false, detail: e.killed ? `${cmd} timed out after ${probe.timeoutMs} ms` : `${cmd}: ${typeof e.code === 'number' ? `exit code ${e.code}` : (e.code ?? e.message)}` });
    });
  });
}
