import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../core/config.js';
import { OpenStageError } from '../core/errors.js';
import { parseJsonKeepingRawBody } from '../core/raw-body.js';
import { validateBodiesStrictly } from '../core/wire/huawei.js';
import { sendErrorAs } from '../core/wire/http.js';
import { iamError } from './errors.js';
import { iamAdminRoutes } from './admin-routes.js';
import { iamRoutes } from './routes.js';
import type { IamService } from './service.js';
import type { IamHooks, Principal } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the IAM check of the areas that use it. */
    principal?: Principal;
  }
}

/** The caller when `auth` is `none`: may act in every project. */
const OPEN_PRINCIPAL: Principal = {
  method: 'none',
  userId: 'local',
  userName: 'local',
  domainId: 'local',
  domainName: 'local',
  projectIds: new (class extends Set<string> {
    override has(): boolean {
      return true;
    }
  })(),
};

/**
 * The IAM check for an area (ServiceStage, Git, engine management, config import/export), as
 * two hooks that set `request.principal` or throw APIGW.0301 (401) / APIGW.0302 (403) for the
 * area's error handler to render: `onRequest` checks a token, and all of a signature but the
 * signature itself, before the body is read — a caller without credentials costs no body
 * (issue #15 H2); `preValidation` checks an AK/SK signature over the raw body. The project is
 * the route's `:project` parameter. With `auth: none` every call passes.
 */
export function iamCheck(iam: IamService, config: Readonly<Config>): IamHooks<FastifyRequest> {
  return {
    onRequest: async (request) => {
      if (config.auth === 'none') {
        request.principal = OPEN_PRINCIPAL;
        return;
      }
      const principal = await iam.authenticateHeaders({ method: request.method, url: request.raw.url ?? request.url, headers: request.headers }, projectOf(request));
      if (principal) request.principal = principal;
    },
    preValidation: async (request) => {
      if (request.principal) return;
      request.principal = await iam.authenticate(signable(request), projectOf(request));
    },
  };
}

/** The whole IAM check at once, for a handler whose body is already read (the IAM routes). */
function iamCheckInHandler(iam: IamService, config: Readonly<Config>): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    request.principal = config.auth === 'none' ? OPEN_PRINCIPAL : await iam.authenticate(signable(request), projectOf(request));
  };
}

const projectOf = (request: FastifyRequest): string | undefined => (request.params as { project?: string } | undefined)?.project;
const signable = (request: FastifyRequest) => ({ method: request.method, url: request.raw.url ?? request.url, headers: request.headers, body: request.rawBody ?? Buffer.alloc(0) });

/** Keystone error body, with Huawei's `error_code`/`error_msg` beside it for the Huawei SDKs. */
export function sendKeystoneError(reply: FastifyReply, err: OpenStageError): FastifyReply {
  return sendErrorAs(reply, 'keystone', err);
}

/** What the IAM plugin needs. */
export interface IamPluginOptions {
  iam: IamService;
  config: Readonly<Config>;
}

/**
 * IAM-compatible endpoints (Keystone v3 subset): `POST|GET|DELETE /v3/auth/tokens`,
 * `GET /v3/projects`, `GET /v3/auth/projects`, `GET /v3/projects/{project_id}`.
 */
export async function iamPlugin(app: FastifyInstance, opts: IamPluginOptions): Promise<void> {
  // Bodies are validated without type coercion ("name": 12345 is refused, issue #15 L5).
  validateBodiesStrictly(app);
  parseJsonKeepingRawBody(app, 64 * 1024, (detail) => iamError('InvalidArgument', detail ?? 'the body is not valid JSON'));
  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, request, reply) => {
    if (err instanceof OpenStageError) return sendKeystoneError(reply, err);
    if (err.validation || (err.statusCode && err.statusCode < 500)) return sendKeystoneError(reply, iamError('InvalidArgument', err.message));
    request.log.error({ err, reqId: request.id }, 'unexpected error');
    return sendKeystoneError(reply, new OpenStageError('IAM.0000', 500, 'Internal server error'));
  });
  const check = iamCheckInHandler(opts.iam, opts.config);
  iamRoutes(app, opts.iam, check);
  iamAdminRoutes(app, opts.iam, opts.config, check);
}
