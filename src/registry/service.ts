import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Cluster } from '../core/cluster.js';
import type { Config } from '../core/config.js';
import type { Db, Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, OpenStageError } from '../core/errors.js';
import type { ChangeFeed } from '../core/feed.js';
import { newHexId, sha1Hex } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { GroupCommit, type Settled } from '../core/group-commit.js';
import { Mutex } from '../core/mutex.js';
import { RegistryIndex, versionKey, type TenantIndex } from './cache.js';
import { FindCache, instancesJson, revisionOf, type FindResult } from './discovery.js';
import { RegistryCodes, registryError } from './errors.js';
import { LeaseTable } from './lease.js';
import { StallGuard } from './stall.js';
import * as registryStore from './store.js';
import type { DependencyRule, InstanceRecord, MicroService, MicroServiceInstance, MicroServiceKey, RegistryEvents, ServiceRecord, WatchEvent } from './types.js';
import { checkSchemaId, INSTANCE_STATUSES, SUMMARY_RE, TAG_RE, validateNewInstance, validateNewService } from './validate.js';
import { filterByVersionRule, isValidVersion, parseVersionRule } from './version-rule.js';
import { omitEmpty, unixSecondsString } from './wire.js';

/** Codes of a read that found nothing (and may have run before this server applied a write). */
const MISSES = new Set([String(RegistryCodes.ServiceNotExists.code), String(RegistryCodes.InstanceNotExists.code)]);

/** The tenant that owns the server's own SERVICECENTER service (shared with every tenant). */
export const SHARED_TENANT = 'default/default';
export const SELF_APP = 'default';
export const SELF_NAME = 'SERVICECENTER';

/** A validated registration waiting for its group commit; ttlSeconds is the lease length. */
interface NewInstance {
  tenant: string;
  serviceId: string;
  instance: MicroServiceInstance;
  ttlSeconds: number;
}

/** Dependencies of RegistryService, built in server.ts. */
export interface RegistryDeps {
  db: Db;
  bus: Bus<RegistryEvents>;
  /** Every write goes through it; the index follows its changes on every server. */
  feed: ChangeFeed<RegistryEvents>;
  /** Who leads (only the leader expires leases) and which servers live. */
  cluster: Cluster;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
}

/** A server of the cluster, as its own SERVICECENTER instance shows it. */
export interface SelfServer {
  serverId: string;
  url: string;
  version: string;
  startedAtMs: number;
}

/** Query of a find (servicecomb.md §1.3). */
export interface FindQuery {
  consumerId?: string;
  appId: string;
  serviceName: string;
  environment?: string;
  /** Version rule; undefined or empty = all versions. */
  version?: string;
  /** Service tag keys a provider must carry. */
  tags?: string[];
}

/**
 * The ServiceComb service center (servicecomb.md §1). Every write runs under one mutex:
 * validate against the in-memory index, then commit through the change feed, whose changes
 * (`registry.service.*`, `registry.instance.*`, `registry.dependency.*`) update the index
 * on every server in commit order — this one before the write returns. Reads (find, get,
 * list, heartbeat) are served from memory.
 *
 * Leases: a heartbeat renews the lease in this server's memory; on PostgreSQL the renewals
 * are also written every `registry.leasePersistPeriodMs` (one statement), and only the
 * leader expires: alone, from its memory; with other live servers, after checking the
 * written renewals, by a delete that only succeeds when no renewal landed since — so a lease
 * ends exactly once, whichever servers the heartbeats reached.
 */
export class RegistryService {
  private readonly index = new RegistryIndex();
  private readonly writes = new Mutex();
  private readonly leases: LeaseTable;
  private readonly stallGuard: StallGuard;
  private readonly pendingRules = new Set<string>();
  private readonly findCache: FindCache;
  private readonly registrations: GroupCommit<NewInstance, { instanceId: string }>;
  /** Instances renewed since the last write of renewals (PostgreSQL). */
  private renewed = new Set<InstanceRecord>();
  /** Instances whose expiry the leader is checking against the written renewals. */
  private readonly checking = new Set<InstanceRecord>();
  /** Live servers other than this one at the last membership refresh. */
  private peers = 0;
  /** The live servers at the last membership refresh (their SERVICECENTER instances). */
  private liveServers: SelfServer[] = [];
  private persisting = false;
  private readonly stops: (() => void)[] = [];
  /** Heartbeats accepted and leases expired (by this server, leading) since start (metrics). */
  private heartbeatCount = 0;
  private leaseExpiryCount = 0;
  private readonly db: Db;
  private readonly bus: Bus<RegistryEvents>;
  private readonly feed: ChangeFeed<RegistryEvents>;
  private readonly cluster: Cluster;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly config: Readonly<Config>;

  constructor(deps: RegistryDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.feed = deps.feed;
    this.cluster = deps.cluster;
    this.clock = deps.clock;
    this.log = deps.log.child({ area: 'registry' });
    this.config = deps.config;
    this.leases = new LeaseTable(deps.clock.now());
    this.stallGuard = new StallGuard(deps.config.registry.stallThresholdMs, deps.clock, this.log);
    this.findCache = new FindCache(deps.config.registry.findCacheEntries);
    this.registrations = new GroupCommit(this.writes, (items) => this.commitRegistrations(items));
    this.subscribeChanges();
  }

  // ───────────────────────── lifecycle ─────────────────────────

  /**
   * Builds the index from the tables (`db`: the feed's snapshot on PostgreSQL). Every stored
   * instance gets one full TTL counted from now (pitfalls.md "Restart after a crash"); on
   * PostgreSQL a server joining live servers counts from the last written renewal instead.
   */
  async load(db: Executor): Promise<void> {
    const now = this.clock.now();
    const fresh = !this.feed.clustered || this.cluster.coldStart();
    for (const stored of await registryStore.listAllServices(db)) {
      this.index.tenant(stored.tenant).addService({ tenant: stored.tenant, service: stored.service, tags: stored.tags, rev: this.index.nextRev(), instances: new Map() });
    }
    let instances = 0;
    for (const stored of await registryStore.listAllInstances(db)) {
      const t = this.index.tenant(stored.tenant);
      const svc = t.services.get(stored.instance.serviceId);
      if (!svc) continue;
      const from = fresh ? now : stored.renewedAtMs;
      const record: InstanceRecord = { tenant: stored.tenant, instance: stored.instance, ttlSeconds: stored.ttlSeconds, expiresAtMs: from + stored.ttlSeconds * 1000 };
      svc.instances.set(stored.instance.instanceId, record);
      t.instanceCount++;
      this.leases.track(record);
      instances++;
    }
    for (const rule of await registryStore.listAllDependencies(db)) this.index.tenant(rule.tenant).putRule(rule);
    this.log.info({ instances }, 'registry index loaded');
  }

  /**
   * Starts the lease sweeper (and, on PostgreSQL, the writing of renewals). After a cold
   * start of the whole cluster every stored lease counts as renewed now, for whichever
   * server leads later.
   */
  async start(): Promise<void> {
    if (this.feed.clustered && this.cluster.coldStart()) await registryStore.renewAllInstances(this.db.kysely, this.clock.now());
    this.stallGuard.start();
    this.stops.push(this.clock.every(this.config.registry.leaseSweepPeriodMs, (nowMs) => this.expireLeases(nowMs)));
    if (this.feed.clustered) {
      this.stops.push(this.clock.every(this.config.registry.leasePersistPeriodMs, () => void this.persistRenewals()));
      this.stops.push(
        this.cluster.onLeadership((leading) => {
          if (leading) void this.refreshLeases();
        }),
      );
    }
  }

  /** Stops the sweeper, writes the pending renewals and waits for queued writes to commit. */
  async stop(): Promise<void> {
    for (const s of this.stops.splice(0)) s();
    this.stallGuard.stop();
    await this.writes.run(async () => undefined);
    await this.persistRenewals();
  }

  /** Applies whatever other servers committed (a read that found nothing may have been early). */
  sync(): Promise<void> {
    return this.feed.sync();
  }

  /**
   * Runs a read; on PostgreSQL, when it finds no such service or instance, once more after
   * catching up with the change log (another server may have just created it).
   */
  fresh<T>(read: () => T): T | Promise<T> {
    if (!this.feed.clustered) return read();
    try {
      return read();
    } catch (err) {
      if (!(err instanceof OpenStageError) || !MISSES.has(err.code)) throw err;
      return this.feed.sync().then(read);
    }
  }

  /**
   * Registers the SERVICECENTER service of this server's version (default/default, shared
   * with every tenant) and this server's in-memory instance with its `rest://` endpoint,
   * listed by /health and found like any instance.
   */
  async registerSelf(server: SelfServer): Promise<void> {
    await this.createService(SHARED_TENANT, {
      service: { appId: SELF_APP, serviceName: SELF_NAME, version: server.version, environment: this.config.registry.environment, level: 'BACK', status: 'UP' },
    });
    this.setSelfServers([...this.liveServers.filter((s) => s.serverId !== server.serverId), server]);
  }

  /**
   * Makes the in-memory SERVICECENTER instances those of `servers` (the live servers of the
   * cluster, from its membership): instances of servers gone are removed, new ones added,
   * each under the SERVICECENTER service of its version; watchers are told.
   */
  setSelfServers(servers: SelfServer[]): void {
    const t = this.index.tenant(SHARED_TENANT);
    const wanted = new Map<string, { record: ServiceRecord; instance: MicroServiceInstance }>();
    for (const server of servers) {
      const id = t.byKey.get(versionKey(this.config.registry.environment, SELF_APP, SELF_NAME, server.version));
      const record = id ? t.services.get(id) : undefined;
      if (!record) continue;
      const url = new URL(server.url);
      // ServiceComb marks a TLS endpoint with `?sslEnabled=true` (Java Chassis and go-chassis read it).
      const endpoints = [`rest://${url.host}${url.protocol === 'https:' ? '?sslEnabled=true' : ''}`];
      const at = unixSecondsString(server.startedAtMs);
      const instance: MicroServiceInstance = omitEmpty({
        instanceId: sha1Hex(endpoints.join(',')).slice(0, 32),
        serviceId: record.service.serviceId,
        endpoints,
        hostName: 'openstage',
        status: 'UP',
        healthCheck: { mode: 'push', interval: 30, times: 3 },
        timestamp: at,
        modTimestamp: at,
        version: server.version,
      });
      wanted.set(instance.instanceId, { record, instance });
    }
    for (const record of t.servicesNamed(this.config.registry.environment, SELF_APP, SELF_NAME)) {
      for (const inst of [...record.instances.values()]) {
        if (inst.ephemeral && !wanted.has(inst.instance.instanceId)) this.removeInstance(record, inst);
      }
    }
    for (const { record, instance } of wanted.values()) {
      if (record.instances.has(instance.instanceId)) continue;
      record.instances.set(instance.instanceId, { tenant: SHARED_TENANT, instance, ttlSeconds: 120, expiresAtMs: Infinity, ephemeral: true });
      t.instanceCount++;
      this.index.bump(record);
      this.publishInstance(record, 'CREATE', instance);
    }
  }

  /** The live servers' own instances (for /health). */
  selfInstances(): MicroServiceInstance[] {
    const t = this.index.findTenant(SHARED_TENANT);
    const out: MicroServiceInstance[] = [];
    for (const r of t?.servicesNamed(this.config.registry.environment, SELF_APP, SELF_NAME) ?? []) {
      for (const i of r.instances.values()) if (i.ephemeral) out.push(i.instance);
    }
    return out;
  }

  private isSelf(record: ServiceRecord): boolean {
    return record.tenant === SHARED_TENANT && record.service.appId === SELF_APP && record.service.serviceName === SELF_NAME;
  }

  // ───────────────────────── microservices ─────────────────────────

  /**
   * Creates a service, or returns the existing id for the same (env, appId, serviceName,
   * version) or alias key (S1). Tags and instances in the body are created afterwards.
   * @throws 400001 invalid body; 400010 custom serviceId clash; 400100 quota
   */
  async createService(tenant: string, body: { service?: unknown; tags?: unknown; instances?: unknown }): Promise<{ serviceId: string }> {
    const service = validateNewService(body.service, this.config.quota.schemasPerService);
    const tags = body.tags;
    if (tags !== undefined && tags !== null) this.checkTags(tags);
    const serviceId = await this.writes.run(async () => {
      const t = this.index.tenant(tenant);
      const key = versionKey(service.environment, service.appId, service.serviceName, service.version);
      const existingId = t.byKey.get(key) ?? (service.alias ? t.byAliasKey.get(versionKey(service.environment, service.appId, service.alias, service.version)) : undefined);
      if (existingId !== undefined) {
        if (service.serviceId && service.serviceId !== existingId) throw registryError('ServiceAlreadyExists', `ServiceId conflict: ${existingId} already registered with key ${key}`);
        return existingId;
      }
      const id = service.serviceId || sha1Hex(`${tenant}/${key}`);
      if (t.services.has(id)) throw registryError('ServiceAlreadyExists', `ServiceId ${id} is already used by another service`);
      if (t.services.size >= this.config.quota.services) throw registryError('NotEnoughQuota', `no quota to create service, limit ${this.config.quota.services}`);
      const now = unixSecondsString(this.clock.now());
      const stored = omitEmpty<MicroService>({ ...service, serviceId: id, timestamp: now, modTimestamp: now });
      const near = this.nearQuota(t.services.size + 1, this.config.quota.services);
      try {
        await this.feed.write(
          async (trx, changes) => {
            // Other servers create services too: near the quota, count what is stored.
            if (near && (await registryStore.lockAndCount(trx, tenant)).services >= this.config.quota.services) {
              throw registryError('NotEnoughQuota', `no quota to create service, limit ${this.config.quota.services}`);
            }
            await registryStore.createService(trx, tenant, stored, {});
            changes.emit('registry.service.created', { tenant, service: stored, tags: {} });
          },
          { oneStatement: !near },
        );
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
        // Another server created it a moment ago: answer as if it had been here first.
        await this.feed.sync();
        const raced = t.byKey.get(key);
        if (raced !== undefined && (!service.serviceId || service.serviceId === raced)) return raced;
        throw registryError('ServiceAlreadyExists', err.message);
      }
      return id;
    });
    const errors: string[] = [];
    if (tags && typeof tags === 'object' && Object.keys(tags).length > 0) {
      await this.setTags(tenant, serviceId, tags as Record<string, string>).catch((err: Error) => errors.push(errorText(err)));
    }
    if (Array.isArray(body.instances)) {
      for (const inst of body.instances) await this.registerInstance(tenant, serviceId, { instance: inst }).catch((err: Error) => errors.push(errorText(err)));
    }
    if (errors.length > 0) throw registryError('InvalidParams', `errMessages: [${errors.join(', ')}]`);
    return { serviceId };
  }

  /** The service (S2). @throws 400012 */
  getService(tenant: string, serviceId: string): MicroService {
    return this.requireService(tenant, serviceId).service;
  }

  /** Every service of the tenant (S3); the shared SERVICECENTER only with `withShared`. */
  listServices(tenant: string, withShared: boolean): MicroService[] {
    const t = this.index.findTenant(tenant);
    if (!t) return [];
    return [...t.services.values()].filter((r) => withShared || !this.isSelf(r)).map((r) => r.service);
  }

  /** Replaces the service's properties (S4). @throws 400012 */
  async updateServiceProperties(tenant: string, serviceId: string, properties: Record<string, string>): Promise<void> {
    await this.writes.run(async () => {
      const record = this.requireService(tenant, serviceId);
      const next = omitEmpty<MicroService>({ ...record.service, properties, modTimestamp: unixSecondsString(this.clock.now()) });
      await this.writeServiceBody(tenant, next);
    });
  }

  /** Writes a service's body (properties, schemas list) and tells every server. */
  private async writeServiceBody(tenant: string, next: MicroService, extra?: (trx: Executor) => Promise<void>): Promise<void> {
    await this.feed.write(async (trx, changes) => {
      await extra?.(trx);
      await registryStore.updateServiceBody(trx, tenant, next);
      changes.emit('registry.service.updated', { tenant, service: next });
    });
  }

  /**
   * Deletes a service (S5). Without force: 400023 when another consumer depends on it,
   * 400013 when it has instances. With force: instances (DELETE events), schemas, tags and
   * its rules go too. @throws 400001 for the server's own service; 400012 unknown
   */
  async deleteService(tenant: string, serviceId: string, force: boolean): Promise<void> {
    await this.writes.run(() => this.deleteServiceLocked(tenant, serviceId, force));
  }

  private async deleteServiceLocked(tenant: string, serviceId: string, force: boolean): Promise<void> {
    const t = this.index.tenant(tenant);
    const record = this.requireService(tenant, serviceId);
    if (this.isSelf(record)) throw registryError('InvalidParams', 'not allowed to delete service center');
    if (!force) {
      const consumers = t.consumerIdsOf(record.service);
      consumers.delete(serviceId);
      if (consumers.size > 0) throw registryError('DependedOnConsumer', `consumers: ${[...consumers].join(',')}`);
      if (record.instances.size > 0) throw registryError('DeployedInstance', `${record.instances.size} instance(s) registered`);
    }
    await this.feed.write(async (trx, changes) => {
      await registryStore.deleteService(trx, tenant, serviceId);
      changes.emit('registry.service.deleted', { tenant, serviceId });
    });
  }

  /**
   * Deletes several services (S6); each outcome is reported, the call itself succeeds.
   * @throws 400001 when the list is empty or an id is malformed
   */
  async deleteServices(tenant: string, serviceIds: unknown, force: boolean): Promise<{ serviceId: string; errMessage?: string }[]> {
    if (!Array.isArray(serviceIds) || serviceIds.length === 0) throw registryError('InvalidParams', 'serviceIds is empty');
    for (const id of serviceIds) if (typeof id !== 'string' || !/^\S{1,64}$/.test(id)) throw registryError('InvalidParams', `invalid serviceId '${String(id)}'`);
    const results: { serviceId: string; errMessage?: string }[] = [];
    for (const id of new Set(serviceIds as string[])) {
      try {
        await this.deleteService(tenant, id, force);
        results.push({ serviceId: id });
      } catch (err) {
        results.push({ serviceId: id, errMessage: errorText(err as Error) });
      }
    }
    return results;
  }

  /**
   * serviceId of an exact key (S7); serviceName may be the alias.
   * @throws 400001 bad version or empty appId; 400012 unknown name; 400026 unknown version
   */
  existService(tenant: string, q: { appId?: string; serviceName?: string; version?: string; env?: string }): string {
    if (!q.appId) throw registryError('InvalidParams', 'appId is required');
    if (!q.serviceName) throw registryError('InvalidParams', 'serviceName is required');
    if (!q.version || !isValidVersion(q.version)) throw registryError('InvalidParams', `invalid version '${q.version ?? ''}'`);
    const t = this.index.findTenant(tenant);
    const env = q.env ?? '';
    const id = t?.byKey.get(versionKey(env, q.appId, q.serviceName, q.version)) ?? t?.byAliasKey.get(versionKey(env, q.appId, q.serviceName, q.version));
    if (id) return id;
    if (t && t.servicesNamed(env, q.appId, q.serviceName).length > 0) throw registryError('ServiceVersionNotExists', `version ${q.version} does not exist`);
    throw registryError('ServiceNotExists', `service ${q.appId}/${q.serviceName} does not exist`);
  }

  // ───────────────────────── schemas ─────────────────────────

  /** One schema's content and summary (S8/S9). @throws 400012; 400016 */
  async getSchema(tenant: string, serviceId: string, schemaId: string): Promise<{ schema: string; summary: string }> {
    this.requireService(tenant, serviceId);
    const row = await registryStore.findSchema(this.db.kysely, tenant, serviceId, schemaId);
    if (!row) throw registryError('SchemaNotExists', `schema ${schemaId} does not exist`);
    return { schema: row.content, summary: row.summary };
  }

  /**
   * Puts one schema (S10). Identical content and summary are a no-op; a new id is added to
   * `service.schemas` within the schema quota. @throws 400001; 400012; 400100
   */
  async putSchema(tenant: string, serviceId: string, schemaId: string, body: { schema?: unknown; summary?: unknown }): Promise<void> {
    checkSchemaId(schemaId);
    if (typeof body.schema !== 'string' || body.schema.length === 0) throw registryError('InvalidParams', 'schema content is required');
    const summary = body.summary ?? '';
    if (typeof summary !== 'string' || summary.length > 128 || !SUMMARY_RE.test(summary)) throw registryError('InvalidParams', 'invalid summary');
    const content = body.schema;
    await this.writes.run(async () => {
      const record = this.requireService(tenant, serviceId);
      const ids = record.service.schemas ?? [];
      const isNew = !ids.includes(schemaId);
      if (isNew && ids.length >= this.config.quota.schemasPerService) throw registryError('NotEnoughQuota', `no quota to add schema, limit ${this.config.quota.schemasPerService}`);
      const existing = await registryStore.findSchema(this.db.kysely, tenant, serviceId, schemaId);
      if (!isNew && existing && existing.content === content && existing.summary === summary) return;
      if (!isNew) {
        await this.db.kysely.transaction().execute((trx) => registryStore.putSchema(trx, tenant, serviceId, schemaId, summary, content));
        return;
      }
      const next = omitEmpty<MicroService>({ ...record.service, schemas: [...ids, schemaId], modTimestamp: unixSecondsString(this.clock.now()) });
      await this.writeServiceBody(tenant, next, (trx) => registryStore.putSchema(trx, tenant, serviceId, schemaId, summary, content));
    });
  }

  /**
   * Replaces every schema of the service (S11): ids not listed are removed, `schemas` is
   * reset to the list. Each entry needs schemaId, schema and a 1–128 char summary.
   * @throws 400001 "Invalid request."; 400012; 400100
   */
  async putSchemas(tenant: string, serviceId: string, schemas: unknown): Promise<void> {
    const bad = (): Error => registryError('InvalidParams', 'Invalid request.');
    if (!Array.isArray(schemas) || schemas.length === 0) throw bad();
    const items: { schemaId: string; schema: string; summary: string }[] = [];
    for (const s of schemas) {
      const e = s as Record<string, unknown>;
      if (!e || typeof e.schemaId !== 'string' || typeof e.schema !== 'string' || typeof e.summary !== 'string') throw bad();
      if (e.schema.length === 0 || e.summary.length === 0 || e.summary.length > 128 || !SUMMARY_RE.test(e.summary)) throw bad();
      try {
        checkSchemaId(e.schemaId);
      } catch {
        throw bad();
      }
      items.push({ schemaId: e.schemaId, schema: e.schema, summary: e.summary });
    }
    const unique = [...new Map(items.map((i) => [i.schemaId, i])).values()];
    await this.writes.run(async () => {
      const record = this.requireService(tenant, serviceId);
      if (unique.length > this.config.quota.schemasPerService) throw registryError('NotEnoughQuota', `no quota to add schemas, limit ${this.config.quota.schemasPerService}`);
      const next = omitEmpty<MicroService>({ ...record.service, schemas: unique.map((i) => i.schemaId), modTimestamp: unixSecondsString(this.clock.now()) });
      await this.writeServiceBody(tenant, next, async (trx) => {
        await registryStore.deleteAllSchemas(trx, tenant, serviceId);
        for (const i of unique) await registryStore.putSchema(trx, tenant, serviceId, i.schemaId, i.summary, i.schema);
      });
    });
  }

  /** Schemas of the service (S12): every id in `service.schemas`, with summary and content where stored. @throws 400012 */
  async listSchemas(tenant: string, serviceId: string, withSchema: boolean): Promise<{ schemaId: string; summary?: string; schema?: string }[]> {
    const record = this.requireService(tenant, serviceId);
    const stored = new Map((await registryStore.listSchemas(this.db.kysely, tenant, serviceId)).map((s) => [s.schemaId, s]));
    return (record.service.schemas ?? []).map((schemaId) => {
      const s = stored.get(schemaId);
      return omitEmpty({ schemaId, summary: s?.summary, schema: withSchema ? s?.content : undefined });
    });
  }

  /** Deletes one schema and its id from `service.schemas` (S13). @throws 400012; 400016 */
  async deleteSchema(tenant: string, serviceId: string, schemaId: string): Promise<void> {
    await this.writes.run(async () => {
      const record = this.requireService(tenant, serviceId);
      const existing = await registryStore.findSchema(this.db.kysely, tenant, serviceId, schemaId);
      if (!existing) throw registryError('SchemaNotExists', `schema ${schemaId} does not exist`);
      const next = omitEmpty<MicroService>({ ...record.service, schemas: (record.service.schemas ?? []).filter((id) => id !== schemaId), modTimestamp: unixSecondsString(this.clock.now()) });
      await this.writeServiceBody(tenant, next, (trx) => registryStore.deleteSchema(trx, tenant, serviceId, schemaId));
    });
  }

  // ───────────────────────── instances ─────────────────────────

  /**
   * Registers an instance of the service in the path (S14). A re-registration — an
   * instanceId the service already has, or no id and the same endpoints as one of its
   * instances — keeps that instance's id: with identical content it is a heartbeat; with
   * new content (a provider restarted on another port with a fixed id) the stored instance
   * is overwritten, its lease renewed, and watchers get an UPDATE (issue #18 item 11).
   * @throws 400001 validation; 400012 unknown service; 400100 quota
   */
  async registerInstance(tenant: string, serviceId: string, body: { instance?: unknown }): Promise<{ instanceId: string }> {
    const { instance, ttlSeconds } = validateNewInstance(body?.instance, {
      minIntervalSeconds: this.config.registry.instanceMinIntervalSeconds,
      minTimes: this.config.registry.instanceMinTimes,
      ttlSeconds: this.config.registry.instanceTtlSeconds,
    });
    const existing = this.findSameInstance(tenant, serviceId, instance);
    if (existing) return this.reregister(existing, instance, ttlSeconds);
    return this.registrations.submit({ tenant, serviceId, instance, ttlSeconds });
  }

  /** The instance a registration re-registers: same instanceId, or (no id) the same endpoint set. */
  private findSameInstance(tenant: string, serviceId: string, instance: MicroServiceInstance): InstanceRecord | undefined {
    const instances = this.index.findTenant(tenant)?.services.get(serviceId)?.instances;
    if (!instances) return undefined;
    if (instance.instanceId) return instances.get(instance.instanceId);
    const endpoints = [...new Set(instance.endpoints ?? [])].sort().join('\n');
    if (!endpoints) return undefined;
    for (const inst of instances.values()) if ([...new Set(inst.instance.endpoints ?? [])].sort().join('\n') === endpoints) return inst;
    return undefined;
  }

  /** Re-registration of a known instance: a heartbeat when nothing changed, else an overwrite. */
  private async reregister(existing: InstanceRecord, instance: MicroServiceInstance, ttlSeconds: number): Promise<{ instanceId: string }> {
    const { instanceId, serviceId, version, timestamp } = existing.instance;
    const content = (i: MicroServiceInstance) => canonicalJson(omitEmpty<MicroServiceInstance>({ ...i, instanceId, serviceId, version, timestamp, modTimestamp: '' }));
    if (content(instance) === content(existing.instance) && ttlSeconds === existing.ttlSeconds) {
      this.renew(existing);
      return { instanceId };
    }
    await this.writes.run(async () => {
      const record = this.requireService(existing.tenant, serviceId);
      if (!record.instances.get(instanceId)) throw registryError('InstanceNotExists', `instance ${serviceId}/${instanceId} does not exist`);
      const next = omitEmpty<MicroServiceInstance>({ ...instance, instanceId, serviceId, version, timestamp, modTimestamp: unixSecondsString(this.clock.now()) });
      await this.feed.write(
        async (trx, changes) => {
          await registryStore.updateInstance(trx, existing.tenant, next, ttlSeconds);
          changes.emit('registry.instance.updated', { tenant: existing.tenant, instance: next, ttlSeconds });
        },
        { oneStatement: true },
      );
      const current = record.instances.get(instanceId);
      if (current) this.renew(current);
    });
    return { instanceId };
  }

  /**
   * Commits a batch of registrations in one transaction (group commit). Each item is
   * checked against the index first (service, quota, an instanceId already known or
   * earlier in the batch = heartbeat); if the batch insert fails, items are retried one by
   * one so that one bad row fails only its own caller.
   */
  private async commitRegistrations(items: NewInstance[]): Promise<Settled<{ instanceId: string }>[]> {
    const nowMs = this.clock.now();
    const now = unixSecondsString(nowMs);
    const outcomes: Settled<{ instanceId: string }>[] = [];
    const accepted: { index: number; record: ServiceRecord; stored: MicroServiceInstance; ttlSeconds: number }[] = [];
    const added = new Map<string, number>();
    const seen = new Set<string>();
    items.forEach((item, index) => {
      try {
        const t = this.index.tenant(item.tenant);
        const record = this.requireService(item.tenant, item.serviceId);
        const id = item.instance.instanceId;
        const existing = id ? record.instances.get(id) : undefined;
        if (existing) {
          this.renew(existing);
          outcomes[index] = { ok: true, value: { instanceId: existing.instance.instanceId } };
          return;
        }
        if (id && seen.has(`${item.tenant}|${item.serviceId}|${id}`)) {
          outcomes[index] = { ok: true, value: { instanceId: id } };
          return;
        }
        const count = t.instanceCount + (added.get(item.tenant) ?? 0);
        if (count >= this.config.quota.instances) throw registryError('NotEnoughQuota', `no quota to register instance, limit ${this.config.quota.instances}`);
        const stored = omitEmpty<MicroServiceInstance>({
          ...item.instance,
          instanceId: id || newHexId(),
          serviceId: item.serviceId,
          version: record.service.version,
          timestamp: now,
          modTimestamp: now,
        });
        seen.add(`${item.tenant}|${item.serviceId}|${stored.instanceId}`);
        added.set(item.tenant, (added.get(item.tenant) ?? 0) + 1);
        accepted.push({ index, record, stored, ttlSeconds: item.ttlSeconds });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    });
    // Other servers register too: for a tenant near its quota, count what is stored (under a
    // lock that serialises such checks) and refuse what would go beyond it.
    const near = new Set([...added].filter(([tenant, n]) => this.nearQuota(this.index.tenant(tenant).instanceCount + n, this.config.quota.instances)).map(([tenant]) => tenant));
    const quotaError = (): OpenStageError => registryError('NotEnoughQuota', `no quota to register instance, limit ${this.config.quota.instances}`);
    /** Inserts a batch in one transaction; @returns the indexes refused for the quota */
    const insert = (batch: typeof accepted): Promise<Set<number>> =>
      this.feed.write(
        async (trx, changes) => {
          const refused = new Set<number>();
          const room = new Map<string, number>();
          for (const tenant of new Set(batch.map((a) => a.record.tenant))) {
            if (near.has(tenant)) room.set(tenant, this.config.quota.instances - (await registryStore.lockAndCount(trx, tenant)).instances);
          }
          for (const a of batch) {
            const left = room.get(a.record.tenant);
            if (left !== undefined) {
              if (left <= 0) {
                refused.add(a.index);
                continue;
              }
              room.set(a.record.tenant, left - 1);
            }
            await registryStore.createInstance(trx, a.record.tenant, a.stored, a.ttlSeconds, nowMs);
            changes.emit('registry.instance.registered', { tenant: a.record.tenant, instance: a.stored, ttlSeconds: a.ttlSeconds });
          }
          return refused;
        },
        { oneStatement: batch.length === 1 && near.size === 0 },
      );
    let committed = accepted;
    try {
      if (accepted.length > 0) {
        const refused = await insert(accepted);
        for (const i of refused) outcomes[i] = { ok: false, error: quotaError() };
        committed = accepted.filter((a) => !refused.has(a.index));
      }
    } catch (batchError) {
      committed = [];
      for (const a of accepted) {
        try {
          if (accepted.length === 1) throw batchError;
          if ((await insert([a])).size > 0) outcomes[a.index] = { ok: false, error: quotaError() };
          else committed.push(a);
        } catch (error) {
          const failure = await this.registrationError(a.record.tenant, a.stored, error);
          outcomes[a.index] = failure === undefined ? { ok: true, value: { instanceId: a.stored.instanceId } } : { ok: false, error: failure };
        }
      }
    }
    for (const a of committed) outcomes[a.index] = { ok: true, value: { instanceId: a.stored.instanceId } };
    return outcomes;
  }

  /**
   * True when a count is close enough to its quota that other servers' writes could push it
   * over (PostgreSQL): the write then counts what is stored, under a lock.
   */
  private nearQuota(count: number, quota: number): boolean {
    return this.feed.clustered && count > quota - Math.max(100, Math.floor(quota / 10));
  }

  /**
   * The outcome of a registration whose insert failed. The same instance id registered a
   * moment ago through another server is a heartbeat, as for one known here.
   */
  private async registrationError(tenant: string, stored: MicroServiceInstance, error: unknown): Promise<unknown> {
    if (!(error instanceof AlreadyExistsError)) return error;
    if (this.feed.clustered) {
      await this.feed.sync();
      const known = this.index.findTenant(tenant)?.services.get(stored.serviceId)?.instances.get(stored.instanceId);
      if (known) {
        this.renew(known);
        return undefined;
      }
    }
    return registryError('InvalidParams', error.message);
  }

  /**
   * Instances of one provider (S15), checked against the consumer's app and environment.
   * @returns the serialised result and its revision
   * @throws 400012 unknown provider or consumer, or a consumer that may not see it
   */
  listInstances(tenant: string, serviceId: string, consumerId: string | undefined, tags: string[]): FindResult {
    const record = this.requireService(tenant, serviceId);
    if (consumerId) {
      const consumer = this.requireConsumer(tenant, consumerId);
      if (!this.canAccess(consumer, record) || (consumer.service.environment ?? '') !== (record.service.environment ?? '')) {
        throw registryError('ServiceNotExists', `consumer ${consumerId} can not access provider ${serviceId}`);
      }
    }
    const visible = tags.every((k) => k in record.tags) ? [record] : [];
    return { rev: revisionOf([record]), body: Buffer.from(instancesJson(visible)) };
  }

  /**
   * The leases of a service's instances (OpenStage's addition, for the console): each lease's
   * length and when it was last renewed — by a heartbeat, the registration, or this server's
   * start, which grants every instance a full TTL. Ephemeral instances have none.
   * @returns per instance: ttlSeconds, lastHeartbeatAtMs and expiresAtMs (ms since the epoch)
   * @throws 400012 unknown service
   */
  listLeases(tenant: string, serviceId: string): { instanceId: string; ttlSeconds: number; lastHeartbeatAtMs: number; expiresAtMs: number }[] {
    const record = this.requireService(tenant, serviceId);
    return [...record.instances.values()]
      .filter((i) => !i.ephemeral)
      .map((i) => ({ instanceId: i.instance.instanceId, ttlSeconds: i.ttlSeconds, lastHeartbeatAtMs: i.expiresAtMs - i.ttlSeconds * 1000, expiresAtMs: i.expiresAtMs }));
  }

  /** One instance (S16) with its provider's revision. @throws 400012 unknown provider/consumer; 400017 */
  getInstance(tenant: string, serviceId: string, instanceId: string, consumerId?: string): { instance: MicroServiceInstance; rev: string } {
    const record = this.requireService(tenant, serviceId);
    const inst = record.instances.get(instanceId);
    if (consumerId) {
      const consumer = this.requireConsumer(tenant, consumerId);
      if (!this.canAccess(consumer, record)) throw registryError('InstanceNotExists', `consumer ${consumerId} can not access instance ${instanceId}`);
    }
    if (!inst) throw registryError('InstanceNotExists', `instance ${instanceId} does not exist`);
    return { instance: inst.instance, rev: revisionOf([record]) };
  }

  /** Deregisters an instance (S17); it is gone from the very next find and watchers get DELETE. @throws 400017 */
  async deregisterInstance(tenant: string, serviceId: string, instanceId: string): Promise<void> {
    await this.writes.run(async () => {
      this.requireInstance(tenant, serviceId, instanceId);
      await this.feed.write(
        async (trx, changes) => {
          await registryStore.deleteInstances(trx, tenant, [{ serviceId, instanceId }]);
          changes.emit('registry.instance.deleted', { tenant, serviceId, instanceId });
        },
        { oneStatement: true },
      );
    });
  }

  /**
   * Deregisters, in every tenant, the instances a stopped process left behind (the deployment
   * engine, when a replica it stopped has ended, issue #18 item 21): those with an endpoint on
   * one of `hosts` at `port` that were registered at or after `fromMs` (whole seconds, as
   * `timestamp` keeps them) and last registered or renewed at or before `toMs` — so an
   * instance a newer process on the same port registered afterwards stays. Watchers get
   * DELETE as for S17.
   * @returns how many were removed
   */
  async deregisterStale(where: { hosts: readonly string[]; port: number; fromMs: number; toMs: number }): Promise<number> {
    const hosts = new Set(where.hosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
    const on = (endpoint: string): boolean => {
      try {
        const u = new URL(endpoint);
        return Number(u.port) === where.port && hosts.has(u.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
      } catch {
        return false;
      }
    };
    const fromSeconds = Math.floor(where.fromMs / 1000);
    return this.writes.run(async () => {
      const stale: { record: ServiceRecord; inst: InstanceRecord }[] = [];
      for (const t of this.index.allTenants()) {
        for (const record of t.services.values()) {
          for (const inst of record.instances.values()) {
            if (inst.ephemeral || !(inst.instance.endpoints ?? []).some(on)) continue;
            const registeredSeconds = Number(inst.instance.timestamp ?? 0);
            const renewedMs = inst.expiresAtMs - inst.ttlSeconds * 1000;
            if (registeredSeconds >= fromSeconds && renewedMs <= where.toMs) stale.push({ record, inst });
          }
        }
      }
      if (stale.length === 0) return 0;
      await this.db.kysely.transaction().execute(async (trx) => {
        const byTenant = new Map<string, { serviceId: string; instanceId: string }[]>();
        for (const { inst } of stale) byTenant.set(inst.tenant, [...(byTenant.get(inst.tenant) ?? []), { serviceId: inst.instance.serviceId, instanceId: inst.instance.instanceId }]);
        for (const [tenant, keys] of byTenant) await registryStore.deleteInstances(trx, tenant, keys);
      });
      for (const { record, inst } of stale) this.removeInstance(record, inst);
      return stale.length;
    });
  }

  /** Replaces an instance's properties (S18). @throws 400017 */
  async updateInstanceProperties(tenant: string, serviceId: string, instanceId: string, properties: Record<string, string>): Promise<void> {
    await this.updateInstance(tenant, serviceId, instanceId, (i) => ({ ...i, properties }));
  }

  /** Sets an instance's status (S19). @throws 400001 bad value; 400017 */
  async updateInstanceStatus(tenant: string, serviceId: string, instanceId: string, status: string | undefined): Promise<void> {
    if (!status || !(INSTANCE_STATUSES as readonly string[]).includes(status)) throw registryError('InvalidParams', `invalid status '${status ?? ''}'`);
    await this.updateInstance(tenant, serviceId, instanceId, (i) => ({ ...i, status }));
  }

  private async updateInstance(tenant: string, serviceId: string, instanceId: string, change: (i: MicroServiceInstance) => MicroServiceInstance): Promise<void> {
    await this.writes.run(async () => {
      const { inst } = this.requireInstance(tenant, serviceId, instanceId);
      const next = omitEmpty(change({ ...inst.instance, modTimestamp: unixSecondsString(this.clock.now()) }));
      await this.feed.write(
        async (trx, changes) => {
          await registryStore.updateInstance(trx, tenant, next);
          changes.emit('registry.instance.updated', { tenant, instance: next });
        },
        { oneStatement: true },
      );
    });
  }

  /**
   * Renews an instance's lease (S20). In memory (a restart grants every instance a full TTL
   * anyway); on PostgreSQL written with the other renewals of the period.
   * @throws 400017 unknown instance or wrong serviceId
   */
  heartbeat(tenant: string, serviceId: string, instanceId: string): void {
    const inst = this.index.findTenant(tenant)?.services.get(serviceId)?.instances.get(instanceId);
    if (!inst) throw registryError('InstanceNotExists', `instance ${serviceId}/${instanceId} does not exist`);
    this.renew(inst);
    this.heartbeatCount++;
  }

  private renew(inst: InstanceRecord): void {
    this.leases.renew(inst, this.clock.now());
    if (this.feed.clustered && !inst.ephemeral) this.renewed.add(inst);
  }

  /**
   * Counts for metrics: services and instances now (every tenant, shared ones included),
   * heartbeats accepted and leases expired since this server started. O(tenants).
   */
  stats(): { services: number; instances: number; heartbeats: number; leaseExpiries: number } {
    let services = 0;
    let instances = 0;
    for (const t of this.index.allTenants()) {
      services += t.services.size;
      instances += t.instanceCount;
    }
    return { services, instances, heartbeats: this.heartbeatCount, leaseExpiries: this.leaseExpiryCount };
  }

  /** Batch heartbeat (S21): per-pair outcome; duplicates once. @throws 400001 empty list */
  heartbeats(tenant: string, instances: unknown): { serviceId: string; instanceId: string; errMessage?: string }[] {
    if (!Array.isArray(instances) || instances.length === 0) throw registryError('InvalidParams', 'Request format invalid.');
    for (const item of instances) {
      const i = item as Record<string, unknown> | null;
      if (!i || typeof i !== 'object' || typeof i.serviceId !== 'string' || typeof i.instanceId !== 'string') throw registryError('InvalidParams', 'Request format invalid.');
    }
    const seen = new Set<string>();
    const results: { serviceId: string; instanceId: string; errMessage?: string }[] = [];
    for (const item of instances) {
      const { serviceId, instanceId } = item as { serviceId: string; instanceId: string };
      const key = `${serviceId}/${instanceId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        this.heartbeat(tenant, serviceId, instanceId);
        results.push({ serviceId, instanceId });
      } catch (err) {
        results.push({ serviceId, instanceId, errMessage: errorText(err as Error) });
      }
    }
    return results;
  }

  /** Sets `status` on every instance of the tenant whose properties contain all of `matches` (S24). @throws 400001 */
  async updateStatusByProperties(tenant: string, matches: unknown, status: unknown): Promise<void> {
    if (typeof status !== 'string' || !(INSTANCE_STATUSES as readonly string[]).includes(status)) throw registryError('InvalidParams', `invalid status '${String(status)}'`);
    const props = (matches as { properties?: unknown } | undefined)?.properties;
    if (!props || typeof props !== 'object' || Object.keys(props).length === 0) throw registryError('InvalidParams', 'matches.properties is required');
    const wanted = Object.entries(props as Record<string, unknown>);
    await this.writes.run(async () => {
      const t = this.index.findTenant(tenant);
      if (!t) return;
      const changed: { record: ServiceRecord; inst: InstanceRecord; next: MicroServiceInstance }[] = [];
      const modTimestamp = unixSecondsString(this.clock.now());
      for (const record of t.services.values()) {
        for (const inst of record.instances.values()) {
          if (inst.ephemeral || inst.instance.status === status) continue;
          if (wanted.every(([k, v]) => inst.instance.properties?.[k] === v)) changed.push({ record, inst, next: { ...inst.instance, status, modTimestamp } });
        }
      }
      if (changed.length === 0) return;
      await this.feed.write(async (trx, changes) => {
        for (const c of changed) {
          await registryStore.updateInstance(trx, tenant, c.next);
          changes.emit('registry.instance.updated', { tenant, instance: c.next });
        }
      });
    });
  }

  // ───────────────────────── discovery ─────────────────────────

  /**
   * Finds instances (S22, servicecomb.md §1.3). With a consumer, its environment replaces
   * `environment`, cross-app providers without `allowCrossApp=true` are dropped, and a
   * dependency consumer → provider (all versions) is recorded in the background.
   * @throws 400001 bad version rule; 400012 unknown consumer or provider
   */
  find(tenant: string, q: FindQuery): FindResult {
    const rule = parseVersionRule(q.version);
    if (!rule) throw registryError('InvalidParams', `invalid version rule '${q.version}'`);
    const consumer = q.consumerId ? this.requireConsumer(tenant, q.consumerId) : undefined;
    const environment = consumer ? (consumer.service.environment ?? '') : (q.environment ?? '');
    const t = this.index.findTenant(tenant);
    let named = t ? t.servicesNamed(environment, q.appId, q.serviceName) : [];
    let shared = false;
    if (named.length === 0 && q.appId === SELF_APP && q.serviceName === SELF_NAME) {
      named = this.index.findTenant(SHARED_TENANT)?.servicesNamed(this.config.registry.environment, SELF_APP, SELF_NAME) ?? [];
      shared = true;
    }
    if (named.length === 0) throw registryError('ServiceNotExists', `provider ${environment}/${q.appId}/${q.serviceName} does not exist`);
    let matched = filterByVersionRule(named, (r) => r.service.version, rule);
    if (rule.kind === 'exact' && matched.length === 0) throw registryError('ServiceNotExists', `provider ${q.appId}/${q.serviceName}/${rule.version} does not exist`);
    if (q.tags && q.tags.length > 0) matched = matched.filter((r) => q.tags!.every((k) => k in r.tags));
    if (consumer && !shared) {
      matched = matched.filter((r) => this.canAccess(consumer, r));
      if (!t!.hasRule(consumer.service.serviceId, environment, q.appId, q.serviceName)) {
        this.recordRule({ tenant, consumerId: consumer.service.serviceId, environment, appId: q.appId, serviceName: q.serviceName, versionRule: '0.0.0+' });
      }
    }
    const cacheKey = `${tenant}|${environment}|${q.appId}|${q.serviceName}|${q.version ?? ''}|${q.tags?.join(',') ?? ''}|${consumer?.service.appId ?? ''}`;
    return this.findCache.resolve(cacheKey, matched);
  }

  private canAccess(consumer: ServiceRecord, provider: ServiceRecord): boolean {
    if (consumer.service.appId === provider.service.appId) return true;
    if (this.isSelf(provider)) return true;
    return (provider.service.properties?.allowCrossApp ?? '').toLowerCase() === 'true';
  }

  private recordRule(rule: DependencyRule): void {
    const key = `${rule.tenant}|${rule.consumerId}|${versionKey(rule.environment, rule.appId, rule.serviceName, '')}`;
    if (this.pendingRules.has(key)) return;
    this.pendingRules.add(key);
    this.writes
      .run(async () => {
        const t = this.index.tenant(rule.tenant);
        if (!t.services.has(rule.consumerId) || t.hasRule(rule.consumerId, rule.environment, rule.appId, rule.serviceName)) return;
        await this.feed.write(async (trx, changes) => {
          await registryStore.putDependency(trx, rule);
          changes.emit('registry.dependency.put', { rule });
        });
      })
      .catch((err: unknown) => this.log.error({ err }, 'recording dependency failed'))
      .finally(() => this.pendingRules.delete(key));
  }

  // ───────────────────────── dependencies ─────────────────────────

  /** Providers the consumer depends on (S25). @throws 400012 */
  providersOf(tenant: string, consumerId: string, noSelf: boolean): MicroService[] {
    this.requireService(tenant, consumerId);
    const t = this.index.tenant(tenant);
    const out = new Map<string, MicroService>();
    for (const rule of t.rulesByConsumer.get(consumerId)?.values() ?? []) {
      for (const r of t.providersOfRule(rule)) if (!(noSelf && r.service.serviceId === consumerId)) out.set(r.service.serviceId, r.service);
    }
    return [...out.values()];
  }

  /** Consumers that depend on the provider (S26). @throws 400012 */
  consumersOf(tenant: string, providerId: string, noSelf: boolean): MicroService[] {
    const provider = this.requireService(tenant, providerId);
    const t = this.index.tenant(tenant);
    return [...t.consumerIdsOf(provider.service)]
      .filter((id) => !(noSelf && id === providerId))
      .map((id) => t.services.get(id)?.service)
      .filter((s): s is MicroService => s !== undefined);
  }

  /** Consumer ids whose watchers receive events of `provider`. */
  consumerIdsOf(tenant: string, provider: MicroService): Set<string> {
    return this.index.findTenant(tenant)?.consumerIdsOf(provider) ?? new Set();
  }

  /**
   * Deprecated dependency API (S27): records consumer → provider keys; providers that do
   * not exist yet are kept and resolved when they register. `replace` (PUT) drops the
   * consumer's other rules. @throws 400001 bad body; 400012 unknown consumer
   */
  async putDependencies(tenant: string, dependencies: unknown, replace: boolean): Promise<void> {
    if (!Array.isArray(dependencies) || dependencies.length === 0 || dependencies.length > 100) throw registryError('InvalidParams', 'dependencies must hold 1 to 100 entries');
    const parsed: { consumer: MicroServiceKey; providers: MicroServiceKey[] }[] = [];
    for (const d of dependencies) {
      const consumer = (d as { consumer?: MicroServiceKey })?.consumer;
      const providers = (d as { providers?: MicroServiceKey[] })?.providers;
      if (!consumer || typeof consumer.serviceName !== 'string' || !consumer.serviceName || typeof consumer.version !== 'string' || !isValidVersion(consumer.version)) {
        throw registryError('InvalidParams', 'invalid consumer key');
      }
      if (!Array.isArray(providers) || providers.length === 0) throw registryError('InvalidParams', 'providers is required');
      for (const p of providers) {
        if (!p || typeof p.serviceName !== 'string' || !p.serviceName) throw registryError('InvalidParams', 'invalid provider key');
        if (!parseVersionRule(p.version ?? '')) throw registryError('InvalidParams', `invalid provider version rule '${p.version}'`);
      }
      parsed.push({ consumer, providers });
    }
    await this.writes.run(async () => {
      const t = this.index.tenant(tenant);
      const plan: { consumerId: string; rules: DependencyRule[] }[] = [];
      for (const { consumer, providers } of parsed) {
        const env = consumer.environment ?? '';
        const consumerId = t.byKey.get(versionKey(env, consumer.appId || 'default', consumer.serviceName, consumer.version!));
        if (!consumerId) throw registryError('ServiceNotExists', `consumer ${consumer.appId}/${consumer.serviceName}/${consumer.version} does not exist`);
        plan.push({
          consumerId,
          rules: providers.map((p) => ({ tenant, consumerId, environment: p.environment ?? env, appId: p.appId || consumer.appId || 'default', serviceName: p.serviceName, versionRule: p.version ?? '' })),
        });
      }
      await this.feed.write(async (trx, changes) => {
        for (const p of plan) {
          if (replace) {
            await registryStore.deleteDependenciesOf(trx, tenant, p.consumerId);
            changes.emit('registry.dependency.cleared', { tenant, consumerId: p.consumerId });
          }
          for (const rule of p.rules) {
            await registryStore.putDependency(trx, rule);
            changes.emit('registry.dependency.put', { rule });
          }
        }
      });
    });
  }

  // ───────────────────────── tags ─────────────────────────

  /** Replaces the service's tag map (S28). @throws 400001 bad tag; 400012; 400100 */
  async setTags(tenant: string, serviceId: string, tags: unknown): Promise<void> {
    const checked = this.checkTags(tags);
    await this.writeTags(tenant, serviceId, () => checked);
  }

  /** The service's tags (S29). @throws 400012 */
  getTags(tenant: string, serviceId: string): Record<string, string> {
    return this.requireService(tenant, serviceId).tags;
  }

  /** Updates one existing tag (S30). @throws 400001; 400012; 400018 */
  async updateTag(tenant: string, serviceId: string, key: string, value: string | undefined): Promise<void> {
    if (!TAG_RE.test(key) || value === undefined || !TAG_RE.test(value)) throw registryError('InvalidParams', 'invalid tag key or value');
    await this.writeTags(tenant, serviceId, (current) => {
      if (!(key in current)) throw registryError('TagNotExists', `tag ${key} does not exist`);
      return { ...current, [key]: value };
    });
  }

  /** Deletes tags (S31); all or nothing. @throws 400001; 400012; 400018 */
  async deleteTags(tenant: string, serviceId: string, keys: string[]): Promise<void> {
    if (keys.length === 0 || keys.some((k) => !k)) throw registryError('InvalidParams', 'tag keys are required');
    await this.writeTags(tenant, serviceId, (current) => {
      const missing = keys.filter((k) => !(k in current));
      if (missing.length > 0) throw registryError('TagNotExists', `tag(s) ${missing.join(',')} do not exist`);
      const next = { ...current };
      for (const k of keys) delete next[k];
      return next;
    });
  }

  private async writeTags(tenant: string, serviceId: string, change: (current: Record<string, string>) => Record<string, string>): Promise<void> {
    await this.writes.run(async () => {
      const record = this.requireService(tenant, serviceId);
      const next = change(record.tags);
      await this.feed.write(
        async (trx, changes) => {
          await registryStore.updateServiceTags(trx, tenant, serviceId, next);
          changes.emit('registry.service.tagged', { tenant, serviceId, tags: next });
        },
        { oneStatement: true },
      );
    });
  }

  private checkTags(tags: unknown): Record<string, string> {
    if (!tags || typeof tags !== 'object' || Array.isArray(tags)) throw registryError('InvalidParams', 'tags must be an object');
    const entries = Object.entries(tags as Record<string, unknown>);
    if (entries.length > this.config.quota.tagsPerService) throw registryError('NotEnoughQuota', `no quota to add tags, limit ${this.config.quota.tagsPerService}`);
    for (const [k, v] of entries) if (!TAG_RE.test(k) || typeof v !== 'string' || !TAG_RE.test(v)) throw registryError('InvalidParams', `invalid tag '${k}'`);
    return { ...(tags as Record<string, string>) };
  }

  // ───────────────────────── internals ─────────────────────────

  private requireService(tenant: string, serviceId: string): ServiceRecord {
    const record = this.index.findTenant(tenant)?.services.get(serviceId);
    if (!record) throw registryError('ServiceNotExists', `service ${serviceId} does not exist`);
    return record;
  }

  private requireConsumer(tenant: string, consumerId: string): ServiceRecord {
    const record = this.index.findTenant(tenant)?.services.get(consumerId);
    if (!record) throw registryError('ServiceNotExists', `consumer ${consumerId} does not exist`);
    return record;
  }

  private requireInstance(tenant: string, serviceId: string, instanceId: string): { record: ServiceRecord; inst: InstanceRecord } {
    const record = this.index.findTenant(tenant)?.services.get(serviceId);
    const inst = record?.instances.get(instanceId);
    if (!record || !inst) throw registryError('InstanceNotExists', `instance ${serviceId}/${instanceId} does not exist`);
    return { record, inst };
  }

  private removeInstance(record: ServiceRecord, inst: InstanceRecord): void {
    if (record.instances.get(inst.instance.instanceId) !== inst) return;
    record.instances.delete(inst.instance.instanceId);
    this.index.tenant(record.tenant).instanceCount--;
    this.leases.forget(inst);
    this.renewed.delete(inst);
    this.index.bump(record);
    this.publishInstance(record, 'DELETE', inst.instance);
  }

  private isRegistered(r: InstanceRecord): boolean {
    return this.index.findTenant(r.tenant)?.services.get(r.instance.serviceId)?.instances.get(r.instance.instanceId) === r;
  }

  /**
   * The sweeper (every registry.leaseSweepPeriodMs). Only the leader expires. Alone, it
   * trusts its memory: an ended lease is removed at once and then deleted. With other live
   * servers, whose heartbeats reach it only as written renewals, an ended lease is checked
   * against them first (and only after two write periods, so that a renewal in flight
   * lands), and deleted only if no renewal landed since.
   */
  private expireLeases(nowMs: number): void {
    if (!this.cluster.isLeader()) return;
    // After a stall, heartbeats waiting to be read renew their leases first (stall.ts).
    if (!this.stallGuard.mayExpire()) return;
    if (this.peers > 0) {
      const graceMs = 2 * this.config.registry.leasePersistPeriodMs;
      const due = this.leases.sweep(nowMs - graceMs, (r) => this.isRegistered(r) && !this.checking.has(r));
      if (due.length > 0) void this.checkExpiry(due);
      return;
    }
    const expired = this.leases.sweep(nowMs, (r) => this.isRegistered(r));
    if (expired.length === 0) return;
    this.leaseExpiryCount += expired.length;
    for (const inst of expired) {
      const record = this.index.findTenant(inst.tenant)?.services.get(inst.instance.serviceId);
      if (record) this.removeInstance(record, inst);
    }
    this.log.info({ count: expired.length }, 'instance leases expired');
    this.writes
      .run(() =>
        this.feed.write(async (trx, changes) => {
          for (const inst of expired) {
            await registryStore.deleteInstances(trx, inst.tenant, [{ serviceId: inst.instance.serviceId, instanceId: inst.instance.instanceId }]);
            changes.emit('registry.instance.deleted', { tenant: inst.tenant, serviceId: inst.instance.serviceId, instanceId: inst.instance.instanceId, expired: true });
          }
        }),
      )
      .catch((err: unknown) => this.log.error({ err }, 'deleting expired instances failed'));
  }

  /** Expires the due leases that no written renewal extended; re-files the others. */
  private async checkExpiry(due: InstanceRecord[]): Promise<void> {
    for (const r of due) this.checking.add(r);
    try {
      const stored = await registryStore.findRenewals(this.db.kysely, due.map((r) => ({ tenant: r.tenant, serviceId: r.instance.serviceId, instanceId: r.instance.instanceId })));
      const nowMs = this.clock.now();
      const graceMs = 2 * this.config.registry.leasePersistPeriodMs;
      const expired: { inst: InstanceRecord; renewedAtMs: number }[] = [];
      for (const r of due) {
        const renewedAtMs = stored.get(`${r.tenant}|${r.instance.serviceId}|${r.instance.instanceId}`);
        if (renewedAtMs === undefined || !this.isRegistered(r)) continue;
        r.expiresAtMs = Math.max(r.expiresAtMs, renewedAtMs + r.ttlSeconds * 1000);
        if (r.expiresAtMs + graceMs > nowMs) this.leases.track(r);
        else expired.push({ inst: r, renewedAtMs });
      }
      if (expired.length === 0) return;
      const gone = await this.writes.run(() =>
        this.feed.write(async (trx, changes) => {
          let count = 0;
          for (const { inst, renewedAtMs } of expired) {
            const key = { tenant: inst.tenant, serviceId: inst.instance.serviceId, instanceId: inst.instance.instanceId };
            if (!(await registryStore.deleteInstanceIfNotRenewed(trx, key, renewedAtMs))) continue;
            changes.emit('registry.instance.deleted', { ...key, expired: true });
            count++;
          }
          return count;
        }),
      );
      // Those a renewal reached meanwhile are still registered: back in the table.
      for (const { inst } of expired) if (this.isRegistered(inst)) this.leases.track(inst);
      this.leaseExpiryCount += gone;
      if (gone > 0) this.log.info({ count: gone }, 'instance leases expired');
    } catch (err) {
      this.log.error({ err }, 'expiring instances failed');
      for (const r of due) if (this.isRegistered(r)) this.leases.track(r);
    } finally {
      for (const r of due) this.checking.delete(r);
    }
  }

  /**
   * Writes the renewals of the period (PostgreSQL): one statement for every instance
   * renewed here since the last write, with the time of its latest heartbeat.
   */
  private async persistRenewals(): Promise<void> {
    if (this.persisting || this.renewed.size === 0) return;
    this.persisting = true;
    const batch = this.renewed;
    this.renewed = new Set();
    try {
      const rows = [...batch].filter((r) => this.isRegistered(r)).map((r) => ({ tenant: r.tenant, serviceId: r.instance.serviceId, instanceId: r.instance.instanceId, renewedAtMs: r.expiresAtMs - r.ttlSeconds * 1000 }));
      if (rows.length > 0) await registryStore.writeRenewals(this.db.kysely, rows);
    } catch (err) {
      this.log.warn({ err }, 'writing heartbeats failed; retrying');
      for (const r of batch) this.renewed.add(r);
    } finally {
      this.persisting = false;
    }
  }

  /**
   * On taking the leadership (PostgreSQL): every lease as the written renewals have it, so
   * that heartbeats other servers received count.
   */
  private async refreshLeases(): Promise<void> {
    try {
      const stored = await registryStore.listRenewals(this.db.kysely);
      for (const [key, renewedAtMs] of stored) {
        const [tenant, serviceId, instanceId] = key.split('|') as [string, string, string];
        const r = this.index.findTenant(tenant)?.services.get(serviceId)?.instances.get(instanceId);
        if (!r || r.ephemeral) continue;
        const end = renewedAtMs + r.ttlSeconds * 1000;
        if (end > r.expiresAtMs) {
          this.leases.forget(r);
          r.expiresAtMs = end;
          this.leases.track(r);
        }
      }
    } catch (err) {
      this.log.error({ err }, 'reading written heartbeats failed');
    }
  }

  /**
   * Sets the live servers (membership refresh): their SERVICECENTER instances, and how the
   * leader expires — alone from memory, else checking written renewals. When a server has
   * gone, the leader first reads what it wrote.
   */
  async setLiveServers(servers: SelfServer[]): Promise<void> {
    const peers = servers.length - 1;
    if (peers < this.peers && this.cluster.isLeader()) await this.refreshLeases();
    this.peers = Math.max(0, peers);
    this.liveServers = servers;
    this.setSelfServers(servers);
  }

  private publishInstance(record: ServiceRecord, action: WatchEvent['action'], instance: MicroServiceInstance): void {
    this.bus.publish('registry.instance.changed', { tenant: record.tenant, provider: record.service, action, instance });
  }

  // ───────────────────────── changes (every server, commit order) ─────────────────────────

  /** Keeps the index current from the feed: this server's writes and every other server's. */
  private subscribeChanges(): void {
    const on = this.bus.subscribe.bind(this.bus);
    on('registry.service.created', ({ tenant, service, tags }) => {
      const t = this.index.tenant(tenant);
      const existing = t.services.get(service.serviceId);
      if (existing) {
        existing.service = service;
        this.index.bump(existing);
        return;
      }
      t.addService({ tenant, service, tags, rev: this.index.nextRev(), instances: new Map() });
    });
    on('registry.service.updated', ({ tenant, service }) => {
      const record = this.index.findTenant(tenant)?.services.get(service.serviceId);
      if (!record) return;
      record.service = service;
      this.index.bump(record);
    });
    on('registry.service.tagged', ({ tenant, serviceId, tags }) => {
      const record = this.index.findTenant(tenant)?.services.get(serviceId);
      if (!record) return;
      record.tags = tags;
      this.index.bump(record);
    });
    on('registry.service.deleted', ({ tenant, serviceId }) => {
      const t = this.index.findTenant(tenant);
      const record = t?.services.get(serviceId);
      if (!t || !record) return;
      t.removeService(record);
      for (const inst of record.instances.values()) {
        this.leases.forget(inst);
        this.renewed.delete(inst);
        this.publishInstance(record, 'DELETE', inst.instance);
      }
    });
    on('registry.instance.registered', ({ tenant, instance, ttlSeconds }) => {
      const record = this.index.findTenant(tenant)?.services.get(instance.serviceId);
      if (!record) return;
      const existing = record.instances.get(instance.instanceId);
      if (existing) {
        existing.instance = instance;
        return;
      }
      const inst: InstanceRecord = { tenant, instance, ttlSeconds, expiresAtMs: this.clock.now() + ttlSeconds * 1000 };
      record.instances.set(instance.instanceId, inst);
      this.index.tenant(tenant).instanceCount++;
      this.leases.track(inst);
      this.index.bump(record);
      this.publishInstance(record, 'CREATE', instance);
    });
    on('registry.instance.updated', ({ tenant, instance, ttlSeconds }) => {
      const record = this.index.findTenant(tenant)?.services.get(instance.serviceId);
      const inst = record?.instances.get(instance.instanceId);
      if (!record || !inst) return;
      inst.instance = instance;
      if (ttlSeconds !== undefined) inst.ttlSeconds = ttlSeconds;
      this.index.bump(record);
      this.publishInstance(record, 'UPDATE', instance);
    });
    on('registry.instance.deleted', ({ tenant, serviceId, instanceId }) => {
      const record = this.index.findTenant(tenant)?.services.get(serviceId);
      const inst = record?.instances.get(instanceId);
      if (record && inst) this.removeInstance(record, inst);
    });
    on('registry.dependency.put', ({ rule }) => this.index.tenant(rule.tenant).putRule(rule));
    on('registry.dependency.cleared', ({ tenant, consumerId }) => this.index.findTenant(tenant)?.clearRules(consumerId));
  }
}

function errorText(err: Error): string {
  const detail = (err as { detail?: string }).detail;
  return detail ? `${err.message}: ${detail}` : err.message;
}

/** Re-exported for routes. */
export type { FindResult };
export type { TenantIndex };

/** JSON with object keys sorted at every level: equal content, equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
