import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import { opsRoutes } from './routes.js';
import type { Readiness } from './service.js';

/**
 * Counts every answered request in `metrics` (route pattern, method, status, latency). Added
 * on the root instance before the areas register, so it covers all of them.
 */
export function instrument(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeRequest(req.routeOptions.url ?? '', req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * Collects the OpenAPI 3 document from the route schemas registered after it (@fastify/swagger).
 * WebSocket routes and catch-all routes (smart HTTP) are left out; an operationId used by
 * several routes (the registry's v4 and legacy v3 trees share theirs) gets a numbered suffix,
 * as OpenAPI wants them unique.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  const seen = new Map<string, number>();
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'OpenStage',
        version,
        description: 'Self-hosted ServiceStage (v3), ServiceComb service center (v4), config center (Kie v1), engine RBAC, CSE engine management, Git repository access and IAM-compatible identity, on one port. Errors keep each API\'s own format.',
      },
    },
    transform: ({ schema, url, route }) => {
      const r = route as { websocket?: boolean; wsHandler?: unknown };
      const hidden = r.websocket === true || r.wsHandler !== undefined || url.includes('*');
      const s = { ...(schema ?? {}) } as Record<string, unknown>;
      if (hidden) s.hide = true;
      const id = s.operationId as string | undefined;
      if (id && !hidden) {
        const n = (seen.get(id) ?? 0) + 1;
        seen.set(id, n);
        if (n > 1) s.operationId = `${id}_${n}`;
      }
      return { schema: s, url };
    },
    // The document is built once and cached; a rebuild numbers the duplicates afresh.
    transformObject: (doc) => {
      seen.clear();
      return 'openapiObject' in doc ? doc.openapiObject : doc.swaggerObject;
    },
  });
}

/** The operations routes: landing page, health, readiness, metrics, /openapi.json and the UI at /docs. */
export async function opsPlugin(app: FastifyInstance, options: { metrics: Metrics; readiness: Readiness; version: string }): Promise<void> {
  opsRoutes(app, options);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
