import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { tailLines } from '../../core/process/supervisor.js';

/** Lines of the build log quoted in an error. */
export const LOG_TAIL_LINES = 20;

/** A build step that failed; the message carries the exit code and the last log lines. */
export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildError';
  }
}

/**
 * Runs one build command (never through a shell) with stdout and stderr appended to
 * `logFile`, in its own process group so that an abort kills everything it started (Maven's
 * forked JVMs, npm's scripts).
 * @throws BuildError with the exit code and the log's last lines when it fails, or
 *   the abort reason when `signal` aborts
 */
export async function runLogged(command: string, args: string[], options: { cwd: string; env: Record<string, string>; logFile: string; signal: AbortSignal }): Promise<void> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd], detached: true });
    const kill = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    options.signal.addEventListener('abort', kill, { once: true });
    try {
      exit = await new Promise((resolve, reject) => {
        child.once('error', (err: NodeJS.ErrnoException) => reject(new BuildError(`cannot run '${command}': ${err.code ?? err.message}`)));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
    } finally {
      options.signal.removeEventListener('abort', kill);
    }
  } finally {
    closeSync(fd);
  }
  if (options.signal.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error(String(options.signal.reason));
  if (exit.code === 0) return;
  const tail = await tailLines(options.logFile, LOG_TAIL_LINES);
  const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
  throw new BuildError(`'${[command, ...args].join(' ')}' failed with ${how}${tail.length ? `; last lines of the build log:\n${tail.join('\n')}` : ''}`);
}

/** A URL with any user info removed, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** `url` without its user info, which becomes a Basic Authorization header. */
function withoutUserInfo(url: string): { href: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (!u.username && !u.password) return { href: url, headers: {} };
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { href: u.toString(), headers: { Authorization: `Basic ${auth}` } };
}

/** `text` with `url` (and its user info) replaced by the redacted URL. */
function scrub(text: string, url: string): string {
  let out = text.split(url).join(redact(url));
  try {
    const u = new URL(url);
    for (const part of [u.password, u.username, decodeURIComponent(u.password)]) if (part.length >= 3) out = out.split(part).join('***');
  } catch {
    // not a URL: nothing more to hide
  }
  return out;
}

/**
 * GET of an http(s) URL into memory, following redirects. User info in the URL goes as a
 * Basic Authorization header (fetch() refuses such URLs; it drops the header on a redirect to
 * another origin) and never into a message.
 * @returns the body, or undefined when the server answers 404
 * @throws BuildError `cannot download <url without user info>: <cause or HTTP status>`; the
 *   signal's reason when aborted
 */
export async function httpGet(url: string, signal: AbortSignal): Promise<Buffer | undefined> {
  let res: Response;
  try {
    const { href, headers } = withoutUserInfo(url);
    res = await fetch(href, { signal, redirect: 'follow', headers });
  } catch (err) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new BuildError(`cannot download ${redact(url)}: ${scrub(cause?.code ?? cause?.message ?? (err as Error).message, url)}`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new BuildError(`cannot download ${redact(url)}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
