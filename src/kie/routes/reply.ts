import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';

/** True when the client asked for YAML (`Accept: text/yaml`, servicecomb.md §3.1). */
export function wantsYaml(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && /yaml/i.test(accept);
}

/**
 * Sends a success body as YAML or JSON per the Accept header; `json` is pre-serialised JSON
 * (text, or UTF-8 bytes on the list hot path) to send instead of serialising `body`.
 */
export function sendKie(req: FastifyRequest, reply: FastifyReply, body: unknown, options: { status?: number; json?: string | Buffer } = {}): FastifyReply {
  reply.code(options.status ?? 200);
  if (wantsYaml(req)) return reply.type('text/yaml; charset=UTF-8').send(stringifyYaml(body));
  return reply.type('application/json; charset=UTF-8').send(options.json ?? JSON.stringify(body));
}

/** A success without a body (delete): 204. */
export function sendNoContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
