import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../core/log.js';
import type { Balanced } from './proxy.js';

/**
 * One TCP route: a port of OpenStage's host whose connections each go to the next ready
 * replica of the component (bytes piped both ways; a replica that refuses the connection is
 * skipped for the next one). With no ready replica the connection is closed at once.
 */
export class TcpRoute {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** False when the port could not be bound (another process or route holds it). */
  listening = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private target: Balanced,
    private readonly log: Logger,
  ) {
    // Half-open both ways: a client that ends its request still gets the whole answer.
    this.server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server.on('error', (err) => {
      this.listening = false;
      this.log.warn({ err, port }, 'tcp route cannot listen');
    });
  }

  /** Binds the port. Resolves either way; `listening` says how it went. */
  async start(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.once('listening', () => {
        this.listening = true;
        resolve();
      });
      this.server.once('error', () => resolve());
      this.server.listen(this.port, this.host);
    });
  }

  /** Balances over another component entry (the route table was rebuilt). */
  retarget(target: Balanced): void {
    this.target = target;
  }

  /** Stops listening and ends every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.listening = false;
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const tried = new Set<string>();
    const next = (): void => {
      const list = this.target.endpoints;
      const endpoint = list.map((_, i) => list[(this.target.cursor + i) % list.length]!).find((e) => !tried.has(e.instanceId));
      if (!endpoint || client.destroyed) return void client.destroy();
      this.target.cursor = (list.indexOf(endpoint) + 1) % list.length;
      tried.add(endpoint.instanceId);
      const upstream = connect({ port: endpoint.port, host: endpoint.host, allowHalfOpen: true });
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' && !upstream.bytesWritten) return next();
        client.destroy();
      });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    next();
  }
}
