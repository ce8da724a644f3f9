import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { BuildError, httpGet, redact, runLogged } from './build/run.js';

const execFileAsync = promisify(execFile);

/**
 * A component's `source` (servicestage.md §4.1 SourceObject) as the engine reads it:
 * `code` (a git repository at `repo_ref`), `package` (an http(s):// or file:// URL of a jar,
 * war, zip or tar.gz) or `image` (not for the process runtime).
 */
export interface SourceSpec {
  kind: 'code' | 'package' | 'image';
  url?: string;
  repo_url?: string;
  repo_ref?: string;
}

/** Credentials for a git clone (from the git authorization named by `repo_auth`). */
export interface GitCredentials {
  username: string;
  password: string;
}

/** What a fetch reports: the revision it got (commit sha or package URL). */
export interface FetchedSource {
  revision: string;
}

/** Largest package download, bytes. */
export const MAX_PACKAGE_BYTES = 512 * 1024 * 1024;

/** Largest total size of a zip package's files once unpacked, bytes. */
export const MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;

/**
 * Puts the component's source into the empty directory `dir`.
 * - code: `git clone --depth 1 --branch <ref>` (any ref: a sha falls back to a full clone and
 *   checkout); credentials go in an Authorization header through git's environment config
 *   (GIT_CONFIG_KEY_0 = http.extraHeader), never in the URL, the command line or the logs; GIT_TERMINAL_PROMPT=0 so git never waits for input.
 * - package: downloads (http/https) or copies (file://); a .zip or .tar.gz/.tgz is unpacked
 *   (a single top-level folder is stripped), a .jar or .war is kept as is.
 * @throws BuildError with a clear reason (unreachable, bad ref, unsupported archive, image)
 */
export async function fetchSource(source: SourceSpec, dir: string, options: { env: Record<string, string>; logFile: string; signal: AbortSignal; credentials?: GitCredentials; log(line: string): void }): Promise<FetchedSource> {
  mkdirSync(dir, { recursive: true });
  if (source.kind === 'image') throw new BuildError('source kind image needs a container runtime; the process runtime builds code and packages');
  if (source.kind === 'code') {
    const url = source.repo_url || source.url;
    if (!url) throw new BuildError('source.repo_url (or source.url) is required for kind code');
    const ref = source.repo_ref || '';
    if (ref.startsWith('-')) throw new BuildError(`repo_ref '${ref}' is not a branch, tag or commit (it starts with '-')`);
    const env: Record<string, string> = { ...options.env, GIT_TERMINAL_PROMPT: '0' };
    if (options.credentials) {
      // Through git's environment config, not `-c` on the command line: argv is readable by
      // every local user (/proc) and a failed command is quoted in the job's messages.
      const basic = Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64');
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    options.log(`git clone ${redact(url)}${ref ? ` at ${ref}` : ''}`);
    try {
      await runLogged('git', ['clone', '--quiet', '--depth', '1', ...(ref ? ['--branch', ref] : []), '--', url, dir], { cwd: '/', env, logFile: options.logFile, signal: options.signal });
    } catch (err) {
      if (!ref || options.signal.aborted) throw err;
      // Not a branch or tag: maybe a commit sha. Clone everything and check it out.
      rmSync(dir, { recursive: true, force: true });
      await runLogged('git', ['clone', '--quiet', '--', url, dir], { cwd: '/', env, logFile: options.logFile, signal: options.signal });
      await runLogged('git', ['checkout', '--quiet', '--detach', ref], { cwd: dir, env, logFile: options.logFile, signal: options.signal });
    }
    const { stdout } = await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: dir, env });
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    return { revision: stdout.trim() };
  }
  const url = source.url;
  if (!url) throw new BuildError('source.url is required for kind package');
  const name = basename(new URL(url).pathname) || 'package';
  const file = join(dir, '.download', name);
  mkdirSync(join(dir, '.download'), { recursive: true });
  options.log(`fetch ${redact(url)}`);
  if (url.startsWith('file://')) {
    try {
      copyFileSync(fileURLToPath(url), file);
    } catch (err) {
      throw new BuildError(`cannot read ${url}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else if (/^https?:\/\//.test(url)) {
    const bytes = await httpGet(url, options.signal);
    if (!bytes) throw new BuildError(`cannot download ${redact(url)}: HTTP 404`);
    if (bytes.length > MAX_PACKAGE_BYTES) throw new BuildError(`the package is larger than ${MAX_PACKAGE_BYTES} bytes`);
    writeFileSync(file, bytes);
  } else {
    throw new BuildError(`package URLs must be http://, https:// or file://, not ${redact(url)}`);
  }
  if (/\.(jar|war)$/i.test(name)) {
    renameSync(file, join(dir, name));
  } else if (/\.zip$/i.test(name)) {
    let entries: Record<string, Uint8Array>;
    let total = 0;
    try {
      // Sizes are checked from the directory before anything is inflated (zip bombs).
      entries = unzipSync(new Uint8Array(readFileSync(file)), {
        filter: (f) => {
          total += f.originalSize;
          if (total > MAX_UNPACKED_BYTES) throw new BuildError(`${name} unpacks to more than ${MAX_UNPACKED_BYTES} bytes`);
          return true;
        },
      });
    } catch (err) {
      if (err instanceof BuildError) throw err;
      throw new BuildError(`${name} is not a valid zip archive: ${(err as Error).message}`);
    }
    for (const [path, data] of Object.entries(entries)) {
      if (path.endsWith('/')) continue;
      if (path.split('/').some((p) => p === '..') || path.startsWith('/')) throw new BuildError(`${name} holds an unsafe path: ${path}`);
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), data);
    }
    stripSingleFolder(dir);
  } else if (/\.(tar\.gz|tgz)$/i.test(name)) {
    await runLogged('tar', ['-xzf', file, '-C', dir, '--no-same-owner'], { cwd: dir, env: options.env, logFile: options.logFile, signal: options.signal });
    stripSingleFolder(dir);
  } else {
    throw new BuildError(`unsupported package ${name}: use a .jar, .war, .zip, .tar.gz or .tgz`);
  }
  rmSync(join(dir, '.download'), { recursive: true, force: true });
  return { revision: url };
}

/** When `dir` holds one folder (besides .download), moves its contents up. */
function stripSingleFolder(dir: string): void {
  const entries = readdirSync(dir).filter((e) => e !== '.download');
  if (entries.length !== 1) return;
  const only = join(dir, entries[0]!);
  if (!statSync(only).isDirectory()) return;
  const tmp = `${only}.strip`;
  renameSync(only, tmp);
  cpSync(tmp, dir, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
}

