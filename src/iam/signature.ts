import { createHash, createHmac } from 'node:crypto';

/**
 * Huawei Cloud AK/SK request signing, `SDK-HMAC-SHA256` (API Request Signing Guide;
 * checked against its worked example and the official Python signer):
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
 *   StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(SK, StringToSign))
 *
 * CanonicalURI: the path, each segment percent-decoded then re-encoded (RFC 3986 unreserved
 * kept), ending in "/". CanonicalQuery: pairs decoded, sorted by key then value, re-encoded,
 * joined by "&". CanonicalHeaders: each signed header `name:trimmed value\n`, in the
 * SignedHeaders order (lower-case, sorted). A body whose `X-Sdk-Content-Sha256` is
 * `UNSIGNED-PAYLOAD` is not hashed (the SDK does this for non-JSON bodies).
 */

export const ALGORITHM = 'SDK-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The parts of a request the signature covers. */
export interface SignableRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/v1/p/vpcs?limit=2`. */
  url: string;
  /** Header values by lower-case name. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes (empty for none). */
  body: Buffer;
}

/** A parsed `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header. */
export interface SignatureHeader {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses the Authorization header; undefined when it is not an SDK-HMAC-SHA256 one. */
export function parseAuthorization(value: string): SignatureHeader | undefined {
  const m = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/.exec(value);
  if (!m) return undefined;
  return { accessKey: m[1]!, signedHeaders: m[2]!.split(';').map((h) => h.toLowerCase()), signature: m[3]!.toLowerCase() };
}

/** Python `quote(s, safe='~')`: everything but RFC 3986 unreserved characters is %XX-encoded. */
export function encodeComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** CanonicalURI of a raw path. */
export function canonicalUri(path: string): string {
  const encoded = decode(path).split('/').map(encodeComponent).join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** CanonicalQueryString of a raw query string (without the "?"). */
export function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decode(p), ''] : [decode(p.slice(0, eq)), decode(p.slice(eq + 1))];
    }) as [string, string][];
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&');
}

function headerValue(headers: SignableRequest['headers'], name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).trim();
}

/** The canonical request text. */
export function canonicalRequest(req: SignableRequest, signedHeaders: string[]): string {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const headers = signedHeaders.map((h) => `${h}:${headerValue(req.headers, h)}\n`).join('');
  let payloadHash: string;
  if (req.body.length === 0) payloadHash = EMPTY_BODY_SHA256;
  else {
    const declared = headerValue(req.headers, 'x-sdk-content-sha256');
    payloadHash = declared === 'UNSIGNED-PAYLOAD' ? declared : createHash('sha256').update(req.body).digest('hex');
  }
  return [req.method.toUpperCase(), canonicalUri(path), canonicalQuery(query), headers, signedHeaders.join(';'), payloadHash].join('\n');
}

/** The string to sign for a canonical request and its `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`). */
export function stringToSign(canonical: string, sdkDate: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${createHash('sha256').update(canonical).digest('hex')}`;
}

/** hex(HMAC-SHA256(secretKey, stringToSign)). */
export function sign(secretKey: string, toSign: string): string {
  return createHmac('sha256', secretKey).update(toSign).digest('hex');
}

/** Parses `X-Sdk-Date` (`20191115T033655Z`, UTC) into milliseconds; NaN when malformed. */
export function parseSdkDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

/** Formats milliseconds as an `X-Sdk-Date` value. */
export function formatSdkDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
