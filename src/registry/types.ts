/**
 * Registry domain types. Wire field names are ServiceComb's own (servicecomb.md §1.1);
 * these objects are what the API returns, with empty collections omitted by toWire.
 */

/** A microservice (servicecomb.md §1.1 MicroService). Timestamps are unix seconds as strings. */
export interface MicroService {
  serviceId: string;
  appId: string;
  serviceName: string;
  version: string;
  description?: string;
  level?: string;
  schemas?: string[];
  paths?: { path: string; property?: Record<string, string> }[];
  status?: string;
  properties?: Record<string, string>;
  timestamp?: string;
  modTimestamp?: string;
  alias?: string;
  LBStrategy?: Record<string, string>;
  environment?: string;
  registerBy?: string;
  framework?: { name?: string; version?: string };
  providers?: MicroServiceKey[];
}

/** Identity of a service as used by dependencies and watch events. */
export interface MicroServiceKey {
  tenant?: string;
  environment?: string;
  appId: string;
  serviceName: string;
  alias?: string;
  version?: string;
}

/** Health check settings; interval in seconds, times = missed heartbeats tolerated. */
export interface HealthCheck {
  mode: string;
  port?: number;
  interval?: number;
  times?: number;
  url?: string;
}

/** A microservice instance (servicecomb.md §1.1 MicroServiceInstance). */
export interface MicroServiceInstance {
  instanceId: string;
  serviceId: string;
  endpoints?: string[];
  hostName: string;
  status?: string;
  properties?: Record<string, string>;
  healthCheck?: HealthCheck;
  timestamp?: string;
  modTimestamp?: string;
  version?: string;
  dataCenterInfo?: { name: string; region: string; availableZone: string };
}

/** In-memory record of a service: the wire object plus its tags and find revision. */
export interface ServiceRecord {
  tenant: string;
  service: MicroService;
  tags: Record<string, string>;
  /** Bumped (from a process-wide sequence) whenever anything a find can see changes. */
  rev: number;
  /** Instances by instanceId. */
  instances: Map<string, InstanceRecord>;
  /** Content hash of the instances as of `rev` (discovery.ts), computed when first asked. */
  digest?: { rev: number; hex: string };
}

/** In-memory record of an instance with its lease. */
export interface InstanceRecord {
  tenant: string;
  instance: MicroServiceInstance;
  /** Lease length in seconds. */
  ttlSeconds: number;
  /** When the lease ends, milliseconds since the epoch (clock time). */
  expiresAtMs: number;
  /** The server's own SERVICECENTER instance: memory only, never expires. */
  ephemeral?: boolean;
}

/** A dependency rule: consumer → provider key with a version rule. */
export interface DependencyRule {
  tenant: string;
  consumerId: string;
  environment: string;
  appId: string;
  serviceName: string;
  versionRule: string;
}

/** Watch event pushed to consumers (servicecomb.md §1.2 S32). */
export interface WatchEvent {
  action: 'CREATE' | 'UPDATE' | 'DELETE';
  key: MicroServiceKey;
  instance: MicroServiceInstance;
}

/**
 * Bus events of the registry. The first group are the feed's changes (committed, then
 * published on every server in commit order; the index follows them); the last is derived
 * by each server from them, for its watchers.
 */
export interface RegistryEvents {
  'registry.service.created': { tenant: string; service: MicroService; tags: Record<string, string> };
  /** The body changed (properties, schema list). */
  'registry.service.updated': { tenant: string; service: MicroService };
  'registry.service.tagged': { tenant: string; serviceId: string; tags: Record<string, string> };
  /** Deleted with its instances, schemas and rules as a consumer (watch sockets of the consumer close). */
  'registry.service.deleted': { tenant: string; serviceId: string };
  'registry.instance.registered': { tenant: string; instance: MicroServiceInstance; ttlSeconds: number };
  /** Its body changed (status, properties; all of it and the lease length on a re-registration). */
  'registry.instance.updated': { tenant: string; instance: MicroServiceInstance; ttlSeconds?: number };
  /** Deregistered, or expired (`expired`). */
  'registry.instance.deleted': { tenant: string; serviceId: string; instanceId: string; expired?: boolean };
  'registry.dependency.put': { rule: DependencyRule };
  'registry.dependency.cleared': { tenant: string; consumerId: string };
  /** Derived: what watchers are sent. */
  'registry.instance.changed': { tenant: string; provider: MicroService; action: WatchEvent['action']; instance: MicroServiceInstance };
  [key: string]: unknown;
}
