import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { FastifyServerFactoryHandler } from 'fastify';
import type { RouteService } from './service.js';

/**
 * The front of OpenStage's HTTP port: requests and upgrades whose Host is a route's go to the
 * RouteService before Fastify sees them (a route's paths are the component's, all of them —
 * `/health` or `/v4/...` included — so they cannot be Fastify routes beside the APIs'); every
 * other request is offered to the lane (the registry's hot paths, once attached), then goes
 * to Fastify unchanged. Until `attach()`, everything goes to the lane or Fastify.
 */
export class RouteFront {
  private routes: RouteService | undefined;
  private lane: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;

  /** Starts sending route hosts to `routes`. */
  attach(routes: RouteService): void {
    this.routes = routes;
  }

  /**
   * Offers every request that is not a route's to `lane` before Fastify (the registry's fast
   * lane, src/registry/fast-lane.ts); `lane` returns true when it answered the request.
   */
  attachLane(lane: (req: IncomingMessage, res: ServerResponse) => boolean): void {
    this.lane = lane;
  }

  /**
   * Fastify's `serverFactory`: an HTTP (or, with `options.https`, HTTPS) server that
   * dispatches by Host. Fastify applies none of its server options to a factory's server, so
   * the timeouts it was given (src/core/http-server.ts serverOptions: `connectionTimeout`,
   * `keepAliveTimeout`, `requestTimeout`, ms) are set here.
   */
  readonly serverFactory = (handler: FastifyServerFactoryHandler, options: FactoryOptions = {}): Server => {
    const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
      if (!this.routes?.request(req, res) && !this.lane?.(req, res)) handler(req, res);
    };
    const server: Server = options.https ? (createHttpsServer(options.https, dispatch) as unknown as Server) : createHttpServer(options.http ?? {}, dispatch);
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    // Upgrades are events on the server, which @fastify/websocket listens to: a route's are
    // taken before any listener sees them.
    // Every other event passes straight through, its arguments not copied (the server emits
    // one per request).
    const emit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
    const takeUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): boolean => this.routes?.upgrade(req, socket, head) === true;
    server.emit = function (this: Server, event: string | symbol, req?: unknown, socket?: unknown, head?: unknown): boolean {
      if (event === 'upgrade' && takeUpgrade(req as IncomingMessage, socket as Socket, head as Buffer)) return true;
      return emit.apply(this, arguments as unknown as [string]);
    } as Server['emit'];
    return server;
  };
}

/** The options Fastify passes a server factory that RouteFront reads (its own, as given). */
interface FactoryOptions {
  http?: ServerOptions;
  https?: HttpsServerOptions;
  connectionTimeout?: number;
  keepAliveTimeout?: number;
  requestTimeout?: number;
}
