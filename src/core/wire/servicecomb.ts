import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { parseJsonKeepingRawBody } from '../raw-body.js';
import { OpenStageError } from '../errors.js';

/**
 * ServiceComb error body (servicecomb.md §0): `errorCode` is a JSON *string*, the HTTP
 * status is `code / 1000`, and `detail` is omitted when empty.
 */
export interface ServiceCombErrorBody {
  errorCode: string;
  errorMessage: string;
  detail?: string;
}

/** Builds the ServiceComb error body for `err`. */
export function serviceCombErrorBody(err: OpenStageError): ServiceCombErrorBody {
  const body: ServiceCombErrorBody = { errorCode: err.code, errorMessage: err.message };
  if (err.detail) body.detail = err.detail;
  return body;
}

/** Creates an error whose HTTP status is derived from a numeric ServiceComb code. */
export function serviceCombError(code: number, message: string, detail?: string): OpenStageError {
  return new OpenStageError(String(code), Math.floor(code / 1000), message, detail);
}

/** Sends `err` as a ServiceComb error response. */
export function sendServiceCombError(reply: FastifyReply, err: OpenStageError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.status).type('application/json; charset=UTF-8').send(serviceCombErrorBody(err));
}

/** A success without a body: 200, empty, `text/plain` as the Go service center answers. */
export function sendEmptyOk(reply: FastifyReply): FastifyReply {
  return reply.code(200).type('text/plain; charset=UTF-8').send('');
}

/**
 * Sets a response header keeping the exact case of `name` on the wire (Fastify's
 * `reply.header` lower-cases names). ServiceComb's Java clients look headers up by
 * case-sensitive name — Java Chassis' http-client-common `HttpResponse.getHeader` compares
 * with `equals` — so `X-Kie-Revision` / `X-Resource-Revision` sent in lower case read as
 * null (and the Kie client then polls with `revision=null`, a 400 forever).
 */
export function setExactCaseHeader(reply: FastifyReply, name: string, value: string): FastifyReply {
  reply.raw.setHeader(name, value);
  return reply;
}

/** Sends a pre-serialised JSON body (text or UTF-8 bytes) with the ServiceComb content type. */
export function sendJsonText(reply: FastifyReply, json: string | Buffer, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=UTF-8').send(json);
}

/**
 * Sets up a ServiceComb-format area scope (registry, RBAC): request schemas validated
 * without type coercion (Go's decoder rejects 1 where a string is expected), bodies parsed
 * as JSON whatever the Content-Type with the raw bytes kept (`request.rawBody`), and every
 * error rendered as a ServiceComb body — schema and parser failures as `invalid(detail)`,
 * anything unexpected logged once and answered with `internal()`.
 * @param bodyLimit largest body in bytes
 */
export function serviceCombScope(app: FastifyInstance, opts: { bodyLimit: number; invalid: (detail: string) => OpenStageError; internal: () => OpenStageError }): void {
  app.setValidatorCompiler(({ schema }) => AJV.compile(schema));
  parseJsonKeepingRawBody(app, opts.bodyLimit, (detail) => opts.invalid(detail ?? 'Unmarshal error'));
  app.setErrorHandler((err: FastifyError | OpenStageError, request, reply) => {
    if (err instanceof OpenStageError) return sendServiceCombError(reply, err);
    if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendServiceCombError(reply, opts.invalid('http: request body too large'));
    if ((err as FastifyError).validation || ((err as FastifyError).statusCode ?? 500) < 500) return sendServiceCombError(reply, opts.invalid(err.message));
    request.log.error({ err, reqId: request.id, method: request.method, url: request.url }, 'unexpected error');
    return sendServiceCombError(reply, opts.internal());
  });
}

// One for the process (as in huawei.ts): what Ajv compiled stays keyed by schema object, so
// the servers after the first compile nothing again.
const AJV = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });

/**
 * Builds an area's error factory from its frozen code table (code → fixed message):
 * `factory(name, detail?)` is the ServiceComb error with status = code / 1000.
 */
export function serviceCombErrors<T extends Readonly<Record<string, { readonly code: number; readonly message: string }>>>(table: T): (name: keyof T, detail?: string) => OpenStageError {
  return (name, detail) => serviceCombError(table[name]!.code, table[name]!.message, detail);
}
