import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { ConfigError, type Config } from '../core/config.js';
import type { Db, Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, OpenStageError } from '../core/errors.js';
import type { ChangeFeed } from '../core/feed.js';
import { newHexId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { Mutex } from '../core/mutex.js';
import { hashPassword, randomToken, safeEqual, verifyPassword, type SecretBox } from '../core/secrets.js';
import { rbacError } from './errors.js';
import * as rbacStore from './store.js';
import { TokenSigner, generateRsaPem, type TokenClaims } from './token.js';
import {
  RESOURCE_TYPES,
  ROLE_ADMIN,
  ROLE_DEVELOPER,
  ROOT_ACCOUNT,
  type Account,
  type AccountLock,
  type AccountStatus,
  type Authorize,
  type Permission,
  type RbacClaims,
  type RbacEvents,
  type Role,
  type RoutePermission,
} from './types.js';
import { checkName, checkPassword, checkPerms, checkRoleNames, checkStatus, checkTokenExpiration } from './validate.js';

/** Dependencies of RbacService, built in server.ts. */
export interface RbacDeps {
  db: Db;
  bus: Bus<RbacEvents>;
  /** Account and role writes go through it; every server's caches are dropped on its changes. */
  feed: ChangeFeed<RbacEvents>;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
  /** Seals the token signing key at rest. */
  secrets: SecretBox;
}

/** Name of the token signing key pair in rbac_keys. */
const SIGNING_KEY = 'token-signing';
/** How often released locks are deleted. */
const LOCK_SWEEP_PERIOD_MS = 60_000;

/** Build-in roles (SC `permission.go`): admin has everything, developer all but accounts and roles. */
const BUILD_IN_ROLES: { name: string; perms: Permission[] }[] = [
  { name: ROLE_ADMIN, perms: [{ resources: RESOURCE_TYPES.map((type) => ({ type })), verbs: ['*'] }] },
  { name: ROLE_DEVELOPER, perms: [{ resources: RESOURCE_TYPES.filter((t) => t !== 'account' && t !== 'role').map((type) => ({ type })), verbs: ['*'] }] },
];

/** Input of account creation, as the wire gives it (validated here). */
export interface CreateAccountInput {
  name?: unknown;
  password?: unknown;
  roles?: unknown;
  status?: unknown;
}

/** One line of a batch-create answer: the name and, when it failed, the ServiceComb error. */
export interface BatchCreateItem {
  name: string;
  error?: OpenStageError;
}

/**
 * Engine RBAC (servicecomb.md §2): tokens, accounts, roles, failed-login locks, and the
 * `authorize` check the registry and config center run on every request. Writes run
 * under one mutex, each in one transaction; password hashing happens before it.
 */
export class RbacService {
  private signer?: TokenSigner;
  /** Verified against when the account does not exist, so both failures cost the same. */
  private dummyHash = '';
  private readonly writes = new Mutex();
  /**
   * Hot-path caches of authorize: verified tokens (until their exp), accounts and roles by
   * name. Accounts and roles change only through this service's writes, whose feed change
   * (`rbac.accounts.changed`) clears them on every server.
   */
  private readonly verified = new Map<string, TokenClaims>();
  private readonly accountCache = new Map<string, Awaited<ReturnType<typeof rbacStore.findAccount>>>();
  private readonly roleCache = new Map<string, Awaited<ReturnType<typeof rbacStore.findRoles>>>();
  private stopSweeper?: () => void;
  private readonly db: Db;
  private readonly feed: ChangeFeed<RbacEvents>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly config: Readonly<Config>;
  private readonly secrets: SecretBox;

  constructor(deps: RbacDeps) {
    this.db = deps.db;
    this.feed = deps.feed;
    deps.bus.subscribe('rbac.accounts.changed', () => {
      this.accountCache.clear();
      this.roleCache.clear();
    });
    this.clock = deps.clock;
    this.log = deps.log.child({ area: 'rbac' });
    this.config = deps.config;
    this.secrets = deps.secrets;
  }

  // ───────────────────────── lifecycle ─────────────────────────

  /**
   * Loads (or, on the first start, generates and stores sealed) the RS512 signing key,
   * creates the build-in roles and the root account when missing, and starts the sweeper
   * of released locks.
   * @throws ConfigError when the root account is missing and rbac.rootPassword is empty or
   *   too weak, or when the signing key cannot be unsealed with this master key
   */
  async start(): Promise<void> {
    this.signer = await this.loadSigner();
    this.dummyHash = await hashPassword(randomToken(), this.config.secrets.passwordHashLog2N);
    for (const role of BUILD_IN_ROLES) {
      if (await rbacStore.findRole(this.db.kysely, role.name)) continue;
      await this.ignoreRace(() => rbacStore.createRole(this.db.kysely, { id: newHexId(), ...role }, this.clock.now()));
    }
    if (!(await rbacStore.findAccount(this.db.kysely, ROOT_ACCOUNT))) await this.createRoot();
    this.stopSweeper = this.clock.every(LOCK_SWEEP_PERIOD_MS, (nowMs) => {
      rbacStore.deleteReleasedLocks(this.db.kysely, nowMs).catch((err: unknown) => this.log.error({ err }, 'releasing account locks failed'));
    });
    this.log.info('rbac enabled');
  }

  /** Stops the lock sweeper and waits for queued writes. */
  async stop(): Promise<void> {
    this.stopSweeper?.();
    await this.writes.run(async () => undefined);
  }

  private async loadSigner(): Promise<TokenSigner> {
    let pair = await rbacStore.findKeyPair(this.db.kysely, SIGNING_KEY);
    if (!pair) {
      const { privateKeyPem, publicKeyPem } = await generateRsaPem();
      const fresh = { sealedPrivateKey: this.secrets.encrypt(privateKeyPem), publicKey: publicKeyPem };
      if (await this.ignoreRace(() => rbacStore.createKeyPair(this.db.kysely, SIGNING_KEY, fresh, this.clock.now()))) {
        pair = fresh;
        this.log.info('rbac token signing key generated');
      } else {
        pair = (await rbacStore.findKeyPair(this.db.kysely, SIGNING_KEY))!;
      }
    }
    let privateKeyPem: string;
    try {
      privateKeyPem = this.secrets.decrypt(pair.sealedPrivateKey);
    } catch {
      throw new ConfigError('the RBAC token signing key cannot be unsealed: secrets.masterKey (or <dataDir>/master.key) is not the key it was sealed with');
    }
    return new TokenSigner(privateKeyPem, pair.publicKey);
  }

  private async createRoot(): Promise<void> {
    const password = this.config.rbac.rootPassword;
    if (!password) {
      throw new ConfigError('rbac.enabled is true but the root account does not exist yet: set its password with OPENSTAGE_ROOT_PASSWORD (or rbac.rootPassword, SC_INIT_ROOT_PASSWORD)');
    }
    try {
      checkPassword(password, ROOT_ACCOUNT);
    } catch (err) {
      throw new ConfigError(`rbac.rootPassword: ${(err as OpenStageError).detail}`);
    }
    const passwordHash = await hashPassword(password, this.config.secrets.passwordHashLog2N);
    const account = { id: newHexId(), name: ROOT_ACCOUNT, passwordHash, roles: [ROLE_ADMIN], status: 'active' as const };
    if (await this.ignoreRace(() => rbacStore.createAccount(this.db.kysely, account, this.clock.now()))) this.log.info({ account: ROOT_ACCOUNT }, 'root account created');
  }

  /** Runs an insert that another replica may have done first. @returns false when it had */
  private async ignoreRace(insert: () => Promise<void>): Promise<boolean> {
    try {
      await insert();
      return true;
    } catch (err) {
      if (err instanceof AlreadyExistsError) return false;
      throw err;
    }
  }

  private get tokens(): TokenSigner {
    if (!this.signer) throw new Error('RbacService.start() was not called');
    return this.signer;
  }

  // ───────────────────────── tokens ─────────────────────────

  /**
   * POST /v4/token. Checks the lock of (name, client address), then the password; every
   * failure counts towards the lock (rbac.lockAfterFailures within rbac.lockWindowSeconds).
   * @param input.tokenExpirationTime Go duration from 15m to 24h (default rbac.tokenExpirySeconds)
   * @returns the signed JWT
   * @throws 400001 bad tokenExpirationTime; 403201 locked or inactive; 401202 unknown name or wrong password
   */
  async login(input: { name?: unknown; password?: unknown; tokenExpirationTime?: unknown }, clientIp: string): Promise<string> {
    const lifetimeMs =
      input.tokenExpirationTime === undefined || input.tokenExpirationTime === '' ? this.config.rbac.tokenExpirySeconds * 1000 : checkTokenExpiration(input.tokenExpirationTime);
    const name = typeof input.name === 'string' ? input.name : '';
    const password = typeof input.password === 'string' ? input.password : '';
    const key = lockKey(name, clientIp);
    if (await this.isLocked(key)) throw rbacError('AccountBlocked');
    const account = name ? await rbacStore.findAccount(this.db.kysely, name) : undefined;
    const matches = await verifyPassword(password, account?.passwordHash ?? this.dummyHash);
    if (!account || !matches) {
      await this.recordFailure(key);
      throw rbacError('UserOrPasswordWrong');
    }
    if (account.status === 'inactive') throw rbacError('AccountBlocked', 'account is inactive');
    return this.tokens.sign(account.name, account.roles, this.clock.now(), lifetimeMs);
  }

  /**
   * The check behind every protected route (see `Authorize`): the bearer token, its
   * account (still existing and active), then the permission against the account's
   * current roles. `admin` passes every permission. Sets `request.rbac`.
   * @throws 401204 no header; 401201 malformed header, bad token or inactive account;
   *   401205 expired; 401206 account deleted; 403205 no role grants the permission
   */
  readonly authorize: Authorize = async (request, requirement) => {
    if (requirement === 'public') return;
    const header = request.headers.authorization;
    if (!header) throw rbacError('NoAuthHeader');
    const parts = header.split(' ');
    if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'bearer' || !parts[1]) throw rbacError('Unauthorized', 'invalid auth header');
    const claims = await this.verifyCached(parts[1]);
    if (claims === 'expired') throw rbacError('TokenExpired');
    if (claims === 'invalid') throw rbacError('Unauthorized', 'invalid token');
    const account = await this.accountCached(claims.account);
    if (!account) throw rbacError('TokenOwnerDeleted', `account [${claims.account}] is deleted`);
    if (account.status === 'inactive') throw rbacError('Unauthorized', `account [${account.name}] is inactive`);
    request.rbac = { account: account.name, roles: account.roles, ...(claims.domain ? { domain: claims.domain } : {}) };
    if (requirement === 'authenticated') return;
    if (requirement === undefined) throw rbacError('NoPermission', 'the route declares no permission');
    await this.checkPermission(account.roles, requirement);
  };

  private async checkPermission(roleNames: string[], { resource, verb }: RoutePermission): Promise<void> {
    if (roleNames.includes(ROLE_ADMIN)) return;
    const key = roleNames.join('\u0000');
    let roles = this.roleCache.get(key);
    if (!roles) this.roleCache.set(key, (roles = await rbacStore.findRoles(this.db.kysely, roleNames)));
    const perms = roles.flatMap((r) => r.perms);
    if (perms.length === 0) throw rbacError('NoPermission', 'role has no any permissions');
    // A labelled resource narrows the grant to matching services; labels are not matched
    // yet, so such a grant allows nothing (src/rbac/README.md, deviations).
    const allowed = perms.some((p) => (p.verbs.includes('*') || p.verbs.includes(verb)) && p.resources.some((r) => r.type === resource && !r.labels));
    if (!allowed) throw rbacError('NoPermission', `role has no permissions[${resource}:${verb}]`);
  }

  /** GET /v4/self-perms: the permissions of the caller's roles (missing roles skipped). */
  async selfPerms(caller: RbacClaims): Promise<Permission[]> {
    const roles = new Map((await rbacStore.findRoles(this.db.kysely, caller.roles)).map((r) => [r.name, r]));
    return caller.roles.flatMap((name) => roles.get(name)?.perms ?? []);
  }

  // ───────────────────────── locks ─────────────────────────

  private async isLocked(key: string): Promise<boolean> {
    return (await rbacStore.findLock(this.db.kysely, key, this.clock.now()))?.status === 'banned';
  }

  /** Counts a failed login of `key`; the last allowed failure bans it for rbac.lockDurationSeconds. */
  private async recordFailure(key: string): Promise<void> {
    const { lockAfterFailures, lockWindowSeconds, lockDurationSeconds } = this.config.rbac;
    const banned = await this.write('locks', async (trx) => {
      const nowMs = this.clock.now();
      const lock = await rbacStore.findLock(trx, key, nowMs);
      if (lock?.status === 'banned') return false;
      const failures = (lock?.failures ?? 0) + 1;
      const windowStartMs = lock?.windowStartMs ?? nowMs;
      const ban = failures >= lockAfterFailures;
      const releaseAtMs = ban ? nowMs + lockDurationSeconds * 1000 : windowStartMs + lockWindowSeconds * 1000;
      await rbacStore.putLock(trx, { key, status: ban ? 'banned' : 'attempted', failures, windowStartMs, releaseAtMs });
      return ban;
    });
    if (banned) this.log.warn({ key, lockDurationSeconds }, 'account locked after failed logins');
  }

  /** GET /v4/account-locks: locks in force (attempted and banned). */
  async listLocks(): Promise<AccountLock[]> {
    return rbacStore.listLocks(this.db.kysely, this.clock.now());
  }

  // ───────────────────────── accounts ─────────────────────────

  /**
   * POST /v4/accounts. Status defaults to active.
   * @throws 400001 bad name, roles, password or status; 400203 quota (quota.accounts);
   *   400202 a role does not exist; 409200 the name is taken
   */
  async createAccount(input: CreateAccountInput): Promise<void> {
    const name = checkName('name', input.name);
    const roles = checkRoleNames(input.roles);
    const password = checkPassword(input.password, name);
    const status: AccountStatus = checkStatus(input.status) ?? 'active';
    const passwordHash = await hashPassword(password, this.config.secrets.passwordHashLog2N);
    await this.write('accounts', async (trx) => {
      if ((await rbacStore.countAccounts(trx)) >= this.config.quota.accounts) throw rbacError('AccountNoQuota', `quota ${this.config.quota.accounts} reached`);
      await this.checkRolesExist(trx, roles);
      try {
        await rbacStore.createAccount(trx, { id: newHexId(), name, passwordHash, roles, status }, this.clock.now());
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw rbacError('AccountConflict', `account [${name}] already exists`);
        throw err;
      }
    });
    this.log.info({ account: name, roles }, 'account created');
  }

  /**
   * POST /v4/accounts/batch-create: 1–20 accounts, each created on its own; an account
   * without a password gets a random one (an admin sets a known one later).
   * @returns one item per account, in order, with the error of those that failed
   * @throws 400001 when the list is missing, empty or longer than 20
   */
  async batchCreateAccounts(accounts: unknown): Promise<BatchCreateItem[]> {
    if (!Array.isArray(accounts) || accounts.length < 1 || accounts.length > 20) throw rbacError('InvalidParams', 'accounts must list 1-20 accounts');
    const items: BatchCreateItem[] = [];
    for (const raw of accounts as CreateAccountInput[]) {
      const input = { ...raw, password: raw?.password === undefined || raw.password === '' ? generatedPassword() : raw.password };
      const name = typeof raw?.name === 'string' ? raw.name : '';
      try {
        await this.createAccount(input);
        items.push({ name });
      } catch (err) {
        if (!(err instanceof OpenStageError)) this.log.error({ err, account: name }, 'batch account creation failed');
        items.push({ name, error: err instanceof OpenStageError ? err : rbacError('Internal') });
      }
    }
    return items;
  }

  /** GET /v4/accounts: every account, by name, without passwords. */
  async listAccounts(): Promise<Account[]> {
    return (await rbacStore.listAccounts(this.db.kysely)).map(withoutPassword);
  }

  /** GET /v4/accounts/{name}. @throws 400200 */
  async getAccount(name: string): Promise<Account> {
    const account = await rbacStore.findAccount(this.db.kysely, name);
    if (!account) throw rbacError('AccountNotExist', `account [${name}] not exist`);
    return withoutPassword(account);
  }

  /**
   * PUT /v4/accounts/{name}: roles and/or status; an empty one is left as it is.
   * @throws 400001 bad roles or status, or both empty; 403202 root; 403204 the caller's own
   *   account; 400200 no such account; 400202 a role does not exist
   */
  async updateAccount(name: string, input: { roles?: unknown; status?: unknown }, caller: RbacClaims): Promise<void> {
    const roles = input.roles === undefined || input.roles === null || (Array.isArray(input.roles) && input.roles.length === 0) ? undefined : checkRoleNames(input.roles);
    const status = checkStatus(input.status);
    this.refuseProtectedAccount(name, caller);
    if (!roles && !status) throw rbacError('InvalidParams', 'status and roles cannot be empty both');
    await this.write('accounts', async (trx) => {
      const account = await rbacStore.findAccount(trx, name);
      if (!account) throw rbacError('AccountNotExist', `account [${name}] not exist`);
      if (roles) await this.checkRolesExist(trx, roles);
      await rbacStore.updateAccount(trx, name, { roles: roles ?? account.roles, status: status ?? account.status }, this.clock.now());
    });
    this.log.info({ account: name, roles, status }, 'account updated');
  }

  /** DELETE /v4/accounts/{name}. @throws 403202 root; 403204 the caller's own account; 400200 */
  async deleteAccount(name: string, caller: RbacClaims): Promise<void> {
    this.refuseProtectedAccount(name, caller);
    const deleted = await this.write('accounts', (trx) => rbacStore.deleteAccount(trx, name));
    if (!deleted) throw rbacError('AccountNotExist', `account [${name}] not exist`);
    this.log.info({ account: name }, 'account deleted');
  }

  /**
   * POST /v4/accounts/{name}/password. The caller's own password needs currentPassword
   * (a wrong one counts towards the lock, as a failed login does); an admin sets anyone
   * else's without it.
   * @throws 400001 bad new password or no currentPassword; 403201 locked; 400206 new equals
   *   current; 401207 current is wrong; 400200 no such account; 403001 not the caller's own
   *   account and the caller is no admin
   */
  async changePassword(name: string, input: { currentPassword?: unknown; password?: unknown }, caller: RbacClaims, clientIp: string): Promise<void> {
    checkName('name', name);
    const password = checkPassword(input.password, name);
    if (caller.account === name) {
      const current = input.currentPassword;
      if (typeof current !== 'string' || current === '') throw rbacError('InvalidParams', 'current password should not be empty');
      const key = lockKey(name, clientIp);
      if (await this.isLocked(key)) throw rbacError('AccountBlocked');
      if (safeEqual(current, password)) throw rbacError('NewPasswordBad', 'the password can not be same as old one');
      const account = await rbacStore.findAccount(this.db.kysely, name);
      if (!account) throw rbacError('AccountNotExist', `account [${name}] not exist`);
      if (!(await verifyPassword(current, account.passwordHash))) {
        await this.recordFailure(key);
        throw rbacError('OldPasswordWrong');
      }
    } else if (!caller.roles.includes(ROLE_ADMIN)) {
      throw rbacError('Forbidden', 'can not change other account password');
    }
    const passwordHash = await hashPassword(password, this.config.secrets.passwordHashLog2N);
    await this.write('accounts', async (trx) => {
      if (!(await rbacStore.findAccount(trx, name))) throw rbacError('AccountNotExist', `account [${name}] not exist`);
      await rbacStore.updatePassword(trx, name, passwordHash, this.clock.now());
    });
    this.log.info({ account: name, by: caller.account }, 'account password changed');
  }

  private refuseProtectedAccount(name: string, caller: RbacClaims): void {
    if (name === ROOT_ACCOUNT) throw rbacError('BuildInAccount', 'root can not be changed');
    if (name === caller.account) throw rbacError('SelfAccount', 'you can not change your own account');
  }

  private async checkRolesExist(trx: Executor, roles: string[]): Promise<void> {
    const found = new Set((await rbacStore.findRoles(trx, roles)).map((r) => r.name));
    const missing = roles.find((r) => !found.has(r));
    if (missing !== undefined) throw rbacError('AccountHasInvalidRole', `role [${missing}] not exist`);
  }

  // ───────────────────────── roles ─────────────────────────

  /**
   * POST /v4/roles.
   * @throws 400001 bad name or perms (unknown resource type or verb); 400204 quota
   *   (quota.roles, build-in roles included); 409201 the name is taken
   */
  async createRole(input: { name?: unknown; perms?: unknown }): Promise<void> {
    const name = checkName('name', input.name);
    const perms = checkPerms(input.perms);
    await this.write('accounts', async (trx) => {
      if ((await rbacStore.countRoles(trx)) >= this.config.quota.roles) throw rbacError('RoleNoQuota', `quota ${this.config.quota.roles} reached`);
      try {
        await rbacStore.createRole(trx, { id: newHexId(), name, perms }, this.clock.now());
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw rbacError('RoleConflict', `role [${name}] already exists`);
        throw err;
      }
    });
    this.log.info({ role: name }, 'role created');
  }

  /** GET /v4/roles: every role, by name. */
  async listRoles(): Promise<Role[]> {
    return rbacStore.listRoles(this.db.kysely);
  }

  /** GET /v4/roles/{roleName}. @throws 400201 */
  async getRole(name: string): Promise<Role> {
    const role = await rbacStore.findRole(this.db.kysely, name);
    if (!role) throw rbacError('RoleNotExist', `role [${name}] not exist`);
    return role;
  }

  /** PUT /v4/roles/{roleName}: replaces the permissions. @throws 403203 build-in; 400001 bad perms; 400201 */
  async updateRole(name: string, input: { perms?: unknown }): Promise<void> {
    refuseBuildInRole(name);
    const perms = checkPerms(input.perms);
    await this.write('accounts', async (trx) => {
      if (!(await rbacStore.findRole(trx, name))) throw rbacError('RoleNotExist', `role [${name}] not exist`);
      await rbacStore.updateRolePerms(trx, name, perms, this.clock.now());
    });
    this.log.info({ role: name }, 'role updated');
  }

  /** DELETE /v4/roles/{roleName}. @throws 403203 build-in; 400201; 400205 an account has the role */
  async deleteRole(name: string): Promise<void> {
    refuseBuildInRole(name);
    await this.write('accounts', async (trx) => {
      if (!(await rbacStore.findRole(trx, name))) throw rbacError('RoleNotExist', `role [${name}] not exist`);
      const holder = (await rbacStore.listAccounts(trx)).find((a) => a.roles.includes(name));
      if (holder) throw rbacError('RoleIsBound', `role [${name}] is bound to account [${holder.name}]`);
      await rbacStore.deleteRole(trx, name);
    });
    this.log.info({ role: name }, 'role deleted');
  }

  /**
   * Runs `fn` in one transaction, serialised with every other RBAC write of this process;
   * a write of accounts or roles drops the authorize caches of every server.
   */
  private write<T>(what: 'accounts' | 'locks', fn: (trx: Executor) => Promise<T>): Promise<T> {
    return this.writes.run(() =>
      this.feed.write(async (trx, changes) => {
        if (what === 'accounts') await rbacStore.lockAccounts(trx, this.db.dialect);
        const result = await fn(trx);
        if (what === 'accounts') changes.emit('rbac.accounts.changed', {});
        return result;
      }),
    );
  }

  /** Verifies a token once; later calls answer from memory until the token's exp. */
  private async verifyCached(token: string): Promise<TokenClaims | 'expired' | 'invalid'> {
    const nowMs = this.clock.now();
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp * 1000 > nowMs) return hit;
      this.verified.delete(token);
      return 'expired';
    }
    const claims = await this.tokens.verify(token, nowMs);
    if (typeof claims === 'object') {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(token, claims);
    }
    return claims;
  }

  private async accountCached(name: string): Promise<Awaited<ReturnType<typeof rbacStore.findAccount>>> {
    if (this.accountCache.has(name)) return this.accountCache.get(name);
    const account = await rbacStore.findAccount(this.db.kysely, name);
    if (this.accountCache.size >= 10_000) this.accountCache.clear();
    this.accountCache.set(name, account);
    return account;
  }
}

/** The lock key of a login: account name (bounded) and client address, as SC's MakeBanKey. */
function lockKey(name: string, clientIp: string): string {
  return `${name.slice(0, 64)}::${clientIp}`;
}

function withoutPassword({ passwordHash: _hash, ...account }: Account & { passwordHash: string }): Account {
  return account;
}

function refuseBuildInRole(name: string): void {
  if (name === ROLE_ADMIN || name === ROLE_DEVELOPER) throw rbacError('BuildInRole', `role [${name}] is build-in`);
}

/** A random password that meets the password rule (batch-create without a password). */
function generatedPassword(): string {
  return `${randomToken(18)}aA1!`;
}
