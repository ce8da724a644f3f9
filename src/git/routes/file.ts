import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { gitError } from '../errors.js';
import type { GitPluginOptions } from '../index.js';
import { CreateFileBody, DeleteFileQuery, ErrorBody, FileParams, fileBytes, FileWire, RefQuery, RepoParams, UpdateFileBody, type FileBody } from '../schemas.js';
import { decodeColons, repoKey } from '../service.js';
import { providerOf } from './repo.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody, 502: ErrorBody };
const tags = ['git'];

/** File routes (servicestage.md §9): tree at a ref, get, create, modify (sha checked), delete (ref, message, sha in the query). */
export function fileRoutes(app: FastifyInstance, { git }: GitPluginOptions): void {
  type F = { namespace: string; repo: string; '*': string };
  const key = (req: FastifyRequest) => repoKey((req.params as F).namespace, (req.params as F).repo);
  const path = (req: FastifyRequest) => decodeColons((req.params as F)['*']);
  const bytes = (body: FileBody) => {
    if (body.encoding === 'base64' && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(body.content)) throw gitError('InvalidParameter', 'body/content is not base64');
    return fileBytes(body);
  };

  app.get('/files/:namespace/:repo/trees', { schema: { operationId: 'ListFiles', summary: 'Every file path at ref', tags, params: RepoParams, querystring: RefQuery, response: { 200: Type.Object({ paths: Type.Array(Type.String()) }), ...errors } } }, async (req) => ({
    paths: await (await providerOf(git, req)).tree(key(req), (req.query as { ref: string }).ref),
  }));

  app.get('/files/:namespace/:repo/*', { schema: { operationId: 'ShowFile', summary: 'A file at ref with its blob sha', tags, params: FileParams, querystring: RefQuery, response: { 200: FileWire, ...errors } } }, async (req) =>
    (await providerOf(git, req)).getFile(key(req), path(req), (req.query as { ref: string }).ref),
  );

  app.post('/files/:namespace/:repo/*', { schema: { operationId: 'CreateFile', summary: 'Create a file on branch ref', tags, params: FileParams, querystring: RefQuery, body: CreateFileBody, response: { 200: Type.Object({ path: Type.String() }), ...errors } } }, async (req) => {
    const body = req.body as FileBody;
    await (await providerOf(git, req)).createFile(key(req), path(req), { ref: (req.query as { ref: string }).ref, message: body.message, content: bytes(body) });
    return { path: path(req) };
  });

  app.put('/files/:namespace/:repo/*', { schema: { operationId: 'ModifyFile', summary: 'Replace a file whose blob is sha', tags, params: FileParams, querystring: RefQuery, body: UpdateFileBody, response: { 200: Type.Object({ path: Type.String() }), ...errors } } }, async (req) => {
    const body = req.body as FileBody;
    await (await providerOf(git, req)).updateFile(key(req), path(req), { ref: (req.query as { ref: string }).ref, message: body.message, content: bytes(body), sha: body.sha });
    return { path: path(req) };
  });

  app.delete('/files/:namespace/:repo/*', { schema: { operationId: 'DeleteFile', summary: 'Delete a file (ref, message and sha in the query)', tags, params: FileParams, querystring: DeleteFileQuery, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    const q = req.query as { ref: string; message: string; sha: string };
    await (await providerOf(git, req)).deleteFile(key(req), path(req), { ref: q.ref, message: q.message, sha: q.sha });
    return reply.code(204).send();
  });
}
