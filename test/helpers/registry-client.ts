/** Typed HTTP calls against the registry of a test server. */

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  /** Raw body text. */
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: T;
}

/** Sends a request and decodes the reply. `body` objects are JSON-encoded; strings are sent as is. */
export async function call<T = any>(base: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

const R = '/v4/default/registry';

/** Ports of the default endpoints register() gives, distinct per call. */
let nextPort = 20000;

/** A small client for the registry paths, bound to one server and domain. */
export class RegistryClient {
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
    readonly prefix = R,
  ) {}

  req<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    return call<T>(this.base, method, this.prefix + path, { body, headers: { ...this.headers, ...headers } });
  }

  /** Creates a service and returns its id; throws when the reply is not 200. */
  async createService(service: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await this.req<{ serviceId: string }>('POST', '/microservices', { service, ...extra });
    if (r.status !== 200) throw new Error(`createService: ${r.status} ${r.text}`);
    return r.body.serviceId;
  }

  /** Registers an instance and returns its id; throws when the reply is not 200. */
  async register(serviceId: string, instance: Record<string, unknown> = {}): Promise<string> {
    // An endpoint of its own: a registration whose endpoints match an instance of the service re-registers it.
    const r = await this.req<{ instanceId: string }>('POST', `/microservices/${serviceId}/instances`, {
      instance: { hostName: 'host1', endpoints: [`rest://127.0.0.1:${nextPort++}`], ...instance },
    });
    if (r.status !== 200) throw new Error(`register: ${r.status} ${r.text}`);
    return r.body.instanceId;
  }

  find(query: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply<{ instances?: any[]; errorCode?: string }>> {
    return this.req('GET', `/instances?${new URLSearchParams(query)}`, undefined, headers);
  }
}

/** A unique name for test data. */
export function uniq(prefix = 'svc'): string {
  return `${prefix}${Math.random().toString(36).slice(2, 10)}`;
}

/** Waits until `predicate` is true, polling every 10 ms, at most `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met in time');
}
