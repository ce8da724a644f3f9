import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { tailLines } from '../../core/process/supervisor.js';

/** Lines of the build log quoted in an error. */
export const LOG_TAIL_LINES = 20;

/** A build step that failed; the message carries the exit code and the last log lines. */
export class BuildError extends Error {
  /** @param stdout what a failed command with captured stdout printed */
  constructor(
    message: string,
    readonly stdout = '',
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

/** Options of one logged command. */
export interface RunOptions {
  /** Working directory (inside the sandbox when confined). */
  cwd: string;
  /** The whole environment of the command. */
  env: Record<string, string>;
  logFile: string;
  signal: AbortSignal;
  /** Collect stdout (at most 64 KiB) and return it instead of appending it to the log. */
  captureStdout?: boolean;
  /** Turns the command into the one actually run (the sandbox's bwrap argv); none = as is. */
  wrap?: (command: string, args: string[], env: Record<string, string>, cwd: string) => { command: string; args: string[]; env: Record<string, string>; cwd: string };
}

/** Runs a command of a build the way the build's runtime confines it (cwd defaults to the build's directory). */
export type Runner = (command: string, args: string[], options?: { cwd?: string; env?: Record<string, string>; captureStdout?: boolean }) => Promise<{ stdout: string }>;

/**
 * Runs one build command (never through a shell) with stderr — and stdout unless captured —
 * appended to `logFile`, in its own process group so that an abort kills everything it
 * started (Maven's forked JVMs, npm's scripts).
 * @returns the captured stdout ('' unless captureStdout)
 * @throws BuildError with the exit code and the log's last lines when it fails, or
 *   the abort reason when `signal` aborts
 */
export async function runLogged(command: string, args: string[], options: RunOptions): Promise<{ stdout: string }> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  let stdout = '';
  const run = options.wrap ? options.wrap(command, args, options.env, options.cwd) : { command, args, env: options.env, cwd: options.cwd };
  try {
    const child = spawn(run.command, run.args, { cwd: run.cwd, env: run.env, stdio: ['ignore', options.captureStdout ? 'pipe' : fd, fd], detached: true });
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < 64 * 1024) stdout += d.toString('utf8');
    });
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
        child.once('error', (err: NodeJS.ErrnoException) => reject(new BuildError(`cannot run '${run.command}': ${err.code ?? err.message}`)));
        child.once('close', (code, signal) => resolve({ code, signal }));
      });
    } finally {
      options.signal.removeEventListener('abort', kill);
    }
  } finally {
    closeSync(fd);
  }
  if (options.signal.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error(String(options.signal.reason));
  if (exit.code === 0) return { stdout };
  const tail = await tailLines(options.logFile, LOG_TAIL_LINES);
  const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
  throw new BuildError(`'${[command, ...args].join(' ')}' failed with ${how}${tail.length ? `; last lines of the build log:\n${tail.join('\n')}` : ''}`, stdout);
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

/**
 * The real path of `rel` inside `dir` (a directory a build or a replica could write), for
 * OpenStage to read or copy as root: symbolic links are resolved and the result must stay
 * inside `dir`, so a link to the data directory or another project's files is refused.
 * @throws BuildError when it leads outside `dir`
 */
export function insideDir(dir: string, rel: string): string {
  const root = realpathSync(dir);
  let real: string;
  try {
    real = realpathSync(join(dir, rel));
  } catch {
    return join(dir, rel);
  }
  if (real !== root && !real.startsWith(root + sep)) throw new BuildError(`${rel} points outside the component's directory`);
  return real;
}
