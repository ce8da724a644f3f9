import type { OpenStageError } from '../core/errors.js';
import { huaweiErrors } from '../core/wire/huawei.js';

/**
 * ServiceStage error codes (servicestage.md §10, D:0162) with their HTTP statuses and fixed
 * messages. Not-found on environment, application and component paths is 401
 * SVCSTG.00100401 as the real v3 API answers (§12.1), not the 404 codes the docs list;
 * codes marked INF in the spec are OpenStage's best guess.
 */
export const CasCodes = Object.freeze({
  InvalidParameter: { code: 'SVCSTG.00100400', status: 400, message: 'Invalid request parameter' },
  NotFound: { code: 'SVCSTG.00100401', status: 401, message: 'The resource does not exist' },
  AlreadyDeployed: { code: 'SVCSTG.00100402', status: 400, message: 'The resource is in use; remove what uses it first' },
  RequestNotFound: { code: 'SVCSTG.00100408', status: 404, message: 'Request not found' },
  JobIdEmpty: { code: 'SVCSTG.00100414', status: 400, message: 'Job id is empty' },
  ActionNotDefined: { code: 'SVCSTG.00100418', status: 400, message: 'Action is not defined' },
  RuntimeNotSupported: { code: 'SVCSTG.00100420', status: 400, message: 'Runtime is not supported' },
  BaseResourceEmpty: { code: 'SVCSTG.00100422', status: 400, message: 'Base resource is empty' },
  JobNotFound: { code: 'SVCSTG.00100429', status: 404, message: 'Job not found' },
  EnvironmentNameUsed: { code: 'SVCSTG.00100449', status: 400, message: 'Environment name already used' },
  ApplicationNameUsed: { code: 'SVCSTG.00100458', status: 400, message: 'Application name already used' },
  /** The v2 API's not-found codes (404, as its reference documents them; v3 answers 401 SVCSTG.00100401). */
  ApplicationNotFound: { code: 'SVCSTG.00100403', status: 404, message: 'Application not found' },
  EnvironmentNotFound: { code: 'SVCSTG.00100411', status: 404, message: 'Environment not found' },
  InstanceNotFound: { code: 'SVCSTG.00100412', status: 404, message: 'Component instance not found' },
  ArtifactsEmpty: { code: 'SVCSTG.00100425', status: 400, message: 'Instance artifacts are empty' },
  /** INF: a name clash on stacks, config groups, config files and add-ons. */
  NameUsed: { code: 'SVCSTG.00100459', status: 400, message: 'Name already used' },
  /** INF: a resource that is not on an environment/application/component path (stack, config, add-on, IaC resource); the v2 API's component not found (D:0162). */
  ResourceNotFound: { code: 'SVCSTG.00100404', status: 404, message: 'The resource does not exist' },
  /** INF: the docs list 409 for state conflicts on stacks and add-ons without a code. */
  Conflict: { code: 'SVCSTG.00100409', status: 409, message: 'The resource is in a state that does not allow this operation' },
  Internal: { code: 'SVCSTG.00100500', status: 500, message: 'Internal server error' },
} as const);

export type CasCode = keyof typeof CasCodes;

/** Creates the area's error `name` with an optional free-text detail. */
export const casError: (name: CasCode, detail?: string) => OpenStageError = huaweiErrors(CasCodes);
