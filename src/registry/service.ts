import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db/kysely.js';
import { AlreadyExistsError } from '../core/errors.js';
import { newHexId, sha1Hex } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { GroupCommit, type Settled } from '../core/group-commit.js';
import { Mutex } from '../core/mutex.js';
import { RegistryIndex, versionKey, type TenantIndex } from './cache.js';
import { FindCache, instancesJson, revisionOf, type FindResult } from './discovery.js';
import { registryError } from './errors.js';
import { LeaseTable } from './lease.js';
import { StallGuard } from './stall.js';
import * as registryStore from './store.js';
import type { DependencyRule, InstanceRecord, MicroService, MicroServiceInstance, MicroServiceKey, RegistryEvents, ServiceRecord, WatchEvent } from './types.js';
import { checkSchemaId, INSTANCE_STATUSES, SUMMARY_RE, TAG_RE, validateNewInstance, validateNewService } from './validate.js';
import { filterByVersionRule, isValidVersion, parseVersionRule } from './version-rule.js';
import { omitEmpty, unixSecondsString } from './wire.js';

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
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
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
 * validate against the in-memory index, commit in one transaction, then update the index
 * and publish events, so memory always follows commit order. Reads (find, get, list,
 * heartbeat) are served from memory.
 */
export class RegistryService {
  private readonly index = new RegistryIndex();
  private readonly writes = new Mutex();
  private readonly leases: LeaseTable;
  private readonly stallGuard: StallGuard;
  private readonly pendingRules = new Set<string>();
  private readonly epoch = newHexId();
  private readonly findCache: FindCache;
  private readonly registrations: GroupCommit<NewInstance, { instanceId: string }>;
  private stopSweeper?: () => void;
  /** Heartbeats accepted and leases expired since start (metrics). */
  private heartbeatCount = 0;
  private leaseExpiryCount = 0;
  private readonly db: Db;
  private readonly bus: Bus<RegistryEvents>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly config: Readonly<Config>;

  constructor(deps: RegistryDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.clock = deps.clock;
    this.log = deps.log.child({ area: 'registry' });
    this.config = deps.config;
    this.leases = new LeaseTable(deps.clock.now());
    this.stallGuard = new StallGuard(deps.config.registry.stallThresholdMs, deps.clock, this.log);
    this.findCache = new FindCache(deps.config.registry.findCacheEntries, this.epoch);
    this.registrations = new GroupCommit(this.writes, (items) => this.commitRegistrations(items));
  }

  // ───────────────────────── lifecycle ─────────────────────────

  /**
   * Rebuilds the index from the store and starts the lease sweeper. Every stored instance
   * gets one full TTL counted from now (pitfalls.md "Restart after a crash").
   */
  async start(): Promise<void> {
    const now = this.clock.now();
    for (const stored of await registryStore.listAllServices(this.db.kysely)) {
      this.index.tenant(stored.tenant).addService({ tenant: stored.tenant, service: stored.service, tags: stored.tags, rev: this.index.nextRev(), instances: new Map() });
    }
    let instances = 0;
    for (const stored of await registryStore.listAllInstances(this.db.kysely)) {
      const t = this.index.tenant(stored.tenant);
      const svc = t.services.get(stored.instance.serviceId);
      if (!svc) continue;
      const record: InstanceRecord = { tenant: stored.tenant, instance: stored.instance, ttlSeconds: stored.ttlSeconds, expiresAtMs: now + stored.ttlSeconds * 1000 };
      svc.instances.set(stored.instance.instanceId, record);
      t.instanceCount++;
      this.leases.track(record);
      instances++;
    }
    for (const rule of await registryStore.listAllDependencies(this.db.kysely)) this.index.tenant(rule.tenant).putRule(rule);
    this.stallGuard.start();
    this.stopSweeper = this.clock.every(this.config.registry.leaseSweepPeriodMs, (nowMs) => this.expireLeases(nowMs));
    this.log.info({ instances }, 'registry index loaded');
  }

  /** Stops the sweeper and waits for queued writes to commit. */
  async stop(): Promise<void> {
    this.stopSweeper?.();
    this.stallGuard.stop();
    await this.writes.run(async () => undefined);
  }

  /**
   * Registers the server's own SERVICECENTER service (default/default, shared) and an
   * in-memory instance with `endpoints` (e.g. `rest://127.0.0.1:30100`), listed by /health.
   */
  async registerSelf(endpoints: string[], version: string): Promise<void> {
    const { serviceId } = await this.createService(SHARED_TENANT, {
      service: { appId: SELF_APP, serviceName: SELF_NAME, version, environment: this.config.registry.environment, level: 'BACK', status: 'UP' },
    });
    const svc = this.requireService(SHARED_TENANT, serviceId);
    const now = this.clock.now();
    const instance: MicroServiceInstance = omitEmpty({
      instanceId: sha1Hex(endpoints.join(',')).slice(0, 32),
      serviceId,
      endpoints,
      hostName: 'openstage',
      status: 'UP',
      healthCheck: { mode: 'push', interval: 30, times: 3 },
      timestamp: unixSecondsString(now),
      modTimestamp: unixSecondsString(now),
      version,
    });
    const t = this.index.tenant(SHARED_TENANT);
    if (!svc.instances.has(instance.instanceId)) {
      svc.instances.set(instance.instanceId, { tenant: SHARED_TENANT, instance, ttlSeconds: 120, expiresAtMs: Infinity, ephemeral: true });
      t.instanceCount++;
      this.index.bump(svc);
    }
  }

  /** The server's own instances (for /health). */
  selfInstances(): MicroServiceInstance[] {
    const t = this.index.findTenant(SHARED_TENANT);
    const id = t?.byKey.get(versionKey(this.config.registry.environment, SELF_APP, SELF_NAME, this.selfVersion()));
    const svc = id ? t!.services.get(id) : undefined;
    return svc ? [...svc.instances.values()].filter((r) => r.ephemeral).map((r) => r.instance) : [];
  }

  private selfVersion(): string {
    const t = this.index.findTenant(SHARED_TENANT);
    for (const r of t?.servicesNamed(this.config.registry.environment, SELF_APP, SELF_NAME) ?? []) {
      if ([...r.instances.values()].some((i) => i.ephemeral)) return r.service.version;
    }
    return '';
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
      try {
        await registryStore.createService(this.db.kysely, tenant, stored, {});
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw registryError('ServiceAlreadyExists', err.message);
        throw err;
      }
      t.addService({ tenant, service: stored, tags: {}, rev: this.index.nextRev(), instances: new Map() });
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
      await registryStore.updateServiceBody(this.db.kysely, tenant, next);
      record.service = next;
      this.index.bump(record);
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
    await this.db.kysely.transaction().execute((trx) => registryStore.deleteService(trx, tenant, serviceId));
    t.removeService(record);
    for (const inst of record.instances.values()) this.publishInstance(record, 'DELETE', inst.instance);
    this.bus.publish('registry.service.deleted', { tenant, serviceId });
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
      const next = isNew ? omitEmpty<MicroService>({ ...record.service, schemas: [...ids, schemaId], modTimestamp: unixSecondsString(this.clock.now()) }) : record.service;
      await this.db.kysely.transaction().execute(async (trx) => {
        await registryStore.putSchema(trx, tenant, serviceId, schemaId, summary, content);
        if (isNew) await registryStore.updateServiceBody(trx, tenant, next);
      });
      record.service = next;
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
      await this.db.kysely.transaction().execute(async (trx) => {
        await registryStore.deleteAllSchemas(trx, tenant, serviceId);
        for (const i of unique) await registryStore.putSchema(trx, tenant, serviceId, i.schemaId, i.summary, i.schema);
        await registryStore.updateServiceBody(trx, tenant, next);
      });
      record.service = next;
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
      await this.db.kysely.transaction().execute(async (trx) => {
        await registryStore.deleteSchema(trx, tenant, serviceId, schemaId);
        await registryStore.updateServiceBody(trx, tenant, next);
      });
      record.service = next;
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
      this.leases.renew(existing, this.clock.now());
      return { instanceId };
    }
    await this.writes.run(async () => {
      const record = this.requireService(existing.tenant, serviceId);
      const current = record.instances.get(instanceId);
      if (!current) throw registryError('InstanceNotExists', `instance ${serviceId}/${instanceId} does not exist`);
      const next = omitEmpty<MicroServiceInstance>({ ...instance, instanceId, serviceId, version, timestamp, modTimestamp: unixSecondsString(this.clock.now()) });
      await registryStore.updateInstance(this.db.kysely, existing.tenant, next, ttlSeconds);
      current.instance = next;
      current.ttlSeconds = ttlSeconds;
      this.leases.renew(current, this.clock.now());
      this.index.bump(record);
      this.publishInstance(record, 'UPDATE', next);
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
          this.leases.renew(existing, nowMs);
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
    let committed = accepted;
    try {
      if (accepted.length === 1) await registryStore.createInstance(this.db.kysely, accepted[0]!.record.tenant, accepted[0]!.stored, accepted[0]!.ttlSeconds);
      else if (accepted.length > 1) {
        await this.db.kysely.transaction().execute(async (trx) => {
          for (const a of accepted) await registryStore.createInstance(trx, a.record.tenant, a.stored, a.ttlSeconds);
        });
      }
    } catch (batchError) {
      committed = [];
      for (const a of accepted) {
        try {
          if (accepted.length === 1) throw batchError;
          await registryStore.createInstance(this.db.kysely, a.record.tenant, a.stored, a.ttlSeconds);
          committed.push(a);
        } catch (error) {
          outcomes[a.index] = { ok: false, error: error instanceof AlreadyExistsError ? registryError('InvalidParams', error.message) : error };
        }
      }
    }
    for (const a of committed) {
      const inst: InstanceRecord = { tenant: a.record.tenant, instance: a.stored, ttlSeconds: a.ttlSeconds, expiresAtMs: nowMs + a.ttlSeconds * 1000 };
      a.record.instances.set(a.stored.instanceId, inst);
      this.index.tenant(a.record.tenant).instanceCount++;
      this.leases.track(inst);
      this.index.bump(a.record);
      this.publishInstance(a.record, 'CREATE', a.stored);
      outcomes[a.index] = { ok: true, value: { instanceId: a.stored.instanceId } };
    }
    return outcomes;
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
    return { rev: revisionOf(this.epoch, [record]), body: Buffer.from(instancesJson(visible)) };
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
    return { instance: inst.instance, rev: revisionOf(this.epoch, [record]) };
  }

  /** Deregisters an instance (S17); it is gone from the very next find and watchers get DELETE. @throws 400017 */
  async deregisterInstance(tenant: string, serviceId: string, instanceId: string): Promise<void> {
    await this.writes.run(async () => {
      const { record, inst } = this.requireInstance(tenant, serviceId, instanceId);
      await registryStore.deleteInstances(this.db.kysely, tenant, [{ serviceId, instanceId }]);
      this.removeInstance(record, inst);
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
      const { record, inst } = this.requireInstance(tenant, serviceId, instanceId);
      const next = omitEmpty(change({ ...inst.instance, modTimestamp: unixSecondsString(this.clock.now()) }));
      await registryStore.updateInstance(this.db.kysely, tenant, next);
      inst.instance = next;
      this.index.bump(record);
      this.publishInstance(record, 'UPDATE', next);
    });
  }

  /**
   * Renews an instance's lease (S20). Memory only: a restart grants every instance a full
   * TTL anyway. @throws 400017 unknown instance or wrong serviceId
   */
  heartbeat(tenant: string, serviceId: string, instanceId: string): void {
    const inst = this.index.findTenant(tenant)?.services.get(serviceId)?.instances.get(instanceId);
    if (!inst) throw registryError('InstanceNotExists', `instance ${serviceId}/${instanceId} does not exist`);
    this.leases.renew(inst, this.clock.now());
    this.heartbeatCount++;
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
      await this.db.kysely.transaction().execute(async (trx) => {
        for (const c of changed) await registryStore.updateInstance(trx, tenant, c.next);
      });
      for (const c of changed) {
        c.inst.instance = c.next;
        this.index.bump(c.record);
        this.publishInstance(c.record, 'UPDATE', c.next);
      }
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
        await registryStore.putDependency(this.db.kysely, rule);
        t.putRule(rule);
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
      await this.db.kysely.transaction().execute(async (trx) => {
        for (const p of plan) {
          if (replace) await registryStore.deleteDependenciesOf(trx, tenant, p.consumerId);
          for (const r of p.rules) await registryStore.putDependency(trx, r);
        }
      });
      for (const p of plan) {
        if (replace) t.clearRules(p.consumerId);
        for (const r of p.rules) t.putRule(r);
      }
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
      await registryStore.updateServiceTags(this.db.kysely, tenant, serviceId, next);
      record.tags = next;
      this.index.bump(record);
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
    this.index.bump(record);
    this.publishInstance(record, 'DELETE', inst.instance);
  }

  private expireLeases(nowMs: number): void {
    // After a stall, heartbeats waiting to be read renew their leases first (stall.ts).
    if (!this.stallGuard.mayExpire()) return;
    const expired = this.leases.sweep(nowMs, (r) => this.index.findTenant(r.tenant)?.services.get(r.instance.serviceId)?.instances.get(r.instance.instanceId) === r);
    if (expired.length === 0) return;
    this.leaseExpiryCount += expired.length;
    const byTenant = new Map<string, { serviceId: string; instanceId: string }[]>();
    for (const inst of expired) {
      const record = this.index.findTenant(inst.tenant)?.services.get(inst.instance.serviceId);
      if (!record) continue;
      this.removeInstance(record, inst);
      const list = byTenant.get(inst.tenant) ?? [];
      list.push({ serviceId: inst.instance.serviceId, instanceId: inst.instance.instanceId });
      byTenant.set(inst.tenant, list);
    }
    this.log.info({ count: expired.length }, 'instance leases expired');
    for (const [tenant, keys] of byTenant) {
      this.writes
        .run(() => this.db.kysely.transaction().execute((trx) => registryStore.deleteInstances(trx, tenant, keys)))
        .catch((err: unknown) => this.log.error({ err }, 'deleting expired instances failed'));
    }
  }

  private publishInstance(record: ServiceRecord, action: WatchEvent['action'], instance: MicroServiceInstance): void {
    this.bus.publish('registry.instance.changed', { tenant: record.tenant, provider: record.service, action, instance });
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
