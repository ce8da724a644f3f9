import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { call, type Reply } from '../helpers/registry-client.js';
import { startCas, type CasServer } from '../helpers/cas-client.js';

/** A client for `/v1/{project}/git/...` with the admin's IAM token and an optional X-Repo-Auth. */
export class GitClient {
  constructor(
    readonly base: string,
    readonly token: string,
    readonly project = ADMIN.projectId,
  ) {}

  call<T = any>(method: string, path: string, opts: { body?: unknown; auth?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { 'x-auth-token': this.token, ...(opts.auth !== undefined ? { 'x-repo-auth': opts.auth } : {}), ...(opts.headers ?? {}) };
    return call<T>(this.base, method, `/v1/${this.project}/git${path}`, { body: opts.body, headers });
  }
}

export interface GitServer extends CasServer {
  git: GitClient;
}

/** Starts a test server with IAM on and returns it with a Git client. */
export async function startGit(t: TestContext, overrides: Record<string, unknown> = {}): Promise<GitServer> {
  const s = await startCas(t, overrides);
  return { ...s, git: new GitClient(s.url, s.cas.token) };
}

/** Creates a `local` password authorization `name` for `user:password` and asserts 200. */
export async function localAuth(s: GitServer, name: string, user = 'alice', password = 's3cret-pass'): Promise<void> {
  const r = await s.git.call('POST', '/auths/local/password', { body: { name, token: Buffer.from(`${user}:${password}`).toString('base64') } });
  assert.equal(r.status, 200, r.text);
}

const cliEnv = (cwd: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: cwd,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@x',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@x',
});

/**
 * Runs git (no shell, no user config) asynchronously — the server under test runs in this
 * process, so a synchronous child would deadlock — and returns its exit code and output.
 */
export function gitRun(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: cliEnv(cwd), encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs git and asserts success; returns stdout. */
export async function gitCli(args: string[], cwd: string): Promise<string> {
  const r = await gitRun(args, cwd);
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A recorded request to a stub server. */
export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A local HTTP server standing in for a Git host: `handler` answers each request (after its
 * body is read); every request is recorded. Closed when the test ends.
 */
export async function stubServer(t: TestContext, handler: (req: StubRequest, res: ServerResponse, base: string) => void): Promise<{ base: string; requests: StubRequest[] }> {
  const requests: StubRequest[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      handler(r, res, base);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { base, requests };
}

/** Sends a JSON answer from a stub. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
