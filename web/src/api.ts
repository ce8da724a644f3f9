// The console's one HTTP client. Every call goes to OpenStage's public APIs on the same
// origin; errors are read in each API's own wire format and shown as the API worded them.

/** An answer that was not 2xx: the API's own code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What every request carries: the IAM token (Huawei-style APIs) and the RBAC token (registry, Kie). */
interface Credentials {
  token?: string;
  rbacToken?: string;
}
const credentials: Credentials = {};
let onSessionEnded: ((message: string) => void) | undefined;

/** Sets the tokens sent with later requests. */
export function setCredentials(c: Credentials): void {
  credentials.token = c.token;
  credentials.rbacToken = c.rbacToken;
}

/** Called once when an IAM-checked call answers 401 while a token was sent (expired or revoked). */
export function onSessionEnd(handler: (message: string) => void): void {
  onSessionEnded = handler;
}

/** The message of an error body, whichever API sent it (Huawei, Keystone, ServiceComb, Kie). */
function errorOf(status: number, body: unknown, text: string): ApiError {
  const b = (body ?? {}) as Record<string, any>;
  if (typeof b.error_code === 'string' || typeof b.error_msg === 'string') return new ApiError(status, String(b.error_code ?? status), String(b.error_msg ?? text));
  if (b.errorCode !== undefined) {
    const detail = typeof b.detail === 'string' && b.detail && b.detail !== b.errorMessage ? `: ${b.detail}` : '';
    return new ApiError(status, String(b.errorCode), `${b.errorMessage ?? 'error'}${detail}`);
  }
  if (b.error?.message) return new ApiError(status, String(b.error.code ?? status), String(b.error.message));
  return new ApiError(status, String(status), text.trim() || `HTTP ${status}`);
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined | string[]>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send without the IAM token (sign-in). */
  anonymous?: boolean;
}

/** The full answer: status, headers and parsed body. */
export interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Sends one request to `path` (absolute on this origin, e.g. `/v3/{p}/cas/environments`).
 * Query values that are arrays repeat the key (Kie's `label=a:b&label=c:d`).
 * @throws ApiError on any non-2xx answer (304 is returned as a reply)
 */
export async function request<T = any>(path: string, options: RequestOptions = {}): Promise<Reply<T>> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v) url.searchParams.append(k, x);
    else url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = { Accept: 'application/json', ...(options.headers ?? {}) };
  const iamChecked = /^\/v[123]\//.test(path) && !/^\/v[14]\/[^/]+\/(registry|kie\/kv|kie\/revision)/.test(path);
  const attached = !!credentials.token && !options.anonymous && iamChecked;
  if (attached) headers['X-Auth-Token'] = credentials.token!;
  if (credentials.rbacToken && /^\/v[14]\/[^/]+\/(registry|kie)/.test(path)) headers.Authorization = `Bearer ${credentials.rbacToken}`;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok && res.status !== 304) {
    const err = errorOf(res.status, parsed, text);
    // Only the current token's refusal ends the session (not one just replaced by a project switch).
    if (res.status === 401 && attached && headers['X-Auth-Token'] === credentials.token && onSessionEnded) onSessionEnded(err.message);
    throw err;
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** GET and return the body. */
export async function get<T = any>(path: string, query?: RequestOptions['query']): Promise<T> {
  return (await request<T>(path, { query })).body;
}

/** A write (POST, PUT, DELETE) returning the body. */
export async function send<T = any>(method: string, path: string, body?: unknown, query?: RequestOptions['query']): Promise<T> {
  return (await request<T>(path, { method, body, query })).body;
}

/** The message to show for a failure: the API's own text and code. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.code && err.code !== String(err.status) ? `${err.message} (${err.code})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
