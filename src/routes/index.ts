import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
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

  /** Fastify's `serverFactory`: an HTTP server that dispatches by Host. */
  readonly serverFactory = (handler: FastifyServerFactoryHandler): Server => {
    const front = this;
    // Upgrades are events on the server, which @fastify/websocket listens to: a route's are
    // taken before any listener sees them.
    class RoutingServer extends Server {
      override emit(event: string, ...args: unknown[]): boolean {
        if (event === 'upgrade' && front.routes?.upgrade(args[0] as IncomingMessage, args[1] as Socket, args[2] as Buffer)) return true;
        return super.emit(event, ...args);
      }
    }
    return new RoutingServer((req: IncomingMessage, res: ServerResponse) => {
      if (!this.routes?.request(req, res)) handler(req, res);
    });
  };
}
