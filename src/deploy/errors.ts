import type { OpenStageError } from '../core/errors.js';
import { huaweiErrors } from '../core/wire/huawei.js';

/**
 * Error codes of the deployment job API (servicestage.md §5, §10): the ServiceStage SVCSTG
 * codes the job endpoints answer with.
 */
export const DeployCodes = Object.freeze({
  InvalidParameter: { code: 'SVCSTG.00100400', status: 400, message: 'Invalid request parameter' },
  RequestNotFound: { code: 'SVCSTG.00100408', status: 404, message: 'Request not found' },
  JobIdEmpty: { code: 'SVCSTG.00100414', status: 400, message: 'Job id is empty' },
  ActionNotDefined: { code: 'SVCSTG.00100418', status: 400, message: 'Action is not defined' },
  /** OpenStage's (several servers): a call between servers without a valid pass (owner-call.ts). */
  Forbidden: { code: 'SVCSTG.00109403', status: 403, message: 'Forbidden' },
  JobNotFound: { code: 'SVCSTG.00100429', status: 404, message: 'Job not found' },
  Internal: { code: 'SVCSTG.00100500', status: 500, message: 'Internal server error' },
  /** OpenStage's (several servers): the server that supervises a component's replicas cannot answer now. */
  Unavailable: { code: 'SVCSTG.00100503', status: 503, message: 'Service unavailable' },
} as const);

export type DeployCode = keyof typeof DeployCodes;

/** Creates the area's error `name` with an optional free-text detail. */
export const deployError: (name: DeployCode, detail?: string) => OpenStageError = huaweiErrors(DeployCodes);
