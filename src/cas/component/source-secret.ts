import type { SecretBox } from '../../core/secrets.js';
import type { ComponentBody } from './types.js';

/**
 * Credentials in a component's source URLs (issue #15 M5): `http://user:pass@host/app.jar`
 * is how a package behind Basic auth is given (the engine sends the user info as Basic auth).
 * At rest the body keeps each URL with its user info redacted, and the real URLs sealed with
 * the SecretBox beside it (`SEALED_KEY` inside the stored JSON, taken out on read); the API
 * answers the redacted URLs (GET, lists, records, status) while the engine gets the real ones.
 */

/** The source fields that may hold a URL with user info. */
const URL_FIELDS = ['url', 'repo_url', 'web_url'] as const;

/** Stands for redacted user info, as `https://alice:******@host/…`. */
export const REDACTED = '******';

/** Key of the sealed real URLs inside the stored body JSON; never part of a ComponentBody. */
export const SEALED_KEY = 'x_openstage_sealed_source';

/**
 * `url` with its user info redacted: the password becomes `******`; a user name alone (often a
 * token, `https://<token>@github.com/…`) becomes `******` itself. Text that is not a URL with
 * user info is returned unchanged.
 */
export function redactUrl(url: string): string {
  const parsed = parseWithUserInfo(url);
  if (!parsed) return url;
  // The authority ends at the first `/`, `?` or `#` after `//`; its user info at its last `@`
  // (a password may hold a raw `@`, as the URL parser reads it).
  const start = url.indexOf('//') + 2;
  const end = url.slice(start).search(/[/?#\\]/);
  const at = url.lastIndexOf('@', end < 0 ? url.length : start + end);
  const userInfo = parsed.password ? `${parsed.username}:${REDACTED}` : REDACTED;
  return `${url.slice(0, start)}${userInfo}${url.slice(at)}`;
}

/** True when the body's source has a URL with user info. */
export function hasSourceCredentials(body: ComponentBody): boolean {
  return URL_FIELDS.some((f) => typeof body.source[f] === 'string' && parseWithUserInfo(body.source[f]) !== undefined);
}

/** The body as the API shows it: source URLs redacted. */
export function redactBody(body: ComponentBody): ComponentBody {
  if (!hasSourceCredentials(body)) return body;
  const source = { ...body.source };
  for (const f of URL_FIELDS) if (typeof source[f] === 'string') source[f] = redactUrl(source[f]);
  return { ...body, source };
}

/**
 * `next` with each source URL that is the redacted form of `current`'s (a client that read the
 * component and sent its body back) replaced by `current`'s real one, so that a GET-then-PUT
 * does not turn the password into `******`.
 */
export function keepRealUrls(next: ComponentBody, current: ComponentBody): ComponentBody {
  let source = next.source;
  for (const f of URL_FIELDS) {
    const real = current.source[f];
    if (typeof real === 'string' && source[f] !== real && source[f] === redactUrl(real)) source = { ...source, [f]: real };
  }
  return source === next.source ? next : { ...next, source };
}

/** The stored JSON of a body: source URLs redacted, the real ones sealed under SEALED_KEY. */
export function sealBody(body: ComponentBody, box: SecretBox): string {
  if (!hasSourceCredentials(body)) return JSON.stringify(body);
  const real: Partial<Record<(typeof URL_FIELDS)[number], string>> = {};
  for (const f of URL_FIELDS) if (typeof body.source[f] === 'string') real[f] = body.source[f];
  return JSON.stringify({ ...redactBody(body), [SEALED_KEY]: box.encrypt(JSON.stringify(real)) });
}

/**
 * The body from its stored JSON, with the real source URLs. JSON stored before sealing (no
 * SEALED_KEY) is taken as it is.
 * @throws Error when the sealed part was made with another master key
 */
export function unsealBody(json: string, box: SecretBox): ComponentBody {
  const stored = JSON.parse(json) as ComponentBody & { [SEALED_KEY]?: string };
  const sealed = stored[SEALED_KEY];
  if (sealed === undefined) return stored;
  delete stored[SEALED_KEY];
  const real = JSON.parse(box.decrypt(sealed)) as Partial<Record<(typeof URL_FIELDS)[number], string>>;
  return { ...stored, source: { ...stored.source, ...real } };
}

function parseWithUserInfo(url: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  return parsed.username || parsed.password ? parsed : undefined;
}
