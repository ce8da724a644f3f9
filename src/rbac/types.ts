/**
 * Engine RBAC domain types (servicecomb.md §2). Wire field names are ServiceComb's own
 * (go-chassis/cari `rbac`); timestamps on the wire are unix seconds as strings.
 */

/** Resource types a permission can name (SC `server/service/rbac/resource.go`). */
export const RESOURCE_TYPES = ['service', 'service/schema', 'governance', 'account', 'role', 'ops', 'config'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Verbs a permission can grant; `*` grants all four. */
export const VERBS = ['get', 'create', 'update', 'delete', '*'] as const;
export type Verb = Exclude<(typeof VERBS)[number], '*'>;

/** The build-in role names; they can be neither changed nor deleted. */
export const ROLE_ADMIN = 'admin';
export const ROLE_DEVELOPER = 'developer';
/** The build-in account; it can be neither changed (except its password) nor deleted. */
export const ROOT_ACCOUNT = 'root';

/** What a route needs (servicecomb.md §2), declared as `config: { permission }` in its route table. */
export interface RoutePermission {
  resource: ResourceType;
  verb: Verb;
}

/**
 * A route's requirement: a permission; `'authenticated'` (a valid token, no permission:
 * `/v4/self-perms`, `/v4/accounts/{name}/password`); or `'public'` (the whitelist:
 * `/v4/token`, `/health`, `/version`). A route that declares nothing is refused.
 */
export type Requirement = RoutePermission | 'authenticated' | 'public';

/** The verb ServiceComb derives from an HTTP method (SC `permission.go` MethodToVerbs). */
export function verbOf(method: string): Verb {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

/** Who a verified token speaks for; set on the request as `request.rbac`. */
export interface RbacClaims {
  account: string;
  /** The account's roles at the time of the request. */
  roles: string[];
  /** The token's `domain` claim, when it has one (the config center's tenant). */
  domain?: string;
}

/** The part of an HTTP request that authorization reads (a Fastify request fits). */
export interface AuthorizableRequest {
  headers: { authorization?: string };
  rbac?: RbacClaims;
}

/**
 * Checks the request's bearer token and, for a permission, the account's roles; sets
 * `request.rbac` on success. Rejects with the ServiceComb 401xxx/403205 errors.
 * The registry and the config center take it as a plugin option and call it from an
 * `onRequest` hook with the route's `config.permission`.
 */
export type Authorize = (request: AuthorizableRequest, requirement: Requirement | undefined) => Promise<void>;

/** One resource of a permission; labels narrow it (stored, see README for enforcement). */
export interface Resource {
  type: string;
  labels?: Record<string, string>;
}

/** A permission: resources × verbs. */
export interface Permission {
  resources: Resource[];
  verbs: string[];
}

/** A role as the API returns it. */
export interface Role {
  id: string;
  name: string;
  perms: Permission[];
  /** Unix seconds. */
  createTime: string;
  updateTime: string;
}

export type AccountStatus = 'active' | 'inactive';

/** An account as the API returns it (never with its password). */
export interface Account {
  id: string;
  name: string;
  roles: string[];
  status: AccountStatus;
  /** Unix seconds. */
  createTime: string;
  updateTime: string;
}

/** A stored account: the API object plus its scrypt password hash. */
export interface AccountRecord extends Account {
  passwordHash: string;
}

/** Failed-login state of one `name::ip` key (GET /v4/account-locks). */
export interface AccountLock {
  key: string;
  /** `attempted`: failures counted, not locked yet; `banned`: logins refused until releaseAt. */
  status: 'attempted' | 'banned';
  failures: number;
  windowStartMs: number;
  releaseAtMs: number;
}

/** Feed change of RBAC: accounts or roles changed (every server drops its authorize caches). */
export interface RbacEvents {
  'rbac.accounts.changed': Record<string, never>;
  [key: string]: unknown;
}
