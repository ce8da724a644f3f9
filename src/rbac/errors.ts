import type { OpenStageError } from '../core/errors.js';
import { serviceCombErrors } from '../core/wire/servicecomb.js';

/**
 * Engine RBAC error codes and their fixed messages (servicecomb.md §2; go-chassis/cari
 * `rbac/error.go`, plus the discovery codes the RBAC routes also answer with). The HTTP
 * status is always `code / 1000`.
 */
export const RbacCodes = Object.freeze({
  InvalidParams: { code: 400001, message: 'Invalid parameter(s)' },
  AccountNotExist: { code: 400200, message: 'Account not exists' },
  RoleNotExist: { code: 400201, message: 'Role not exists' },
  AccountHasInvalidRole: { code: 400202, message: 'Account has invalid role(s)' },
  AccountNoQuota: { code: 400203, message: 'No quota to create account' },
  RoleNoQuota: { code: 400204, message: 'No quota to create role' },
  RoleIsBound: { code: 400205, message: 'Role is bound to some user(s)' },
  NewPasswordBad: { code: 400206, message: 'New password is bad' },
  Unauthorized: { code: 401201, message: 'Request unauthorized' },
  UserOrPasswordWrong: { code: 401202, message: 'User name or password is wrong' },
  NoAuthHeader: { code: 401204, message: 'No authorization header' },
  TokenExpired: { code: 401205, message: 'Token is expired' },
  TokenOwnerDeleted: { code: 401206, message: 'The account that owns the token is deleted' },
  OldPasswordWrong: { code: 401207, message: 'Password is wrong' },
  Forbidden: { code: 403001, message: 'Forbidden' },
  AccountBlocked: { code: 403201, message: 'Account blocked' },
  BuildInAccount: { code: 403202, message: 'Forbid to operate build-in account(s)' },
  BuildInRole: { code: 403203, message: 'Forbid to operate build-in role(s)' },
  SelfAccount: { code: 403204, message: 'Forbid to operate your own account' },
  NoPermission: { code: 403205, message: 'No permission(s)' },
  AccountConflict: { code: 409200, message: 'account name is duplicated' },
  RoleConflict: { code: 409201, message: 'role name is duplicated' },
  Internal: { code: 500003, message: 'Internal server error' },
} as const);

export type RbacCode = keyof typeof RbacCodes;

/** Creates the area's error `name` with an optional free-text detail (status = code / 1000). */
export const rbacError: (name: RbacCode, detail?: string) => OpenStageError = serviceCombErrors(RbacCodes);
