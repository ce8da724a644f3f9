import { existsSync, mkdirSync } from 'node:fs';

/**
 * Creates the data directory when it is missing, readable by this server's user alone (0700):
 * it holds the database, the master key, hosted repositories and builds (issue #15 L7: it was
 * created 0755, the database 0644). A directory that exists keeps the modes its owner gave it.
 */
export function ensureDataDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}
