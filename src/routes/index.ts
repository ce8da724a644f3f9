import { Server, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import { Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { FastifyServerFactoryHandler } from 'fastify';
import type { RouteService } from './service.js';

/**
 * The front of OpenStage's HTTP port: requests and upgrades whose Host is a route's go to the
 * RouteService before Fastify sees them (a route's paths are the component's, all of them —
 * `/health` or `/v4/...` included — so they cannot be Fastify routes beside the APIs'); every
 * other request goes to Fastify unchanged, after one Host comparison. Until `attach()`,
 * everything goes to Fastify.
 */
export class RouteFront {
  private routes: RouteService | undefined;

  /** Starts sending route hosts to `routes`. */
  attach(routes: RouteService): void {
    this.routes = routes;
  }

  /**
   * Fastify's `serverFactory`: an HTTP server — HTTPS when Fastify's options carry `https` —
   * that dispatches by Host. Fastify applies none of its server options to a server a factory
   * builds, so this one does, as Fastify's own: `http`/`https` (the header and request
   * timeouts, TLS: src/core/http-server.ts, issue #15 H1 and TLS), `keepAliveTimeout`,
   * `requestTimeout` and `connectionTimeout` (the idle timeout), all in milliseconds.
   */
  readonly serverFactory = (
    handler: FastifyServerFactoryHandler,
    options: { http?: ServerOptions; https?: HttpsServerOptions; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number } = {},
  ): Server => {
    const front = this;
    const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
      if (!this.routes?.request(req, res)) handler(req, res);
    };
    // Upgrades are events on the server, which @fastify/websocket listens to: a route's are
    // taken before any listener sees them.
    const takeUpgrades = <T extends new (...args: any[]) => Server>(Base: T) =>
      class RoutingServer extends Base {
        override emit(event: string, ...args: unknown[]): boolean {
          if (event === 'upgrade' && front.routes?.upgrade(args[0] as IncomingMessage, args[1] as Socket, args[2] as Buffer)) return true;
          return super.emit(event, ...args);
        }
      };
    // An HTTPS server has every method and event of an HTTP one that Fastify uses.
    const server = (options.https ? new (takeUpgrades(HttpsServer as unknown as typeof Server))(options.https, dispatch) : new (takeUpgrades(Server))(options.http ?? {}, dispatch)) as Server;
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    return server;
  };
}
