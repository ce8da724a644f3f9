import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
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
}

/** Methods a request may be sent again with (RFC 9110 §9.2.2), when it has no body. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors that mean the replica never took the request: another one may. */
const NOT_TAKEN = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Passes requests and WebSocket upgrades of a route on to the component's ready replicas
 * (http-proxy-3, HTTP/1.1 with keep-alive connections to each replica; bodies and responses
 * streamed both ways, never buffered). Replicas are taken in turn. A request a replica
 * refused (connection refused or reset before any answer) goes to the next one when it is
 * idempotent and has no body; otherwise, and when none is left, the client gets 502. Counts
 * the requests in flight per replica, so that a replica leaving the route is stopped only
 * when they have finished (draining).
 */
export class RouteProxy {
  private readonly proxy: ProxyServer;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' });
  private readonly inflight = new Map<string, number>();
  private readonly drained = new Map<string, Set<() => void>>();
  /** Client sockets of proxied WebSockets, and responses being streamed: ended when the server stops. */
  private readonly open = new Set<Socket | ServerResponse>();

  /** @param proxyTimeoutMs longest wait for a replica's response headers */
  constructor(
    private readonly deps: { log: Logger; clock: Clock; proxyTimeoutMs: number },
  ) {
    this.proxy = createProxyServer({ xfwd: true, proxyTimeout: deps.proxyTimeoutMs, agent: this.agent });
    // Errors go to the per-call callbacks; this keeps an unexpected one from throwing.
    this.proxy.on('error', (err) => this.deps.log.debug({ err }, 'route proxy error'));
  }

  /** Passes one HTTP request on to a ready replica of `target` (or answers 503 when none is). */
  web(req: IncomingMessage, res: ServerResponse, target: Balanced): void {
    const bodyless = (req.headers['content-length'] === undefined || req.headers['content-length'] === '0') && req.headers['transfer-encoding'] === undefined;
    const retryable = bodyless && IDEMPOTENT.has(req.method ?? '');
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
    const tried = new Set<string>();
    const attempt = (): void => {
      const endpoint = this.pick(target, tried);
      if (!endpoint) {
        if (tried.size === 0) return sendError(res, 'NoReadyReplica', target.unavailable(), { 'retry-after': '1' });
        return sendError(res, 'BadGateway', `no ready replica took the request (${tried.size} tried)`);
      }
      tried.add(endpoint.instanceId);
      const done = this.enter(endpoint.instanceId);
      let left = false;
      const leave = (): void => {
        if (!left) {
          left = true;
          done();
        }
      };
      res.once('close', leave);
      this.proxy.web(req, res, { target: { host: endpoint.host, port: endpoint.port }, ...(tried.size > 1 ? { buffer: Readable.from([]) } : {}) }, (err) => {
        leave();
        res.off('close', leave);
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (retryable && NOT_TAKEN.has(code) && !res.destroyed) return attempt();
        if (code === 'ECONNRESET' && req.socket.destroyed) return; // the client went away
        if (/timeout/i.test(err.message) || code === 'ETIMEDOUT') return sendError(res, 'GatewayTimeout', `replica ${endpoint.instanceId} gave no answer within ${Math.round(this.deps.proxyTimeoutMs / 1000)} s`);
        sendError(res, 'BadGateway', `replica ${endpoint.instanceId}: ${code || err.message}`);
      });
    };
    attempt();
  }

  /** Passes a WebSocket (any HTTP upgrade) on to a ready replica; the bytes then flow both ways untouched. */
  ws(req: IncomingMessage, socket: Socket, head: Buffer, target: Balanced): void {
    const endpoint = this.pick(target, new Set());
    if (!endpoint) return rawError(socket, 'NoReadyReplica', target.unavailable());
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    // An upgraded connection is not a request in flight: it does not hold the replica's stop.
    this.proxy.ws(req, socket, head, { target: { host: endpoint.host, port: endpoint.port } }, (err) => {
      // Before the 101 the client still reads HTTP (the socket is ended after this callback).
      rawError(socket, 'BadGateway', `replica ${endpoint.instanceId}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
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

  /** Ends every proxied WebSocket and streamed response, and the connections to the replicas. */
  close(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
    this.agent.destroy();
  }

  /** The next ready replica in turn that was not tried yet, or undefined. */
  private pick(target: Balanced, tried: Set<string>): RouteEndpoint | undefined {
    const list = target.endpoints;
    for (let i = 0; i < list.length; i++) {
      const endpoint = list[(target.cursor + i) % list.length]!;
      if (tried.has(endpoint.instanceId)) continue;
      target.cursor = (target.cursor + i + 1) % list.length;
      return endpoint;
    }
    return undefined;
  }

  /** Counts a request in flight to a replica. @returns the function that ends it */
  private enter(instanceId: string): () => void {
    this.inflight.set(instanceId, (this.inflight.get(instanceId) ?? 0) + 1);
    return () => {
      const n = (this.inflight.get(instanceId) ?? 1) - 1;
      if (n > 0) return void this.inflight.set(instanceId, n);
      this.inflight.delete(instanceId);
      for (const wake of [...(this.drained.get(instanceId) ?? [])]) wake();
    };
  }
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
