import { createHash, randomUUID } from 'node:crypto';

/** A 32-hex-character UUIDv4 without dashes, as ServiceComb generates instance ids (servicecomb.md §0). */
export function newHexId(): string {
  return randomUUID().replaceAll('-', '');
}

/** Lower-case hex SHA-1 of a UTF-8 string (40 characters). */
export function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Lower-case hex SHA-256 of a UTF-8 string (64 characters). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
