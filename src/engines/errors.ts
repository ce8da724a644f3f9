import type { OpenStageError } from '../core/errors.js';
import { huaweiErrors } from '../core/wire/huawei.js';

/**
 * CSE engine-management error codes (Huawei docs "CSE错误码", api-cse ErrorCode /
 * api-servicestage cse_06_0067) with their statuses and fixed messages. Engine not found
 * is 400 SVCSTG.00501116: the Terraform provider turns exactly that code into "deleted"
 * (huaweicloud/services/cse/resource_huaweicloud_cse_microservice_engine.go). Codes marked
 * INF are OpenStage's guesses (no public source names one).
 */
export const EngineCodes = Object.freeze({
  /** INF: a body or query the schema refuses. */
  InvalidParameter: { code: 'SVCSTG.00500400', status: 400, message: 'Invalid request parameter' },
  PaymentInvalid: { code: 'SVCSTG.00501103', status: 400, message: 'Engine payment is empty or is invalid' },
  FlavorInvalid: { code: 'SVCSTG.00501104', status: 400, message: 'Incorrect format of the engine instance specifications' },
  AzInvalid: { code: 'SVCSTG.00501105', status: 400, message: 'Incorrect AZ format' },
  NameUsed: { code: 'SVCSTG.00501111', status: 400, message: 'Duplicate engine instance name' },
  QuotaExceeded: { code: 'SVCSTG.00501112', status: 400, message: 'Insufficient engine instance quota' },
  EngineNotFound: { code: 'SVCSTG.00501116', status: 400, message: 'Failed to find the engine instance' },
  CannotDelete: { code: 'SVCSTG.00501117', status: 400, message: 'The engine in the current state cannot be deleted' },
  SpecTypeInvalid: { code: 'SVCSTG.00501134', status: 400, message: 'The engine type is invalid' },
  JobIdInvalid: { code: 'SVCSTG.00501152', status: 400, message: 'Incorrect task ID format' },
  JobNotFound: { code: 'SVCSTG.00501153', status: 400, message: 'No task found' },
  NameInvalid: { code: 'SVCSTG.00501201', status: 400, message: 'The name must contain 3 to 24 characters, including letters, digits and hyphens; it starts with a letter and does not end with a hyphen' },
  /** INF: authType other than RBAC / NONE, or an RBAC engine without a valid password. */
  AuthInvalid: { code: 'SVCSTG.00501202', status: 400, message: 'Invalid engine authentication settings' },
  /** INF: an RBAC token asked of an engine without security authentication, or of one not running. */
  TokenUnavailable: { code: 'SVCSTG.00501203', status: 400, message: 'The engine cannot issue an RBAC token' },
  /**
   * The built-in engine's RBAC token asked by a caller other than the IAM administrator: the
   * code and status of the IAM check's refusal (APIGW.0302), since it is one (issue #15 C1).
   */
  TokenForbidden: { code: 'APIGW.0302', status: 403, message: 'The IAM user is not authorized to access the API' },
  /** INF: unknown path under /v2/{project}/enginemgr. */
  RequestNotFound: { code: 'SVCSTG.00500404', status: 404, message: 'Request not found' },
  /** INF. */
  Internal: { code: 'SVCSTG.00500500', status: 500, message: 'Internal server error' },
} as const);

/** The engine-management error `name` with an optional detail. */
export const engineError: (name: keyof typeof EngineCodes, detail?: string) => OpenStageError = huaweiErrors(EngineCodes);
