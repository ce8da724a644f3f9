import { Type, type TSchema } from '@sinclair/typebox';
import { serviceCombErrorBody } from '../core/wire/servicecomb.js';
import type { BatchCreateItem } from './service.js';
import type { AccountLock, Permission, Role } from './types.js';

/**
 * TypeBox wire contract of the RBAC routes (servicecomb.md §2; go-chassis/cari `rbac`).
 * Field rules (name patterns, password strength, durations) live in validate.ts so that
 * their failures carry ServiceComb's 400001 with a useful detail; these schemas pin the
 * shapes. Responses follow Go's `omitempty`: empty lists and zero totals are left out.
 */
const Str = Type.String();
const Strs = Type.Array(Type.String());

export const AccountParams = Type.Object({ name: Str });
export const RoleParams = Type.Object({ roleName: Str });

export const LoginBody = Type.Object({ name: Type.Optional(Str), password: Type.Optional(Str), tokenExpirationTime: Type.Optional(Str) });
export const CreateAccountBody = Type.Object({ name: Type.Optional(Str), password: Type.Optional(Str), roles: Type.Optional(Strs), status: Type.Optional(Str) });
export const BatchCreateAccountsBody = Type.Object({ accounts: Type.Array(CreateAccountBody) });
export const UpdateAccountBody = Type.Object({ roles: Type.Optional(Strs), status: Type.Optional(Str) });
export const ChangePasswordBody = Type.Object({ currentPassword: Type.Optional(Str), password: Type.Optional(Str) });
export const CreateRoleBody = Type.Object({ name: Type.Optional(Str), perms: Type.Optional(Type.Array(Type.Unknown())) });
export const UpdateRoleBody = Type.Object({ perms: Type.Optional(Type.Array(Type.Unknown())) });

const ResourceWire = Type.Object({ type: Str, labels: Type.Optional(Type.Record(Type.String(), Type.String())) });
const PermissionWire = Type.Object({ resources: Type.Optional(Type.Array(ResourceWire)), verbs: Type.Optional(Strs) });
const AccountWire = Type.Object({ id: Str, name: Str, roles: Type.Optional(Strs), status: Type.Optional(Str), createTime: Type.Optional(Str), updateTime: Type.Optional(Str) });
const RoleWire = Type.Object({ id: Str, name: Str, perms: Type.Optional(Type.Array(PermissionWire)), createTime: Type.Optional(Str), updateTime: Type.Optional(Str) });

export const TokenReply = Type.Object({ token: Str });
export const AccountReply = AccountWire;
export const AccountListReply = Type.Object({ total: Type.Optional(Type.Integer()), data: Type.Optional(Type.Array(AccountWire)) });
export const RoleReply = RoleWire;
export const RoleListReply = Type.Object({ total: Type.Optional(Type.Integer()), data: Type.Optional(Type.Array(RoleWire)) });
export const SelfPermsReply = Type.Object({ perms: Type.Optional(Type.Array(PermissionWire)) });
export const LockListReply = Type.Object({
  total: Type.Integer(),
  data: Type.Array(Type.Object({ key: Str, status: Str, releaseAt: Type.Integer({ description: 'Unix seconds' }) })),
});
const ErrorReply = Type.Object({ errorCode: Str, errorMessage: Str, detail: Type.Optional(Str) });
export const BatchCreateReply = Type.Object({
  accounts: Type.Array(Type.Object({ name: Str, errorCode: Type.Optional(Str), errorMessage: Type.Optional(Str), detail: Type.Optional(Str) })),
});

/** Response schemas of a route: its success body (if any) and the ServiceComb error body for each error status. */
export function replies(ok: TSchema | undefined, ...errorStatuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  if (ok) out[200] = ok;
  for (const s of [...new Set([...errorStatuses, 500])]) out[s] = ErrorReply;
  return out;
}

function permissionToWire(p: Permission): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.resources.length > 0) out.resources = p.resources.map((r) => (r.labels && Object.keys(r.labels).length > 0 ? { type: r.type, labels: r.labels } : { type: r.type }));
  if (p.verbs.length > 0) out.verbs = p.verbs;
  return out;
}

/** A role on the wire; no perms → the field is left out. */
export function roleToWire(r: Role): Record<string, unknown> {
  const { perms, ...rest } = r;
  return perms.length > 0 ? { ...rest, perms: perms.map(permissionToWire) } : rest;
}

/** `{total, data}` of a list, or `{}` when it is empty (cari AccountResponse / RoleResponse). */
export function listToWire<T>(items: T[], toWire: (item: T) => unknown = (i) => i): { total?: number; data?: unknown[] } {
  return items.length > 0 ? { total: items.length, data: items.map(toWire) } : {};
}

/** `{perms}` of GET /v4/self-perms, `{}` when there are none. */
export function permsToWire(perms: Permission[]): { perms?: unknown[] } {
  return perms.length > 0 ? { perms: perms.map(permissionToWire) } : {};
}

/** GET /v4/account-locks: always `{total, data}`; releaseAt in unix seconds. */
export function locksToWire(locks: AccountLock[]): { total: number; data: { key: string; status: string; releaseAt: number }[] } {
  return { total: locks.length, data: locks.map((l) => ({ key: l.key, status: l.status, releaseAt: Math.floor(l.releaseAtMs / 1000) })) };
}

/** POST /v4/accounts/batch-create: `{accounts: [{name, errorCode?, errorMessage?, detail?}]}`. */
export function batchToWire(items: BatchCreateItem[]): { accounts: Record<string, unknown>[] } {
  return { accounts: items.map((i) => (i.error ? { name: i.name, ...serviceCombErrorBody(i.error) } : { name: i.name })) };
}
