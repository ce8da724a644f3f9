import type { FastifyInstance } from 'fastify';
import { kieDomainOf, kieProjectOf, type KiePluginOptions } from '../index.js';
import { CreateKvBody, DeleteKvsBody, KvParams, ListKvQuery, ProjectParams, UpdateKvBody } from '../schemas.js';
import { parseListQuery, parseRevision, parseWait, type RawListQuery } from '../validate.js';
import { sendKie, sendNoContent, wantsYaml } from './reply.js';
import { setExactCaseHeader } from '../../core/wire/servicecomb.js';

const tags = ['kie'];

/** KV routes (servicecomb.md §3.3) and the list with its long poll (§3.4). */
export function kvRoutes(app: FastifyInstance, { kie }: KiePluginOptions): void {
  app.post('/kv', { schema: { operationId: 'CreateKV', summary: 'Create a kv', tags, params: ProjectParams, body: CreateKvBody } }, async (req, reply) =>
    sendKie(req, reply, await kie.create(kieDomainOf(req), kieProjectOf(req), req.body)),
  );

  app.get('/kv/:kv_id', { schema: { operationId: 'GetKV', summary: 'Get a kv', tags, params: KvParams } }, async (req, reply) => {
    const { kv_id } = req.params as { kv_id: string };
    return sendKie(req, reply, kie.get(kieDomainOf(req), kieProjectOf(req), kv_id));
  });

  app.put('/kv/:kv_id', { schema: { operationId: 'UpdateKV', summary: 'Update the value and/or status of a kv', tags, params: KvParams, body: UpdateKvBody } }, async (req, reply) => {
    const { kv_id } = req.params as { kv_id: string };
    return sendKie(req, reply, await kie.update(kieDomainOf(req), kieProjectOf(req), kv_id, req.body));
  });

  app.delete('/kv/:kv_id', { schema: { operationId: 'DeleteKV', summary: 'Delete a kv', tags, params: KvParams } }, async (req, reply) => {
    const { kv_id } = req.params as { kv_id: string };
    await kie.delete(kieDomainOf(req), kieProjectOf(req), kv_id);
    return sendNoContent(reply);
  });

  app.delete('/kv', { schema: { operationId: 'DeleteKVs', summary: 'Delete kvs by id', tags, params: ProjectParams, body: DeleteKvsBody } }, async (req, reply) => {
    await kie.deleteMany(kieDomainOf(req), kieProjectOf(req), (req.body as { ids: unknown }).ids);
    return sendNoContent(reply);
  });

  app.get('/kv', { config: { longPoll: true }, schema: { operationId: 'ListKV', summary: 'List kvs; long poll with revision and wait', tags, params: ProjectParams, querystring: ListKvQuery } }, async (req, reply) => {
    const raw = req.query as RawListQuery & { revision?: string; wait?: string };
    const q = parseListQuery(raw);
    const revision = parseRevision(raw.revision);
    const waitMs = raw.wait ? parseWait(raw.wait) : undefined;
    const domain = kieDomainOf(req);
    const project = kieProjectOf(req);
    // A revision newer than ours was seen on another server: catch up before comparing.
    if (revision !== undefined && revision > kie.revisionOf(domain)) await kie.sync();
    const start = kie.poll(domain, project, q, revision, waitMs);
    let changed = !start.held && start.changed;
    if (start.held) {
      // The client may go away while held: its waiter leaves at once (pitfalls.md, kie#237),
      // and the half-closed socket goes too rather than lingering until its timeout.
      const socket = req.raw.socket;
      reply.raw.once('close', () => {
        if (reply.raw.writableFinished) return;
        start.cancel();
        socket.destroy();
      });
      changed = await start.wait;
      // Released by a shutdown: without this the keep-alive socket would hold the close.
      if (kie.isClosing()) reply.header('connection', 'close');
    }
    if (!changed) return setExactCaseHeader(reply.code(304), 'X-Kie-Revision', String(kie.revisionOf(domain))).send();
    const result = kie.list(domain, project, q);
    setExactCaseHeader(reply, 'X-Kie-Revision', String(result.revision));
    if (wantsYaml(req)) return sendKie(req, reply, { total: result.page.total, data: result.page.data.map((r) => r.doc) });
    return sendKie(req, reply, undefined, { json: result.json });
  });
}
