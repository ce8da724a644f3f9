import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { kieError } from '../errors.js';
import { kieDomainOf, kieProjectOf, type KiePluginOptions } from '../index.js';
import { ExportQuery, ImportBody, ImportQuery, ProjectParams } from '../schemas.js';
import type { OverrideMode } from '../types.js';
import { parseLabelQuery } from '../validate.js';
import { sendKie } from './reply.js';

const tags = ['kie'];
const MODES: readonly string[] = ['force', 'skip', 'abort'];

/** Import and export (servicecomb.md §3.3 `/kie/file`, §4.1 `/kie/download`). */
export function fileRoutes(app: FastifyInstance, { kie }: KiePluginOptions): void {
  app.post('/file', { schema: { operationId: 'UploadKie', summary: 'Import kvs (JSON, YAML or multipart upload_file)', tags, params: ProjectParams, querystring: ImportQuery, body: ImportBody } }, async (req, reply) => {
    const q = req.query as { override?: string; label?: string[] | string };
    // Huawei's newer docs default override to force; open-source Kie requires it (servicecomb.md §4.1).
    const mode = q.override || 'force';
    if (!MODES.includes(mode)) throw kieError('InvalidParams', `override must be force, skip or abort, not '${mode}'`);
    const forced = kie.checkForcedLabels(parseLabelQuery(q.label));
    const result = await kie.importKvs(kieDomainOf(req), kieProjectOf(req), (req.body as { data: unknown }).data, mode as OverrideMode, forced);
    return sendKie(req, reply, result);
  });

  app.post('/download', { schema: { operationId: 'DownloadKie', summary: 'Export kvs by ids or labels', tags, params: ProjectParams, querystring: ExportQuery, body: Type.Unknown() } }, async (req, reply) => {
    const q = req.query as { label?: string[] | string; match?: string };
    const ids = (req.body as { ids?: unknown } | undefined)?.ids;
    const result = kie.exportKvs(kieDomainOf(req), kieProjectOf(req), { ids, labels: parseLabelQuery(q.label), exact: q.match === 'exact' });
    return sendKie(req, reply, result);
  });
}
