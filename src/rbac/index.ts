import type { FastifyInstance } from 'fastify';
import { serviceCombScope } from '../core/wire/servicecomb.js';
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
  serviceCombScope(app, {
    bodyLimit: opts.maxBodyBytes,
    invalid: (detail) => rbacError('InvalidParams', detail),
    internal: () => rbacError('Internal'),
  });

  app.addHook('onRequest', async (request) => opts.rbac.authorize(request, request.routeOptions.config.permission));

  tokenRoutes(app, opts);
  accountRoutes(app, opts);
  roleRoutes(app, opts);
}
