import { crc32 } from 'node:zlib';
import { unzipSync, type UnzipFileInfo } from 'fflate';
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
 *   before anything is inflated, and each file is inflated into a buffer of its declared
 *   size, so a zip bomb cannot take more memory than the limits allow; the CRC-32 of every
 *   inflated file must then match its central directory entry (a header that under-states
 *   the size would otherwise pass a truncated file).
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

/**
 * CRC-32 of every central directory entry by name (zip64 fields are not read: an archive
 * under MAX_ARCHIVE_BYTES never needs them).
 */
function centralCrcs(bytes: Uint8Array): Map<string, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crcs = new Map<string, number>();
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end -= 1;
  if (end < 0) return crcs;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const names = new TextDecoder();
  for (let i = 0; i < count && at + 46 <= bytes.length && view.getUint32(at, true) === 0x02014b50; i += 1) {
    const nameLength = view.getUint16(at + 28, true);
    crcs.set(names.decode(bytes.subarray(at + 46, at + 46 + nameLength)), view.getUint32(at + 16, true));
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return crcs;
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
  const filter = (info: UnzipFileInfo): boolean => {
    const path = info.name.replaceAll('\\', '/');
    if (skipped(path)) return false;
    files += 1;
    if (files > MAX_FILES) throw bad(`the archive holds more than ${MAX_FILES} files`);
    parsePath(path);
    if (info.compression !== 0 && info.compression !== 8) throw bad(`entry "${path}": unsupported compression method ${info.compression}`);
    if (info.originalSize > MAX_ENTRY_BYTES) throw bad(`entry "${path}" inflates to ${info.originalSize} bytes; at most ${MAX_ENTRY_BYTES} per file`);
    total += info.originalSize;
    if (total > MAX_TOTAL_BYTES) throw bad(`the files inflate to more than ${MAX_TOTAL_BYTES} bytes in total`);
    return true;
  };
  let raw: Record<string, Uint8Array>;
  try {
    raw = unzipSync(bytes, { filter });
  } catch (err) {
    if (err instanceof OpenStageError) throw err;
    throw bad(`not a readable zip archive (${(err as Error).message})`);
  }
  const crcs = centralCrcs(bytes);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const seen = new Set<string>();
  const entries: ArchiveEntry[] = [];
  for (const [rawPath, data] of Object.entries(raw)) {
    const path = rawPath.replaceAll('\\', '/');
    const { groupName, name, type } = parsePath(path);
    const key = `${groupName ?? ''}/${name}`;
    if (seen.has(key)) throw bad(`entry "${path}": another entry is also config file "${name}"${groupName ? ` of group "${groupName}"` : ''}`);
    seen.add(key);
    if (crcs.get(rawPath) !== crc32(data)) throw bad(`entry "${path}" is damaged (CRC-32 mismatch)`);
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
