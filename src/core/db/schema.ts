/**
 * Row types of every table, by area. Each table is touched only by its own area's
 * store.ts (STYLE.md §2). JSON documents are stored as text so that the same queries run
 * on SQLite and PostgreSQL.
 */
export interface RegistryServicesTable {
  /** `domain/project`. */
  tenant: string;
  service_id: string;
  environment: string;
  app_id: string;
  service_name: string;
  version: string;
  alias: string;
  /** JSON of the MicroService wire object (without tags). */
  body: string;
  /** JSON map of service tags. */
  tags: string;
}

export interface RegistrySchemasTable {
  tenant: string;
  service_id: string;
  schema_id: string;
  summary: string;
  content: string;
}

export interface RegistryInstancesTable {
  tenant: string;
  service_id: string;
  instance_id: string;
  /** JSON of the MicroServiceInstance wire object. */
  body: string;
  /** Lease length in seconds: interval × (times + 1) after clamping. */
  ttl_seconds: number;
}

export interface RegistryDependenciesTable {
  tenant: string;
  consumer_id: string;
  environment: string;
  app_id: string;
  service_name: string;
  /** Version rule of the provider key (`0.0.0+`, `latest`, `1.0.0-2.0.0`, exact or empty). */
  version_rule: string;
}

export interface Database {
  registry_services: RegistryServicesTable;
  registry_schemas: RegistrySchemasTable;
  registry_instances: RegistryInstancesTable;
  registry_dependencies: RegistryDependenciesTable;
}
