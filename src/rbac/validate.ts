import { rbacError } from './errors.js';
import { RESOURCE_TYPES, VERBS, type AccountStatus, type Permission } from './types.js';

/**
 * Field rules of the RBAC requests, with the service center's limits (SC
 * `server/service/validator/rbac_validator.go`, `pkg/validate/matcher.go`,
 * `pkg/validate/token_expiration_time_checker.go`). Every failure is 400001.
 */

/** Account and role names (and each role name of an account): SC's `nameRegex`. */
export const NAME_RE = /^[a-zA-Z0-9]*$|^[a-zA-Z0-9][a-zA-Z0-9_\-.]*[a-zA-Z0-9]$/;

/** Checks a name of 1–64 characters. @throws 400001 */
export function checkName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 64 || !NAME_RE.test(name)) {
    throw rbacError('InvalidParams', `${field} must be 1-64 characters matching ${NAME_RE.source}`);
  }
  return name;
}

/** Checks an account's role list: 1–5 names. @throws 400001 */
export function checkRoleNames(roles: unknown): string[] {
  if (!Array.isArray(roles) || roles.length < 1 || roles.length > 5) throw rbacError('InvalidParams', 'roles must list 1-5 role names');
  return roles.map((r) => checkName('roles', r));
}

/** Checks an account status: `active`, `inactive` or empty (= unchanged / active). @throws 400001 */
export function checkStatus(status: unknown): AccountStatus | undefined {
  if (status === undefined || status === '') return undefined;
  if (status === 'active' || status === 'inactive') return status;
  throw rbacError('InvalidParams', 'status must be active or inactive');
}

/**
 * The password rule: 8–32 bytes with an upper-case letter, a lower-case letter, a digit and
 * a punctuation mark or symbol; not the account name, nor the name reversed.
 * @throws 400001
 */
export function checkPassword(password: unknown, accountName: string): string {
  const ok =
    typeof password === 'string' &&
    Buffer.byteLength(password) >= 8 &&
    Buffer.byteLength(password) <= 32 &&
    /\p{Lu}/u.test(password) &&
    /\p{Ll}/u.test(password) &&
    /\p{N}/u.test(password) &&
    /[\p{P}\p{S}]/u.test(password);
  if (!ok) throw rbacError('InvalidParams', 'password must be 8-32 characters with an upper-case letter, a lower-case letter, a digit and a special character');
  if (password === accountName) throw rbacError('InvalidParams', 'account name and password MUST NOT be same');
  if ([...accountName].reverse().join('') === password) throw rbacError('InvalidParams', 'password MUST NOT be the reversed account name');
  return password;
}

/** Checks a role's permission list: known resource types, string labels, known verbs. @throws 400001 */
export function checkPerms(perms: unknown): Permission[] {
  if (perms === undefined || perms === null) return [];
  if (!Array.isArray(perms)) throw rbacError('InvalidParams', 'perms must be an array');
  return perms.map((p: unknown, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw rbacError('InvalidParams', `perms[${i}] must be an object`);
    const { resources = [], verbs = [] } = p as { resources?: unknown; verbs?: unknown };
    if (!Array.isArray(resources) || !Array.isArray(verbs)) throw rbacError('InvalidParams', `perms[${i}]: resources and verbs must be arrays`);
    for (const v of verbs) {
      if (!(VERBS as readonly unknown[]).includes(v)) throw rbacError('InvalidParams', `perms[${i}]: unknown verb ${JSON.stringify(v)}; use ${VERBS.join(', ')}`);
    }
    return {
      resources: resources.map((r: unknown) => {
        const { type, labels } = (r ?? {}) as { type?: unknown; labels?: unknown };
        if (!(RESOURCE_TYPES as readonly unknown[]).includes(type)) throw rbacError('InvalidParams', `perms[${i}]: unknown resource type ${JSON.stringify(type)}; use ${RESOURCE_TYPES.join(', ')}`);
        if (labels === undefined || labels === null) return { type: type as string };
        if (typeof labels !== 'object' || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
          throw rbacError('InvalidParams', `perms[${i}]: labels must map strings to strings`);
        }
        return Object.keys(labels).length > 0 ? { type: type as string, labels: labels as Record<string, string> } : { type: type as string };
      }),
      verbs: verbs as string[],
    };
  });
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

/** Parses a Go duration (`12h`, `1h30m`, `900s`, `1.5h`); undefined when malformed. @returns milliseconds */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  if (!DURATION_RE.test(text)) return undefined;
  const sign = text.startsWith('-') ? -1 : 1;
  let ms = 0;
  for (const [, num, unit] of text.replace(/^[-+]/, '').matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(num) * UNIT_MS[unit!]!;
  return sign * ms;
}

/** Token lifetime limits (SC TokenExpirationTimeChecker): 15 minutes to 24 hours. */
export const TOKEN_MIN_MS = 15 * 60_000;
export const TOKEN_MAX_MS = 24 * 3_600_000;

/** Checks `tokenExpirationTime`: a Go duration from 15m to 24h. @returns milliseconds @throws 400001 */
export function checkTokenExpiration(text: unknown): number {
  const ms = typeof text === 'string' ? parseGoDurationMs(text) : undefined;
  if (ms === undefined || ms < TOKEN_MIN_MS || ms > TOKEN_MAX_MS) {
    throw rbacError('InvalidParams', `tokenExpirationTime ${JSON.stringify(text)} must be a duration from 15m to 24h`);
  }
  return ms;
}
