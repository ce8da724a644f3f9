import type { FastifyReply } from 'fastify';
import { OpenStageError } from '../errors.js';

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
  return reply.code(err.status).type('application/json;charset=UTF-8').send(huaweiErrorBody(err));
}
