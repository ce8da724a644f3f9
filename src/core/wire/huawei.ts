import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { OpenStageError } from '../errors.js';
import { parseJsonKeepingRawBody } from '../raw-body.js';

/** Huawei Cloud error body: `{error_code, error_msg}` (servicestage.md §1). */
export interface HuaweiErrorBody {
  error_code: string;
  error_msg: string;
}

/** Builds the Huawei error body for `err`. */
export function huaweiErrorBody(err: OpenStageError): HuaweiErrorBody {
  return { error_code: err.code, error_msg: err.detail ? `${err.message}: ${err.detail}` : err.message };
}

/** Sends `err` as a Huawei Cloud error response. */
export function sendHuaweiError(reply: FastifyReply, err: OpenStageError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.status).type('application/json;charset=UTF-8').send(huaweiErrorBody(err));
}

/**
 * Builds an area's error factory from its frozen code table (name → code, HTTP status,
 * fixed message): `factory(name, detail?)` is the Huawei error to throw.
 */
export function huaweiErrors<T extends Readonly<Record<string, { readonly code: string; readonly status: number; readonly message: string }>>>(table: T): (name: keyof T, detail?: string) => OpenStageError {
  return (name, detail) => new OpenStageError(table[name]!.code, table[name]!.status, table[name]!.message, detail);
}

/**
 * Turns an Ajv error list into one message naming the field, e.g.
 * `body/name must NOT have more than 64 characters`.
 */
function validationMessage(err: FastifyError): string {
  type AjvError = { keyword?: string; instancePath?: string; message?: string; params?: { missingProperty?: string; allowedValues?: unknown[]; allowedValue?: unknown } };
  const errors = (err.validation ?? []) as AjvError[];
  const first = errors[0];
  if (!first) return err.message;
  const context = (err as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  const path = `${context}${first.instancePath ?? ''}`;
  // A union of literals (an enum) fails once per literal, then as anyOf: list the allowed values.
  const last = errors[errors.length - 1]!;
  if (last.keyword === 'anyOf' && errors.length > 1 && errors.slice(0, -1).every((e) => e.keyword === 'const' && e.instancePath === last.instancePath)) {
    return `${context}${last.instancePath ?? ''} must be one of ${errors.slice(0, -1).map((e) => JSON.stringify(e.params?.allowedValue)).join(', ')}`;
  }
  if (first.params?.missingProperty) return `${path}/${first.params.missingProperty} is required`;
  if (first.params?.allowedValues) return `${path} must be one of ${first.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${path} ${first.message ?? 'is invalid'}`;
}

/** A NUL or a UTF-16 surrogate without its pair: neither survives PostgreSQL text (SQLite mangles the latter). */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Describes `text` when it holds a NUL or a lone surrogate; undefined when it holds neither. */
function unstorableString(text: string, path: string): string | undefined {
  const m = UNSTORABLE.exec(text);
  if (!m) return undefined;
  return m[0] === '\u0000' ? `${path} must not contain a NUL character` : `${path} is not valid Unicode (a lone surrogate)`;
}

/**
 * The first string in `value` (a parsed body, query or path parameters) holding a NUL or a
 * lone surrogate, described with its path (`body/labels/0/key must not contain a NUL
 * character`); undefined when there is none. Object keys are checked too. The walk keeps its
 * own stack, so no nesting overflows the call stack (issue #15 M1).
 */
export function unstorableText(value: unknown, path: string): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (typeof next.value === 'string') {
      const bad = unstorableString(next.value, next.path);
      if (bad) return bad;
      continue;
    }
    const v = next.value;
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || ArrayBuffer.isView(v)) continue;
    // Pushed in reverse, so the first offending field in document order is the one named.
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, child] = entries[i]!;
      stack.push({ value: child, path: `${next.path}/${k}` });
      stack.push({ value: k, path: `${next.path} key` });
    }
  }
  return undefined;
}

/**
 * Validates bodies without type coercion (a number where a string belongs is refused, as the
 * Go backends and Keystone refuse it) while query strings and path parameters, which arrive
 * as text, are coerced.
 */
export function validateBodiesStrictly(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? STRICT : COERCING).compile(schema));
}

// One pair for the process: Ajv keeps what it compiled by schema object, and the route schemas
// are module constants, so a second server in the process (tests, a restart) compiles nothing
// again — compiling every route's schema took about half of a server's start.
const STRICT = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
const COERCING = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false });

/**
 * Sets up a Huawei-format area scope (ServiceStage, Git, engine management): bodies are
 * validated without type coercion (a number where a string belongs is refused, as the Go
 * backends refuse it) while query strings and path parameters are coerced from text;
 * bodies parse as JSON whatever the Content-Type with the raw bytes kept for AK/SK
 * (`request.rawBody`); every error renders as `{error_code, error_msg}` — schema and
 * parser failures as `invalid(detail)` naming the field, unknown paths as `notFound()`,
 * anything unexpected logged once and answered with `internal()`. Text that no database can
 * store as given (a NUL, a lone surrogate) in path parameters, query or body is refused as
 * `invalid(detail)` naming the field before any handler runs.
 * @param bodyLimit largest body in bytes
 */
export function huaweiScope(
  app: FastifyInstance,
  opts: { bodyLimit: number; invalid: (detail: string) => OpenStageError; internal: () => OpenStageError; notFound: (detail: string) => OpenStageError },
): void {
  validateBodiesStrictly(app);
  parseJsonKeepingRawBody(app, opts.bodyLimit, (detail) => opts.invalid(detail ?? 'the body is not valid JSON'));
  app.setErrorHandler((err: FastifyError | OpenStageError, request, reply) => {
    if (err instanceof OpenStageError) return sendHuaweiError(reply, err);
    if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendHuaweiError(reply, opts.invalid(`the body is larger than ${opts.bodyLimit} bytes`));
    if ((err as FastifyError).validation) return sendHuaweiError(reply, opts.invalid(validationMessage(err as FastifyError)));
    if (((err as FastifyError).statusCode ?? 500) < 500) return sendHuaweiError(reply, opts.invalid(err.message));
    request.log.error({ err, reqId: request.id, method: request.method, url: request.url }, 'unexpected error');
    return sendHuaweiError(reply, opts.internal());
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const bad =
      unstorableText(request.params, 'params') ?? unstorableText(request.query, 'querystring') ?? unstorableText(request.body, 'body');
    done(bad ? opts.invalid(bad) : undefined);
  });
  app.setNotFoundHandler((request, reply) => sendHuaweiError(reply, opts.notFound(`${request.method} ${request.url.split('?')[0]}`)));
}
