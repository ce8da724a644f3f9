import type { FastifyInstance } from 'fastify';
import { NestingError, parseJsonBounded } from './nesting.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received (AK/SK signatures hash it); empty when none. */
    rawBody?: Buffer;
  }
}

/**
 * Replaces the content-type parsers of an area's scope with one that keeps the raw bytes on
 * `request.rawBody` and parses JSON whatever the Content-Type (clients differ); an empty
 * body parses to undefined. `onInvalid` builds the area's own error for bad JSON, given a
 * detail when the body nests deeper than MAX_JSON_DEPTH (checked before parsing, nesting.ts).
 * @param bodyLimit largest body in bytes
 */
export function parseJsonKeepingRawBody(app: FastifyInstance, bodyLimit: number, onInvalid: (detail?: string) => Error): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    const text = raw.toString('utf8').trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, parseJsonBounded(text));
    } catch (err) {
      done(onInvalid(err instanceof NestingError ? err.message : undefined), undefined);
    }
  });
}
