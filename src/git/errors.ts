import type { OpenStageError } from '../core/errors.js';
import { huaweiErrors } from '../core/wire/huawei.js';

/**
 * Git repository access error codes (servicestage.md §9, §10, D:0162) with their HTTP statuses
 * and fixed messages. The documented codes are 0400–0403 and 0450–0452, all 400; the codes
 * marked INF are OpenStage's own for cases the docs leave open (not found, a stale `sha`,
 * the Git host's rate limit or failure).
 */
export const GitCodes = Object.freeze({
  InvalidParameter: { code: 'SVCSTG.REPO.0400', status: 400, message: 'Invalid request parameter' },
  RepoTypeNotImplemented: { code: 'SVCSTG.REPO.0401', status: 400, message: 'Repository type is not implemented' },
  OAuthInvalid: { code: 'SVCSTG.REPO.0402', status: 400, message: 'OAuth code or state is invalid' },
  AlreadyExists: { code: 'SVCSTG.REPO.0403', status: 400, message: 'The resource already exists' },
  NoAuthorization: { code: 'SVCSTG.REPO.0450', status: 400, message: 'No repository authorization (X-Repo-Auth) given' },
  AuthorizationInvalid: { code: 'SVCSTG.REPO.0451', status: 400, message: 'Repository authorization is invalid' },
  CloneUrlInvalid: { code: 'SVCSTG.REPO.0452', status: 400, message: 'Clone URL is invalid' },
  /** INF: namespace, project, ref, file, tag, hook or authorization that does not exist. */
  NotFound: { code: 'SVCSTG.REPO.0404', status: 404, message: 'The resource does not exist' },
  /** INF: file modify/delete whose `sha` is not the file's current blob. */
  ShaMismatch: { code: 'SVCSTG.REPO.0409', status: 409, message: 'The file has changed: sha does not match' },
  /** INF: the Git host refused the call for its rate limit. */
  RateLimited: { code: 'SVCSTG.REPO.0429', status: 429, message: 'The Git host rate limit is exceeded' },
  /** INF: the Git host answered with an error or could not be reached. */
  HostError: { code: 'SVCSTG.REPO.0502', status: 502, message: 'The Git host failed' },
  /** INF: a webhook delivery whose signature or token does not verify. */
  BadSignature: { code: 'SVCSTG.REPO.0453', status: 401, message: 'Webhook signature is invalid' },
  RequestNotFound: { code: 'SVCSTG.REPO.0408', status: 404, message: 'Request not found' },
  Internal: { code: 'SVCSTG.REPO.0500', status: 500, message: 'Internal server error' },
} as const);

export type GitCode = keyof typeof GitCodes;

/** Creates the area's error `name` with an optional free-text detail. */
export const gitError: (name: GitCode, detail?: string) => OpenStageError = huaweiErrors(GitCodes);
