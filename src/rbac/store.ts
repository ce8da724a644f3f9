import { sql } from 'kysely';
import type { Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../core/errors.js';
import type { AccountLock, AccountRecord, AccountStatus, Permission, Role } from './types.js';

/**
 * Kysely queries for the RBAC tables (rbac_*). No rules, no events; the service calls
 * these inside its transactions. Times are stored in milliseconds and returned on the
 * wire as unix seconds; bigint columns come back from PostgreSQL as strings.
 */

const seconds = (ms: number | string): string => String(Math.floor(Number(ms) / 1000));

/** Runs an insert; a unique-key violation becomes AlreadyExistsError naming `what`. */
async function insertUnique(what: string, insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(what);
    throw err;
  }
}

type AccountRow = { name: string; id: string; password_hash: string; roles: string; status: string; created_at_ms: number | string; updated_at_ms: number | string };

function toAccount(r: AccountRow): AccountRecord {
  return {
    id: r.id,
    name: r.name,
    roles: JSON.parse(r.roles) as string[],
    status: r.status as AccountStatus,
    createTime: seconds(r.created_at_ms),
    updateTime: seconds(r.updated_at_ms),
    passwordHash: r.password_hash,
  };
}

/** Inserts an account. @param nowMs creation time @throws AlreadyExistsError when the name is taken */
export async function createAccount(db: Executor, a: { id: string; name: string; passwordHash: string; roles: string[]; status: AccountStatus }, nowMs: number): Promise<void> {
  await insertUnique(`account ${a.name}`, () =>
    db
      .insertInto('rbac_accounts')
      .values({ name: a.name, id: a.id, password_hash: a.passwordHash, roles: JSON.stringify(a.roles), status: a.status, created_at_ms: nowMs, updated_at_ms: nowMs })
      .execute(),
  );
}

/** One account with its password hash, or undefined. */
export async function findAccount(db: Executor, name: string): Promise<AccountRecord | undefined> {
  const row = await db.selectFrom('rbac_accounts').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toAccount(row) : undefined;
}

/** Every account, by name. */
export async function listAccounts(db: Executor): Promise<AccountRecord[]> {
  return (await db.selectFrom('rbac_accounts').selectAll().orderBy('name').execute()).map(toAccount);
}

/** Number of accounts (quota). */
export async function countAccounts(db: Executor): Promise<number> {
  const row = await db.selectFrom('rbac_accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Sets an account's roles and status. */
export async function updateAccount(db: Executor, name: string, change: { roles: string[]; status: AccountStatus }, nowMs: number): Promise<void> {
  await db.updateTable('rbac_accounts').set({ roles: JSON.stringify(change.roles), status: change.status, updated_at_ms: nowMs }).where('name', '=', name).execute();
}

/** Replaces an account's password hash. */
export async function updatePassword(db: Executor, name: string, passwordHash: string, nowMs: number): Promise<void> {
  await db.updateTable('rbac_accounts').set({ password_hash: passwordHash, updated_at_ms: nowMs }).where('name', '=', name).execute();
}

/** Deletes an account. @returns true when it existed */
export async function deleteAccount(db: Executor, name: string): Promise<boolean> {
  const r = await db.deleteFrom('rbac_accounts').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

type RoleRow = { name: string; id: string; perms: string; created_at_ms: number | string; updated_at_ms: number | string };

function toRole(r: RoleRow): Role {
  return { id: r.id, name: r.name, perms: JSON.parse(r.perms) as Permission[], createTime: seconds(r.created_at_ms), updateTime: seconds(r.updated_at_ms) };
}

/** Inserts a role. @throws AlreadyExistsError when the name is taken */
export async function createRole(db: Executor, r: { id: string; name: string; perms: Permission[] }, nowMs: number): Promise<void> {
  await insertUnique(`role ${r.name}`, () => db.insertInto('rbac_roles').values({ name: r.name, id: r.id, perms: JSON.stringify(r.perms), created_at_ms: nowMs, updated_at_ms: nowMs }).execute());
}

/** One role, or undefined. */
export async function findRole(db: Executor, name: string): Promise<Role | undefined> {
  const row = await db.selectFrom('rbac_roles').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toRole(row) : undefined;
}

/** The roles among `names` that exist. */
export async function findRoles(db: Executor, names: string[]): Promise<Role[]> {
  if (names.length === 0) return [];
  return (await db.selectFrom('rbac_roles').selectAll().where('name', 'in', names).execute()).map(toRole);
}

/** Every role, by name. */
export async function listRoles(db: Executor): Promise<Role[]> {
  return (await db.selectFrom('rbac_roles').selectAll().orderBy('name').execute()).map(toRole);
}

/** Number of roles (quota). */
export async function countRoles(db: Executor): Promise<number> {
  const row = await db.selectFrom('rbac_roles').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Replaces a role's permissions. */
export async function updateRolePerms(db: Executor, name: string, perms: Permission[], nowMs: number): Promise<void> {
  await db.updateTable('rbac_roles').set({ perms: JSON.stringify(perms), updated_at_ms: nowMs }).where('name', '=', name).execute();
}

/** Deletes a role. */
export async function deleteRole(db: Executor, name: string): Promise<void> {
  await db.deleteFrom('rbac_roles').where('name', '=', name).execute();
}

type LockRow = { lock_key: string; status: string; failures: number; window_start_ms: number | string; release_at_ms: number | string };

function toLock(r: LockRow): AccountLock {
  return { key: r.lock_key, status: r.status as AccountLock['status'], failures: Number(r.failures), windowStartMs: Number(r.window_start_ms), releaseAtMs: Number(r.release_at_ms) };
}

/** The lock of `key` if it is still in force at `nowMs`, or undefined. */
export async function findLock(db: Executor, key: string, nowMs: number): Promise<AccountLock | undefined> {
  const row = await db.selectFrom('rbac_locks').selectAll().where('lock_key', '=', key).where('release_at_ms', '>', nowMs).executeTakeFirst();
  return row ? toLock(row) : undefined;
}

/** Inserts or replaces the lock of `lock.key`. */
export async function putLock(db: Executor, lock: AccountLock): Promise<void> {
  const values = { status: lock.status, failures: lock.failures, window_start_ms: lock.windowStartMs, release_at_ms: lock.releaseAtMs };
  await db
    .insertInto('rbac_locks')
    .values({ lock_key: lock.key, ...values })
    .onConflict((oc) => oc.column('lock_key').doUpdateSet(values))
    .execute();
}

/** Locks in force at `nowMs`, by key. */
export async function listLocks(db: Executor, nowMs: number): Promise<AccountLock[]> {
  return (await db.selectFrom('rbac_locks').selectAll().where('release_at_ms', '>', nowMs).orderBy('lock_key').execute()).map(toLock);
}

/** Deletes locks released at or before `nowMs`. @returns how many */
export async function deleteReleasedLocks(db: Executor, nowMs: number): Promise<number> {
  const r = await db.deleteFrom('rbac_locks').where('release_at_ms', '<=', nowMs).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A stored key pair: the sealed private key and the public key, both PEM. */
export interface StoredKeyPair {
  sealedPrivateKey: string;
  publicKey: string;
}

/** The key pair named `name`, or undefined. */
export async function findKeyPair(db: Executor, name: string): Promise<StoredKeyPair | undefined> {
  const row = await db.selectFrom('rbac_keys').select(['private_key', 'public_key']).where('name', '=', name).executeTakeFirst();
  return row ? { sealedPrivateKey: row.private_key, publicKey: row.public_key } : undefined;
}

/** Inserts a key pair. @throws AlreadyExistsError when another replica stored one first */
export async function createKeyPair(db: Executor, name: string, pair: StoredKeyPair, nowMs: number): Promise<void> {
  await insertUnique(`key ${name}`, () => db.insertInto('rbac_keys').values({ name, private_key: pair.sealedPrivateKey, public_key: pair.publicKey, created_at_ms: nowMs }).execute());
}

/**
 * Serialises account and role writes across servers sharing PostgreSQL (a transaction lock),
 * so quotas and "role is bound" checks read what the others committed.
 */
export async function lockAccounts(db: Executor, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(7316020)`.execute(db);
}
