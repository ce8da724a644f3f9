import { canonicalRequest, formatSdkDate, sign, stringToSign } from '../iam/signature.js';
import type { ContextAuth } from './context.js';
import { CliError, EXIT } from './errors.js';

/** Where the CLI sends requests and how it signs them. */
export interface Target {
  /** Base URL, e.g. `http://127.0.0.1:30100`. */
  url: string;
  auth: ContextAuth;
  /** The IAM project for `/v3/{project}/…` paths; looked up on first use when absent. */
  project?: string;
}

/** An answer of the server. */
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Options of one request. */
export interface RequestOptions {
  body?: unknown;
  /** Query parameters; arrays repeat the name; undefined values are left out. */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  headers?: Record<string, string>;
  /** Statuses answered without an error besides 2xx (e.g. 304 of a long poll). */
  accept?: number[];
  /** Longest wait for the answer, in milliseconds (default 30 000). */
  timeoutMs?: number;
}

/** Error codes that mean "no such thing" although their HTTP status says otherwise. */
const NOT_FOUND_CODES = new Set(['SVCSTG.00100401', '400012', '400017', 'SVCSTG.00501116']);

/** `{code, message}` of an error body in any of the server's formats (Huawei, ServiceComb, Keystone). */
function errorOf(body: any, raw: string): { code: string; message: string } {
  if (body && typeof body === 'object') {
    if (body.error_code) return { code: String(body.error_code), message: String(body.error_msg ?? '') };
    if (body.errorCode) return { code: String(body.errorCode), message: [body.errorMessage, body.detail].filter(Boolean).join(': ') };
    if (body.error?.message) return { code: String(body.error.code ?? ''), message: String(body.error.message) };
  }
  return { code: '', message: raw.slice(0, 300) };
}

/**
 * HTTP client of the CLI: JSON in and out, IAM token or AK/SK signature (the Huawei signing
 * guide, the same code the server checks with), errors turned into CliErrors with the exit
 * codes of errors.ts.
 */
export class Api {
  private projectId: string | undefined;

  constructor(readonly target: Target) {
    this.projectId = target.project;
  }

  /** The base URL without a trailing slash. */
  get url(): string {
    return this.target.url.replace(/\/+$/, '');
  }

  /**
   * Sends one request. @returns the parsed answer (JSON, else text)
   * @throws CliError: exit 5 unreachable, 3 refused credentials, 4 not found, 1 other errors
   */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
    }
    const text = options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', ...(text ? { 'content-type': 'application/json' } : {}), ...options.headers };
    const auth = this.target.auth;
    if (auth.type === 'token') {
      if (Date.parse(auth.expiresAt) <= Date.now()) throw new CliError(`the token of ${auth.user} expired at ${auth.expiresAt}: run openstage login again`, EXIT.auth);
      headers['x-auth-token'] = auth.token;
    } else if (auth.type === 'aksk') {
      Object.assign(headers, signedHeaders(auth, method, url, headers, text));
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: text || undefined, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new CliError(`${method} ${path}: no answer within ${Math.round((options.timeoutMs ?? 30_000) / 1000)} s`, EXIT.timeout);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.url} (${cause?.code ?? cause?.message ?? (err as Error).message}); is the server running? (--url, OPENSTAGE_URL or openstage login)`, EXIT.unreachable);
    }
    const raw = await res.text();
    let body: any = raw;
    if (raw && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    if (res.status >= 400 || (res.status >= 300 && !options.accept?.includes(res.status))) {
      const { code, message } = errorOf(body, raw);
      const exit = NOT_FOUND_CODES.has(code) || res.status === 404 ? EXIT.notFound : res.status === 401 || res.status === 403 ? EXIT.auth : EXIT.failed;
      throw Object.assign(new CliError(`${method} ${url.pathname}: ${res.status}${code ? ` ${code}` : ''} ${message}`.trim(), exit), { status: res.status, code });
    }
    return { status: res.status, body: (raw ? body : undefined) as T, headers: res.headers };
  }

  get<T = any>(path: string, options?: RequestOptions): Promise<Answer<T>> {
    return this.request<T>('GET', path, options);
  }

  /**
   * The IAM project of `/v3/{project}/…` paths: the target's, else the caller's only project
   * (or the one named `default`) from GET /v3/auth/projects.
   * @throws CliError (exit 2) when several projects leave the choice open
   */
  async project(): Promise<string> {
    if (this.projectId) return this.projectId;
    const projects = await listProjects(this);
    const chosen = projects.length === 1 ? projects[0] : projects.find((p) => p.name === 'default');
    if (!chosen) throw new CliError(`choose a project with --project: ${projects.map((p) => `${p.name} (${p.id})`).join(', ') || 'none is visible'}`, EXIT.usage);
    this.projectId = chosen.id;
    return chosen.id;
  }

  /** Sets the project of later calls. */
  useProject(id: string): void {
    this.projectId = id;
  }
}

/** The projects the caller may use (GET /v3/auth/projects). */
export async function listProjects(api: Api): Promise<{ id: string; name: string }[]> {
  return ((await api.get<{ projects: { id: string; name: string }[] }>('/v3/auth/projects')).body?.projects ?? []).map((p) => ({ id: p.id, name: p.name }));
}

/** The SDK-HMAC-SHA256 headers (X-Sdk-Date, Authorization) of a request signed with an AK/SK. */
export function signedHeaders(auth: { accessKey: string; secretKey: string }, method: string, url: URL, headers: Record<string, string>, body: string): Record<string, string> {
  const date = formatSdkDate(Date.now());
  const toSign: Record<string, string> = { host: url.host, 'x-sdk-date': date };
  if (headers['content-type']) toSign['content-type'] = headers['content-type'];
  const names = Object.keys(toSign).sort();
  const signature = sign(auth.secretKey, stringToSign(canonicalRequest({ method, url: url.pathname + url.search, headers: toSign, body: Buffer.from(body) }, names), date));
  return { 'x-sdk-date': date, authorization: `SDK-HMAC-SHA256 Access=${auth.accessKey}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}
