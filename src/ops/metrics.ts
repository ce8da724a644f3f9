import client from 'prom-client';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { ComponentService } from '../cas/component/service.js';
import type { JobService } from '../deploy/job-service.js';
import type { DeployEvents } from '../deploy/types.js';
import type { IamService } from '../iam/service.js';
import type { KieService } from '../kie/service.js';
import type { KieEvents } from '../kie/types.js';
import type { RegistryService } from '../registry/service.js';

/** What the metrics read: services' counters (read at scrape time) and the bus. */
export interface MetricsDeps {
  log: Logger;
  bus: Bus<KieEvents & DeployEvents>;
  registry: RegistryService;
  /** The registry's watch sockets (WatchHub). */
  watchHub: { size(): number };
  kie: KieService;
  jobs: JobService;
  iam: IamService;
  components: ComponentService;
}

/**
 * Latency buckets of HTTP requests, in seconds: registry calls answer in well under a
 * millisecond, held long polls and watch upgrades take up to the client's wait.
 */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Job duration buckets, in seconds: a scale takes seconds, a first Maven build minutes. */
const JOB_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The API area of a route pattern (DESIGN.md prefix table); `other` for the rest. */
export function areaOf(route: string): string {
  if (/^\/v4\/:project\/registry\/|^\/registry\/v3\/|^\/(health|version)$/.test(route)) return 'registry';
  if (/^\/v4\/(token|accounts|roles)/.test(route)) return 'rbac';
  if (/^\/v1\/:project\/kie\/|^\/v1\/health$/.test(route)) return 'kie';
  if (/^\/v3\/:project\/cas\/jobs/.test(route)) return 'deploy';
  if (/^\/v3\/:project\/cas\//.test(route)) return 'cas';
  if (/^\/v1\/:project\/git\/|^\/git\//.test(route)) return 'git';
  if (/^\/v2\/:project\/enginemgr\//.test(route)) return 'engines';
  if (/^\/v3(\.0)?\//.test(route)) return 'iam';
  if (/^\/console(\/|$)/.test(route)) return 'console';
  if (/^\/(docs|openapi\.json)/.test(route)) return 'docs';
  if (/^\/(metrics|healthz|readyz)?$/.test(route)) return 'ops';
  return 'other';
}

/** Process metrics (CPU, memory, event loop, GC) are the process's, collected once however many servers it runs. */
let processRegistry: client.Registry | undefined;
function processMetrics(): client.Registry {
  if (!processRegistry) {
    processRegistry = new client.Registry();
    client.collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The server's Prometheus metrics. Request metrics are counted by one `onResponse` hook
 * (a series per route, method and status, kept by RequestHistogram); registry, config center and
 * replica figures are read from the services' counters when scraped; jobs are counted from
 * `deploy.job.finished` events. Nothing here runs a query on a request path.
 */
export class Metrics {
  readonly registry = new client.Registry();
  private readonly http = new RequestHistogram();
  private readonly areas = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: MetricsDeps) {
    const register = [this.registry];
    this.registry.registerMetric(this.http as unknown as client.Metric);

    const { registry, watchHub, kie } = deps;
    let seen = { heartbeats: 0, leaseExpiries: 0 };
    const heartbeats = new client.Counter({ name: 'openstage_registry_heartbeats_total', help: 'Instance heartbeats accepted since the server started.', registers: register });
    const expiries = new client.Counter({ name: 'openstage_registry_lease_expiries_total', help: 'Instances removed because their lease expired, since the server started.', registers: register });
    new client.Gauge({
      name: 'openstage_registry_services',
      help: 'Microservices in the registry (every project, the service center itself included).',
      registers: register,
      collect() {
        const s = registry.stats();
        this.set(s.services);
        // The counters follow the service's own counts (read once per scrape).
        heartbeats.inc(s.heartbeats - seen.heartbeats);
        expiries.inc(s.leaseExpiries - seen.leaseExpiries);
        seen = { heartbeats: s.heartbeats, leaseExpiries: s.leaseExpiries };
      },
    });
    new client.Gauge({ name: 'openstage_registry_instances', help: 'Microservice instances in the registry.', registers: register, collect() { this.set(registry.stats().instances); } });
    new client.Gauge({ name: 'openstage_registry_watch_sockets', help: 'Open watch WebSockets.', registers: register, collect() { this.set(watchHub.size()); } });

    new client.Gauge({
      name: 'openstage_kie_kvs',
      help: 'Config center kvs per domain.',
      labelNames: ['domain'],
      registers: register,
      collect() {
        this.reset();
        for (const d of kie.stats().domains) this.set({ domain: d.domain }, d.kvs);
      },
    });
    new client.Gauge({
      name: 'openstage_kie_revision',
      help: "Config center revision of each domain (moved by every kv write).",
      labelNames: ['domain'],
      registers: register,
      collect() {
        this.reset();
        for (const d of kie.stats().domains) this.set({ domain: d.domain }, d.revision);
      },
    });
    new client.Gauge({ name: 'openstage_kie_held_polls', help: 'Config center long polls held now.', registers: register, collect() { this.set(kie.stats().heldPolls); } });
    const kvChanges = new client.Counter({ name: 'openstage_kie_kv_changes_total', help: 'Config center kv writes (create, update, delete) since the server started.', registers: register });
    this.unsubscribe.push(deps.bus.subscribe('kie.kv.changed', () => kvChanges.inc()));

    const jobsFinished = new client.Counter({ name: 'openstage_jobs_finished_total', help: 'Jobs finished since the server started, by type and final state.', labelNames: ['type', 'state'], registers: register });
    const jobDuration = new client.Histogram({ name: 'openstage_job_duration_seconds', help: 'Duration of finished jobs in seconds, by type and final state.', labelNames: ['type', 'state'], buckets: JOB_BUCKETS, registers: register });
    this.unsubscribe.push(
      deps.bus.subscribe('deploy.job.finished', (e) => {
        // The event names the job; its type and times are one read, once per job.
        deps.jobs.get(e.project, e.jobId).then(
          ({ job }) => {
            jobsFinished.inc({ type: job.jobType, state: e.status });
            jobDuration.observe({ type: job.jobType, state: e.status }, Math.max(0, job.updatedAtMs - job.createdAtMs) / 1000);
          },
          (err: unknown) => deps.log.debug({ err, jobId: e.jobId }, 'finished job not counted'),
        );
      }),
    );

    const components = deps.components;
    const iam = deps.iam;
    const replicas = new client.Gauge({ name: 'openstage_replicas', help: 'Replicas of deployed components by state (running, starting, backoff, stopped) and readiness.', labelNames: ['state', 'ready'], registers: register });
    new client.Gauge({
      name: 'openstage_replica_restarts',
      help: 'Restarts of the replicas that exist now, summed (a replica that is replaced takes its count with it).',
      registers: register,
      // One component list per project, at scrape time only.
      async collect() {
        replicas.reset();
        let restarts = 0;
        for (const project of iam.listProjects()) {
          for (const view of (await components.list(project.id, undefined, {})).items) {
            for (const r of view.status.instances) {
              replicas.inc({ state: r.state, ready: String(r.ready) });
              restarts += r.restarts;
            }
          }
        }
        this.set(restarts);
      },
    });
  }

  /**
   * Counts one answered request. @param route the route pattern (`/v4/:project/registry/...`),
   *   empty for a request no route matched; @param seconds time to answer
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let series = this.http.series.get(key);
    if (!series) {
      let area = this.areas.get(route);
      if (area === undefined) this.areas.set(route, (area = route ? areaOf(route) : 'none'));
      // Unmatched URLs share one label value, so scanners cannot grow the series without bound.
      series = { labels: { area, route: route || 'unmatched', method, status: String(status) }, counts: new Float64Array(HTTP_BUCKETS.length + 1), sum: 0, count: 0 };
      this.http.series.set(key, series);
    }
    let i = 0;
    while (i < HTTP_BUCKETS.length && seconds > HTTP_BUCKETS[i]!) i++;
    series.counts[i]!++;
    series.sum += seconds;
    series.count++;
  }

  /** The Prometheus text exposition of this server's and the process's metrics. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops listening to the bus. */
  close(): void {
    for (const off of this.unsubscribe) off();
  }
}

/** One series of the request histogram: its labels and per-bucket (not cumulative) counts. */
interface RequestSeries {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * `openstage_http_request_duration_seconds`, kept by hand: prom-client's Histogram validates
 * and hashes the labels on every observe (several microseconds on a heartbeat that costs
 * ~45); here a request is one Map lookup and a bucket scan, and the exposition is built when
 * scraped, in prom-client's histogram format.
 */
class RequestHistogram {
  readonly name = 'openstage_http_request_duration_seconds';
  readonly help = 'HTTP requests by API area, route pattern, method and status: latency in seconds (count = requests).';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly series = new Map<string, RequestSeries>();

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= HTTP_BUCKETS.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: i < HTTP_BUCKETS.length ? HTTP_BUCKETS[i]! : '+Inf' }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
