import { filterByVersionRule, parseVersionRule } from './version-rule.js';
import type { DependencyRule, InstanceRecord, MicroService, ServiceRecord } from './types.js';

/** `env/app/name` — the key services and dependency rules are grouped by. */
export const nameKey = (environment: string | undefined, appId: string, serviceName: string): string => `${environment ?? ''}/${appId}/${serviceName}`;

/** `env/app/name/version` — the unique key of a service. */
export const versionKey = (environment: string | undefined, appId: string, serviceName: string, version: string): string =>
  `${nameKey(environment, appId, serviceName)}/${version}`;

/**
 * One tenant's (`domain/project`) slice of the in-memory registry index. Maps are kept
 * current by RegistryService after each commit; nothing here touches the database.
 */
export class TenantIndex {
  /** Services by serviceId. */
  readonly services = new Map<string, ServiceRecord>();
  /** serviceId by `env/app/name/version`, and by `env/app/alias/version`. */
  readonly byKey = new Map<string, string>();
  readonly byAliasKey = new Map<string, string>();
  /** Services by `env/app/name` and by `env/app/alias` (what find looks up). */
  readonly byName = new Map<string, Set<ServiceRecord>>();
  /** Instances by `serviceId/instanceId` across services, for quota and lookups. */
  instanceCount = 0;
  /** Dependency rules by consumerId, then by provider `env/app/name`. */
  readonly rulesByConsumer = new Map<string, Map<string, DependencyRule>>();
  /** consumerIds by provider `env/app/name` of their rules. */
  readonly consumersByName = new Map<string, Set<string>>();

  constructor(readonly tenant: string) {}

  /** Adds a service record to every index. */
  addService(record: ServiceRecord): void {
    const s = record.service;
    this.services.set(s.serviceId, record);
    this.byKey.set(versionKey(s.environment, s.appId, s.serviceName, s.version), s.serviceId);
    addToSet(this.byName, nameKey(s.environment, s.appId, s.serviceName), record);
    if (s.alias) {
      this.byAliasKey.set(versionKey(s.environment, s.appId, s.alias, s.version), s.serviceId);
      addToSet(this.byName, nameKey(s.environment, s.appId, s.alias), record);
    }
  }

  /** Removes a service record (and its rules as a consumer) from every index. */
  removeService(record: ServiceRecord): void {
    const s = record.service;
    this.services.delete(s.serviceId);
    this.byKey.delete(versionKey(s.environment, s.appId, s.serviceName, s.version));
    removeFromSet(this.byName, nameKey(s.environment, s.appId, s.serviceName), record);
    if (s.alias) {
      this.byAliasKey.delete(versionKey(s.environment, s.appId, s.alias, s.version));
      removeFromSet(this.byName, nameKey(s.environment, s.appId, s.alias), record);
    }
    this.instanceCount -= record.instances.size;
    this.clearRules(s.serviceId);
  }

  /** Services whose name or alias is `serviceName` in (env, app); empty when none. */
  servicesNamed(environment: string, appId: string, serviceName: string): ServiceRecord[] {
    const set = this.byName.get(nameKey(environment, appId, serviceName));
    return set ? [...set] : [];
  }

  /** Adds or replaces a dependency rule. */
  putRule(rule: DependencyRule): void {
    const key = nameKey(rule.environment, rule.appId, rule.serviceName);
    let rules = this.rulesByConsumer.get(rule.consumerId);
    if (!rules) this.rulesByConsumer.set(rule.consumerId, (rules = new Map()));
    rules.set(key, rule);
    let consumers = this.consumersByName.get(key);
    if (!consumers) this.consumersByName.set(key, (consumers = new Set()));
    consumers.add(rule.consumerId);
  }

  /** True when the consumer already has a rule for provider (env, app, name). */
  hasRule(consumerId: string, environment: string, appId: string, serviceName: string): boolean {
    return this.rulesByConsumer.get(consumerId)?.has(nameKey(environment, appId, serviceName)) ?? false;
  }

  /** Drops every rule of a consumer. */
  clearRules(consumerId: string): void {
    const rules = this.rulesByConsumer.get(consumerId);
    if (!rules) return;
    for (const key of rules.keys()) {
      const consumers = this.consumersByName.get(key);
      consumers?.delete(consumerId);
      if (consumers?.size === 0) this.consumersByName.delete(key);
    }
    this.rulesByConsumer.delete(consumerId);
  }

  /** Services that match a rule now (a provider registered later is found later). */
  providersOfRule(rule: DependencyRule): ServiceRecord[] {
    const parsed = parseVersionRule(rule.versionRule === '0.0.0+' ? '' : rule.versionRule) ?? { kind: 'all' as const };
    return filterByVersionRule(this.servicesNamed(rule.environment, rule.appId, rule.serviceName), (r) => r.service.version, parsed);
  }

  /** Ids of the consumers whose rules match `provider` (by name or alias, and version rule). */
  consumerIdsOf(provider: MicroService): Set<string> {
    const result = new Set<string>();
    const names = [provider.serviceName, ...(provider.alias ? [provider.alias] : [])];
    for (const name of names) {
      const key = nameKey(provider.environment, provider.appId, name);
      for (const consumerId of this.consumersByName.get(key) ?? []) {
        const rule = this.rulesByConsumer.get(consumerId)?.get(key);
        if (rule && this.providersOfRule(rule).some((r) => r.service.serviceId === provider.serviceId)) result.add(consumerId);
      }
    }
    return result;
  }
}

/** The whole in-memory registry: tenants by `domain/project`. */
export class RegistryIndex {
  private readonly tenants = new Map<string, TenantIndex>();
  private seq = 0;

  /** The tenant's index, created empty on first use. */
  tenant(tenant: string): TenantIndex {
    let t = this.tenants.get(tenant);
    if (!t) this.tenants.set(tenant, (t = new TenantIndex(tenant)));
    return t;
  }

  /** The tenant's index if it has ever held anything. */
  findTenant(tenant: string): TenantIndex | undefined {
    return this.tenants.get(tenant);
  }

  /** Every tenant index (bulk operations, start-up). */
  allTenants(): IterableIterator<TenantIndex> {
    return this.tenants.values();
  }

  /** Marks a service as changed for discovery: its revision moves on. */
  bump(record: ServiceRecord): void {
    record.rev = ++this.seq;
  }

  /** A fresh revision number for a new record. */
  nextRev(): number {
    return ++this.seq;
  }
}

function addToSet(map: Map<string, Set<ServiceRecord>>, key: string, record: ServiceRecord): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(record);
}

function removeFromSet(map: Map<string, Set<ServiceRecord>>, key: string, record: ServiceRecord): void {
  const set = map.get(key);
  set?.delete(record);
  if (set?.size === 0) map.delete(key);
}

/** Shape of an instance record lookup result. */
export type { InstanceRecord };
