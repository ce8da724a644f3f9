import { canonicalRequest, formatSdkDate, sign, stringToSign } from '../../src/iam/signature.js';
import { call, type Reply } from './registry-client.js';

/** Credentials the test server bootstrapped (fixed through config overrides). */
export const ADMIN = { name: 'admin', password: 'Admin-Passw0rd!', projectId: '0123456789abcdef0123456789abcdef', ak: 'TESTAKTESTAKTESTAK01', sk: 'testSecretKeyTestSecretKeyTestSecret0001' };

/** Config overrides that fix the bootstrap credentials to ADMIN. */
export const IAM_OVERRIDES = {
  'iam.adminPassword': ADMIN.password,
  'iam.projectId': ADMIN.projectId,
  'iam.accessKey': ADMIN.ak,
  'iam.secretKey': ADMIN.sk,
};

/** Logs in with a password and returns the reply (token in X-Subject-Token). */
export function login(base: string, user: string, password: string, scope: Record<string, unknown> | undefined = { project: { id: ADMIN.projectId } }): Promise<Reply<any>> {
  return call(base, 'POST', '/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: 'openstage' } } } }, ...(scope ? { scope } : {}) } },
  });
}

/**
 * Sends a request signed with SDK-HMAC-SHA256 the way the Huawei SDKs sign it: headers
 * content-type, host and x-sdk-date (plus extras) signed, body hashed.
 * @param dateMs the X-Sdk-Date to sign with (default: now)
 * @param tamper changes the request after signing (to test rejection)
 */
export async function signedCall(
  base: string,
  method: string,
  pathAndQuery: string,
  options: { ak?: string; sk?: string; body?: string; headers?: Record<string, string>; dateMs?: number; tamper?: (r: { body?: string; headers: Record<string, string>; path: string }) => void } = {},
): Promise<Reply<any>> {
  const host = new URL(base).host;
  const headers: Record<string, string> = { 'content-type': 'application/json', host, 'x-sdk-date': formatSdkDate(options.dateMs ?? Date.now()), ...(options.headers ?? {}) };
  const signed = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const canonical = canonicalRequest({ method, url: pathAndQuery, headers, body: Buffer.from(options.body ?? '') }, signed);
  const signature = sign(options.sk ?? ADMIN.sk, stringToSign(canonical, headers['x-sdk-date']!));
  headers.authorization = `SDK-HMAC-SHA256 Access=${options.ak ?? ADMIN.ak}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const req = { body: options.body, headers, path: pathAndQuery };
  options.tamper?.(req);
  delete req.headers.host;
  return call(base, method, req.path, { body: req.body, headers: req.headers });
}
