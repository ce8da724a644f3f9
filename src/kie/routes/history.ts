import type { FastifyInstance } from 'fastify';
import { kieDomainOf, kieProjectOf, type KiePluginOptions } from '../index.js';
import { HistoryQuery, KvParams } from '../schemas.js';
import { parseListQuery } from '../validate.js';
import { sendKie } from './reply.js';

/** History route (servicecomb.md §3.3): `GET /revision/{kv_id}`, newest version first. */
export function historyRoutes(app: FastifyInstance, { kie }: KiePluginOptions): void {
  app.get('/revision/:kv_id', { schema: { operationId: 'GetRevisions', summary: 'Past versions of a kv', tags: ['kie'], params: KvParams, querystring: HistoryQuery } }, async (req, reply) => {
    const { kv_id } = req.params as { kv_id: string };
    const { offset, limit } = parseListQuery(req.query as { offset?: string; limit?: string });
    return sendKie(req, reply, await kie.history(kieDomainOf(req), kieProjectOf(req), kv_id, offset, limit));
  });
}
