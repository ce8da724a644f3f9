import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

/** What one `openstage …` run gave. */
export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs the `openstage` CLI as a child process with its own config file (never the user's)
 * and no credentials from this process's environment. Asynchronous on purpose: the server
 * under test runs in this process.
 */
export class OpenstageCli {
  /** The CLI's file of contexts, private to this test. */
  readonly configFile: string;

  constructor(
    t: TestContext,
    private readonly baseEnv: Record<string, string> = {},
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'openstage-cli-home-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    this.configFile = join(dir, 'config.yaml');
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENSTAGE_CLI_CONFIG: this.configFile, ...this.baseEnv, ...extra };
    for (const k of ['OPENSTAGE_URL', 'OPENSTAGE_TOKEN', 'OPENSTAGE_ACCESS_KEY', 'OPENSTAGE_SECRET_KEY', 'OPENSTAGE_PROJECT', 'OPENSTAGE_CONTEXT']) if (!(k in this.baseEnv) && !(k in extra)) delete env[k];
    return env;
  }

  /** Runs `openstage ...args` to its end (at most `timeoutMs`). */
  run(args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, env: this.env(options.env ?? {}), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
      );
      if (options.input !== undefined) child.stdin!.end(options.input);
      else child.stdin!.end();
    });
  }

  /** Runs `openstage ...args -o json` and parses stdout. @throws when it fails or prints no JSON */
  async json<T = any>(args: string[], options: { env?: Record<string, string> } = {}): Promise<T> {
    const r = await this.run([...args, '-o', 'json'], options);
    if (r.code !== 0) throw new Error(`openstage ${args.join(' ')} exited ${r.code}: ${r.err}`);
    return JSON.parse(r.out) as T;
  }

  /** Starts `openstage ...args` and leaves it running (for -f and watch); killed when the test ends. */
  start(t: TestContext, args: string[], options: { env?: Record<string, string> } = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [CLI, ...args], { env: this.env(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr!.on('data', () => undefined);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    return { child, output: () => out, exited };
  }
}

/** Polls `probe` until it returns true (at most `timeoutMs`). */
export async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
