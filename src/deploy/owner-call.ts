import { createInterface } from 'node:readline';
import { request } from 'undici';
import type { Cluster } from '../core/cluster.js';
import { OpenStageError } from '../core/errors.js';
import type { SecretBox } from '../core/secrets.js';
import { deployError } from './errors.js';

/** Header of a call from one server to another: a pass sealed with the shared master key. */
export const INTERNAL_PASS_HEADER = 'x-openstage-internal';

/** How long a pass is good for after it was made, milliseconds (real time). */
const PASS_TTL_MS = 30_000;

/** Longest wait for the owner's answer (its response headers), milliseconds. */
const ANSWER_WAIT_MS = 30_000;

/** What a pass holds: the request path (query included) and its expiry (epoch ms). */
interface Pass {
  path: string;
  expiresAtMs: number;
}

/**
 * Calls from one server to the server that owns a component's replica set, over HTTP to the
 * owner's own URL (`core_servers.url`, cluster.liveServers()): what only the owner has — its
 * replicas' log files — is read there (docs/cluster.md). A call carries a pass sealed with
 * the master key every server shares (SecretBox, AES-256-GCM: it cannot be made or altered
 * without the key) naming the exact path and query, good for 30 s; the owner's internal
 * route refuses any request without a valid one. A pass seen on the wire can be replayed for
 * the same read within those 30 s (the calls are reads; put the servers on a private network
 * or use TLS).
 */
export class OwnerCalls {
  constructor(private readonly deps: { secrets: SecretBox; cluster: Cluster }) {}

  /** A sealed pass for `path` (path and query, as the request line gives them). */
  pass(path: string): string {
    const pass: Pass = { path, expiresAtMs: Date.now() + PASS_TTL_MS };
    return this.deps.secrets.encrypt(JSON.stringify(pass));
  }

  /** True when `header` is a pass this cluster made for `path` and it has not expired. */
  verify(header: string | string[] | undefined, path: string): boolean {
    if (typeof header !== 'string' || header === '') return false;
    try {
      const pass = JSON.parse(this.deps.secrets.decrypt(header)) as Pass;
      return pass.path === path && typeof pass.expiresAtMs === 'number' && pass.expiresAtMs > Date.now();
    } catch {
      return false;
    }
  }

  /**
   * GETs `path` of server `owner` and returns its JSON answer.
   * @throws 503 SVCSTG.00100503 when the owner is not live, cannot be reached or does not answer in 30 s; the owner's error as it answered it
   */
  async getJson<T>(owner: string, path: string): Promise<T> {
    const res = await this.open(owner, path, undefined);
    return (await res.body.json()) as T;
  }

  /**
   * GETs `path` of server `owner`, an NDJSON stream, and calls `line` with each parsed line
   * until the owner ends it or `signal` aborts (then it resolves).
   * @throws as getJson, before the first line
   */
  async stream<T>(owner: string, path: string, signal: AbortSignal, line: (value: T) => void): Promise<void> {
    const res = await this.open(owner, path, signal);
    try {
      for await (const text of createInterface({ input: res.body, crlfDelay: Infinity })) if (text !== '') line(JSON.parse(text) as T);
    } catch (err) {
      if (!signal.aborted) throw deployError('Unavailable', `server ${owner} ended the stream: ${(err as Error).message}`);
    }
  }

  /** Sends the GET; resolves with a 200 answer. */
  private async open(owner: string, path: string, signal: AbortSignal | undefined): Promise<Awaited<ReturnType<typeof request>>> {
    const server = this.deps.cluster.liveServers().find((s) => s.serverId === owner);
    if (!server) throw deployError('Unavailable', `server ${owner}, which supervises this component's replicas, stopped; another server takes them over within about one cluster lease — try again then`);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${server.url}${path}`, { method: 'GET', headers: { [INTERNAL_PASS_HEADER]: this.pass(path) }, headersTimeout: ANSWER_WAIT_MS, bodyTimeout: signal ? 0 : ANSWER_WAIT_MS, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw deployError('Unavailable', `server ${owner}, which supervises this component's replicas, did not answer (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); try again`);
    }
    if (res.statusCode === 200) return res;
    const body = (await res.body.json().catch(() => undefined)) as { error_code?: string; error_msg?: string } | undefined;
    if (body?.error_code && body.error_msg) throw new OpenStageError(body.error_code, res.statusCode, body.error_msg);
    throw deployError('Unavailable', `server ${owner}, which supervises this component's replicas, answered ${res.statusCode}; try again`);
  }
}
