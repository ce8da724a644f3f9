import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import { landingHtml, landingPage, type Readiness } from './service.js';

const Health = Type.Object({ status: Type.String({ description: '`ok`, or `unavailable` with the failed checks' }), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });
const Landing = Type.Object({
  name: Type.String(),
  version: Type.String(),
  apis: Type.Array(Type.Object({ name: Type.String(), root: Type.String() })),
  links: Type.Record(Type.String(), Type.String()),
});

/** GET /, /healthz, /readyz and /metrics (DESIGN.md operations row). */
export function opsRoutes(app: FastifyInstance, { metrics, readiness, version }: { metrics: Metrics; readiness: Readiness; version: string }): void {
  const tags = ['operations'];

  app.get(
    '/',
    { schema: { operationId: 'ShowLanding', summary: 'What this server is: version, API roots, console and documentation (HTML for browsers, JSON otherwise)', tags, response: { 200: Landing } } },
    async (req, reply) => {
      const page = landingPage(version);
      if ((req.headers.accept ?? '').includes('text/html')) return reply.type('text/html; charset=utf-8').send(landingHtml(page));
      return page;
    },
  );

  app.get(
    '/healthz',
    { schema: { operationId: 'ShowLiveness', summary: 'Liveness: 200 while the process serves HTTP', tags, response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { schema: { operationId: 'ShowReadiness', summary: 'Readiness: 200 when the database answers, migrations are applied and the server is not starting or stopping; 503 otherwise', tags, response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const checks = await readiness.check();
      const ok = Object.values(checks).every((v) => v === 'ok');
      return reply.code(ok ? 200 : 503).send(ok ? { status: 'ok', checks } : { status: 'unavailable', checks });
    },
  );

  app.get(
    '/metrics',
    { schema: { operationId: 'ShowMetrics', summary: 'Prometheus metrics (text exposition format 0.0.4)', tags, produces: ['text/plain'], response: { 200: Type.String() } } },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  );
}
