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
