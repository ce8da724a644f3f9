import type { KvDoc } from '../../src/kie/types.js';
import { call, uniq, type Reply } from './registry-client.js';

/** A kv as the config center returns it. */
export type Kv = KvDoc;

/** A small client for the config center paths of a test server, bound to one project. */
export class KieClient {
  constructor(
    readonly base: string,
    readonly project = uniq('proj'),
    readonly headers: Record<string, string> = {},
  ) {}

  get prefix(): string {
    return `/v1/${this.project}/kie`;
  }

  req<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    return call<T>(this.base, method, this.prefix + path, { body, headers: { ...this.headers, ...headers } });
  }

  /** Creates a kv and returns it; throws when the reply is not 200. */
  async create(kv: Record<string, unknown>): Promise<Kv> {
    const r = await this.req<Kv>('POST', '/kv', kv);
    if (r.status !== 200) throw new Error(`create: ${r.status} ${r.text}`);
    return r.body;
  }

  /** Updates a kv and returns it; throws when the reply is not 200. */
  async update(id: string, body: Record<string, unknown>): Promise<Kv> {
    const r = await this.req<Kv>('PUT', `/kv/${id}`, body);
    if (r.status !== 200) throw new Error(`update: ${r.status} ${r.text}`);
    return r.body;
  }

  /** GET /kv with a query; `label` entries repeat. */
  list(query: Record<string, string | string[]> = {}, headers: Record<string, string> = {}): Promise<Reply<{ total: number; data: Kv[] }>> {
    return this.req('GET', `/kv${queryString(query)}`, undefined, headers);
  }
}

/** `?a=1&label=x:y&label=z:w` from a map whose array values repeat. */
export function queryString(query: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The X-Kie-Revision header of a reply as a number. */
export function revisionOf(r: Reply<unknown>): number {
  return Number(r.headers.get('x-kie-revision'));
}
