import assert from 'node:assert/strict';
import { RegistryClient, uniq, type Reply } from './registry-client.js';

/**
 * Asserts a ServiceComb error: HTTP status, JSON body (content type checked when the reply
 * has headers), errorCode as a string, a message, and the detail when one is given.
 */
export function assertError(r: Pick<Reply<any>, 'status' | 'body' | 'text'> & { headers?: Headers }, status: number, code: string, detail?: string): void {
  assert.equal(r.status, status, r.text);
  if (r.headers) assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(r.body?.errorCode, code, r.text);
  assert.equal(typeof r.body?.errorMessage, 'string', r.text);
  if (detail !== undefined) assert.equal(r.body?.detail, detail, r.text);
}

/** Asserts ServiceComb's empty success: 200, no body, text/plain. */
export function assertEmptyOk(r: Reply<any>): void {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '');
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
}

/** A created service's key. */
export interface Svc {
  serviceId: string;
  appId: string;
  serviceName: string;
  version: string;
}

/** Creates a service and returns its key. */
export async function create(c: RegistryClient, appId: string, serviceName = uniq(), version = '1.0.0'): Promise<Svc> {
  const serviceId = await c.createService({ appId, serviceName, version });
  return { serviceId, appId, serviceName, version };
}
