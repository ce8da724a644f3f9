import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Config } from './config.js';
import type { Logger } from './log.js';

/**
 * The HTTP server's own defences (issue #15 H1, TLS): timeouts, connection caps and TLS, from
 * the `http` and `tls` settings. Without them 1,000 half-sent requests stayed open for 100 s,
 * and 1,100 of them under `ulimit -n 1024` locked every client out.
 */

/** File descriptors kept for everything but client connections (database, logs, git, builds). */
const RESERVED_FDS = 256;

/** Most connections `http.maxConnections: 0` allows whatever the descriptor limit. */
const AUTO_MAX_CONNECTIONS = 16384;

/** How often Node looks for connections past their headers or request timeout, milliseconds. */
const TIMEOUT_CHECK_MS = 1000;

/** The soft limit on open files of this process (Linux /proc), or undefined elsewhere. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Most open connections: `http.maxConnections`, or derived from the descriptor limit when 0. */
export function connectionLimit(http: Config['http'], fdLimit = openFileLimit()): number {
  if (http.maxConnections > 0) return http.maxConnections;
  if (fdLimit === undefined) return 1024;
  return Math.max(64, Math.min(AUTO_MAX_CONNECTIONS, fdLimit - RESERVED_FDS));
}

/** TLS options of the server when `tls.certFile` and `tls.keyFile` are set. @throws Error naming a file that cannot be read */
export function tlsOptions(tls: Config['tls']): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' | 'TLSv1.3' } | undefined {
  if (!tls.certFile && !tls.keyFile) return undefined;
  const read = (key: string, file: string): Buffer => {
    if (!file) throw new Error(`tls.${key} is required with tls.certFile and tls.keyFile`);
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`tls.${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const mutual = tls.clientAuth !== 'none';
  return {
    cert: read('certFile', tls.certFile),
    key: read('keyFile', tls.keyFile),
    ...(mutual || tls.caFile ? { ca: read('caFile', tls.caFile) } : {}),
    // `registry`: ask every client for a certificate, let the route decide (one port serves
    // APIs that need one and APIs that do not); `all`: the handshake refuses a client without one.
    requestCert: mutual,
    rejectUnauthorized: tls.clientAuth === 'all',
    minVersion: tls.minVersion,
  };
}

/**
 * The Fastify options that build the HTTP(S) server: timeouts (`http.*`) and TLS (`tls.*`).
 * @throws Error when a TLS file cannot be read
 */
export function serverOptions(config: Readonly<Config>): Record<string, unknown> {
  const node = { headersTimeout: config.http.headersTimeoutMs, requestTimeout: config.http.requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS };
  const tls = tlsOptions(config.tls);
  return {
    // A TLS handshake gets as long as a request head.
    ...(tls ? { https: { ...tls, ...node, handshakeTimeout: config.http.headersTimeoutMs } } : { http: node }),
    connectionTimeout: config.http.idleTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
  };
}

/** A connection idle or still sending its request head for this long may be evicted, ms. */
const STALLED_AFTER_MS = 1000;

/** Where a socket's wait for a request began (Date.now() ms): kept on the socket, no map per request. */
const WAITING_SINCE = Symbol('openstage.waitingSince');

type TrackedSocket = Socket & { [WAITING_SINCE]?: number };

/** The connection a response answers on, kept on the response. */
const ANSWER_SOCKET = Symbol('openstage.answerSocket');

type AnsweredResponse = ServerResponse & { [ANSWER_SOCKET]?: Socket };

/**
 * Caps open connections on `server` at `connectionLimit()`, below the descriptor limit, and
 * keeps room for new clients: a connection past the cap evicts the connection that has waited
 * longest — idle between requests or still sending its request head — when it has waited over
 * a second; when none has, the new connection is closed. Half-sent requests (or idle
 * keep-alive sockets) therefore cannot lock other clients out, while connections busy with a
 * request (long polls, watches, git transfers) are never evicted, whatever their number.
 * Over TLS the count starts after the handshake (which has its own timeout).
 *
 * The first bytes of each connection are read before Node's HTTP server gets the connection
 * (which then parses the rest natively, off the JavaScript stream: a `data` listener added
 * after it would move every later read of the connection onto that stream, about 10 µs per
 * request). A connection that sends nothing within `http.headersTimeoutMs` (or
 * `http.requestTimeoutMs`, if shorter) is answered as Node answers a request head past that
 * timeout, and one idle for `http.idleTimeoutMs` is closed, as Node would have.
 * @returns `requestLineOf(socket)`: the request line a connection started with ('' if none)
 */
export function capConnections(server: Server, http: Config['http'], log: Logger): { requestLineOf: (socket: Socket) => string } {
  const limit = connectionLimit(http);
  // The start of what each connection sent first: which API a request that never completed
  // was for (its timeout is answered in that API's format).
  const firstBytes = new WeakMap<Socket, string>();
  // Sockets waiting for a request, in the order they started to wait (a Set keeps insertion order).
  const waiting = new Set<TrackedSocket>();
  let open = 0;
  let warnedAtMs = 0;
  const wait = (socket: TrackedSocket): void => {
    if (socket.destroyed) return;
    waiting.delete(socket);
    waiting.add(socket);
    socket[WAITING_SINCE] = Date.now();
  };
  const warn = (now: number, what: string): void => {
    if (now - warnedAtMs < 60_000) return;
    warnedAtMs = now;
    log.warn({ limit }, what);
  };
  const admit = (socket: TrackedSocket): boolean => {
    open++;
    socket.once('close', () => {
      open--;
      waiting.delete(socket);
    });
    if (open > limit) {
      const now = Date.now();
      const oldest = waiting.values().next().value;
      if (oldest && now - (oldest[WAITING_SINCE] ?? now) >= STALLED_AFTER_MS) {
        waiting.delete(oldest);
        oldest.destroy();
        warn(now, 'http.maxConnections reached: the longest-waiting idle or half-sent connections make room');
      } else {
        socket.destroy();
        warn(now, 'http.maxConnections reached with every connection busy: new connections are closed');
        return false;
      }
    }
    wait(socket);
    return true;
  };
  const headTimeoutMs = Math.min(...[http.headersTimeoutMs, http.requestTimeoutMs].filter((ms) => ms > 0));
  const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection';
  const emit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  /** Gives `socket` to Node's HTTP server (and the other connection listeners), `first` unread again. */
  const handOver = (socket: Socket, first: Buffer | undefined): void => {
    if (first) {
      socket.pause();
      socket.unshift(first);
    }
    emit.call(server, connectionEvent, socket);
    if (first) socket.resume();
  };
  server.emit = function (this: Server, event: string | symbol): boolean {
    // Every other event passes straight through, its arguments not copied.
    if (event !== connectionEvent) return emit.apply(this, arguments as unknown as [string]);
    const socket = arguments[1] as Socket;
    if (!admit(socket)) return true;
    const onError = (): void => void socket.destroy();
    const silent = setTimeout(() => {
      socket.off('data', onFirst);
      socket.off('error', onError);
      handOver(socket, undefined);
      // As Node answers a request head past http.headersTimeoutMs (clientError → server.ts).
      socket.emit('error', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }));
    }, headTimeoutMs);
    silent.unref();
    // Node's own idle timeout (http.idleTimeoutMs) starts with the connection.
    const onIdle = (): void => void socket.destroy();
    if (http.idleTimeoutMs > 0) socket.setTimeout(http.idleTimeoutMs, onIdle);
    socket.once('close', () => clearTimeout(silent));
    const onFirst = (chunk: Buffer): void => {
      clearTimeout(silent);
      socket.off('error', onError);
      if (http.idleTimeoutMs > 0) socket.setTimeout(0).off('timeout', onIdle);
      firstBytes.set(socket, chunk.subarray(0, 1024).toString('latin1'));
      handOver(socket, chunk);
    };
    socket.on('error', onError);
    socket.once('data', onFirst);
    return true;
  } as Server['emit'];
  // One listener for every answer (a closure per request costs on the hot paths); the socket
  // is kept on the response: a consumer of the request body may clear `req.socket` before the
  // answer ends (undici does, for a route's request body it has sent on).
  function onAnswered(this: AnsweredResponse): void {
    const socket = this[ANSWER_SOCKET];
    if (socket) wait(socket);
  }
  server.on('request', (req: IncomingMessage, res: AnsweredResponse) => {
    const socket = req.socket;
    waiting.delete(socket);
    res[ANSWER_SOCKET] = socket;
    res.on('close', onAnswered);
  });
  server.on('upgrade', (req: IncomingMessage) => waiting.delete(req.socket));
  return { requestLineOf: (socket) => /^[A-Z]+ \S+/.exec(firstBytes.get(socket) ?? '')?.[0] ?? '' };
}
