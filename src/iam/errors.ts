import { OpenStageError } from '../core/errors.js';

/**
 * Identity errors. Failures of the gateway-level check (token, signature, project) use the
 * API Gateway codes Huawei Cloud answers with (`APIGW.0301` 401, `APIGW.0302` 403 —
 * inferred from the signing guide's error list); the area that called the check renders
 * them in its own wire format. `/v3/auth/tokens` errors use Keystone's body (routes.ts).
 */
export const IamCodes = Object.freeze({
  Unauthenticated: { code: 'APIGW.0301', status: 401, message: 'Incorrect IAM authentication information' },
  Forbidden: { code: 'APIGW.0302', status: 403, message: 'The IAM user is not authorized to access the API' },
  InvalidArgument: { code: 'IAM.0001', status: 400, message: 'Invalid parameter' },
  BadCredentials: { code: 'IAM.0101', status: 401, message: 'The username or password is wrong.' },
  /** INF code; Huawei IAM answers a locked account 401 "The account is locked." (issue #15 M4). */
  Locked: { code: 'IAM.0102', status: 401, message: 'The account is locked.' },
  NotFound: { code: 'IAM.0004', status: 404, message: 'Could not find the resource' },
  AlreadyExists: { code: 'IAM.0005', status: 409, message: 'The resource already exists' },
} as const);

export type IamCode = keyof typeof IamCodes;

/** Creates the IAM error `name` with a detail (shown after the message) and, for waits, the seconds to wait. */
export function iamError(name: IamCode, detail?: string, retryAfterSeconds?: number): OpenStageError {
  const { code, status, message } = IamCodes[name];
  const err = new OpenStageError(code, status, message, detail);
  if (retryAfterSeconds !== undefined) err.retryAfterSeconds = retryAfterSeconds;
  return err;
}
