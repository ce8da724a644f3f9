import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance } from 'fastify';
import { OpenStageError } from '../core/errors.js';
import { sendServiceCombError } from '../core/wire/servicecomb.js';
import { rbacError } from './errors.js';
import { accountRoutes } from './routes/account.js';
import { roleRoutes } from './routes/role.js';
import { tokenRoutes } from './routes/token.js';
import type { RbacService } from './service.js';
import type { RbacClaims, Requirement } from './types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs when RBAC is on (src/rbac/types.ts `Requirement`); absent = refused. */
    permission?: Requirement;
  }
  interface FastifyRequest {
    /** The verified caller, set by RBAC's `authorize` (decorated once in server.ts). */
    rbac?: RbacClaims;
  }
}

/** What the RBAC plugin needs from the composition root. */
export interface RbacPluginOptions {
  rbac: RbacService;
  maxBodyBytes: number;
}

/**
 * The engine RBAC area (servicecomb.md §2): `/v4/token`, `/v4/accounts…`,
 * `/v4/account-locks`, `/v4/self-perms`, `/v4/roles…`. Registered only when
 * `rbac.enabled`. Each route's permission sits in its route table and is checked by this
 * plugin's `onRequest` hook; bodies are JSON whatever the Content-Type (curl `-d` sends
 * a form type); errors use the ServiceComb wire format.
 */
export async function rbacPlugin(app: FastifyInstance, opts: RbacPluginOptions): Promise<void> {
  // No type coercion: the service center's Go decoder rejects "all" where a list is expected.
  const ajv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(rbacError('InvalidParams', 'Unmarshal error'), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | OpenStageError, request, reply) => {
    if (err instanceof OpenStageError) return sendServiceCombError(reply, err);
    if (err.validation || (err.statusCode && err.statusCode < 500)) return sendServiceCombError(reply, rbacError('InvalidParams', err.message));
    request.log.error({ err, reqId: request.id, method: request.method, url: request.routeOptions.url }, 'unexpected error');
    return sendServiceCombError(reply, rbacError('Internal'));
  });

  app.addHook('onRequest', async (request) => opts.rbac.authorize(request, request.routeOptions.config.permission));

  tokenRoutes(app, opts);
  accountRoutes(app, opts);
  roleRoutes(app, opts);
}
