import { sql } from 'kysely';
import type { Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../core/errors.js';
import type { DependencyRule, MicroService, MicroServiceInstance } from './types.js';

/**
 * Kysely queries for the registry's own tables (registry_*). No rules, no events; the
 * service calls these inside its transactions and keeps the in-memory index.
 */

/** A stored service row, decoded. */
export interface StoredService {
  tenant: string;
  service: MicroService;
  tags: Record<string, string>;
}

/** A stored instance row, decoded; ttlSeconds is the lease length in seconds. */
export interface StoredInstance {
  tenant: string;
  instance: MicroServiceInstance;
  ttlSeconds: number;
  /** Last written heartbeat (or the registration), clock milliseconds. */
  renewedAtMs: number;
}

/** The key of an instance row. */
export interface InstanceKey {
  tenant: string;
  serviceId: string;
  instanceId: string;
}

/** Inserts a service. @throws AlreadyExistsError on a key or id clash */
export async function createService(db: Executor, tenant: string, service: MicroService, tags: Record<string, string>): Promise<void> {
  try {
    await db
      .insertInto('registry_services')
      .values({
        tenant,
        service_id: service.serviceId,
        environment: service.environment ?? '',
        app_id: service.appId,
        service_name: service.serviceName,
        version: service.version,
        alias: service.alias ?? '',
        body: JSON.stringify(service),
        tags: JSON.stringify(tags),
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`service ${service.serviceId}`);
    throw err;
  }
}

/** Rewrites a service's body (properties, schemas list, modTimestamp). */
export async function updateServiceBody(db: Executor, tenant: string, service: MicroService): Promise<void> {
  await db.updateTable('registry_services').set({ body: JSON.stringify(service) }).where('tenant', '=', tenant).where('service_id', '=', service.serviceId).execute();
}

/** Replaces a service's tag map. */
export async function updateServiceTags(db: Executor, tenant: string, serviceId: string, tags: Record<string, string>): Promise<void> {
  await db.updateTable('registry_services').set({ tags: JSON.stringify(tags) }).where('tenant', '=', tenant).where('service_id', '=', serviceId).execute();
}

/** Deletes a service with its instances, schemas and the dependency rules it owns as consumer. */
export async function deleteService(db: Executor, tenant: string, serviceId: string): Promise<void> {
  await db.deleteFrom('registry_instances').where('tenant', '=', tenant).where('service_id', '=', serviceId).execute();
  await db.deleteFrom('registry_schemas').where('tenant', '=', tenant).where('service_id', '=', serviceId).execute();
  await db.deleteFrom('registry_dependencies').where('tenant', '=', tenant).where('consumer_id', '=', serviceId).execute();
  await db.deleteFrom('registry_services').where('tenant', '=', tenant).where('service_id', '=', serviceId).execute();
}

/** Every service, for rebuilding the index at start. */
export async function listAllServices(db: Executor): Promise<StoredService[]> {
  const rows = await db.selectFrom('registry_services').select(['tenant', 'body', 'tags']).execute();
  return rows.map((r) => ({ tenant: r.tenant, service: JSON.parse(r.body) as MicroService, tags: JSON.parse(r.tags) as Record<string, string> }));
}

// Schema content is stored JSON-encoded: PostgreSQL text cannot hold NUL, and a lone
// surrogate would not survive UTF-8; JSON escapes both, so read-after-write is exact.
const encodeContent = (content: string): string => JSON.stringify(content);
const decodeContent = (stored: string): string => JSON.parse(stored) as string;

/** One schema's content and summary, or undefined. */
export async function findSchema(db: Executor, tenant: string, serviceId: string, schemaId: string): Promise<{ summary: string; content: string } | undefined> {
  const row = await db
    .selectFrom('registry_schemas')
    .select(['summary', 'content'])
    .where('tenant', '=', tenant)
    .where('service_id', '=', serviceId)
    .where('schema_id', '=', schemaId)
    .executeTakeFirst();
  return row && { summary: row.summary, content: decodeContent(row.content) };
}

/** Every stored schema of a service. */
export async function listSchemas(db: Executor, tenant: string, serviceId: string): Promise<{ schemaId: string; summary: string; content: string }[]> {
  const rows = await db.selectFrom('registry_schemas').select(['schema_id', 'summary', 'content']).where('tenant', '=', tenant).where('service_id', '=', serviceId).execute();
  return rows.map((r) => ({ schemaId: r.schema_id, summary: r.summary, content: decodeContent(r.content) }));
}

/** Inserts or replaces one schema. */
export async function putSchema(db: Executor, tenant: string, serviceId: string, schemaId: string, summary: string, content: string): Promise<void> {
  await deleteSchema(db, tenant, serviceId, schemaId);
  await db.insertInto('registry_schemas').values({ tenant, service_id: serviceId, schema_id: schemaId, summary, content: encodeContent(content) }).execute();
}

/** Deletes one schema. */
export async function deleteSchema(db: Executor, tenant: string, serviceId: string, schemaId: string): Promise<void> {
  await db.deleteFrom('registry_schemas').where('tenant', '=', tenant).where('service_id', '=', serviceId).where('schema_id', '=', schemaId).execute();
}

/** Deletes every schema of a service. */
export async function deleteAllSchemas(db: Executor, tenant: string, serviceId: string): Promise<void> {
  await db.deleteFrom('registry_schemas').where('tenant', '=', tenant).where('service_id', '=', serviceId).execute();
}

/** Inserts an instance, renewed at `nowMs`. @throws AlreadyExistsError when the id is taken for that service */
export async function createInstance(db: Executor, tenant: string, instance: MicroServiceInstance, ttlSeconds: number, nowMs: number): Promise<void> {
  try {
    await db
      .insertInto('registry_instances')
      .values({ tenant, service_id: instance.serviceId, instance_id: instance.instanceId, body: JSON.stringify(instance), ttl_seconds: ttlSeconds, renewed_at_ms: nowMs })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`instance ${instance.instanceId}`);
    throw err;
  }
}

/** Rewrites an instance body (status, properties, modTimestamp; all of it on a re-registration) and, when given, its lease length. */
export async function updateInstance(db: Executor, tenant: string, instance: MicroServiceInstance, ttlSeconds?: number): Promise<void> {
  await db
    .updateTable('registry_instances')
    .set({ body: JSON.stringify(instance), ...(ttlSeconds !== undefined ? { ttl_seconds: ttlSeconds } : {}) })
    .where('tenant', '=', tenant)
    .where('service_id', '=', instance.serviceId)
    .where('instance_id', '=', instance.instanceId)
    .execute();
}

/** Deletes instances by (serviceId, instanceId) pairs of one tenant. */
export async function deleteInstances(db: Executor, tenant: string, keys: { serviceId: string; instanceId: string }[]): Promise<void> {
  for (const k of keys) {
    await db.deleteFrom('registry_instances').where('tenant', '=', tenant).where('service_id', '=', k.serviceId).where('instance_id', '=', k.instanceId).execute();
  }
}

/** Every instance, for rebuilding the index at start. */
export async function listAllInstances(db: Executor): Promise<StoredInstance[]> {
  const rows = await db.selectFrom('registry_instances').select(['tenant', 'body', 'ttl_seconds', 'renewed_at_ms']).execute();
  return rows.map((r) => ({ tenant: r.tenant, instance: JSON.parse(r.body) as MicroServiceInstance, ttlSeconds: Number(r.ttl_seconds), renewedAtMs: Number(r.renewed_at_ms) }));
}

/** Counts every stored lease as renewed at `nowMs` at the least (a cold start of the cluster). */
export async function renewAllInstances(db: Executor, nowMs: number): Promise<void> {
  await db.updateTable('registry_instances').set({ renewed_at_ms: nowMs }).where('renewed_at_ms', '<', nowMs).execute();
}

const keyOf = (tenant: string, serviceId: string, instanceId: string): string => `${tenant}|${serviceId}|${instanceId}`;

/**
 * Writes heartbeats (PostgreSQL): each instance's `renewed_at_ms` moves forward to the
 * given time, in one statement per 2,000 instances.
 */
export async function writeRenewals(db: Executor, rows: (InstanceKey & { renewedAtMs: number })[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2_000) {
    const chunk = rows.slice(i, i + 2_000);
    await sql`
      UPDATE registry_instances AS r SET renewed_at_ms = k.at
      FROM unnest(${chunk.map((c) => c.tenant)}::text[], ${chunk.map((c) => c.serviceId)}::text[], ${chunk.map((c) => c.instanceId)}::text[], ${chunk.map((c) => c.renewedAtMs)}::bigint[]) AS k(tenant, service_id, instance_id, at)
      WHERE r.tenant = k.tenant AND r.service_id = k.service_id AND r.instance_id = k.instance_id AND r.renewed_at_ms < k.at`.execute(db);
  }
}

/** Written heartbeat times of the given instances (PostgreSQL), by `tenant|serviceId|instanceId`; absent rows are left out. */
export async function findRenewals(db: Executor, keys: InstanceKey[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < keys.length; i += 2_000) {
    const chunk = keys.slice(i, i + 2_000);
    const r = await sql<{ tenant: string; service_id: string; instance_id: string; renewed_at_ms: string }>`
      SELECT r.tenant, r.service_id, r.instance_id, r.renewed_at_ms FROM registry_instances AS r
      JOIN unnest(${chunk.map((c) => c.tenant)}::text[], ${chunk.map((c) => c.serviceId)}::text[], ${chunk.map((c) => c.instanceId)}::text[]) AS k(tenant, service_id, instance_id)
      ON r.tenant = k.tenant AND r.service_id = k.service_id AND r.instance_id = k.instance_id`.execute(db);
    for (const row of r.rows) out.set(keyOf(row.tenant, row.service_id, row.instance_id), Number(row.renewed_at_ms));
  }
  return out;
}

/** Written heartbeat time of every instance, by `tenant|serviceId|instanceId`. */
export async function listRenewals(db: Executor): Promise<Map<string, number>> {
  const rows = await db.selectFrom('registry_instances').select(['tenant', 'service_id', 'instance_id', 'renewed_at_ms']).execute();
  return new Map(rows.map((r) => [keyOf(r.tenant, r.service_id, r.instance_id), Number(r.renewed_at_ms)]));
}

/** Deletes an instance whose last written heartbeat is still `renewedAtMs`. @returns false when a renewal landed (or it is gone) */
export async function deleteInstanceIfNotRenewed(db: Executor, key: InstanceKey, renewedAtMs: number): Promise<boolean> {
  const r = await db
    .deleteFrom('registry_instances')
    .where('tenant', '=', key.tenant)
    .where('service_id', '=', key.serviceId)
    .where('instance_id', '=', key.instanceId)
    .where('renewed_at_ms', '<=', renewedAtMs)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Inserts or replaces a dependency rule (one per consumer and provider name). */
export async function putDependency(db: Executor, rule: DependencyRule): Promise<void> {
  await db
    .deleteFrom('registry_dependencies')
    .where('tenant', '=', rule.tenant)
    .where('consumer_id', '=', rule.consumerId)
    .where('environment', '=', rule.environment)
    .where('app_id', '=', rule.appId)
    .where('service_name', '=', rule.serviceName)
    .execute();
  await db
    .insertInto('registry_dependencies')
    .values({ tenant: rule.tenant, consumer_id: rule.consumerId, environment: rule.environment, app_id: rule.appId, service_name: rule.serviceName, version_rule: rule.versionRule })
    .execute();
}

/** Deletes every dependency rule of a consumer. */
export async function deleteDependenciesOf(db: Executor, tenant: string, consumerId: string): Promise<void> {
  await db.deleteFrom('registry_dependencies').where('tenant', '=', tenant).where('consumer_id', '=', consumerId).execute();
}

/** Every dependency rule, for rebuilding the index at start. */
export async function listAllDependencies(db: Executor): Promise<DependencyRule[]> {
  const rows = await db.selectFrom('registry_dependencies').selectAll().execute();
  return rows.map((r) => ({ tenant: r.tenant, consumerId: r.consumer_id, environment: r.environment, appId: r.app_id, serviceName: r.service_name, versionRule: r.version_rule }));
}

/**
 * Serialises quota checks of a tenant across servers (PostgreSQL: a transaction lock taken
 * when a write comes near a quota), then counts its stored instances and services.
 */
export async function lockAndCount(db: Executor, tenant: string): Promise<{ instances: number; services: number }> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`registry/${tenant}`}))`.execute(db);
  const i = await db.selectFrom('registry_instances').select((eb) => eb.fn.countAll().as('n')).where('tenant', '=', tenant).executeTakeFirst();
  const s = await db.selectFrom('registry_services').select((eb) => eb.fn.countAll().as('n')).where('tenant', '=', tenant).executeTakeFirst();
  return { instances: Number(i?.n ?? 0), services: Number(s?.n ?? 0) };
}
