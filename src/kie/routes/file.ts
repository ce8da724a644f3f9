import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { kieError } from '../errors.js';
import { ENGINE_KIE_PROJECT, kieDomainOf, type KiePluginOptions } from '../index.js';
import { ExportQuery, ImportBody, ImportQuery, ProjectParams } from '../schemas.js';
import type { OverrideMode } from '../types.js';
import { parseLabelQuery } from '../validate.js';
import { sendKie } from './reply.js';

const tags = ['kie'];
const MODES: readonly string[] = ['force', 'skip', 'abort'];

/** The engine an import or export names (`X-Engine-ID`, servicecomb.md §4.1); '' = the built-in one. */
const engineIdOf = (req: FastifyRequest): string => {
  const h = req.headers['x-engine-id'];
  return (Array.isArray(h) ? h[0] : h)?.trim() ?? '';
};

/**
 * Import and export (servicecomb.md §3.3 `/kie/file`, §4.1 `/kie/download`). Both act on the
 * engine named by `X-Engine-ID` (absent or `default`: this server's config center; an
 * exclusive engine: its process, through the same route there) and in its Kie project
 * `default`, where that engine's Java Chassis and go-chassis clients read; the project in the
 * path is the tenant's, for the IAM check.
 */
export function fileRoutes(app: FastifyInstance, { kie, engineConfigCenter }: KiePluginOptions): void {
  /** Sends the request on to an exclusive engine's own route and relays its answer; false for the built-in engine. */
  const forward = async (req: FastifyRequest, reply: FastifyReply, route: string, body: unknown): Promise<boolean> => {
    const engineId = engineIdOf(req);
    const target = engineId && engineConfigCenter ? await engineConfigCenter((req.params as { project: string }).project, engineId) : undefined;
    if (!target) return false;
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    let res: Response;
    try {
      res = await fetch(`${target.base}/v1/${ENGINE_KIE_PROJECT}/kie/${route}${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) },
        body: JSON.stringify(body ?? {}),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw kieError('Internal', `engine ${engineId} did not answer: ${(err as Error).message}`);
    }
    reply.code(res.status).type(res.headers.get('content-type') ?? 'application/json; charset=UTF-8').send(Buffer.from(await res.arrayBuffer()));
    return true;
  };

  app.post('/file', { schema: { operationId: 'UploadKie', summary: 'Import kvs (JSON, YAML or multipart upload_file)', tags, params: ProjectParams, querystring: ImportQuery, body: ImportBody } }, async (req, reply) => {
    const q = req.query as { override?: string; label?: string[] | string };
    // Huawei's newer docs default override to force; open-source Kie requires it (servicecomb.md §4.1).
    const mode = q.override || 'force';
    if (!MODES.includes(mode)) throw kieError('InvalidParams', `override must be force, skip or abort, not '${mode}'`);
    const forced = kie.checkForcedLabels(parseLabelQuery(q.label));
    const data = (req.body as { data: unknown }).data;
    if (await forward(req, reply, 'file', { data })) return reply;
    return sendKie(req, reply, await kie.importKvs(kieDomainOf(req), ENGINE_KIE_PROJECT, data, mode as OverrideMode, forced));
  });

  app.post('/download', { schema: { operationId: 'DownloadKie', summary: 'Export kvs by ids or labels', tags, params: ProjectParams, querystring: ExportQuery, body: Type.Unknown() } }, async (req, reply) => {
    const q = req.query as { label?: string[] | string; match?: string };
    const ids = (req.body as { ids?: unknown } | undefined)?.ids;
    const labels = parseLabelQuery(q.label);
    if (await forward(req, reply, 'download', ids === undefined || ids === null ? {} : { ids })) return reply;
    return sendKie(req, reply, kie.exportKvs(kieDomainOf(req), ENGINE_KIE_PROJECT, { ids, labels, exact: q.match === 'exact' }));
  });
}
