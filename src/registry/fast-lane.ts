import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parse as parseQuery } from 'fast-querystring';
import type { FindResult } from './discovery.js';
import { tenantKey } from './index.js';
import { consumerOf } from './routes/instance.js';
import { FindQuery } from './schemas.js';
import type { RegistryService } from './service.js';

/** What the fast lane needs from the composition root (server.ts). */
export interface FastLaneDeps {
  registry: RegistryService;
  /** Counts one answered request as the metrics hook does (src/ops/metrics.ts observeRequest; seconds). */
  observe: (route: string, method: string, status: number, seconds: number) => void;
  /** True while a write waits for the other servers to apply it (cluster.replicationWaitMs). */
  replicating: () => boolean;
}

/** Fastify's route patterns of the two operations, the metrics' `route` label. */
const FIND_ROUTE = '/v4/:project/registry/instances';
const HEARTBEAT_ROUTE = '/v4/:project/registry/microservices/:serviceId/instances/:instanceId/heartbeat';

/** A path segment the router would pass on unchanged: no escapes, no separators. */
const SEGMENT = '[^/?#%]{1,256}';
const FIND_PATH = new RegExp(`^/v4/(${SEGMENT})/registry/instances\\?`);
const HEARTBEAT_PATH = new RegExp(`^/v4/(${SEGMENT})/registry/microservices/(${SEGMENT})/instances/(${SEGMENT})/heartbeat$`);

/** The text of each cached find body (src/registry/discovery.ts builds each body once per revision). */
const TEXT = new WeakMap<Buffer, string>();

/** The query parameters the find route's schema names. */
const FIND_KEYS = new Set(Object.keys(FindQuery.properties));

/**
 * The registry's two hottest operations — find (S22, `GET /v4/{project}/registry/instances`)
 * and heartbeat (S19, `PUT …/microservices/{serviceId}/instances/{instanceId}/heartbeat`) —
 * answered before Fastify routes the request (issue #16: one server ≥ 15,000/s each; Fastify's
 * routing, hooks and reply machinery cost as much as the whole answer).
 *
 * It takes only the plain successful case and answers it byte for byte as the Fastify route
 * does (servicecomb.md §1.2–§1.3: same status, body, `X-Resource-Revision`, content type,
 * 304 on an unchanged `rev`), counted in the same metrics series. Everything else goes on to
 * Fastify untouched, which answers it in full: another path form (legacy `/registry/v3`,
 * escapes, duplicate or trailing slashes), a body, a repeated or unknown query parameter, a
 * tenant header with `/`, a heartbeat whose Content-Type Fastify refuses, any error (the
 * route raises it again, in the wire format), a heartbeat while a write waits for
 * replication, and every request while the lane is off.
 * The lane is built only when nothing per request is needed besides (server.ts): no RBAC, no
 * mutual TLS for the registry, no per-request logging.
 */
export class RegistryFastLane {
  private open = true;
  /** Find URLs the lane takes, parsed, at most FINDS_MAX, then started afresh: clients poll the same few. */
  private readonly finds = new Map<string, ParsedFind>();
  /** Requests this lane answered (the rest went on to Fastify). */
  answered = 0;

  constructor(private readonly deps: FastLaneDeps) {}

  /** Sends every request to Fastify from now on (the server is closing: it answers 503). */
  close(): void {
    this.open = false;
  }

  /**
   * Answers `req` when it is a plain find or heartbeat that succeeds.
   * @returns true when answered; false when `req` and `res` are untouched (Fastify's turn)
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.open) return false;
    const url = req.url!;
    if (req.method === 'GET') return url.charCodeAt(1) === 0x76 /* v */ && this.find(req, res, url);
    if (req.method === 'PUT') return url.endsWith('/heartbeat') && this.heartbeat(req, res, url);
    return false;
  }

  private find(req: IncomingMessage, res: ServerResponse, url: string): boolean {
    const start = performance.now();
    if (hasBody(req)) return false;
    let q = this.finds.get(url);
    if (q === undefined) {
      const parsed = parseFind(url);
      if (parsed === null) return false;
      if (this.finds.size >= FINDS_MAX) this.finds.clear();
      this.finds.set(url, (q = parsed));
    }
    const tenant = tenantKey(req.headers['x-domain-name'], q.project);
    if (tenant === undefined) return false;
    let result: FindResult;
    try {
      result = this.deps.registry.find(tenant, {
        consumerId: consumerOf(req.headers),
        appId: q.appId,
        serviceName: q.serviceName,
        environment: q.env,
        version: q.version,
        tags: q.tags,
      });
    } catch {
      return false; // the route finds the same error (find changes nothing before it throws)
    }
    if (q.rev && q.rev === result.rev) {
      res.writeHead(304, { 'X-Resource-Revision': result.rev });
      res.end();
      this.answered++;
      this.deps.observe(FIND_ROUTE, 'GET', 304, (performance.now() - start) / 1000);
      return true;
    }
    // The body as text: Node then sends head and body in one write (a Buffer takes a writev of two).
    let text = TEXT.get(result.body);
    if (text === undefined) TEXT.set(result.body, (text = result.body.toString()));
    res.writeHead(200, ['X-Resource-Revision', result.rev, 'content-type', 'application/json; charset=UTF-8', 'content-length', String(result.body.length)]);
    res.end(text);
    this.answered++;
    this.deps.observe(FIND_ROUTE, 'GET', 200, (performance.now() - start) / 1000);
    return true;
  }

  private heartbeat(req: IncomingMessage, res: ServerResponse, url: string): boolean {
    const start = performance.now();
    const path = HEARTBEAT_PATH.exec(url);
    if (!path || hasBody(req) || !acceptedMediaType(req) || this.deps.replicating()) return false;
    const tenant = tenantKey(req.headers['x-domain-name'], path[1]!);
    if (tenant === undefined) return false;
    try {
      this.deps.registry.heartbeat(tenant, path[2]!, path[3]!);
    } catch {
      return false; // the route finds the same error (after catching up, on PostgreSQL)
    }
    res.writeHead(200, EMPTY_OK);
    res.end();
    this.answered++;
    this.deps.observe(HEARTBEAT_ROUTE, 'PUT', 200, (performance.now() - start) / 1000);
    return true;
  }
}

/** What a find URL asks for (the query as the route reads it). */
interface ParsedFind {
  project: string;
  appId: string;
  serviceName: string;
  env: string | undefined;
  version: string | undefined;
  tags: string[] | undefined;
  rev: string | undefined;
}

const FINDS_MAX = 4096;

/** A find URL's project and query; null when the lane leaves it to the route. */
function parseFind(url: string): ParsedFind | null {
  const path = FIND_PATH.exec(url);
  if (!path) return null;
  const query = parseQuery(url.slice(path[0].length)) as Record<string, unknown>;
  for (const key in query) if (!FIND_KEYS.has(key) || typeof query[key] !== 'string') return null;
  const q = query as { appId?: string; serviceName?: string; env?: string; version?: string; tags?: string; rev?: string };
  if (!q.serviceName) return null;
  return Object.freeze({
    project: path[1]!,
    appId: q.appId || 'default',
    serviceName: q.serviceName,
    env: q.env,
    version: q.version,
    tags: q.tags ? Object.freeze(q.tags.split(',').filter(Boolean)) as string[] : undefined,
    rev: q.rev,
  });
}

const EMPTY_OK = ['content-type', 'text/plain; charset=UTF-8', 'content-length', '0'];

/** True when the request announces a body (the routes parse one; the lane takes none). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * A Content-Type Fastify surely accepts: a plain `type/subtype`, parameters after a `;` (none
 * parsed). Fastify refuses any other value on a PUT before the route runs, bodiless or not —
 * empty, `json`, `undefined`, `a/b/c` — with 415, which the registry answers 400 400001
 * "Unsupported Media Type"; so those go to the route. A GET's Content-Type is never read.
 */
const PLAIN_MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+\s*(?:;|$)/;

/** True when the request has no Content-Type, or one Fastify accepts (PLAIN_MEDIA_TYPE). */
function acceptedMediaType(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type === undefined || PLAIN_MEDIA_TYPE.test(type);
}

