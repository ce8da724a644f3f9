import type { WebSocket } from 'ws';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { RegistryService } from './service.js';
import type { RegistryEvents, WatchEvent } from './types.js';

/**
 * Watch sockets by consumer (servicecomb.md §1.2 S32). Instance events of a provider are
 * sent to the sockets of the consumers whose dependency rules match it; a consumer's
 * sockets are closed when the consumer is deleted; every socket is pinged periodically.
 */
export class WatchHub {
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly stopPings: () => void;

  /** @param pingSeconds ping period of every socket, in seconds (driven by `clock`) */
  constructor(
    private readonly registry: RegistryService,
    bus: Bus<RegistryEvents>,
    private readonly log: Logger,
    clock: Clock,
    pingSeconds: number,
  ) {
    this.unsubscribe.push(bus.subscribe('registry.instance.changed', (e) => this.onInstance(e)));
    this.unsubscribe.push(bus.subscribe('registry.service.deleted', (e) => this.closeConsumer(e.tenant, e.serviceId)));
    this.stopPings = clock.every(pingSeconds * 1000, () => this.pingAll());
  }

  /** Adds a socket for `consumerId`; it is removed when it closes. */
  add(tenant: string, consumerId: string, socket: WebSocket): void {
    const key = `${tenant}|${consumerId}`;
    let set = this.sockets.get(key);
    if (!set) this.sockets.set(key, (set = new Set()));
    set.add(socket);
    socket.on('close', () => {
      set!.delete(socket);
      if (set!.size === 0 && this.sockets.get(key) === set) this.sockets.delete(key);
    });
    socket.on('error', (err) => this.log.debug({ err, consumerId }, 'watch socket error'));
  }

  /** Number of open watch sockets (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const s of this.sockets.values()) n += s.size;
    return n;
  }

  /** Closes every socket and stops the ping timer. */
  close(): void {
    this.stopPings();
    for (const off of this.unsubscribe) off();
    for (const set of this.sockets.values()) for (const s of set) s.close(1001, 'server shutting down');
    this.sockets.clear();
  }

  private onInstance(e: RegistryEvents['registry.instance.changed']): void {
    if (this.sockets.size === 0) return;
    const consumers = this.registry.consumerIdsOf(e.tenant, e.provider);
    if (consumers.size === 0) return;
    const event: WatchEvent = {
      action: e.action,
      key: { tenant: e.tenant, environment: e.provider.environment, appId: e.provider.appId, serviceName: e.provider.serviceName, version: e.provider.version },
      instance: e.instance,
    };
    if (!event.key.environment) delete event.key.environment;
    const text = JSON.stringify(event);
    for (const consumerId of consumers) {
      for (const socket of this.sockets.get(`${e.tenant}|${consumerId}`) ?? []) {
        if (socket.readyState === socket.OPEN) socket.send(text);
      }
    }
  }

  private closeConsumer(tenant: string, consumerId: string): void {
    for (const socket of this.sockets.get(`${tenant}|${consumerId}`) ?? []) socket.close(1000, 'consumer deleted');
  }

  private pingAll(): void {
    for (const set of this.sockets.values()) for (const s of set) if (s.readyState === s.OPEN) s.ping();
  }
}
