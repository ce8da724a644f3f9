import type { FastifyReply } from 'fastify';
import { OpenStageError } from '../errors.js';
import { huaweiErrorBody, sendHuaweiError } from './huawei.js';
import { sendServiceCombError, serviceCombErrorBody } from './servicecomb.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A route that holds its request open without traffic by design (a long poll, git smart
     * HTTP): the idle timeout (`http.idleTimeoutMs`) does not apply to it.
     */
    longPoll?: boolean;
    /** A write that is never shed under load (heartbeats, a batch find): see `http.shedLagMs`. */
    keepUnderLoad?: boolean;
  }
}

/**
 * The error body formats of the APIs on the one port: ServiceComb (registry, RBAC), Kie (the
 * same body, pretty-printed), Huawei (ServiceStage, Git, engine management) and Keystone (IAM).
 */
export type WireFormat = 'servicecomb' | 'kie' | 'huawei' | 'keystone';

/**
 * Answers the HTTP layer gives on every API, each in the addressed API's format (issue #15
 * H1, L6, load shedding). The ServiceComb codes keep its rule status = code / 1000; all but
 * APIGW.0308 (Huawei API Gateway's throttling code) are OpenStage's own (INF).
 */
export const HttpCodes = Object.freeze({
  Overloaded: { status: 429, serviceComb: 429001, huawei: 'APIGW.0308', message: 'The server is overloaded; retry later' },
  RequestTimeout: { status: 408, serviceComb: 408001, huawei: 'APIGW.0408', message: 'The request was not received in time' },
  HeaderTooLarge: { status: 431, serviceComb: 431001, huawei: 'APIGW.0431', message: 'Request header fields too large' },
  ClientCertificateRequired: { status: 401, serviceComb: 401001, huawei: 'APIGW.0309', message: 'A client certificate signed by the configured CA is required' },
} as const);

/** The HTTP-layer error `name` in `format`, with a detail. */
export function httpError(name: keyof typeof HttpCodes, format: WireFormat, detail?: string): OpenStageError {
  const c = HttpCodes[name];
  return format === 'servicecomb' || format === 'kie' ? new OpenStageError(String(c.serviceComb), c.status, c.message, detail) : new OpenStageError(c.huawei, c.status, c.message, detail);
}

const KEYSTONE_TITLES: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 409: 'Conflict', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error' };

/** Keystone's error body with Huawei's `error_code`/`error_msg` beside it (what the Huawei SDKs read). */
export function keystoneErrorBody(err: OpenStageError): { error: { code: number; message: string; title: string }; error_code: string; error_msg: string } {
  const message = err.detail ? `${err.message}: ${err.detail}` : err.message;
  return { error: { code: err.status, message, title: KEYSTONE_TITLES[err.status] ?? 'Bad Request' }, error_code: err.code, error_msg: message };
}

/** Content type and body text of `err` in `format` (for replies and for raw socket answers). */
export function errorText(format: WireFormat, err: OpenStageError): { contentType: string; body: string } {
  switch (format) {
    case 'servicecomb':
      return { contentType: 'application/json; charset=UTF-8', body: JSON.stringify(serviceCombErrorBody(err)) };
    case 'kie':
      // Kie's WriteErrResponse pretty-prints with a 1-space indent.
      return { contentType: 'application/json; charset=UTF-8', body: JSON.stringify(serviceCombErrorBody(err), null, 1) };
    case 'huawei':
      return { contentType: 'application/json;charset=UTF-8', body: JSON.stringify(huaweiErrorBody(err)) };
    case 'keystone':
      return { contentType: 'application/json;charset=UTF-8', body: JSON.stringify(keystoneErrorBody(err)) };
  }
}

/** Sends `err` in `format` (Retry-After when it says how long to wait). */
export function sendErrorAs(reply: FastifyReply, format: WireFormat, err: OpenStageError): FastifyReply {
  if (format === 'servicecomb') return sendServiceCombError(reply, err);
  if (format === 'huawei') return sendHuaweiError(reply, err);
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  const { contentType, body } = errorText(format, err);
  return reply.code(err.status).type(contentType).send(body);
}

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 408: 'Request Timeout', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large' };

/**
 * A whole HTTP/1.1 response carrying `err` in `format`, closing the connection: for answers
 * written on the socket before any request exists (a header too large, a malformed request).
 */
export function rawErrorResponse(format: WireFormat, err: OpenStageError): string {
  const { contentType, body } = errorText(format, err);
  return `HTTP/1.1 ${err.status} ${REASONS[err.status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
