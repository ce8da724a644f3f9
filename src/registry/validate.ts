import { registryError } from './errors.js';
import { isValidVersion } from './version-rule.js';
import type { HealthCheck, MicroService, MicroServiceInstance } from './types.js';

/**
 * Field rules of the service center validators (servicecomb.md §1.1). Each check throws
 * 400001 with a detail naming the field, as the Go validator does.
 */

const NAME_RE = /^[a-zA-Z0-9]*$|^[a-zA-Z0-9][a-zA-Z0-9_\-.]*[a-zA-Z0-9]$/;
const ALIAS_RE = /^[a-zA-Z0-9_\-.:]*$/;
const SCHEMA_ID_RE = /^[a-zA-Z0-9]{1,160}$|^[a-zA-Z0-9][a-zA-Z0-9_\-.]{0,158}[a-zA-Z0-9]$/;
const PATH_RE = /^[A-Za-z0-9.,?'\\/+&%$#=~_\-@{}]*$/;
const NO_SPACE_RE = /^\S*$/;
const INSTANCE_ID_RE = /^[A-Za-z0-9_.-]*$/;
const DC_RE = /^[A-Za-z0-9_.-]+$/;
/** Tag keys and values (servicecomb.md §1.2 S28). */
export const TAG_RE = /^[a-zA-Z][a-zA-Z0-9_\-.]{0,63}$/;
/** Schema summaries. */
export const SUMMARY_RE = /^[a-zA-Z0-9]*$/;
/** Instance statuses accepted by register and the status API. */
export const INSTANCE_STATUSES = ['UP', 'DOWN', 'STARTING', 'TESTING', 'OUTOFSERVICE'] as const;
export const ENVIRONMENTS = ['', 'development', 'testing', 'acceptance', 'production'];
const MAX_INT32 = 2147483647;

const invalid = (field: string, rule: string): Error => registryError('InvalidParams', `invalid field '${field}': ${rule}`);

function checkString(value: unknown, field: string, opts: { required?: boolean; max?: number; re?: RegExp; enum?: readonly string[] }): void {
  if (value === undefined || value === null) {
    if (opts.required) throw invalid(field, 'required');
    return;
  }
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (opts.required && value.length === 0) throw invalid(field, 'required');
  if (opts.max !== undefined && value.length > opts.max) throw invalid(field, `at most ${opts.max} characters`);
  if (opts.re && !opts.re.test(value)) throw invalid(field, `must match ${opts.re.source}`);
  if (opts.enum && !opts.enum.includes(value)) throw invalid(field, `must be one of ${opts.enum.filter(Boolean).join(', ')}`);
}

function checkStringMap(value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object of strings');
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') throw invalid(`${field}.${k}`, 'must be a string');
}

/** Validates a service for create and applies the defaults of SetServiceDefaultValue. */
export function validateNewService(service: unknown, schemaQuota: number): MicroService {
  if (!service || typeof service !== 'object' || Array.isArray(service)) throw invalid('service', 'required');
  const s = service as Record<string, unknown>;
  checkString(s.serviceName, 'serviceName', { required: true, max: 128, re: NAME_RE });
  checkString(s.appId, 'appId', { max: 160, re: NAME_RE });
  checkString(s.version, 'version', { max: 64 });
  if (typeof s.version === 'string' && s.version !== '' && !isValidVersion(s.version)) throw invalid('version', 'must be 1 to 4 numbers (0-32767) separated by dots');
  checkString(s.environment, 'environment', { enum: ENVIRONMENTS });
  checkString(s.serviceId, 'serviceId', { max: 64, re: NO_SPACE_RE });
  checkString(s.description, 'description', { max: 256 });
  checkString(s.level, 'level', { enum: ['', 'FRONT', 'MIDDLE', 'BACK'] });
  checkString(s.status, 'status', { enum: ['', 'UP', 'DOWN'] });
  checkString(s.alias, 'alias', { max: 128, re: ALIAS_RE });
  checkString(s.registerBy, 'registerBy', { enum: ['', 'SDK', 'SIDECAR', 'PLATFORM'] });
  checkStringMap(s.properties, 'properties');
  checkStringMap(s.LBStrategy, 'LBStrategy');
  if (s.schemas !== undefined && s.schemas !== null) {
    if (!Array.isArray(s.schemas)) throw invalid('schemas', 'must be an array');
    if (s.schemas.length > schemaQuota) throw invalid('schemas', `at most ${schemaQuota} schemas`);
    for (const id of s.schemas) if (typeof id !== 'string' || !SCHEMA_ID_RE.test(id)) throw invalid('schemas', `each schema id must match ${SCHEMA_ID_RE.source}`);
  }
  if (s.framework !== undefined && s.framework !== null) {
    if (typeof s.framework !== 'object') throw invalid('framework', 'must be an object');
    const f = s.framework as Record<string, unknown>;
    checkString(f.name, 'framework.name', { max: 64, re: NAME_RE });
    checkString(f.version, 'framework.version', { max: 64 });
  }
  if (s.paths !== undefined && s.paths !== null) {
    if (!Array.isArray(s.paths)) throw invalid('paths', 'must be an array');
    for (const p of s.paths) {
      if (!p || typeof p !== 'object') throw invalid('paths', 'each path must be an object');
      checkString((p as Record<string, unknown>).path, 'paths.path', { re: PATH_RE });
      checkStringMap((p as Record<string, unknown>).property, 'paths.property');
    }
  }
  const result: MicroService = {
    ...(s as unknown as MicroService),
    appId: (s.appId as string | undefined) || 'default',
    version: (s.version as string | undefined) || '0.0.1',
    level: (s.level as string | undefined) || 'BACK',
    status: (s.status as string | undefined) || 'UP',
    environment: (s.environment as string | undefined) ?? '',
  };
  if (result.schemas) result.schemas = [...new Set(result.schemas)];
  delete result.providers;
  return result;
}

/** The clamping rules for leases (servicecomb.md §1.1 "Health check and lease"). */
export interface LeaseRules {
  minIntervalSeconds: number;
  minTimes: number;
  /** Server-wide TTL override in seconds; 0 = per instance. */
  ttlSeconds: number;
}

/**
 * Validates an instance for register, applies defaults and clamps the health check.
 * @returns the instance and its lease TTL in seconds (interval × (times + 1))
 */
export function validateNewInstance(instance: unknown, rules: LeaseRules): { instance: MicroServiceInstance; ttlSeconds: number } {
  if (!instance || typeof instance !== 'object' || Array.isArray(instance)) throw invalid('instance', 'required');
  const i = instance as Record<string, unknown>;
  checkString(i.instanceId, 'instanceId', { max: 64, re: INSTANCE_ID_RE });
  checkString(i.hostName, 'hostName', { required: true, max: 64, re: /\S+/ });
  checkString(i.status, 'status', { enum: ['', ...INSTANCE_STATUSES] });
  checkStringMap(i.properties, 'properties');
  if (i.endpoints !== undefined && i.endpoints !== null) {
    if (!Array.isArray(i.endpoints)) throw invalid('endpoints', 'must be an array');
    for (const e of i.endpoints) if (typeof e !== 'string' || !/\S+/.test(e)) throw invalid('endpoints', 'each endpoint must be a non-blank string');
  }
  if (i.dataCenterInfo !== undefined && i.dataCenterInfo !== null) {
    const dc = i.dataCenterInfo as Record<string, unknown>;
    if (typeof dc !== 'object') throw invalid('dataCenterInfo', 'must be an object');
    for (const f of ['name', 'region', 'availableZone']) checkString(dc[f], `dataCenterInfo.${f}`, { required: true, max: 128, re: DC_RE });
  }
  let healthCheck: HealthCheck;
  if (i.healthCheck === undefined || i.healthCheck === null) {
    healthCheck = { mode: 'push', interval: 30, times: 3 };
  } else {
    if (typeof i.healthCheck !== 'object') throw invalid('healthCheck', 'must be an object');
    const h = i.healthCheck as Record<string, unknown>;
    checkString(h.mode, 'healthCheck.mode', { required: true, enum: ['push', 'pull'] });
    checkString(h.url, 'healthCheck.url', { re: NO_SPACE_RE });
    const int = (v: unknown, field: string, min: number, max: number): number | undefined => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(field, `must be an integer from ${min} to ${max}`);
      return v;
    };
    const interval = int(h.interval, 'healthCheck.interval', 1, MAX_INT32);
    const times = int(h.times, 'healthCheck.times', 0, MAX_INT32);
    const port = int(h.port, 'healthCheck.port', 0, 65535);
    healthCheck = { ...(h as unknown as HealthCheck) };
    if (h.mode === 'pull') {
      healthCheck.interval = 30;
      healthCheck.times = 3;
    } else {
      healthCheck.interval = Math.max(interval ?? 0, rules.minIntervalSeconds);
      healthCheck.times = Math.max(times ?? 0, rules.minTimes);
    }
    if (port !== undefined) healthCheck.port = port;
  }
  const ttlSeconds = rules.ttlSeconds > 0 ? rules.ttlSeconds : healthCheck.interval! * (healthCheck.times! + 1);
  const result: MicroServiceInstance = {
    ...(i as unknown as MicroServiceInstance),
    status: (i.status as string | undefined) || 'UP',
    healthCheck,
  };
  return { instance: result, ttlSeconds };
}

/** Validates a schema id. */
export function checkSchemaId(schemaId: string): void {
  if (!SCHEMA_ID_RE.test(schemaId)) throw invalid('schemaId', `must match ${SCHEMA_ID_RE.source}`);
}

/** Validates a properties map body `{properties:{}}`. */
export function checkProperties(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object') throw invalid('properties', 'body must be an object');
  const p = (body as { properties?: unknown }).properties;
  checkStringMap(p, 'properties');
  return { ...((p as Record<string, string> | undefined) ?? {}) };
}
