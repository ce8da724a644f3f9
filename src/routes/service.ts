import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Cluster } from '../core/cluster.js';
import type { Config } from '../core/config.js';
import type { ChangeFeed } from '../core/feed.js';
import type { Logger } from '../core/log.js';
import type { CasEvents } from '../cas/types.js';
import { accessTcpPort, assignHosts, hostOf, isHttp } from './hosts.js';
import { ROUTE_HOP_HEADER, RouteProxy, sendError, type Balanced } from './proxy.js';
import { TcpRoute } from './tcp.js';
import type { ComponentDirectory, ReplicaSource, RoutableComponent, RouteEvents, RouteView } from './types.js';

/** Dependencies of RouteService, built in server.ts. */
export interface RouteDeps {
  log: Logger;
  clock: Clock;
  config: Readonly<Config>;
  bus: Bus<CasEvents & RouteEvents>;
  /** Passes name changes made on this server to every server (several servers). */
  feed: ChangeFeed<RouteEvents>;
  directory: ComponentDirectory;
  replicas: ReplicaSource;
  /** The servers sharing the database: who this one is, and the others' URLs. */
  cluster: Pick<Cluster, 'serverId' | 'liveServers'>;
}

/** A routed component: its names, hosts, TCP ports and ready replicas. */
interface Entry extends Balanced {
  key: string;
  component: RoutableComponent;
  /** Its host-name route, when it has one. */
  host?: string;
  /** Custom hosts its http(s) external accesses name. */
  aliases: string[];
  /** TCP routes its TCP external accesses ask for. */
  tcpPorts: number[];
  /** Set when another server supervises its replicas (then `endpoints` is empty): requests are passed on to it. */
  remote?: { serverId: string; readyReplicas: number };
}

const key = (project: string, componentId: string): string => `${project}/${componentId}`;

/**
 * Stable routes to components (DESIGN.md "Deployments": a component's stable address; issue
 * #20). Keeps an in-memory route table — host name → component → its ready replicas — that
 * requests are matched against with one map lookup:
 * - names (components, applications, environments, external accesses) come from the
 *   component directory, loaded at start and re-read for the one component or application
 *   a `cas.component.changed` / `cas.application.updated` event names;
 * - ready replicas come from the deployment engine (DeployService.watchReplicas), told
 *   synchronously when a replica starts, becomes ready or not, crashes or is about to be
 *   stopped — a replica leaves the route before it is signalled, and its stop waits until
 *   the requests the route sent it have finished (`routes.drainTimeoutSeconds` at most).
 * With several servers every server builds the same table: names come through the change log,
 * and a component another server supervises routes to that server (its URL, with the hop
 * marker), which serves the request from its own replicas (README.md, "Several servers").
 */
export class RouteService {
  private readonly log: Logger;
  private readonly proxy: RouteProxy;
  private readonly suffix: string;
  private components = new Map<string, RoutableComponent>();
  private entries = new Map<string, Entry>();
  private hosts = new Map<string, Entry>();
  private aliasHosts = new Set<string>();
  private readonly tcp = new Map<number, TcpRoute>();
  /** Other servers as proxy targets, by server id (remade when a server's URL changes). */
  private readonly servers = new Map<string, { url: string; target: Balanced }>();
  private serverPort = 0;
  private readonly tcpHost: string;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: RouteDeps) {
    this.log = deps.log.child({ area: 'routes' });
    const r = deps.config.routes;
    this.suffix = `.${r.domain.toLowerCase()}`;
    this.tcpHost = r.tcpHost || deps.config.host;
    this.proxy = new RouteProxy({ log: this.log, clock: deps.clock, proxyTimeoutMs: r.proxyTimeoutSeconds * 1000 });
  }

  /** Loads every component's route and follows changes. Call after the engine and the component service started. */
  async start(): Promise<void> {
    if (!this.deps.config.routes.enabled) return;
    this.deps.replicas.watchReplicas({
      changed: (project, componentId) => this.refresh(key(project, componentId)),
      draining: (_project, _componentId, instanceId) => this.proxy.drain(instanceId, this.deps.config.routes.drainTimeoutSeconds * 1000),
    });
    const { bus, feed } = this.deps;
    // The component service tells its own server only: with several servers the change is
    // passed to every server (this one included) through the feed, after the write it follows.
    if (feed.clustered) {
      const pass = <K extends keyof RouteEvents & string>(topic: K, data: RouteEvents[K]): void =>
        void feed.write(async (_trx, changes) => changes.emit(topic, data), { oneStatement: true }).catch((err: unknown) => this.log.warn({ err, topic }, 'passing a route change to the other servers failed'));
      bus.subscribe('cas.component.changed', (e) => pass('routes.component.changed', e));
      bus.subscribe('cas.application.updated', (e) => pass('routes.application.updated', e));
    }
    const componentChanged = feed.clustered ? 'routes.component.changed' : 'cas.component.changed';
    const applicationUpdated = feed.clustered ? 'routes.application.updated' : 'cas.application.updated';
    bus.subscribe(componentChanged, (e) => this.enqueue(async () => this.put(key(e.project, e.componentId), await this.deps.directory.find(e.project, e.componentId))));
    bus.subscribe(applicationUpdated, (e) =>
      this.enqueue(async () => {
        for (const c of [...this.components.values()].filter((x) => x.project === e.project && x.applicationId === e.applicationId)) this.put(key(c.project, c.componentId), await this.deps.directory.find(c.project, c.componentId), false);
        await this.rebuild();
      }),
    );
    for (const c of await this.deps.directory.list()) this.components.set(key(c.project, c.componentId), c);
    await this.rebuild();
  }

  /** The port the server listens on, for the routes' URLs. */
  setServerPort(port: number): void {
    this.serverPort = port;
  }

  /**
   * Takes a request whose Host is a route's (`*.<routes.domain>` or a custom host of an
   * external access) and passes it on; anything else is left to the APIs.
   * @returns true when the request was taken
   */
  request(req: IncomingMessage, res: ServerResponse): boolean {
    const entry = this.match(req);
    if (entry === undefined) return false;
    if (entry === null) sendError(res, 'UnknownHost', `${hostOf(req.headers.host ?? '')} (components answer at <component>.<application>${this.suffix})`);
    else if (!entry.remote) this.proxy.web(req, res, entry);
    else {
      const via = this.passOn(req, entry);
      if (typeof via === 'string') sendError(res, 'NoReadyReplica', via, { 'retry-after': '1' });
      else this.proxy.web(req, res, via);
    }
    return true;
  }

  /** As request, for an HTTP upgrade (WebSocket). @returns true when taken */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): boolean {
    const entry = this.match(req);
    if (entry === undefined) return false;
    if (entry === null) socket.destroy();
    else if (!entry.remote) this.proxy.ws(req, socket, head, entry);
    else {
      const via = this.passOn(req, entry);
      this.proxy.ws(req, socket, head, typeof via === 'string' ? { endpoints: [], cursor: 0, unavailable: () => via } : via);
    }
    return true;
  }

  /**
   * Where a request for a component another server supervises goes: that server (its URL,
   * with the hop marker), or why it cannot go anywhere (the 503's reason) — it was passed on
   * already (a server passes a request on once: no loops), no replica is ready, or the owner
   * stopped and the hand-over is pending. Map and list reads only.
   */
  private passOn(req: IncomingMessage, entry: Entry): Balanced | string {
    const { serverId, readyReplicas } = entry.remote!;
    const me = this.deps.cluster.serverId();
    if (req.headers[ROUTE_HOP_HEADER] !== undefined) return `${this.what(entry)}: the request was passed on to server ${me} (${ROUTE_HOP_HEADER}), which does not supervise its replicas${serverId ? ` (server ${serverId} does)` : ''}; try again shortly`;
    if (readyReplicas === 0) return entry.unavailable();
    const server = serverId ? this.deps.cluster.liveServers().find((s) => s.serverId === serverId) : undefined;
    if (!server) return `${this.what(entry)}: the server that supervises its replicas${serverId ? ` (${serverId})` : ''} stopped; another server takes them over within about one cluster lease — try again shortly`;
    let known = this.servers.get(serverId);
    if (known?.url !== server.url) {
      known = { url: server.url, target: this.proxy.forServer(serverId, server.url, () => `${this.what(entry)}: server ${serverId} cannot be reached`) };
      this.servers.set(serverId, known);
    }
    return known.target;
  }

  /** A component's routes as its GET shows them (`status.routes`); [] when it has none. */
  views(project: string, componentId: string): RouteView[] {
    const targets = this.deps.replicas.routeTargets(project, componentId);
    if (targets?.kind === 'cluster') {
      return [
        ...targets.nodePorts.map((p): RouteView => ({ type: 'nodeport', service: targets.service, namespace: targets.namespace, port: p.port, nodePort: p.nodePort })),
        ...targets.ingress.map((i): RouteView => ({ type: 'ingress', host: i.host, path: i.path })),
      ];
    }
    const e = this.entries.get(key(project, componentId));
    if (!e) return [];
    const ready = e.remote ? e.remote.readyReplicas : e.endpoints.length;
    const port = this.serverPort === 80 || this.serverPort === 0 ? '' : `:${this.serverPort}`;
    const hosts = [...(e.host ? [e.host] : []), ...e.aliases];
    return [
      ...hosts.map((host): RouteView => ({ type: 'http', host, url: `http://${host}${port}/`, readyReplicas: ready })),
      ...e.tcpPorts.map((p): RouteView => ({ type: 'tcp', address: `${this.tcpHost}:${p}`, listening: this.tcp.get(p)?.listening ?? false, readyReplicas: ready })),
    ];
  }

  /** Requests a route has in flight to a replica (tests). */
  inFlight(instanceId: string): number {
    return this.proxy.inFlight(instanceId);
  }

  /** Ends proxied connections and TCP routes (the server is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.proxy.close(), ...[...this.tcp.values()].map((t) => t.close())]);
    this.tcp.clear();
  }

  /** The entry a request's Host names; null for an unknown host under the domain; undefined when not a route's. */
  private match(req: IncomingMessage): Entry | null | undefined {
    const header = req.headers.host;
    if (!header || this.closed || !this.deps.config.routes.enabled) return undefined;
    const name = hostOf(header);
    if (!name.endsWith(this.suffix) && !this.aliasHosts.has(name)) return undefined;
    return this.hosts.get(name) ?? null;
  }

  /** Runs directory work one at a time, in event order. */
  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => this.log.error({ err }, 'route table update failed'));
  }

  /** Sets or removes one component (undefined: gone), then rebuilds unless told not to. */
  private put(k: string, c: RoutableComponent | undefined, rebuild = true): Promise<void> | void {
    if (c) this.components.set(k, c);
    else this.components.delete(k);
    if (rebuild) return this.rebuild();
  }

  /** Recomputes hosts and TCP routes from the components (names changed; rare, never per request). */
  private async rebuild(): Promise<void> {
    const r = this.deps.config.routes;
    const routed = (c: RoutableComponent): boolean => r.allComponents || c.externalAccesses.some(isHttp);
    const { primary, aliases } = assignHosts([...this.components.values()], r.domain, routed);
    const entries = new Map<string, Entry>();
    const hosts = new Map<string, Entry>();
    const aliasHosts = new Set<string>();
    const wantedTcp = new Map<number, Entry>();
    const byAge = [...this.components.entries()].sort(([, a], [, b]) => a.createdAtMs - b.createdAtMs);
    for (const [k, c] of byAge) {
      const previous = this.entries.get(k);
      const entry: Entry = previous ?? { key: k, component: c, aliases: [], tcpPorts: [], endpoints: [], cursor: 0, unavailable: () => this.unavailable(entry) };
      entry.component = c;
      const host = primary.get(k);
      if (host) entry.host = host;
      else delete entry.host;
      entry.aliases = aliases.get(k) ?? [];
      entry.tcpPorts = [...new Set(c.externalAccesses.map(accessTcpPort).filter((p): p is number => p !== undefined))];
      if (entry.host) hosts.set(entry.host, entry);
      for (const a of entry.aliases) {
        hosts.set(a, entry);
        aliasHosts.add(a);
      }
      for (const p of entry.tcpPorts) if (!wantedTcp.has(p)) wantedTcp.set(p, entry);
      entries.set(k, entry);
      if (!previous) this.refreshEntry(entry);
    }
    this.entries = entries;
    this.hosts = hosts;
    this.aliasHosts = aliasHosts;
    for (const [port, route] of [...this.tcp]) {
      if (wantedTcp.has(port)) continue;
      this.tcp.delete(port);
      await route.close();
    }
    for (const [port, entry] of wantedTcp) {
      const existing = this.tcp.get(port);
      if (existing) {
        existing.retarget(entry);
        continue;
      }
      if (this.closed) break;
      const route = new TcpRoute(this.tcpHost, port, entry, this.log);
      this.tcp.set(port, route);
      await route.start();
    }
  }

  /** Reads a component's ready replicas again (a replica changed). */
  private refresh(k: string): void {
    const entry = this.entries.get(k);
    if (entry) this.refreshEntry(entry);
  }

  private refreshEntry(entry: Entry): void {
    const targets = this.deps.replicas.routeTargets(entry.component.project, entry.component.componentId);
    if (targets?.kind === 'remote') entry.remote = { serverId: targets.serverId, readyReplicas: targets.readyReplicas };
    else delete entry.remote;
    const next = targets?.kind === 'proxy' ? targets.endpoints : [];
    const same = next.length === entry.endpoints.length && next.every((e, i) => e.instanceId === entry.endpoints[i]!.instanceId && e.port === entry.endpoints[i]!.port);
    if (same) return;
    entry.endpoints = next;
    entry.cursor = next.length ? entry.cursor % next.length : 0;
  }

  /** `component web of application shop (environment dev)`, for error messages. */
  private what(entry: Entry): string {
    const c = entry.component;
    return `component ${c.name} of application ${c.applicationName} (environment ${c.environmentName})`;
  }

  /** Why a component has no ready replica, for the 503. */
  private unavailable(entry: Entry): string {
    const c = entry.component;
    const what = this.what(entry);
    const targets = this.deps.replicas.routeTargets(c.project, c.componentId);
    if (targets?.kind === 'cluster') {
      const where = [...targets.nodePorts.map((p) => `NodePort ${p.nodePort}`), ...targets.ingress.map((i) => `Ingress ${i.host}${i.path}`)];
      return `${what} runs on a Kubernetes cluster and is reached through the cluster${where.length ? ` (${where.join(', ')})` : ''}, not through OpenStage`;
    }
    const rt = this.deps.replicas.runtime(c.project, c.componentId);
    if (!rt) return `${what} has not been deployed yet`;
    if (rt.status === 'STOPPED') return `${what} is stopped; start it (action start) to reach it here`;
    return `${what}: ${rt.availableReplica} of ${rt.replica} replicas ready (status ${rt.status}); try again shortly`;
  }
}
