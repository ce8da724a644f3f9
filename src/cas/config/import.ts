import { crc32, inflateRawSync } from 'node:zlib';
import { OpenStageError } from '../../core/errors.js';
import { casError } from '../errors.js';
import { checkContent } from './content.js';
import type { ConfigType } from './types.js';

/**
 * Reading a `.zip` of config files for `POST /configs/import` (servicestage.md §7; the
 * archive layout is OpenStage's own, the real one is not documented):
 * - `<group>/<name>.<ext>`: file `<name>` in the group named `<group>` (created when
 *   missing); `<name>.<ext>` at the top level goes to the group the form names.
 * - `<ext>`: `yaml` or `yml` → type yaml, `properties` → type properties; anything else,
 *   deeper folders, and names that are not resource names (2–64, letter first, letters,
 *   digits, `_`, `-`, letter or digit last) refuse the whole archive.
 * - Directory entries, `__MACOSX/…` and dot files (`.DS_Store`) are skipped.
 * - Limits: archive ≤ MAX_ARCHIVE_BYTES, ≤ MAX_FILES files, each ≤ MAX_ENTRY_BYTES and all
 *   together ≤ MAX_TOTAL_BYTES once inflated. Sizes are checked from the central directory
 *   before anything is inflated, and inflating a file stops as soon as it passes its
 *   declared size, so a zip bomb (or a lying size) costs neither memory nor CPU beyond the
 *   limits. A file whose bytes do not match its declared size and CRC-32 refuses the
 *   archive (never a silently truncated file).
 * - Content must be UTF-8 and pass the type's content check (content.ts). Bytes are kept as
 *   they are (a UTF-8 BOM too).
 */

/** Largest archive, bytes (500 KB). */
export const MAX_ARCHIVE_BYTES = 500 * 1024;
/** Most files in an archive. */
export const MAX_FILES = 500;
/** Largest file once inflated, bytes. */
export const MAX_ENTRY_BYTES = 1024 * 1024;
/** Largest sum of inflated sizes, bytes. */
export const MAX_TOTAL_BYTES = 10 * 1024 * 1024;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9]$/;
const TYPES: Readonly<Record<string, ConfigType>> = { yaml: 'yaml', yml: 'yaml', properties: 'properties' };

/** One config file read from an archive. */
export interface ArchiveEntry {
  /** Path inside the archive. */
  path: string;
  /** The folder's name, or undefined at the top level (the form's group). */
  groupName: string | undefined;
  name: string;
  type: ConfigType;
  content: string;
}

const bad = (detail: string): Error => casError('InvalidParameter', `upload_file: ${detail}`);

const skipped = (path: string): boolean => path.endsWith('/') || path.startsWith('__MACOSX/') || (path.split('/').pop() ?? '').startsWith('.');

/** Splits and checks an entry path. @throws SVCSTG.00100400 naming the entry */
function parsePath(path: string): { groupName: string | undefined; name: string; type: ConfigType } {
  const parts = path.split('/');
  if (parts.length > 2) throw bad(`entry "${path}": only one folder level (the group) is allowed`);
  const file = parts.pop()!;
  const groupName = parts[0];
  if (groupName !== undefined && (groupName.length > 64 || !NAME_RE.test(groupName))) throw bad(`entry "${path}": folder "${groupName}" is not a valid config group name`);
  const dot = file.lastIndexOf('.');
  const ext = dot > 0 ? file.slice(dot + 1).toLowerCase() : '';
  const type = TYPES[ext];
  if (!type) throw bad(`entry "${path}": unsupported file extension (use .yaml, .yml or .properties)`);
  const name = file.slice(0, dot);
  if (name.length > 64 || !NAME_RE.test(name)) throw bad(`entry "${path}": "${name}" is not a valid config file name`);
  return { groupName, name, type };
}

/**
 * Reads and checks a whole archive; nothing is written here.
 * @returns the config files in archive order
 * @throws SVCSTG.00100400 naming the problem (not a zip, over a limit, a bad entry, two
 *   entries for one file, no file at all)
 */
export function readArchive(bytes: Uint8Array): ArchiveEntry[] {
  if (bytes.length > MAX_ARCHIVE_BYTES) throw bad(`the archive is ${bytes.length} bytes; at most ${MAX_ARCHIVE_BYTES} are accepted`);
  let files = 0;
  let total = 0;
  const wanted: ZipEntry[] = [];
  for (const info of centralDirectory(bytes)) {
    const path = info.name.replaceAll('\\', '/');
    if (skipped(path)) continue;
    files += 1;
    if (files > MAX_FILES) throw bad(`the archive holds more than ${MAX_FILES} files`);
    parsePath(path);
    if (info.flags & 1) throw bad(`entry "${path}" is encrypted`);
    if (info.compression !== 0 && info.compression !== 8) throw bad(`entry "${path}": unsupported compression method ${info.compression}`);
    if (info.originalSize > MAX_ENTRY_BYTES) throw bad(`entry "${path}" inflates to ${info.originalSize} bytes; at most ${MAX_ENTRY_BYTES} per file`);
    total += info.originalSize;
    if (total > MAX_TOTAL_BYTES) throw bad(`the files inflate to more than ${MAX_TOTAL_BYTES} bytes in total`);
    wanted.push(info);
  }
  const raw: Array<[string, Uint8Array]> = wanted.map((info) => [info.name, inflateEntry(bytes, info)]);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const seen = new Set<string>();
  const entries: ArchiveEntry[] = [];
  for (const [rawPath, data] of raw) {
    const path = rawPath.replaceAll('\\', '/');
    const { groupName, name, type } = parsePath(path);
    const key = `${groupName ?? ''}/${name}`;
    if (seen.has(key)) throw bad(`entry "${path}": another entry is also config file "${name}"${groupName ? ` of group "${groupName}"` : ''}`);
    seen.add(key);
    let content: string;
    try {
      content = decoder.decode(data);
    } catch {
      throw bad(`entry "${path}" is not UTF-8 text`);
    }
    checkContent(type, content, `upload_file entry "${path}"`);
    entries.push({ path, groupName, name, type, content });
  }
  if (entries.length === 0) throw bad('the archive holds no config file');
  return entries;
}

/** One central-directory record of a zip archive. */
interface ZipEntry {
  name: string;
  flags: number;
  compression: number;
  crc: number;
  size: number;
  originalSize: number;
  localOffset: number;
}

/** Reads the central directory (no zip64: the limits make it unnecessary). @throws SVCSTG.00100400 when unreadable */
function centralDirectory(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const unreadable = (why: string) => bad(`not a readable zip archive (${why})`);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw unreadable('no end of central directory');
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) throw unreadable('bad central directory');
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    if (at + 46 + nameLength > bytes.length) throw unreadable('bad central directory');
    const nameBytes = bytes.subarray(at + 46, at + 46 + nameLength);
    const entry: ZipEntry = {
      name: flags & 0x800 ? new TextDecoder().decode(nameBytes) : Buffer.from(nameBytes).toString('latin1'),
      flags,
      compression: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      size: view.getUint32(at + 20, true),
      originalSize: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    };
    if (entry.size === 0xffffffff || entry.originalSize === 0xffffffff || entry.localOffset === 0xffffffff) throw unreadable('zip64 is not supported');
    entries.push(entry);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return entries;
}

/**
 * Inflates one entry, stopping as soon as the output passes the declared size.
 * @throws SVCSTG.00100400 when the data is out of bounds, larger or smaller than declared, or fails its CRC-32
 */
function inflateEntry(bytes: Uint8Array, info: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = info.localOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== 0x04034b50) throw bad(`entry "${info.name}": bad local header`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + info.size > bytes.length) throw bad(`entry "${info.name}": data out of the archive's bounds`);
  const data = bytes.subarray(start, start + info.size);
  let out: Uint8Array;
  if (info.compression === 0) out = data;
  else {
    try {
      out = inflateRawSync(data, { maxOutputLength: Math.max(info.originalSize, 1) });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw bad(`entry "${info.name}" inflates to more than its declared ${info.originalSize} bytes`);
      throw bad(`entry "${info.name}": invalid deflate data (${(err as Error).message})`);
    }
  }
  if (out.length !== info.originalSize) throw bad(`entry "${info.name}" holds ${out.length} bytes, not its declared ${info.originalSize}`);
  if (crc32(out) !== info.crc) throw bad(`entry "${info.name}" fails its CRC-32 check (corrupt archive)`);
  return out;
}
