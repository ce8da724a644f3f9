import { serviceCombErrors } from '../core/wire/servicecomb.js';
import type { OpenStageError } from '../core/errors.js';

/**
 * Registry error codes and their fixed messages (servicecomb.md §0.1). The HTTP status is
 * always `code / 1000`.
 */
export const RegistryCodes = Object.freeze({
  InvalidParams: { code: 400001, message: 'Invalid parameter(s)' },
  Unhealthy: { code: 400002, message: 'Server is Unhealthy' },
  ServiceAlreadyExists: { code: 400010, message: 'Micro-service already exists' },
  ServiceNotExists: { code: 400012, message: 'Micro-service does not exist' },
  DeployedInstance: { code: 400013, message: 'Micro-service has deployed instance(s)' },
  SchemaNotExists: { code: 400016, message: 'Schema does not exist' },
  InstanceNotExists: { code: 400017, message: 'Instance does not exist' },
  TagNotExists: { code: 400018, message: 'Tag does not exist' },
  DependedOnConsumer: { code: 400023, message: 'Consumer(s) depends on this micro-service' },
  ServiceVersionNotExists: { code: 400026, message: 'Micro-service version does not exist' },
  NotEnoughQuota: { code: 400100, message: 'Not enough quota' },
  Forbidden: { code: 403001, message: 'Forbidden' },
  Internal: { code: 500003, message: 'Internal server error' },
  Unavailable: { code: 500011, message: 'Registry service is unavailable' },
} as const);

export type RegistryCode = keyof typeof RegistryCodes;

/** Creates the area's error `name` with an optional free-text detail (status = code / 1000). */
export const registryError: (name: RegistryCode, detail?: string) => OpenStageError = serviceCombErrors(RegistryCodes);
