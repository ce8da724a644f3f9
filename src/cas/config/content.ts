import { parseAllDocuments } from 'yaml';
import { casError } from '../errors.js';
import type { ConfigType } from './types.js';

/**
 * Content checks of config files (servicestage.md §7: type yaml | properties). A file is
 * mounted into components as is, so content that its own type cannot read is refused at
 * write time rather than failing the component later. The message names the field and the
 * problem (line and column for YAML).
 */

/** Largest content, in characters (INF: the real limit is not documented). */
export const MAX_CONTENT_CHARS = 1_048_576;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A `\u` escape that Java's Properties.load refuses (not followed by four hex digits). */
const BAD_UNICODE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?![0-9A-Fa-f]{4})/;

/**
 * Checks `content` against its `type`.
 * @param field the field to name in the error (e.g. `body/content`, `archive entry g/a.yaml`)
 * @throws SVCSTG.00100400 when the text holds NUL or a lone surrogate (neither survives
 *   storage in PostgreSQL), is longer than MAX_CONTENT_CHARS, is not YAML (type yaml) or holds
 *   a malformed `\uXXXX` escape (type properties)
 */
export function checkContent(type: ConfigType, content: string, field: string): void {
  if (content.length > MAX_CONTENT_CHARS) throw casError('InvalidParameter', `${field} must NOT have more than ${MAX_CONTENT_CHARS} characters`);
  if (content.includes('\u0000')) throw casError('InvalidParameter', `${field} must not contain a NUL character`);
  if (LONE_SURROGATE.test(content)) throw casError('InvalidParameter', `${field} is not valid Unicode (lone surrogate)`);
  if (type === 'yaml') {
    for (const doc of parseAllDocuments(content)) {
      const err = doc.errors[0];
      // prettyErrors (the default) ends the first line with "at line L, column C:".
      if (err) throw casError('InvalidParameter', `${field} is not valid YAML: ${err.message.split('\n')[0]!.replace(/:$/, '')}`);
    }
    return;
  }
  const lines = content.split(/\r\n|\r|\n/);
  const bad = lines.findIndex((line) => BAD_UNICODE_ESCAPE.test(line));
  if (bad >= 0) throw casError('InvalidParameter', `${field} is not valid properties (line ${bad + 1}): malformed \\uXXXX escape`);
}
