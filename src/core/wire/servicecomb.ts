import type { FastifyReply } from 'fastify';
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
  return reply.code(err.status).type('application/json; charset=UTF-8').send(serviceCombErrorBody(err));
}

/** A success without a body: 200, empty, `text/plain` as the Go service center answers. */
export function sendEmptyOk(reply: FastifyReply): FastifyReply {
  return reply.code(200).type('text/plain; charset=UTF-8').send('');
}

/** Sends a pre-serialised JSON body (text or UTF-8 bytes) with the ServiceComb content type. */
export function sendJsonText(reply: FastifyReply, json: string | Buffer, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=UTF-8').send(json);
}
