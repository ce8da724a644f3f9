import { gitError } from '../errors.js';

/** One answer of a Git host. */
export interface HostReply {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined. */
  body: any;
  /** The raw body (hosts that answer file content as raw bytes, e.g. Bitbucket `/src`). */
  bytes: Buffer;
}

/** How a remote adapter reaches its host. */
export interface HostClientOptions {
  /** API base URL without a trailing slash. */
  base: string;
  /** Headers of every call (authorization, accept, user agent). */
  headers: Record<string, string>;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Host name for error details ("GitHub"). */
  hostName: string;
  /** True when a 403 answer is the host's rate limit (GitHub: `x-ratelimit-remaining: 0`). */
  isRateLimit?: (r: HostReply) => boolean;
}

const MAX_PAGES = 50;

/**
 * A small REST client for one Git host. Errors are mapped to ours: 401 → SVCSTG.REPO.0451
 * (the authorization is no longer accepted), 404 → 0404, 429 or a rate-limit 403 → 0429,
 * any other failure or an unreachable host → 0502 with the host's message.
 */
export class HostClient {
  constructor(private readonly opts: HostClientOptions) {}

  /**
   * Calls `path` (relative to the base, or an absolute URL from a Link header). A plain
   * object body is sent as JSON; `FormData` and `URLSearchParams` as they are (multipart,
   * form-urlencoded). Non-2xx throws unless listed in `allow`.
   */
  async call(method: string, path: string, body?: unknown, allow: number[] = []): Promise<HostReply> {
    const url = /^https?:\/\//.test(path) ? path : `${this.opts.base}${path}`;
    const form = body instanceof FormData || body instanceof URLSearchParams;
    let res: Response;
    let bytes: Buffer;
    try {
      res = await this.opts.fetch(url, {
        method,
        headers: { accept: 'application/json', ...this.opts.headers, ...(body !== undefined && !form ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: form ? (body as FormData | URLSearchParams) : JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw gitError('HostError', `${this.opts.hostName} unreachable: ${(err as Error).message}`);
    }
    const text = bytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const reply: HostReply = { status: res.status, headers: res.headers, body: parsed, bytes };
    if ((res.status >= 200 && res.status < 300) || allow.includes(res.status)) return reply;
    const message = hostMessage(parsed) ?? res.statusText;
    if (res.status === 429 || (res.status === 403 && this.opts.isRateLimit?.(reply))) throw gitError('RateLimited', `${this.opts.hostName}: ${message}`);
    if (res.status === 401) throw gitError('AuthorizationInvalid', `${this.opts.hostName}: ${message}`);
    if (res.status === 404) throw gitError('NotFound', `${this.opts.hostName}: ${message}`);
    throw gitError('HostError', `${this.opts.hostName} answered ${res.status}: ${message}`);
  }

  async get(path: string): Promise<any> {
    return (await this.call('GET', path)).body;
  }

  /** Follows `Link: <…>; rel="next"` (GitHub, GitLab) and returns every item of every page. */
  async all(path: string): Promise<any[]> {
    const items: any[] = [];
    let next: string | undefined = path;
    for (let page = 0; next && page < MAX_PAGES; page += 1) {
      const r = await this.call('GET', next);
      if (Array.isArray(r.body)) items.push(...(r.body as unknown[]));
      next = nextLink(r.headers.get('link'));
    }
    return items;
  }
}

/** The `rel="next"` URL of a Link header (RFC 8288), or undefined. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m && m[2]!.split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

function hostMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { message?: unknown; error?: unknown; error_description?: unknown; error_msg?: unknown };
  if (typeof b.message === 'string') return b.message;
  if (b.message && typeof b.message === 'object') return JSON.stringify(b.message);
  if (typeof b.error_description === 'string') return b.error_description;
  if (typeof b.error_msg === 'string') return b.error_msg;
  if (typeof b.error === 'string') return b.error;
  if (b.error && typeof b.error === 'object' && typeof (b.error as { message?: unknown }).message === 'string') return (b.error as { message: string }).message;
  return undefined;
}

/** Splits the path of a clone or web URL into its segments without `.git`. @throws CloneUrlInvalid */
export function cloneUrlSegments(cloneUrl: string): string[] {
  let url: URL;
  try {
    url = new URL(cloneUrl.replace(/^git@([^:]+):/, 'ssh://git@$1/'));
  } catch {
    throw gitError('CloneUrlInvalid', cloneUrl);
  }
  const segments = url.pathname.replace(/\.git\/?$/, '').split('/').filter((s) => s.length > 0).map(decodeURIComponent);
  if (segments.length < 2) throw gitError('CloneUrlInvalid', cloneUrl);
  return segments;
}

/** Base64 of bytes, as hosts want file content. */
export const b64 = (bytes: Buffer): string => bytes.toString('base64');
