import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { CliError, EXIT } from './errors.js';

/** How a context authenticates: an IAM token (from a password login), an AK/SK pair, or nothing (`--auth none` servers). */
export type ContextAuth =
  | { type: 'token'; user: string; token: string; /** ISO 8601 */ expiresAt: string }
  | { type: 'aksk'; accessKey: string; secretKey: string }
  | { type: 'none' };

/** One server and identity the CLI talks to. */
export interface Context {
  url: string;
  /** IAM project id every `/v3/{project}/…` call uses. */
  project: string;
  projectName?: string;
  auth: ContextAuth;
  /**
   * The git authorization `openstage deploy` pushes with (a `local` personal token made by the
   * CLI on its first deploy in this project); absent until then.
   */
  git?: { auth: string; token: string };
}

/** The CLI's file: named contexts and the current one. */
export interface CliConfig {
  current?: string;
  contexts: Record<string, Context>;
}

/**
 * Path of the CLI's file: OPENSTAGE_CLI_CONFIG, else `$XDG_CONFIG_HOME/openstage/config.yaml`,
 * else `~/.config/openstage/config.yaml`.
 */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.OPENSTAGE_CLI_CONFIG) return env.OPENSTAGE_CLI_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'openstage', 'config.yaml');
}

/** Reads the CLI's file; an absent file is an empty configuration. @throws CliError when it cannot be parsed */
export function readCliConfig(path: string): CliConfig {
  if (!existsSync(path)) return { contexts: {} };
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
  const obj = (parsed ?? {}) as Partial<CliConfig>;
  return { ...(obj.current ? { current: obj.current } : {}), contexts: obj.contexts && typeof obj.contexts === 'object' ? obj.contexts : {} };
}

/**
 * Writes the CLI's file with mode 0600 (its folder 0700): it holds tokens and secret keys.
 * Written to a temporary file first and renamed, so a crash never leaves half a file.
 */
export function writeCliConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, toYaml(config), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The context named `name`, else the current one. @throws CliError (exit 3) when there is none */
export function pickContext(config: CliConfig, name: string | undefined): { name: string; context: Context } | undefined {
  const chosen = name ?? config.current;
  if (!chosen) return undefined;
  const context = config.contexts[chosen];
  if (!context) throw new CliError(`no context named "${chosen}" (openstage context list)`, name ? EXIT.usage : EXIT.auth);
  return { name: chosen, context };
}
