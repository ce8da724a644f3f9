import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ADMIN, IAM_OVERRIDES, login } from './iam-client.js';
import { call, type Reply } from './registry-client.js';
import { startServer, type TestServer } from './server.js';

/**
 * A client for the ServiceStage v3 paths (`/v3/{project}/cas/...`) of a test server — or the
 * v2 ones (`/v2/...`, `version` 'v2') —, authenticated with an IAM token of the bootstrap
 * admin (project ADMIN.projectId).
 */
export class CasClient {
  constructor(
    readonly base: string,
    readonly token: string,
    readonly project = ADMIN.projectId,
    readonly version: 'v2' | 'v3' = 'v3',
  ) {}

  /** Calls `/{version}/{project}/cas{path}`; `body` objects are JSON-encoded, strings sent as is. */
  call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    return call<T>(this.base, method, `/${this.version}/${this.project}/cas${path}`, { body, headers: { 'x-auth-token': this.token, ...headers } });
  }

  patch<T = any>(path: string, body?: unknown): Promise<Reply<T>> {
    return this.call<T>('PATCH', path, body);
  }

  get<T = any>(path: string): Promise<Reply<T>> {
    return this.call<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown): Promise<Reply<T>> {
    return this.call<T>('POST', path, body);
  }
  put<T = any>(path: string, body?: unknown): Promise<Reply<T>> {
    return this.call<T>('PUT', path, body);
  }
  delete<T = any>(path: string, body?: unknown): Promise<Reply<T>> {
    return this.call<T>('DELETE', path, body);
  }
}

/** A test server with a ServiceStage client logged in as the bootstrap admin. */
export interface CasServer extends TestServer {
  cas: CasClient;
}

/** Starts a test server (IAM on, fixed admin credentials) and logs in. */
export async function startCas(t: TestContext, overrides: Record<string, unknown> = {}, options: { realClock?: boolean } = {}): Promise<CasServer> {
  const server = await startServer(t, { ...IAM_OVERRIDES, ...overrides }, options);
  const r = await login(server.url, ADMIN.name, ADMIN.password);
  assert.equal(r.status, 201, r.text);
  return { ...server, cas: new CasClient(server.url, r.headers.get('x-subject-token')!) };
}

/** Restarts a test server on the same data and logs in again. */
export async function restartCas(s: CasServer): Promise<CasServer> {
  const next = await s.restart();
  const r = await login(next.url, ADMIN.name, ADMIN.password);
  assert.equal(r.status, 201, r.text);
  return { ...next, cas: new CasClient(next.url, r.headers.get('x-subject-token')!) };
}

/** Asserts a Huawei error body: status, `error_code`, a string `error_msg` (matching `msg` when given). */
export function assertCasError(r: Reply<any>, status: number, code: string, msg?: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(r.body?.error_code, code, r.text);
  assert.equal(typeof r.body?.error_msg, 'string', r.text);
  if (msg) assert.match(r.body.error_msg, msg);
}

let counter = 0;
/** A unique valid resource name (letter first, 2–64 characters). */
export function uniqName(prefix = 'n'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`;
}
