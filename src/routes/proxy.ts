import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { Agent, type Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { RouteEndpoint } from '../deploy/types.js';
import { routeErrorBody, RouteCodes, type RouteCode } from './errors.js';

/** What the proxy balances over: the ready replicas of one component. */
export interface Balanced {
  /** Ready replicas, replaced (never mutated) when they change. */
  endpoints: RouteEndpoint[];
  /** Round-robin position. */
  cursor: number;
  /** Why no replica is ready, for the 503's body ("component web of application shop: 0 of 2 ready, UPGRADING"). */
  unavailable(): string;
  /** Set when the endpoint is another server of the cluster, which supervises the replicas (RouteProxy.forServer): requests carry ROUTE_HOP_HEADER. */
  hop?: true;
}

/**
 * The marker of a request one server passed on to the server that supervises the replicas
 * (src/routes/README.md "Several servers"): that server serves it from its own replicas only
 * and never passes it on again. It only restricts: a client that sends it gets no more than
 * without it. Never sent to a replica.
 */
export const ROUTE_HOP_HEADER = 'x-openstage-route-hop';

/** Methods a request may be sent again with (RFC 9110 §9.2.2), when it has no body. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors that mean the replica never took the request: another one may. */
const NOT_TAKEN = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/**
 * Request headers not passed on: those of one connection (RFC 9110 §7.6.1), `expect` (Node's
 * server has already answered `100 Continue`) and the X-Forwarded-* ones, which are rebuilt.
 */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-host', ROUTE_HOP_HEADER]);

/** Response headers of the replica's connection, not the client's (Node's server sets its own). */
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade']);

/** Most connections kept to one replica. */
const MAX_CONNECTIONS_PER_REPLICA = 512;

/**
 * Passes requests and WebSocket upgrades of a route on to the component's ready replicas.
 * HTTP requests go through undici (HTTP/1.1, a pool of keep-alive connections per replica,
 * bodies and responses streamed both ways with back-pressure, never buffered) without a
 * Fastify or stream-pipeline layer in between — the route's whole cost is one parse and one
 * write each way (bench/routes); upgrades go through http-proxy-3, after which the bytes flow
 * untouched. Replicas are taken in turn. A request a replica refused (connection refused or
 * reset before any answer) goes to the next one when it is idempotent and has no body;
 * otherwise, and when none is left, the client gets 502. Counts the requests in flight per
 * replica, so that a replica leaving the route is stopped only when they have finished
 * (draining).
 */
export class RouteProxy {
  private readonly upgrades: ProxyServer;
  private readonly agent = new Agent({ connections: MAX_CONNECTIONS_PER_REPLICA });
  private readonly origins = new WeakMap<RouteEndpoint, string>();
  private readonly inflight = new Map<string, number>();
  private readonly drained = new Map<string, Set<() => void>>();
  /** Client sockets of proxied WebSockets: ended when the server stops. */
  private readonly upgraded = new Set<Socket>();

  /** @param proxyTimeoutMs longest wait for a replica's response headers (and for a WebSocket's 101) */
  constructor(private readonly deps: { log: Logger; clock: Clock; proxyTimeoutMs: number }) {
    this.upgrades = createProxyServer({ xfwd: true, proxyTimeout: deps.proxyTimeoutMs });
    // Errors go to the per-call callbacks; this keeps an unexpected one from throwing.
    this.upgrades.on('error', (err) => this.deps.log.debug({ err }, 'route proxy error'));
  }

  /** Passes one HTTP request on to a ready replica of `target` (or answers 503 when none is). */
  web(req: IncomingMessage, res: ServerResponse, target: Balanced): void {
    const endpoint = this.pick(target, undefined);
    if (!endpoint) return sendError(res, 'NoReadyReplica', target.unavailable(), { 'retry-after': '1' });
    const headers = upstreamHeaders(req);
    if (target.hop) headers.push(ROUTE_HOP_HEADER, '1');
    const forward = new Forward(this, req, res, target, headers);
    res.once('close', () => forward.clientClosed());
    this.send(forward, endpoint);
  }

  /** Passes a WebSocket (any HTTP upgrade) on to a ready replica; the bytes then flow both ways untouched. */
  ws(req: IncomingMessage, socket: Socket, head: Buffer, target: Balanced): void {
    const endpoint = this.pick(target, undefined);
    if (!endpoint) return rawError(socket, 'NoReadyReplica', target.unavailable());
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    delete req.headers[ROUTE_HOP_HEADER];
    // An upgraded connection is not a request in flight: it does not hold the replica's stop.
    this.upgrades.ws(req, socket, head, { target: this.originOf(endpoint), ...(target.hop ? { headers: { [ROUTE_HOP_HEADER]: '1' } } : {}) }, (err) => {
      // Before the 101 the client still reads HTTP (the socket is ended after this callback).
      rawError(socket, 'BadGateway', `${whom(target, endpoint)}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
  }

  /**
   * A target that is another server of the cluster, at its own URL (`http(s)://host:port`,
   * core_servers.url): requests to it carry ROUTE_HOP_HEADER, so that it serves them from the
   * replicas it supervises. Make one per server and URL, not per request.
   */
  forServer(serverId: string, url: string, unavailable: () => string): Balanced {
    const u = new URL(url);
    const endpoint: RouteEndpoint = { instanceId: serverId, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
    this.origins.set(endpoint, u.origin);
    return { endpoints: [endpoint], cursor: 0, unavailable, hop: true };
  }

  /**
   * Resolves when no request sent to the replica is in flight any more, or after `timeoutMs`
   * (the replica is then stopped with them: their clients see the connection end).
   */
  drain(instanceId: string, timeoutMs: number): Promise<void> {
    if ((this.inflight.get(instanceId) ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.drained.get(instanceId) ?? new Set();
      this.drained.set(instanceId, waiters);
      const done = (): void => {
        cancel();
        waiters.delete(done);
        if (waiters.size === 0) this.drained.delete(instanceId);
        resolve();
      };
      const cancel = this.deps.clock.after(timeoutMs, done);
      waiters.add(done);
    });
  }

  /** Requests in flight to a replica (tests, metrics). */
  inFlight(instanceId: string): number {
    return this.inflight.get(instanceId) ?? 0;
  }

  /** Ends every proxied WebSocket, every request in flight (a streamed response ends cut) and the connections to the replicas. */
  async close(): Promise<void> {
    for (const s of this.upgraded) s.destroy();
    this.upgraded.clear();
    await this.agent.destroy();
  }

  /** Sends `forward` to `endpoint`, counting it in flight there. */
  private send(forward: Forward, endpoint: RouteEndpoint): void {
    forward.start(endpoint);
    this.inflight.set(endpoint.instanceId, (this.inflight.get(endpoint.instanceId) ?? 0) + 1);
    const req = forward.req;
    this.agent.dispatch({ origin: this.originOf(endpoint), method: req.method ?? 'GET', path: req.url ?? '/', headers: forward.headers, body: forward.bodyless ? null : req, headersTimeout: this.deps.proxyTimeoutMs, bodyTimeout: 0 }, forward);
  }

  /** Forward's: its request to the replica has ended (answered, failed or the client left). */
  left(instanceId: string): void {
    const n = (this.inflight.get(instanceId) ?? 1) - 1;
    if (n > 0) return void this.inflight.set(instanceId, n);
    this.inflight.delete(instanceId);
    const waiters = this.drained.get(instanceId);
    if (waiters) for (const wake of [...waiters]) wake();
  }

  /** Forward's: a request failed before its answer was complete; sends it to another replica, or answers the error. */
  failed(forward: Forward, err: Error): void {
    const { req, res, endpoint } = forward;
    if (res.headersSent) return void res.destroy();
    if (forward.gone || res.destroyed) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (forward.bodyless && IDEMPOTENT.has(req.method ?? '') && NOT_TAKEN.has(code)) {
      const tried = (forward.tried ??= new Set()).add(endpoint.instanceId);
      const next = this.pick(forward.target, tried);
      if (next) return this.send(forward, next);
      return sendError(res, 'BadGateway', forward.target.hop ? `${whom(forward.target, endpoint)} did not take the request (${code})` : `no ready replica took the request (${tried.size} tried)`);
    }
    // What is left of a request body the replica did not take is not read: the connection ends with the answer.
    if (!forward.bodyless) res.shouldKeepAlive = false;
    const who = whom(forward.target, endpoint);
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return sendError(res, 'GatewayTimeout', `${who} gave no answer within ${Math.round(this.deps.proxyTimeoutMs / 1000)} s`);
    sendError(res, 'BadGateway', `${who}: ${code || err.message}`);
  }

  /** `http://host:port` of a replica (IPv6 literals bracketed), made once per endpoint. */
  private originOf(endpoint: RouteEndpoint): string {
    let origin = this.origins.get(endpoint);
    if (origin === undefined) {
      origin = `http://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
      this.origins.set(endpoint, origin);
    }
    return origin;
  }

  /** The next ready replica in turn that was not tried yet, or undefined. */
  private pick(target: Balanced, tried: Set<string> | undefined): RouteEndpoint | undefined {
    const list = target.endpoints;
    for (let i = 0; i < list.length; i++) {
      const endpoint = list[(target.cursor + i) % list.length]!;
      if (tried?.has(endpoint.instanceId)) continue;
      target.cursor = (target.cursor + i + 1) % list.length;
      return endpoint;
    }
    return undefined;
  }
}

/**
 * One request on its way to a replica: undici's handler for it (one object per request, no
 * closures per event). The response is written to the client as it arrives; a full client
 * buffer pauses the replica's connection until it drains.
 */
class Forward implements Dispatcher.DispatchHandler {
  endpoint!: RouteEndpoint;
  /** Replicas that refused it (only after a retry). */
  tried?: Set<string>;
  /** The client went away before the answer was complete. */
  gone = false;
  readonly bodyless: boolean;
  private controller?: Dispatcher.DispatchController;
  /** The attempt reached a connection to the replica (it can be aborted). */
  private connected = false;
  /** The attempt ended. */
  private done = true;

  constructor(
    private readonly proxy: RouteProxy,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly target: Balanced,
    readonly headers: string[],
  ) {
    const h = req.headers;
    this.bodyless = (h['content-length'] === undefined || h['content-length'] === '0') && h['transfer-encoding'] === undefined;
  }

  /** A new attempt, at `endpoint`. */
  start(endpoint: RouteEndpoint): void {
    this.endpoint = endpoint;
    this.controller = undefined;
    this.connected = false;
    this.done = false;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.connected = true;
    if (this.gone) controller.abort(new Error('the client went away'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) return; // informational (103 Early Hints): the final answer follows
    const out: OutgoingHttpHeader[] = [];
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined && !NOT_RETURNED.has(name)) out.push(name, value);
    }
    this.res.writeHead(statusCode, statusMessage || undefined, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.finish();
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.finish();
    this.proxy.failed(this, err);
  }

  /** The client's connection closed: an unfinished request to the replica is abandoned. */
  clientClosed(): void {
    if (this.done) return;
    this.gone = true;
    if (this.connected) this.controller?.abort(new Error('the client went away'));
  }

  /** This attempt ended: no longer in flight at its replica (a retry counts again). */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.connected = false;
    this.proxy.left(this.endpoint.instanceId);
  }
}

/**
 * The headers passed to the replica: the client's (Host included) less those of its
 * connection, plus X-Forwarded-For, -Port and -Proto (appended to a client's own, comma
 * separated) and X-Forwarded-Host (the client's own, else Host) — http-proxy-3's `xfwd`.
 * @returns a flat [name, value, name, value, …] list
 */
function upstreamHeaders(req: IncomingMessage): string[] {
  const h = req.headers;
  const out: string[] = [];
  for (const name in h) {
    if (NOT_FORWARDED.has(name)) continue;
    const value = h[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const v of value) out.push(name, v);
  }
  const host = h.host ?? '';
  const encrypted = (req.socket as TLSSocket).encrypted === true;
  const port = /:(\d+)$/.exec(host)?.[1] ?? (encrypted ? '443' : '80');
  const append = (name: string, value: string): void => {
    const given = h[name];
    out.push(name, given ? `${String(given)},${value}` : value);
  };
  append('x-forwarded-for', req.socket.remoteAddress ?? '');
  append('x-forwarded-port', port);
  append('x-forwarded-proto', encrypted ? 'https' : 'http');
  const forwardedHost = h['x-forwarded-host'];
  out.push('x-forwarded-host', forwardedHost ? String(forwardedHost) : host);
  return out;
}

/** What an error message calls an endpoint: `replica <instance id>`, or `server <server id>` (passed on). */
function whom(target: Balanced, endpoint: RouteEndpoint): string {
  return `${target.hop ? 'server' : 'replica'} ${endpoint.instanceId}`;
}

/** Answers a route error as JSON (unless the answer has started or the client left). */
export function sendError(res: ServerResponse, name: RouteCode, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = routeErrorBody(name, detail);
  res.writeHead(RouteCodes[name].status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Writes a route error on a socket that has not been upgraded, then ends it. */
function rawError(socket: Socket, name: RouteCode, detail: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = routeErrorBody(name, detail);
  const { status } = RouteCodes[name];
  socket.end(`HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : 'Bad Gateway'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
