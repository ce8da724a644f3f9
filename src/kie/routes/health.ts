import type { FastifyInstance } from 'fastify';
import { kieDomainOf, type KiePluginOptions } from '../index.js';
import { HealthQuery } from '../schemas.js';
import { sendKie } from './reply.js';

/** `GET /v1/health` (servicecomb.md §3.3): version, revision, time, kv count; empty with mode=liveness. */
export function healthRoutes(app: FastifyInstance, { kie, version }: KiePluginOptions): void {
  app.get('/v1/health', { schema: { operationId: 'HealthCheck', summary: 'Config center health', tags: ['kie'], querystring: HealthQuery } }, async (req, reply) => {
    if ((req.query as { mode?: string }).mode === 'liveness') return reply.code(200).send();
    const { revision, totalKvs, timestampSeconds } = kie.health(kieDomainOf(req));
    return sendKie(req, reply, { version, revision: String(revision), timestamp: timestampSeconds, total_kv_count: totalKvs });
  });
}
