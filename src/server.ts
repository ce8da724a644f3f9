import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { Bus } from './core/bus.js';
import { systemClock, type Clock } from './core/clock.js';
import type { Config } from './core/config.js';
import { LocalCluster, PgCluster, type Cluster, type ClusterView } from './core/cluster.js';
import * as clusterSql from './core/cluster-sql.js';
import { openDatabase, withSessionLock, type Db, type Executor } from './core/db/kysely.js';
import { LocalFeed, PgFeed, type ChangeFeed } from './core/feed.js';
import { loggerOptions, prettyLogger } from './core/log.js';
import { Ownership, type OwnershipEvents } from './core/ownership.js';
import { checkMasterKey, SecretBox } from './core/secrets.js';
import { casPlugin, type CasServices } from './cas/index.js';
import { consolePlugin } from './console/index.js';
import { casError } from './cas/errors.js';
import { AddonService } from './cas/addon/service.js';
import { ApplicationService } from './cas/application/service.js';
import { ConfigService } from './cas/config/service.js';
import { EnvironmentService } from './cas/environment/service.js';
import { RuntimeStackService } from './cas/runtime-stack/service.js';
import { ComponentService, LateComponentUsage } from './cas/component/service.js';
import { CasV2Service } from './cas/v2/service.js';
import { renderConfig } from './cas/config/render.js';
import type { CasDeps, CasEvents } from './cas/types.js';
import { deployPlugin } from './deploy/index.js';
import { enginesPlugin } from './engines/index.js';
import { engineError } from './engines/errors.js';
import { EngineService } from './engines/service.js';
import type { EngineEvents } from './engines/types.js';
import { JobService } from './deploy/job-service.js';
import type { EndedReplica } from './deploy/runtime.js';
import { DeployService } from './deploy/service.js';
import { checkCluster, clusterBinding } from './deploy/kubernetes/cluster.js';
import { KubernetesRuntime } from './deploy/kubernetes/runtime.js';
import type { DeployEvents } from './deploy/types.js';
import { gitError } from './git/errors.js';
import { gitPlugin } from './git/index.js';
import { GitService } from './git/service.js';
import type { GitEvents } from './git/types.js';
import { iamError } from './iam/errors.js';
import { iamCheck, iamPlugin, sendKeystoneError } from './iam/index.js';
import { kieError } from './kie/errors.js';
import { registryError } from './registry/errors.js';
import { sendHuaweiError } from './core/wire/huawei.js';
import { OpenStageError } from './core/errors.js';
import { ensureDataDir } from './core/data-dir.js';
import { EventLoopLag } from './core/event-loop-lag.js';
import { capConnections, serverOptions } from './core/http-server.js';
import { httpError, rawErrorResponse, sendErrorAs, type WireFormat } from './core/wire/http.js';
import type { TLSSocket } from 'node:tls';
import { IamService, type BootstrapReport } from './iam/service.js';
import type { IamEvents } from './iam/types.js';
import { kiePlugin } from './kie/index.js';
import { KieService } from './kie/service.js';
import type { KieEvents } from './kie/types.js';
import { rbacPlugin } from './rbac/index.js';
import { RbacService } from './rbac/service.js';
import type { RbacEvents } from './rbac/types.js';
import { RegistryFastLane } from './registry/fast-lane.js';
import { registryPlugin } from './registry/index.js';
import { RegistryService } from './registry/service.js';
import type { RegistryEvents } from './registry/types.js';
import { WatchHub } from './registry/watch.js';
import { instrument, opsPlugin, registerOpenApi } from './ops/index.js';
import { FollowHub } from './deploy/log-follow.js';
import { RouteFront } from './routes/index.js';
import { RouteService } from './routes/service.js';
import type { RouteEvents } from './routes/types.js';
import { Metrics } from './ops/metrics.js';
import { Readiness } from './ops/service.js';
import { VERSION } from './version.js';

/** Largest body of the RBAC routes (an account or a role is well under 16 KB; issue #15 H2). */
const RBAC_MAX_BODY_BYTES = 64 * 1024;

/** Everything buildServer wires together; tests reach services through it. */
export interface OpenStage {
  app: FastifyInstance;
  db: Db;
  registry: RegistryService;
  /** Finds and heartbeats answered before Fastify; absent with RBAC, registry mutual TLS or request logs. */
  fastLane?: RegistryFastLane;
  kie: KieService;
  iam: IamService;
  /** ServiceStage application management services. */
  cas: CasServices;
  /** Deployment jobs. */
  jobs: JobService;
  /** Git repository access (v1 Git API, hosted repositories). */
  git: GitService;
  /** The deployment engine (components' replicas). */
  deploy: DeployService;
  /** CSE engine management (built-in and exclusive engines). */
  engines: EngineService;
  /** Engine RBAC; present only when `rbac.enabled`. */
  rbac?: RbacService;
  /** Secrets generated on this start (first start), to show the operator once. */
  bootstrap: BootstrapReport;
  watchHub: WatchHub;
  /** Prometheus metrics (GET /metrics). */
  metrics: Metrics;
  /** Stable routes to components (host names on this port, TCP ports). */
  routes: RouteService;
  /** The servers sharing the database (one on SQLite), the leader, this server's id. */
  cluster: Cluster;
  /** Who acts on jobs and exclusive engines (several servers on PostgreSQL). */
  ownership: Ownership;
  /** The change feed every in-memory view follows. */
  feed: ChangeFeed<AllEvents>;
  /** The cluster view (`GET /cluster`). */
  clusterView(): Promise<ClusterView>;
  /**
   * Listens on `host:port` (0 = a free port), then registers the server's own SERVICECENTER
   * instance with its `rest://` endpoint. @returns the base URL, e.g. `http://127.0.0.1:30100`
   * (`https://…` with `tls.certFile`)
   */
  listen(host: string, port: number): Promise<string>;
  /** Closes the HTTP server (in-flight requests finish), then the services and the database. */
  close(): Promise<void>;
}

/** Every event of the Bus (feed changes and local events). */
type AllEvents = RegistryEvents & KieEvents & IamEvents & RbacEvents & CasEvents & DeployEvents & GitEvents & EngineEvents & OwnershipEvents & RouteEvents;

/** Advisory lock key under which servers sharing a PostgreSQL database bootstrap one at a time. */
const BOOTSTRAP_LOCK = 7_316_003;

/**
 * Answers a request that no area routes, in the error format of the API its path belongs to
 * (issue #18 item 10): Keystone paths (`/v3/auth/...`, `/v3/projects...`) as IAM does; other
 * Huawei Cloud style paths (`/v1|v2|v3/{project}/...`) as the API gateway does, 404
 * `APIGW.0101` — which the Huawei SDKs read as an error code; ServiceComb and anything else
 * as the Go service center does, a text `404 page not found` (servicecomb.md §0).
 */
function sendUnknownRoute(method: string, url: string, reply: FastifyReply): FastifyReply {
  const path = url.split('?')[0] ?? url;
  const detail = `${method} ${path}`;
  if (/^\/+v3(\.0)?\/+(auth|projects|users|domains|regions|services|endpoints)(\/|$)/.test(path)) return sendKeystoneError(reply, iamError('NotFound', detail));
  if (/^\/+v[123]\/+[^/]+\/+[^/]/.test(path) && !/^\/+v[123]\/+[^/]+\/+(registry|govern)(\/|$)/.test(path)) return sendHuaweiError(reply, API_NOT_FOUND(detail));
  return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
}

/** The API gateway's answer for an API it does not know (Huawei Cloud `APIGW.0101`). */
const API_NOT_FOUND = (detail: string): OpenStageError => new OpenStageError('APIGW.0101', 404, 'The API does not exist or has not been published in the environment', detail);

/**
 * Composition root (STYLE.md §1): opens the database, builds services and registers every
 * area on one Fastify app. Never listens; the caller does (cli.ts, tests).
 * On PostgreSQL the server joins the others sharing the database: its views are loaded from
 * one snapshot and follow the change feed, first-start bootstraps run one server at a time,
 * and its master key must open the stored secrets.
 * @param options.clock injectable clock (tests pass a FakeClock)
 * @param options.prettyLogs log with pino-pretty (a terminal) instead of JSON lines
 * @param options.hostEnv variables of the host every build and replica gets first (PATH,
 *   HOME, …), picked from process.env by the caller (cli.ts); default none
 * @param options.onFatal called when this server can no longer follow the others (it fell
 *   behind the retained change log); cli.ts exits, default: logged
 * @throws when the database cannot be opened or migrated; ConfigError when the master key
 *   cannot open the stored secrets
 */
export async function buildServer(
  config: Readonly<Config>,
  options: { clock?: Clock; hostEnv?: Record<string, string>; prettyLogs?: boolean; onFatal?: (err: Error) => void } = {},
): Promise<OpenStage> {
  const clock = options.clock ?? systemClock;
  const requestLogging = config.logLevel === 'debug' || config.logLevel === 'trace';
  // Requests for a route's host name go to the component before Fastify routes anything (src/routes).
  const front = new RouteFront();
  const app = Fastify({
    serverFactory: front.serverFactory,
    // Readable lines on a terminal (cli.ts decides), JSON lines otherwise.
    ...(options.prettyLogs ? { loggerInstance: await prettyLogger(config.logLevel) } : { logger: loggerOptions(config.logLevel) }),
    // Per-request lines are detail (STYLE.md §6): off unless the level is debug or trace.
    logController: new LogController({ disableRequestLogging: !requestLogging }),
    // A pino child per request (with redaction set up) costs ~5% of a heartbeat; without
    // request logging the error handler adds reqId itself.
    ...(requestLogging ? {} : { childLoggerFactory: (logger: FastifyBaseLogger) => logger }),
    bodyLimit: config.registry.maxBodyBytes,
    forceCloseConnections: 'idle',
    // Timeouts and TLS (issue #15 H1, TLS): src/core/http-server.ts. Typed as the plain HTTP
    // server: the routes use nothing an HTTPS server lacks.
    ...(serverOptions(config) as { connectionTimeout: number }),
    // HEAD is not routed upstream (servicecomb.md §0: only GET, PUT, POST and DELETE).
    exposeHeadRoutes: false,
    // Long ids must reach the handlers, which answer in the API's own format.
    // Duplicate slashes are folded: ServiceStage documents `/cas//configs/...` (servicestage.md §7).
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 8192 },
    // A URL the router cannot decode still gets the error body of the API it was aimed at.
    frameworkErrors: (error, req, reply) => {
      const api = apiOf(req.url ?? '');
      return void sendErrorAs(reply as FastifyReply, api.format, api.invalid(error.message));
    },
    // Before a request exists (a header over 16 KB, a malformed request, a timeout) the answer
    // is written on the socket, in the format of the API the request line names (issue #15 L6).
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return;
      const received = (err as { rawPacket?: unknown }).rawPacket;
      const head = Buffer.isBuffer(received) ? received.subarray(0, 8192).toString('latin1') : connections.requestLineOf(socket);
      const api = apiOf(/^[A-Z]+ (\S+)/.exec(head)?.[1] ?? '');
      const answer =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? httpError('HeaderTooLarge', api.format, 'the request headers are larger than 16 KB')
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? httpError('RequestTimeout', api.format, 'the request was not received within http.headersTimeoutMs / http.requestTimeoutMs')
            : api.invalid(`malformed HTTP request (${err.code ?? 'client error'})`);
      socket.end(rawErrorResponse(api.format, answer));
    },
  });
  const log = app.log;
  const { lag: loopLag, connections } = guardHttp(app, config);
  ensureDataDir(config.dataDir);
  const db = await openDatabase(config.db, config.dataDir, log);
  const bus = new Bus<AllEvents>((err, event) => log.error({ err, event }, 'event listener failed'));
  const clustered = db.dialect === 'postgres';
  let cluster: Cluster;
  try {
    // Server liveness is real time, whatever clock the areas run on (tests move theirs).
    cluster = clustered ? new PgCluster(db, systemClock, log, config.cluster, config.dataDir) : new LocalCluster(systemClock);
  } catch (err) {
    await db.close();
    throw err;
  }
  const pgFeed = clustered
    ? new PgFeed(bus, {
        kysely: db.kysely,
        url: db.url,
        log,
        clock,
        serverId: () => cluster.serverId(),
        replicationWaitMs: config.cluster.replicationWaitMs,
        onFatal: options.onFatal ?? ((err) => log.error({ err }, 'this server can no longer follow the change log')),
      })
    : undefined;
  const feed: ChangeFeed<AllEvents> = pgFeed ?? new LocalFeed(db.kysely, bus);
  /** Runs a first-start bootstrap alone (PostgreSQL: one server at a time, after catching up). */
  const bootstrapAlone = <T>(fn: () => Promise<T>): Promise<T> =>
    clustered
      ? withSessionLock(db.url, BOOTSTRAP_LOCK, async () => {
          await feed.sync();
          return fn();
        })
      : fn();
  const abandon = async (err: unknown): Promise<never> => {
    await pgFeed?.close();
    await cluster.leave();
    await db.close();
    throw err;
  };
  let secrets!: SecretBox;
  try {
    secrets = SecretBox.open(config.secrets.masterKey, config.dataDir);
    await checkMasterKey(db.kysely, secrets);
  } catch (err) {
    await abandon(err);
  }
  const ownership = new Ownership({ db, feed, bus, cluster, clock: systemClock, log, serverLeaseSeconds: config.cluster.serverLeaseSeconds });
  const rbac = config.rbac.enabled ? new RbacService({ db, bus, feed, clock, log, config, secrets }) : undefined;
  const iam = new IamService({ db, bus, feed, clock, log, config, secrets });
  const registry = new RegistryService({ db, bus, feed, cluster, clock, log, config });
  const kie = new KieService({ db, bus, feed, clock, log, config });
  const load = async (snapshot: Executor): Promise<void> => {
    await iam.load(snapshot);
    await registry.load(snapshot);
    await kie.load(snapshot);
  };
  let bootstrap: BootstrapReport;
  try {
    if (pgFeed) {
      await (cluster as PgCluster).prepare();
      await pgFeed.open(load);
    } else {
      await load(db.kysely);
    }
    await bootstrapAlone(async () => {
      await rbac?.start();
      bootstrap = await iam.start();
    });
  } catch (err) {
    await abandon(err);
  }
  await registry.start();
  ownership.start();
  if (clustered) {
    let beats = 0;
    cluster.onRefresh(async (live) => {
      pgFeed!.setPeers(live.map((s) => s.serverId).filter((id) => id !== cluster.serverId()));
      await registry.setLiveServers(live);
      // The leader trims the change log about once a minute.
      if (cluster.isLeader() && beats++ % Math.max(1, Math.round(60_000 / config.cluster.heartbeatMs)) === 0) {
        await clusterSql.pruneChanges(db.kysely, systemClock.now() - config.cluster.changeRetentionSeconds * 1000, 1_000).catch((err: unknown) => log.warn({ err }, 'trimming the change log failed'));
      }
    });
  }
  const watchHub = new WatchHub(registry, bus, log, clock, config.registry.watchPingSeconds);
  // Log follows (task logs, replica logs) end before the HTTP server waits for its requests.
  const follows = new FollowHub();
  const jobs = new JobService({ db, bus, feed, ownership, cluster, clock, log, logRoot: join(config.dataDir, 'deploy', 'logs'), follows });
  await jobs.start();
  const engines = new EngineService({ db, bus, feed, ownership, cluster, clock, log, config, secrets, registry, ...(rbac ? { rbac } : {}) });
  await engines.start();
  // A replica the engine stopped leaves no instance behind in the built-in registry (issue #18 item 21).
  const removeStaleInstances = (r: EndedReplica): Promise<number> => registry.deregisterStale({ hosts: r.hosts, port: r.port, fromMs: r.startedAtMs, toMs: r.endedAtMs });
  const deploy = new DeployService({ db, bus, feed, ownership, cluster, clock, log, config, secrets, jobs, renderFile: renderConfig, hostEnv: options.hostEnv ?? {}, removeStaleInstances, follows });
  // The other resources ask the component service what is in use; it needs them to exist first.
  const usage = new LateComponentUsage();
  const casDeps: CasDeps = { db, bus, clock, log, config, secrets, components: usage };
  const environments = new EnvironmentService(casDeps, engines, (resource) => checkCluster(clusterBinding(resource), config.deploy.kubernetesRequestTimeoutSeconds * 1000));
  engines.setBoundBy((project, engineId) => environments.boundBy(project, 'cse', engineId));
  const applications = new ApplicationService(casDeps, environments);
  const configs = new ConfigService(casDeps);
  const addons = new AddonService(casDeps, environments, jobs);
  const javaAgentOptions = (project: string, environmentId: string): Promise<string[]> => addons.javaAgentOptions(project, environmentId);
  const engineEndpoint = async (project: string, engineId: string): Promise<string | undefined> => (engineId === 'default' ? undefined : (await engines.endpointsOf(project, engineId)).registry);
  // Components of environments bound to a cce / custom_k8s cluster run there (issue #17).
  deploy.register(
    new KubernetesRuntime({
      log,
      bindings: (project, environmentId) => environments.bindings(project, environmentId),
      deployed: async () => (await deploy.deployedComponents()).map((c) => ({ project: c.project, componentId: c.componentId, version: c.currentVersion })),
      renderFile: renderConfig,
      requestTimeoutMs: config.deploy.kubernetesRequestTimeoutSeconds * 1000,
      ...(deploy.images ? { images: deploy.images } : {}),
    }),
  );
  // Started once the environments exist: the kubernetes runtime reads cluster bindings when it adopts.
  await deploy.start();
  const runtimeStacks = new RuntimeStackService(casDeps);
  const components = new ComponentService(casDeps, { applications, environments, configs, deploy, jobs, javaAgentOptions, engineEndpoint, stacks: runtimeStacks });
  usage.bind(components);
  const git = new GitService({ db, bus, clock, log, config, secrets });
  // Components clone with the project's git authorizations and are redeployed by pushes (issue #7).
  components.setGitCredentials((project, authName) => git.cloneCredentials(project, authName));
  bus.subscribe('git.push.received', (event) => {
    components.redeployOnPush(event).catch((err: unknown) => log.error({ err, project: event.project }, 'redeploy after a push failed'));
  });
  await components.start();
  const routes = new RouteService({ log, clock, config, bus, feed, cluster, replicas: deploy, directory: { list: () => components.routeInfo(), find: (project, componentId) => components.routeInfo(project, componentId) } });
  await routes.start();
  components.setRoutes(routes);
  front.attach(routes);
  const cas: CasServices = {
    environments,
    applications,
    runtimeStacks,
    configs,
    addons,
    components,
    v2: new CasV2Service(casDeps, { environments, applications, components, runtimeStacks }),
  };

  if (clustered) {
    // A write is answered once every live server has applied it (or after
    // cluster.replicationWaitMs), so the next request sees it whichever server it reaches.
    // Callback style: reads and single-server moments pass on at once (no promise, no extra turn).
    app.addHook('onSend', (request, _reply, payload, done) => {
      if (request.method === 'GET' || !feed.replicating()) return done(null, payload);
      feed.replicated().then(
        () => done(null, payload),
        (err: unknown) => done(err as Error),
      );
    });
  }
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  // Operations (src/ops): the OpenAPI collector and the request metrics hook see every area registered after them.
  const metrics = new Metrics({ log, bus, registry, watchHub, kie, jobs, iam, components });
  const readiness = new Readiness(db, log);
  await registerOpenApi(app, VERSION);
  instrument(app, metrics);
  // Finds and heartbeats answered before Fastify when nothing per request is needed besides
  // (src/registry/fast-lane.ts): no RBAC check, no client certificate check, no request log.
  const lane =
    !rbac && !requestLogging && !clientCertForServiceComb(config)
      ? new RegistryFastLane({ registry, observe: (route, method, status, seconds) => metrics.observeRequest(route, method, status, seconds), replicating: () => clustered && feed.replicating() })
      : undefined;
  if (lane) front.attachLane((req, res) => lane.handle(req, res));
  app.decorateRequest('rbac', undefined);
  if (rbac) await app.register(rbacPlugin, { rbac, maxBodyBytes: RBAC_MAX_BODY_BYTES });
  await app.register(iamPlugin, { iam, config });
  await app.register(registryPlugin, { registry, watchHub, maxBodyBytes: config.registry.maxBodyBytes, version: VERSION, cluster: () => cluster.view(), ...(rbac ? { authorize: rbac.authorize } : {}) });
  await app.register(casPlugin, { services: cas, maxBodyBytes: config.cas.maxBodyBytes, iamCheck: iamCheck(iam, config) });
  await app.register(deployPlugin, { jobs, deploy, iamCheck: iamCheck(iam, config) });
  await app.register(gitPlugin, { git, maxBodyBytes: config.git.maxBodyBytes, iamCheck: iamCheck(iam, config) });
  await app.register(enginesPlugin, { engines, iamCheck: iamCheck(iam, config), isAdministrator: (request) => request.principal !== undefined && iam.isAdmin(request.principal) });
  await app.register(kiePlugin, {
    kie,
    maxBodyBytes: config.kie.maxBodyBytes,
    version: VERSION,
    iamCheck: iamCheck(iam, config),
    transferAuth: config.kie.transferAuth,
    engineConfigCenter: (project, engineId) => engines.configCenterOf(project, engineId),
    ...(rbac ? { authorize: rbac.authorize } : {}),
  });

  await app.register(consolePlugin, {});
  await app.register(opsPlugin, { metrics, readiness, version: VERSION });

  // Paths outside every area: their bodies are never parsed (an empty JSON body of an unknown
  // DELETE is no 400), and the 404 speaks the format of the API the path looks like.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.setNotFoundHandler((request, reply) => sendUnknownRoute(request.method, request.url, reply));

  let closed = false;
  return {
    app,
    db,
    registry,
    ...(lane ? { fastLane: lane } : {}),
    kie,
    iam,
    cas,
    jobs,
    git,
    deploy,
    engines,
    ...(rbac ? { rbac } : {}),
    bootstrap: bootstrap!,
    watchHub,
    metrics,
    routes,
    cluster,
    ownership,
    feed,
    clusterView: () => cluster.view(),
    async listen(host: string, port: number) {
      await app.listen({ host, port });
      if (config.http.shedLagMs > 0) loopLag.start();
      const address = app.server.address() as AddressInfo;
      const endpointHost = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const tls = config.tls.certFile !== '';
      const url = `${tls ? 'https' : 'http'}://${endpointHost}:${address.port}`;
      await cluster.join(config.cluster.advertiseUrl || url, VERSION);
      const self = cluster.liveServers().find((s) => s.serverId === cluster.serverId()) ?? { serverId: cluster.serverId(), url, version: VERSION, startedAtMs: systemClock.now() };
      await registry.registerSelf(self);
      components.setServerUrl(url);
      routes.setServerPort(address.port);
      engines.setBuiltInAddress(url);
      readiness.serving();
      return url;
    },
    async close() {
      if (closed) return;
      closed = true;
      readiness.stopping();
      metrics.close();
      loopLag.stop();
      lane?.close();
      watchHub.close();
      follows.close();
      await routes.close();
      await app.close();
      await deploy.stop();
      await jobs.stop();
      await engines.stop();
      await registry.stop();
      await kie.stop();
      await rbac?.stop();
      ownership.stop();
      await cluster.leave();
      await pgFeed?.close();
      await db.close();
    },
  };
}

// ───────────────────────── the HTTP layer's guards (issue #15) ─────────────────────────

/**
 * The API a URL addresses: its error format and its invalid-parameter error. Prefixes never
 * collide (DESIGN.md), so the path alone decides; anything else answers as the registry.
 */
function apiOf(url: string): { format: WireFormat; invalid: (detail: string) => OpenStageError } {
  if (/^\/+v[23]\/+[^/]+\/+cas(\/|$)/.test(url)) return { format: 'huawei', invalid: (d) => casError('InvalidParameter', d) };
  if (/^\/+v1\/+[^/]+\/+git(\/|$)/.test(url) || /^\/+git\//.test(url)) return { format: 'huawei', invalid: (d) => gitError('InvalidParameter', d) };
  if (/^\/+v2\/+[^/]+\/+(enginemgr|cseEngines)(\/|$)/.test(url)) return { format: 'huawei', invalid: (d) => engineError('InvalidParameter', d) };
  if (/^\/v3(\.0)?\//.test(url)) return { format: 'keystone', invalid: (d) => iamError('InvalidArgument', d) };
  if (/^\/v1\/[^/]*\/kie\//.test(url) || /^\/v1\/health/.test(url)) return { format: 'kie', invalid: (d) => kieError('InvalidParams', d) };
  return { format: 'servicecomb', invalid: (d) => registryError('InvalidParams', d) };
}

/** True when the ServiceComb APIs (registry, Kie) ask each request for a client certificate (`tls.clientAuth: registry`). */
function clientCertForServiceComb(config: Readonly<Config>): boolean {
  return config.tls.certFile !== '' && config.tls.clientAuth === 'registry';
}

/**
 * Guards every API of `app`, before any area's own hooks run: connection caps (`http.*`),
 * no idle timeout on long polls and git smart HTTP (route config `longPoll`), mutual TLS for
 * the ServiceComb APIs (`tls.clientAuth: registry`), and load shedding — while the event loop
 * lags `http.shedLagMs`, or `http.maxWritesInFlight` writes are already in progress, writes
 * other than heartbeats and batch finds (route config `keepUnderLoad`) are answered 429 with
 * Retry-After in the API's own format, so heartbeats and reads stay fast (service-center#552's
 * lesson): queued writes also make each group commit longer, and it holds the loop.
 * @returns the lag monitor (stopped by `close`) and the connection tracker
 */
function guardHttp(app: FastifyInstance, config: Readonly<Config>): { lag: EventLoopLag; connections: ReturnType<typeof capConnections> } {
  const connections = capConnections(app.server, config.http, app.log);
  // Started by listen(): the start's own work (migrations, loading indexes) is no overload.
  const lag = new EventLoopLag();
  const shedLagMs = config.http.shedLagMs;
  const maxWrites = config.http.maxWritesInFlight;
  let writesInFlight = 0;
  const mutualForServiceComb = clientCertForServiceComb(config);
  const writeEnded = (): void => void writesInFlight--;
  // Callback style: on the hot paths (reads, heartbeats) it returns at once, with no promise
  // and no extra turn of the event loop. An answer given here ends the request (no `done`).
  app.addHook('onRequest', (request, reply, done) => {
    const routeConfig = request.routeOptions.config;
    if (routeConfig?.longPoll) request.raw.socket.setTimeout(0);
    if (mutualForServiceComb) {
      const api = apiOf(request.url);
      if ((api.format === 'servicecomb' || api.format === 'kie') && !(request.raw.socket as TLSSocket).authorized) {
        return void sendErrorAs(reply, api.format, httpError('ClientCertificateRequired', api.format, (request.raw.socket as TLSSocket).authorizationError?.toString() ?? 'no client certificate'));
      }
    }
    if (request.method === 'GET' || routeConfig?.keepUnderLoad) return done();
    const lagMs = shedLagMs > 0 ? lag.currentMs() : 0;
    const lagging = shedLagMs > 0 && lagMs >= shedLagMs;
    const crowded = maxWrites > 0 && writesInFlight >= maxWrites;
    if (!lagging && !crowded) {
      writesInFlight++;
      reply.raw.once('close', writeEnded);
      return done();
    }
    const api = apiOf(request.url);
    const why = lagging ? `the event loop lags ${Math.round(lagMs)} ms (http.shedLagMs ${shedLagMs})` : `${writesInFlight} writes are in progress (http.maxWritesInFlight ${maxWrites})`;
    const err = httpError('Overloaded', api.format, why);
    err.retryAfterSeconds = 1;
    sendErrorAs(reply, api.format, err);
  });
  return { lag, connections };
}
