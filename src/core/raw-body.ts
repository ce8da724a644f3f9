import { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { JsonDepthScanner, MAX_JSON_DEPTH, NestingError, parseJsonBounded } from './nesting.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received (AK/SK signatures hash it); empty when none. */
    rawBody?: Buffer;
  }
}

/**
 * Bodies announced larger than this (or chunked) are checked for nesting as they arrive: from
 * the chunk that shows a too deep nesting on, the rest is read and dropped (neither buffered
 * nor scanned) and the refusal answered when the body ends — the client, still sending, gets
 * its answer rather than a reset connection. Smaller bodies are checked whole before parsing;
 * both paths give the same answer.
 */
const STREAM_SCAN_BYTES = 64 * 1024;
/**
 * Replaces the content-type parsers of an area's scope with one that keeps the raw bytes on
 * `request.rawBody` and parses JSON whatever the Content-Type (clients differ); an empty
 * body parses to undefined. `onInvalid` builds the area's own error for bad JSON, given a
 * detail when the body nests deeper than MAX_JSON_DEPTH (nesting.ts; checked before parsing,
 * and while a large body arrives, issue #15 H2). Multipart bodies (parsed by a parser of
 * their own the scope adds) are not checked here.
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
  app.addHook('preParsing', (request, _reply, payload, done) => {
    // Only a large or chunked body is scanned on the way (not a bodiless GET or heartbeat: no stream per request on hot paths).
    const large = Number(request.headers['content-length']) > STREAM_SCAN_BYTES || request.headers['transfer-encoding'] !== undefined;
    if (!large || (request.headers['content-type'] ?? '').trimStart().toLowerCase().startsWith('multipart/')) return done(null, payload);
    const scanner = new JsonDepthScanner(MAX_JSON_DEPTH);
    let received = 0;
    const scanned = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        received += chunk.length;
        (scanned as Transform & { receivedEncodedLength: number }).receivedEncodedLength = received;
        if (!scanner.feed(chunk)) return next(null, chunk);
        // Too deep: the rest is read straight off the request and dropped; the refusal is
        // answered when it ends, or at once when it goes on past the limit (as Fastify does).
        const refused = onInvalid(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
        payload.unpipe(scanned);
        const drop = (more: Buffer): void => {
          received += more.length;
          if (received <= bodyLimit) return;
          payload.off('data', drop);
          scanned.destroy(refused);
        };
        payload.on('data', drop);
        const answer = (): void => void scanned.destroy(refused);
        payload.once('end', answer);
        payload.once('close', answer);
        payload.resume();
        next();
      },
    });
    payload.on('error', (err) => scanned.destroy(err));
    // Fastify listens for the stream's error only while it reads the body: once it has answered
    // (e.g. the body limit tripped first) a later nesting error must not go unheard (an
    // unhandled 'error' event ends the process).
    scanned.on('error', () => undefined);
    done(null, payload.pipe(scanned));
  });
}
