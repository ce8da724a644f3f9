import { spawn } from 'node:child_process';

/** Environment every git child runs with: no system or user config, no prompts. */
export const GIT_BASE_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  LANG: 'C',
  LC_ALL: 'C',
};

/** What a git command printed and how it ended. */
export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `git <args>` without a shell (arguments are an array, never interpolated), with
 * `input` on stdin. Resolves with the exit code whatever it is; callers decide what a
 * non-zero code means.
 * @param opts.gitDir GIT_DIR of the command
 * @param opts.env extra environment (author identity, a temporary index)
 */
export function runGit(args: string[], opts: { gitDir?: string; cwd?: string; env?: Record<string, string>; input?: Buffer | string } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...GIT_BASE_ENV, ...(opts.gitDir ? { GIT_DIR: opts.gitDir } : {}), ...(opts.env ?? {}) };
    const child = spawn('git', args, { env, cwd: opts.cwd ?? opts.gitDir ?? process.cwd(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
