import type { OpenStageError } from '../core/errors.js';
import { serviceCombErrors } from '../core/wire/servicecomb.js';

/**
 * Config center error codes and their fixed messages (servicecomb.md §3.1, go-chassis cari
 * config/error.go). Unlike the registry, the HTTP status is a real one: code / 1000 gives
 * 400, 403, 404, 409, 422 and 500.
 */
export const KieCodes = Object.freeze({
  InvalidParams: { code: 400001, message: 'invalid parameter(s)' },
  HealthCheck: { code: 400002, message: 'failed to check kie healthy' },
  ObserveEvent: { code: 400003, message: 'failed to observe event' },
  SkipDuplicateKv: { code: 400004, message: 'skip overriding duplicate kvs' },
  StopUpload: { code: 400005, message: 'stop overriding kvs after reaching the duplicate kv' },
  RequiredRecordId: { code: 403001, message: 'required record id' },
  RecordNotExists: { code: 404001, message: 'record does not exist' },
  RecordAlreadyExists: { code: 409001, message: 'record already exist' },
  NotEnoughQuota: { code: 422001, message: 'quota is not enough' },
  Internal: { code: 500001, message: 'internal server error' },
} as const);

export type KieCode = keyof typeof KieCodes;

/** Creates the area's error `name` with an optional free-text detail (status = code / 1000). */
export const kieError: (name: KieCode, detail?: string) => OpenStageError = serviceCombErrors(KieCodes);
