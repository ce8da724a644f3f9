import type { CasEnvironmentTables } from './tables/cas-environment.js';
import type { CasApplicationTables } from './tables/cas-application.js';
import type { CasRuntimeStackTables } from './tables/cas-runtime-stack.js';
import type { CasConfigTables } from './tables/cas-config.js';
import type { CasAddonTables } from './tables/cas-addon.js';
import type { GitTables } from './tables/git.js';
import type { DeployTables } from './tables/deploy.js';
import type { CasComponentTables } from './tables/cas-component.js';
import type { EnginesTables } from './tables/engines.js';
import type { CasV2Tables } from './tables/cas-v2.js';
import type { CoreTables } from './tables/core.js';

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
  /** JSON-encoded content (exact for NUL and lone surrogates). */
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
  /** Last heartbeat persisted (batched, PostgreSQL only), clock milliseconds; 0 = none since registration. */
  renewed_at_ms: number | string;
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

export interface IamUsersTable {
  id: string;
  name: string;
  domain_id: string;
  domain_name: string;
  /** scrypt hash (src/core/secrets.ts). */
  password_hash: string;
  created_at_ms: number;
}

export interface IamProjectsTable {
  id: string;
  name: string;
  domain_id: string;
  created_at_ms: number;
}

export interface IamMembershipsTable {
  user_id: string;
  project_id: string;
}

export interface IamAccessKeysTable {
  access_key: string;
  user_id: string;
  /** The secret key, AES-GCM sealed with the master key. */
  secret_sealed: string;
  status: string;
  created_at_ms: number;
}

export interface IamTokensTable {
  /** SHA-256 hex of the token; the token itself is never stored. */
  digest: string;
  user_id: string;
  project_id: string;
  issued_at_ms: number;
  expires_at_ms: number;
}

/** A config center kv (servicecomb.md §3.2); unique by (domain, project, key, label_format) through its id. */
export interface KieKvsTable {
  domain: string;
  /** sha256 hex of `domain/project/key/label_format`. */
  id: string;
  project: string;
  key: string;
  /** Sorted `k=v::k2=v2`, or `none`. */
  label_format: string;
  /** JSON map of labels. */
  labels: string;
  value: string;
  value_type: string;
  status: string;
  /** The kv's `check` field. */
  checker: string;
  priority: number;
  create_revision: number | string;
  update_revision: number | string;
  /** Unix seconds. */
  create_time: number | string;
  update_time: number | string;
}

/** One past version of a kv, keyed by the revision that wrote it. */
export interface KieHistoriesTable {
  domain: string;
  kv_id: string;
  revision: number | string;
  /** JSON of the KV document as it was after that write. */
  doc: string;
}

/** The revision counter of a domain (servicecomb.md §3.1). */
export interface KieRevisionsTable {
  domain: string;
  revision: number | string;
}

/** An engine RBAC account (servicecomb.md §2); roles is a JSON array of role names. */
export interface RbacAccountsTable {
  name: string;
  id: string;
  /** scrypt hash (src/core/secrets.ts). */
  password_hash: string;
  roles: string;
  /** `active` or `inactive`. */
  status: string;
  /** bigint: PostgreSQL returns it as a string. */
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** An engine RBAC role; perms is the JSON of its Permission list. */
export interface RbacRolesTable {
  name: string;
  id: string;
  perms: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

/** Failed logins of one `account::ip` key; banned until release_at_ms once locked. */
export interface RbacLocksTable {
  lock_key: string;
  /** `attempted` or `banned`. */
  status: string;
  failures: number;
  window_start_ms: number | string;
  release_at_ms: number | string;
}

/** The token signing key pair; the private key is AES-GCM sealed with the master key. */
export interface RbacKeysTable {
  name: string;
  private_key: string;
  public_key: string;
  created_at_ms: number | string;
}

/** Every table; the ServiceStage and Git tables are declared per resource in ./tables/. */
export interface Database
  extends CasEnvironmentTables,
    CasApplicationTables,
    CasRuntimeStackTables,
    CasConfigTables,
    CasAddonTables,
    GitTables,
    DeployTables,
    CasComponentTables,
    EnginesTables,
    CasV2Tables,
    CoreTables {
  registry_services: RegistryServicesTable;
  registry_schemas: RegistrySchemasTable;
  registry_instances: RegistryInstancesTable;
  registry_dependencies: RegistryDependenciesTable;
  kie_kvs: KieKvsTable;
  kie_histories: KieHistoriesTable;
  kie_revisions: KieRevisionsTable;
  iam_users: IamUsersTable;
  iam_projects: IamProjectsTable;
  iam_memberships: IamMembershipsTable;
  iam_access_keys: IamAccessKeysTable;
  iam_tokens: IamTokensTable;
  rbac_accounts: RbacAccountsTable;
  rbac_roles: RbacRolesTable;
  rbac_locks: RbacLocksTable;
  rbac_keys: RbacKeysTable;
}
